//! Allocator upkeep.
//!
//! glibc's allocator keeps what a thread frees in that thread's arena: after a burst of
//! requests the server's resident memory stayed at its peak (about 30 MB more than at
//! start) long after the memory was free. `malloc_trim(0)` hands the free pages of every
//! arena back to the system; it locks each arena while it walks it, so it must not run
//! under load. [`IdleTrimmer`] decides when: once, after the process has been busy and
//! then idle for a second, as measured by its own CPU time.

use std::time::Duration;

/// How often the trimmer looks at the process's CPU time.
pub const TICK: Duration = Duration::from_secs(1);

/// Gives the memory the allocator holds free back to the system. Answers whether anything
/// was given back. Outside glibc (musl, other systems) it does nothing: those allocators
/// return memory by themselves or have no such call.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_free_memory() -> bool {
    // SAFETY: malloc_trim takes no pointer and glibc serializes it with every other
    // allocator call; it only returns free pages.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_free_memory() -> bool {
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

    /// Memory freed below a block still in use stays resident until it is released.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn freed_memory_goes_back_to_the_system() {
        // On a thread of its own, so the blocks come from one arena, as a worker's would.
        std::thread::spawn(|| {
            let mut blocks: Vec<Vec<u8>> = (0..4_000).map(|i| vec![(i % 251) as u8; 16 * 1024]).collect();
            // Keep the last block: the arena cannot shrink from its top.
            let keep = blocks.pop().unwrap();
            drop(blocks);
            let before = rss_anon_kib();
            assert!(release_free_memory(), "nothing was given back");
            let after = rss_anon_kib();
            assert!(
                before.saturating_sub(after) >= 32 * 1024,
                "RssAnon went from {before} KiB to {after} KiB after freeing 64 MB"
            );
            drop(keep);
        })
        .join()
        .unwrap();
    }
}
