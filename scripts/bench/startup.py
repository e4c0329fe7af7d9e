#!/usr/bin/env python3
"""Start-to-first-200 for scripts/bench.sh.

Usage: startup.py RUNS DB_TEMPLATE -- COMMAND...

COMMAND may contain {port} and {db}; {db} is DB_TEMPLATE with {n} replaced by the run
number (0-based), so each run can get a fresh database. Each run: pick a free loopback
port, exec the command, poll GET /_dialtone/health on 127.0.0.1 with a raw socket
every 1 ms until it answers 200 (10 s at most), record the time since exec, stop the
server (SIGTERM, then SIGKILL). Prints one line per run and a final
  STARTUP best_ms=F median_ms=F runs_ms=F,F,...
"""
import signal
import socket
import statistics
import subprocess
import sys
import time

POLL = 0.001
LIMIT = 10.0


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def health_ok(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
            s.sendall(b"GET /_dialtone/health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = s.recv(64)
            return data.startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def one_run(cmd_tpl, db: str) -> float:
    port = free_port()
    cmd = [a.format(port=port, db=db) for a in cmd_tpl]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if health_ok(port):
                return (time.perf_counter() - t0) * 1000.0
            if proc.poll() is not None:
                err = proc.stderr.read().decode(errors="replace")
                raise SystemExit(f"server exited with {proc.returncode} before answering 200:\n{err}")
            if time.perf_counter() - t0 > LIMIT:
                raise SystemExit(f"no 200 from /_dialtone/health within {LIMIT} s")
            time.sleep(POLL)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def main() -> None:
    args = sys.argv[1:]
    if len(args) < 4 or args[2] != "--":
        raise SystemExit(__doc__)
    runs, db_tpl, cmd_tpl = int(args[0]), args[1], args[3:]
    times = []
    for n in range(runs):
        ms = one_run(cmd_tpl, db_tpl.replace("{n}", str(n)))
        print(f"run {n + 1}: {ms:.1f} ms", file=sys.stderr)
        times.append(ms)
    print(
        f"STARTUP best_ms={min(times):.1f} median_ms={statistics.median(times):.1f} "
        f"runs_ms={','.join(f'{t:.1f}' for t in times)}"
    )


if __name__ == "__main__":
    main()
