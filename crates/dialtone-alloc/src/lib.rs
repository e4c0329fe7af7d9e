//! The server's allocator, and its upkeep.
//!
//! Every program linking this crate allocates with mimalloc ([`GLOBAL`]). Under the
//! messaging benchmark glibc's allocator took about 30 % of the process's CPU (a quarter of
//! that in `malloc_consolidate` and `unlink_chunk`, merging free chunks); with mimalloc the
//! same load ran 1.9× the messages a second at 40 % less CPU each.
//!
//! SQLite (a C library) still allocates with glibc's `malloc`, which keeps what a thread
//! frees in that thread's arena, and mimalloc keeps freed pages a while for reuse: after a
//! burst the resident memory stayed near its peak long after the memory was free.
//! [`release_free_memory`] hands both back to the system (`mi_collect`, `malloc_trim(0)`);
//! `malloc_trim` locks each arena while it walks it, so it must not run under load.
//! [`IdleTrimmer`] decides when: once, after the process has been busy and then idle for a
//! second, as measured by its own CPU time.

/// The global allocator of every program that links this crate.
#[global_allocator]
pub static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::time::Duration;

/// How often the trimmer looks at the process's CPU time.
pub const TICK: Duration = Duration::from_secs(1);

/// Gives the memory the allocators hold free back to the system: mimalloc's (this thread's
/// heap and the pages every thread has freed) and glibc's (SQLite's). Answers whether glibc
/// gave anything back; outside glibc (musl, other systems) only mimalloc is asked.
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: mi_collect takes no pointer; it frees what mimalloc holds unused.
    unsafe { libmimalloc_sys::mi_collect(true) };
    release_glibc()
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_glibc() -> bool {
    // SAFETY: malloc_trim takes no pointer and glibc serializes it with every other
    // allocator call; it only returns free pages.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_glibc() -> bool {
    false
}

/// The CPU time (user + system) this process has used, in clock ticks (1/100 s on Linux);
/// `None` where `/proc` is not there.
pub fn cpu_ticks() -> Option<u64> {
    cpu_ticks_of("self")
}

/// As [`cpu_ticks`], for process `pid` (`"self"`: this one). The benchmarks read the
/// server's this way.
pub fn cpu_ticks_of(pid: &str) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields are counted after its ')'.
    let rest = stat.rsplit_once(')')?.1;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// Decides, from the process's CPU time read every [`TICK`], when to trim: after a tick in
/// which the process was busy, at the first tick in which it was idle. Then not again until
/// it has been busy again, so an idle server does no work.
#[derive(Debug, Default)]
pub struct IdleTrimmer {
    last: Option<u64>,
    busy_since_trim: bool,
}

impl IdleTrimmer {
    /// CPU ticks in one [`TICK`] at or under which the process counts as idle (20 ms a
    /// second: the heartbeat and an idle scheduler's polls stay well under it).
    pub const IDLE_TICKS: u64 = 2;

    /// Takes the CPU time read now; answers whether to trim now.
    pub fn tick(&mut self, cpu_ticks: u64) -> bool {
        let Some(last) = self.last.replace(cpu_ticks) else {
            return false;
        };
        if cpu_ticks.saturating_sub(last) > Self::IDLE_TICKS {
            self.busy_since_trim = true;
            return false;
        }
        std::mem::take(&mut self.busy_since_trim)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trims_once_when_a_busy_process_goes_idle() {
        let mut t = IdleTrimmer::default();
        // Idle from the start: nothing to give back.
        assert!(!t.tick(100));
        assert!(!t.tick(101));
        assert!(!t.tick(101));
        // Busy for two ticks: no trim under load.
        assert!(!t.tick(180));
        assert!(!t.tick(260));
        // The first idle tick trims, the next ones do not.
        assert!(t.tick(261));
        assert!(!t.tick(262));
        assert!(!t.tick(262));
        // Busy again, then idle: one more trim.
        assert!(!t.tick(300));
        assert!(t.tick(300));
        assert!(!t.tick(300));
    }

    #[test]
    fn reads_this_process_cpu_time() {
        let before = cpu_ticks().expect("/proc/self/stat is readable");
        // Burn some CPU: at least a few ticks.
        let start = std::time::Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(100) {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let after = cpu_ticks().unwrap();
        assert!(after > before, "CPU time did not move: {before} -> {after}");
    }

    fn rss_anon_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("RssAnon:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    /// Releases free memory and waits (a few seconds at most) until RssAnon is at least
    /// `drop_kib` under `before`; answers what it was then.
    fn released_to(before: u64, drop_kib: u64) -> u64 {
        let mut after = before;
        for _ in 0..50 {
            release_free_memory();
            after = rss_anon_kib();
            if before.saturating_sub(after) >= drop_kib {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        after
    }

    /// What the server's threads free goes back to the system, even while those threads
    /// live on and the release runs on another thread (as the trimmer does).
    #[test]
    fn memory_freed_by_another_thread_goes_back_to_the_system() {
        let (freed_tx, freed_rx) = std::sync::mpsc::channel();
        let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
        let worker = std::thread::spawn(move || {
            let mut blocks: Vec<Vec<u8>> = (0..4_000).map(|i| vec![(i % 251) as u8; 16 * 1024]).collect();
            let keep = blocks.pop().unwrap();
            let before = rss_anon_kib();
            drop(blocks);
            freed_tx.send(before).unwrap();
            // Alive, holding a block, until the check is done.
            let _ = done_rx.recv();
            drop(keep);
        });
        let before = freed_rx.recv().unwrap();
        let after = released_to(before, 32 * 1024);
        done_tx.send(()).unwrap();
        worker.join().unwrap();
        assert!(
            before.saturating_sub(after) >= 32 * 1024,
            "RssAnon went from {before} KiB to {after} KiB after freeing 64 MB"
        );
    }

    /// What C code (SQLite) frees with glibc's `free` below a block still in use stays
    /// resident until it is released.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    #[allow(unsafe_code)]
    fn memory_freed_by_c_code_goes_back_to_the_system() {
        // On a thread of its own, so the blocks come from one arena, as a worker's would.
        std::thread::spawn(|| {
            // SAFETY: each block is written within its 16 KiB and freed once.
            let blocks: Vec<*mut libc::c_void> = (0..4_000)
                .map(|_| unsafe {
                    let p = libc::malloc(16 * 1024);
                    assert!(!p.is_null());
                    libc::memset(p, 7, 16 * 1024);
                    p
                })
                .collect();
            // Keep the last block: the arena cannot shrink from its top.
            for p in &blocks[..blocks.len() - 1] {
                unsafe { libc::free(*p) };
            }
            let before = rss_anon_kib();
            assert!(release_glibc(), "glibc gave nothing back");
            let after = rss_anon_kib();
            assert!(
                before.saturating_sub(after) >= 32 * 1024,
                "RssAnon went from {before} KiB to {after} KiB after freeing 64 MB"
            );
            unsafe { libc::free(blocks[blocks.len() - 1]) };
        })
        .join()
        .unwrap();
    }
}
