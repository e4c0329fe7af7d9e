#!/usr/bin/env python3
"""How often this machine stops running its programs, whatever they do.

A busy loop pinned to each core notes every moment its own progress stopped for more than
2 ms. With nothing else running, such a stop is time the core was taken away: by the
kernel, or by the host of a virtual machine, which can pause all of its virtual CPUs at
once. Latency percentiles measured on a machine that pauses for tens of milliseconds
carry those pauses (see the messaging analysis in docs/benchmarks.md).

    scripts/machine-pauses.py [SECONDS]    (default 60; run it on an otherwise idle machine)

Prints, for each core, how many stops passed 5, 10, 20 and 50 ms and the longest ones, then
the moments when a stop of over 5 ms on every core overlapped, with how long the overlap
lasted (it can be shorter than 5 ms).
"""

import multiprocessing
import os
import sys
import time

GAP = 0.002


def spin(core, seconds, out):
    os.sched_setaffinity(0, {core})
    clock, stops = time.time, []
    start = last = clock()
    while last - start < seconds:
        now = clock()
        if now - last > GAP:
            stops.append((last, now))
        last = now
    out.put((core, stops))


def main():
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    cores = sorted(os.sched_getaffinity(0))
    out = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=spin, args=(c, seconds, out)) for c in cores]
    for p in procs:
        p.start()
    results = dict(out.get() for _ in procs)
    for p in procs:
        p.join()
    start = min((s[0][0] for s in results.values() if s), default=0.0)
    print(f"{len(cores)} cores, {seconds:.0f} s each")
    for core in cores:
        lengths = sorted(((b - a) * 1e3 for a, b in results[core]), reverse=True)
        counts = ", ".join(f">{t} ms: {sum(1 for x in lengths if x > t)}" for t in (5, 10, 20, 50))
        longest = ", ".join(f"{x:.1f}" for x in lengths[:5]) or "none"
        print(f"core {core}: stops {counts}; longest {longest} ms")
    # Moments when every core was stopped: the overlap of one stop of each.
    together = []
    first, *others = [[s for s in results[c] if s[1] - s[0] > 0.005] for c in cores]
    for a, b in first:
        lo, hi = a, b
        for stops in others:
            overlap = [(max(lo, x), min(hi, y)) for x, y in stops if x < hi and y > lo]
            if not overlap:
                break
            lo, hi = max(overlap, key=lambda o: o[1] - o[0])
        else:
            together.append((lo - start, (hi - lo) * 1e3))
    if together:
        shown = ", ".join(f"at +{t:.1f} s for {ms:.1f} ms" for t, ms in together)
        print(f"every core stopped at once: {shown}")
    else:
        print("every core stopped at once: never")


if __name__ == "__main__":
    main()
