//! What both benchmarks share: timing, process figures, formatting of the results.

#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Instant;

static T0: OnceLock<Instant> = OnceLock::new();

/// Monotonic nanoseconds since the process's shared origin.
pub fn now_ns() -> u64 {
    T0.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// CPU time (user + system) of process `pid` (`"self"`: this one) so far, all threads, in
/// seconds; 0 where it cannot be read.
pub fn cpu_secs(pid: &str) -> f64 {
    dialtone_alloc::cpu_ticks_of(pid).unwrap_or(0) as f64 / 100.0
}

pub fn env_num(name: &str, default: u64) -> u64 {
    match std::env::var(name) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| panic!("{name} must be a whole number, not '{v}'")),
        Err(_) => default,
    }
}

pub fn rss_kb(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The value at quantile `q` of sorted nanoseconds, in milliseconds.
pub fn pct_ms(sorted: &[u64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[idx] as f64 / 1e6
}

pub fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub fn sorted(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v
}

pub fn sh(cmd: &str, args: &[&str]) -> Option<String> {
    let out = std::process::Command::new(cmd).args(args).stderr(std::process::Stdio::null()).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn fmt_int(v: f64) -> String {
    if !v.is_finite() {
        return "—".into();
    }
    let s = format!("{:.0}", v);
    let (sign, digits) = if let Some(d) = s.strip_prefix('-') { ("-", d) } else { ("", s.as_str()) };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

pub fn ms(v: &Value) -> String {
    match v.as_f64() {
        Some(x) if x.is_finite() => {
            if x < 10.0 {
                format!("{x:.2}")
            } else if x < 100.0 {
                format!("{x:.1}")
            } else {
                fmt_int(x)
            }
        }
        _ => "—".into(),
    }
}

pub fn mb(kb: &Value) -> String {
    format!("{:.1}", kb.as_f64().unwrap_or(0.0) / 1024.0)
}

pub fn mark(ok: bool) -> &'static str {
    if ok { " ✓" } else { " ✗" }
}

pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_kb: f64 = meminfo
        .lines()
        .find(|l| l.starts_with("MemTotal:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split(':').nth(1))
        .map(|s| s.trim().to_owned())
        .unwrap_or_else(|| "unknown".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cores} cores, {:.1} GiB memory, CPU `{cpu}`, Linux {}", mem_kb / 1024.0 / 1024.0, kernel.trim())
}

/// How long a fixed single-threaded integer loop takes here, in milliseconds (the median of
/// five): the same code's figures follow this machine's speed, which on shared machines
/// changes from one hour to the next, so a run carries its own yardstick.
pub fn cpu_yardstick_ms() -> f64 {
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
            for _ in 0..50_000_000u32 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
            }
            std::hint::black_box(x);
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[2]
}

pub fn loadavg() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

/// `doc` (docs/benchmarks.md) with the section titled `heading` replaced by `section`, or
/// inserted after the section titled `after` (else at the end). A hand-written subsection
/// titled `analysis` of the old section is kept under the new one.
pub fn splice(doc: &str, section: &str, heading: &str, after: &str, analysis: &str) -> String {
    let lines: Vec<&str> = doc.lines().collect();
    let is_h2 = |l: &str| l.starts_with("## ");
    let section_end = |from: usize| (from + 1..lines.len()).find(|&i| is_h2(lines[i])).unwrap_or(lines.len());
    let (start, end) = if let Some(i) = lines.iter().position(|l| l.trim_end() == heading) {
        (i, section_end(i))
    } else if let Some(i) = lines.iter().position(|l| l.trim_end() == after) {
        let e = section_end(i);
        (e, e)
    } else {
        (lines.len(), lines.len())
    };
    // A hand-written "### Analysis" subsection of the old section is kept.
    let kept = (start..end).find(|&i| lines[i].trim_end() == analysis).map(|i| lines[i..end].join("\n"));
    let mut out = lines[..start].join("\n");
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() {
        out.push_str(if out.ends_with('\n') { "\n" } else { "\n\n" });
    }
    out.push_str(section.trim_end());
    out.push('\n');
    if let Some(k) = kept {
        out.push('\n');
        out.push_str(k.trim_end());
        out.push('\n');
    }
    if end < lines.len() {
        out.push('\n');
        out.push_str(&lines[end..].join("\n"));
        out.push('\n');
    }
    out
}

/// Drops a benchmark's PostgreSQL schema with psql; says so on stderr when it cannot.
pub fn drop_schema(base: &str, schema: &str) -> bool {
    let dropped =
        sh("psql", &[base, "-q", "-v", "ON_ERROR_STOP=1", "-c", &format!("DROP SCHEMA \"{schema}\" CASCADE")])
            .is_some();
    if !dropped {
        eprintln!("could not drop schema {schema} (is psql installed?); drop it by hand");
    }
    dropped
}

/// The PostgreSQL server's version (`15.20`), or `server` when psql cannot say.
pub fn pg_version(base: &str) -> String {
    sh("psql", &[base, "-Atqc", "SHOW server_version"])
        .and_then(|v| v.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "server".into())
}

/// Writes `text` as the section `heading` of docs/benchmarks.md (see [`splice`]).
pub fn write_section(text: &str, heading: &str, after: &str, analysis: &str) {
    let path = workspace_root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    std::fs::write(&path, splice(&doc, text, heading, after, analysis)).expect("write docs/benchmarks.md");
    eprintln!("wrote the section \"{}\" of docs/benchmarks.md", heading.trim_start_matches("## "));
}
