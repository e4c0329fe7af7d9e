//! Webhook delivery benchmark (issue 3): how fast and how soon the scheduler and the
//! webhook worker deliver events, on SQLite and on PostgreSQL.
//!
//! ```sh
//! cargo bench -p dialtone --bench webhooks            # prints a markdown table
//! cargo bench -p dialtone --bench webhooks -- --write # also rewrites the section
//!                                                     # "Webhook delivery (issue 3)" of
//!                                                     # docs/benchmarks.md
//! ```
//!
//! Each backend runs in a child process of this binary (so its memory figures are its own):
//! Dialtone is started in-process on 127.0.0.1:0 (real clock, a fresh database) next to a
//! receiver (axum on 127.0.0.1:0) that answers 200 at once and records, per request, when it
//! arrived and the monotonic emit time the bench put in the event's payload.
//!
//! - Phase A (throughput): `BENCH_EVENTS` events are emitted as fast as possible by
//!   `BENCH_EMITTERS` tasks through the engine (`events::emit` + `Engine::commit`, the path
//!   product services use; no HTTP), then the bench waits for every delivery.
//! - Phase B (latency at a rate): events are emitted open-loop at `BENCH_RATE` per second
//!   for `BENCH_RATE_SECS` seconds; event-to-delivery latency = receive time − emit time.
//! - Then every delivery record must be `delivered` in the store.
//!
//! Environment (all optional): BENCH_EVENTS (20000), BENCH_EMITTERS (16), BENCH_RATE
//! (5000), BENCH_RATE_SECS (5), BENCH_WORKERS (scheduler workers, 1 as `dialtone serve`),
//! BENCH_TIMEOUT (seconds to wait for a phase's deliveries, 60), BENCH_PG_URL (default
//! postgres://postgres@127.0.0.1:5432/test; `off` skips PostgreSQL; each run gets a fresh
//! schema, dropped at the end with `psql` when it is installed), BENCH_NOTE (a note printed
//! with the results), BENCH_WRITE=1 (as `--write`), BENCH_ONLY=sqlite|postgres.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use dialtone_domain::webhooks::{Destination, ListFilter, Status};
use dialtone_engine::Engine;
use dialtone_engine::events;
use dialtone_store::ChangeSet;
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod common;
use common::*;

const SECTION: &str = "## Webhook delivery (issue 3)";
const AFTER_SECTION: &str = "## Server foundation (issue 2)";
/// A subsection of the section written by hand; `--write` keeps it.
const ANALYSIS: &str = "### Analysis";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const TARGET_RATE: f64 = 5_000.0;
const TARGET_P50_MS: f64 = 5.0;
const TARGET_P99_MS: f64 = 50.0;

// ---------------------------------------------------------------------------------------
// Small helpers

/// Reads the unsigned integer following `"key":` in a JSON body without parsing it all (the
/// receiver shares the cores with the server, so it does as little as it can).
fn field(body: &[u8], key: &str) -> Option<u64> {
    let pat = format!("\"{key}\":");
    let pat = pat.as_bytes();
    let at = body.windows(pat.len()).position(|w| w == pat)? + pat.len();
    let digits: Vec<u8> = body[at..].iter().copied().take_while(u8::is_ascii_digit).collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}

// ---------------------------------------------------------------------------------------
// The receiver

#[derive(Clone, Copy)]
struct Hit {
    phase: u8,
    seq: u32,
    sent: u64,
    recv: u64,
}

#[derive(Default)]
struct Receiver {
    hits: Mutex<Vec<Hit>>,
    per_phase: [AtomicU64; 3],
    unreadable: AtomicU64,
}

impl Receiver {
    fn count(&self, phase: u8) -> u64 {
        self.per_phase[phase as usize].load(Ordering::Relaxed)
    }

    fn hits(&self, phase: u8) -> Vec<Hit> {
        self.hits.lock().unwrap().iter().copied().filter(|h| h.phase == phase).collect()
    }
}

async fn hook(State(rx): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    let recv = now_ns();
    match (field(&body, "phase"), field(&body, "seq"), field(&body, "sent_ns")) {
        (Some(phase @ 1..=2), Some(seq), Some(sent)) => {
            rx.hits.lock().unwrap().push(Hit { phase: phase as u8, seq: seq as u32, sent, recv });
            rx.per_phase[phase as usize].fetch_add(1, Ordering::Relaxed);
        }
        _ => {
            rx.unreadable.fetch_add(1, Ordering::Relaxed);
        }
    }
    StatusCode::OK
}

async fn start_receiver(shutdown: CancellationToken) -> (Arc<Receiver>, String) {
    let rx = Arc::new(Receiver::default());
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(rx.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(async move { shutdown.cancelled().await }).await;
    });
    (rx, url)
}

// ---------------------------------------------------------------------------------------
// Emitting

/// Emits one event through the engine; answers (emit time, commit-done time) in ns.
async fn emit_one(engine: &Engine, account: &str, url: &str, phase: u8, seq: u32) -> Result<(u64, u64), String> {
    let sent = now_ns();
    let now = engine.clock.now();
    let event = events::event("bench.delivery", json!({ "phase": phase, "seq": seq, "sent_ns": sent }), now);
    let (cs, _) = events::emit(ChangeSet::new(), account, event, Destination::new(url), None, now);
    engine.commit(&cs).await.map_err(|e| e.detail)?;
    Ok((sent, now_ns()))
}

/// Waits until the receiver has `n` deliveries of `phase` or `timeout` passes.
async fn wait_for(rx: &Receiver, phase: u8, n: u64, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while rx.count(phase) < n {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    true
}

/// Waits until the scheduler holds no job (every attempt recorded); answers when (ns), or
/// `None` on timeout.
async fn wait_jobs_done(engine: &Engine, timeout: Duration) -> Option<u64> {
    let deadline = Instant::now() + timeout;
    let far = chrono::Utc::now() + chrono::Duration::days(365);
    loop {
        match engine.store.due_count(far).await {
            Ok(0) => return Some(now_ns()),
            Ok(_) => {}
            Err(e) => eprintln!("   due_count failed: {e}"),
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn duplicates(hits: &[Hit]) -> u64 {
    let mut seqs: Vec<u32> = hits.iter().map(|h| h.seq).collect();
    seqs.sort_unstable();
    let total = seqs.len();
    seqs.dedup();
    (total - seqs.len()) as u64
}

/// Deliveries per second of each whole second after `start` (for the log).
fn per_second(recvs: &[u64], start: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for &r in recvs {
        let s = (r.saturating_sub(start) / 1_000_000_000) as usize;
        if out.len() <= s {
            out.resize(s + 1, 0);
        }
        out[s] += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// One backend (the child process)

async fn run_backend(database: String) -> Value {
    let n = env_num("BENCH_EVENTS", 20_000) as u32;
    let emitters = env_num("BENCH_EMITTERS", 16).max(1) as usize;
    let rate = env_num("BENCH_RATE", 5_000).max(1);
    let rate_secs = env_num("BENCH_RATE_SECS", 5).max(1);
    let workers = env_num("BENCH_WORKERS", 1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", 60));
    now_ns();
    let rss_before_start = rss_kb("VmRSS:");

    let shutdown = CancellationToken::new();
    let (rx, url) = start_receiver(shutdown.clone()).await;
    let config = dialtone::Config {
        database,
        api_key: Some("KEYbench-webhooks-0123456789".into()),
        signing_key: None,
        manual_clock: false,
        rate_limit: None,
        workers,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the server");
    let running = dialtone::start(config, listener, shutdown.clone()).await.expect("dialtone starts");
    let engine = running.engine.clone();
    let account: Arc<str> = running.info.root_account_id.clone().into();
    let url: Arc<str> = url.into();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_idle = rss_kb("VmRSS:");

    // Phase A: as fast as possible.
    eprintln!("   phase A: {n} events from {emitters} tasks");
    let next = Arc::new(AtomicUsize::new(0));
    let emit_errors = Arc::new(AtomicU64::new(0));
    let a_cpu = cpu_secs("self");
    let a_start = now_ns();
    let mut tasks = Vec::new();
    for _ in 0..emitters {
        let (engine, account, url, next, errors) =
            (engine.clone(), account.clone(), url.clone(), next.clone(), emit_errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut commit = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n as usize {
                    break;
                }
                match emit_one(&engine, &account, &url, 1, i as u32).await {
                    Ok((s, d)) => commit.push(d - s),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("   emit failed: {e}");
                        }
                    }
                }
            }
            commit
        }));
    }
    let mut a_commit = Vec::new();
    for t in tasks {
        a_commit.extend(t.await.unwrap());
    }
    let a_emitted_at = now_ns();
    let a_emit_cpu = cpu_secs("self") - a_cpu;
    let a_emitted = a_commit.len() as u64;
    let a_complete = wait_for(&rx, 1, a_emitted, timeout).await;
    let a_jobs_done = wait_jobs_done(&engine, Duration::from_secs(30)).await;
    let a_cpu = cpu_secs("self") - a_cpu;
    let a_hits = rx.hits(1);
    let a_recv = sorted(a_hits.iter().map(|h| h.recv).collect());
    let a_lat = sorted(a_hits.iter().map(|h| h.recv.saturating_sub(h.sent)).collect());
    let a_commit = sorted(a_commit);
    let a_last = a_recv.last().copied().unwrap_or(a_start);
    let a_rate = a_recv.len() as f64 / secs(a_last - a_start);
    let (p10, p90) = (a_recv.len() / 10, a_recv.len() * 9 / 10);
    let a_steady = if p90 > p10 { (p90 - p10) as f64 / secs(a_recv[p90] - a_recv[p10]) } else { f64::NAN };
    let a_emit_rate = a_emitted as f64 / secs(a_emitted_at - a_start);
    eprintln!(
        "   phase A: emitted {a_emitted} in {:.2} s ({a_emit_rate:.0}/s), received {} in {:.2} s ({a_rate:.0}/s, steady {a_steady:.0}/s)",
        secs(a_emitted_at - a_start),
        a_recv.len(),
        secs(a_last - a_start)
    );
    eprintln!("   phase A: deliveries per second: {:?}", per_second(&a_recv, a_start));
    eprintln!(
        "   phase A: process CPU {a_cpu:.2} s ({:.0} µs per event); {a_emit_cpu:.2} s of it until the last emit",
        a_cpu * 1e6 / a_emitted.max(1) as f64
    );
    let rss_after_a = rss_kb("VmRSS:");

    // Phase B: open loop at a fixed rate.
    let m = (rate * rate_secs) as u32;
    eprintln!("   phase B: {m} events at {rate}/s");
    let b_commits: Arc<Mutex<Vec<(u32, u64, u64)>>> = Arc::new(Mutex::new(Vec::with_capacity(m as usize)));
    let in_flight = Arc::new(tokio::sync::Semaphore::new(4096));
    let b_cpu = cpu_secs("self");
    let b_start = now_ns();
    let mut emitted = 0u32;
    let mut max_lag_ns = 0u64;
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut spawned = tokio::task::JoinSet::new();
    while emitted < m {
        tick.tick().await;
        let elapsed = now_ns() - b_start;
        let due = ((elapsed as u128 * rate as u128 / 1_000_000_000) as u32 + 1).min(m);
        while emitted < due {
            let seq = emitted;
            emitted += 1;
            let scheduled = b_start + (seq as u128 * 1_000_000_000 / rate as u128) as u64;
            max_lag_ns = max_lag_ns.max(now_ns().saturating_sub(scheduled));
            let permit = in_flight.clone().acquire_owned().await.unwrap();
            let (engine, account, url, commits, errors) =
                (engine.clone(), account.clone(), url.clone(), b_commits.clone(), emit_errors.clone());
            spawned.spawn(async move {
                match emit_one(&engine, &account, &url, 2, seq).await {
                    Ok((s, d)) => commits.lock().unwrap().push((seq, s, d)),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("   emit failed: {e}");
                        }
                    }
                }
                drop(permit);
            });
        }
    }
    while spawned.join_next().await.is_some() {}
    let b_emitted_at = now_ns();
    let b_commits = std::mem::take(&mut *b_commits.lock().unwrap());
    let b_emitted = b_commits.len() as u64;
    let b_complete = wait_for(&rx, 2, b_emitted, timeout).await;
    let b_jobs_done = wait_jobs_done(&engine, Duration::from_secs(30)).await;
    let b_cpu = cpu_secs("self") - b_cpu;
    let b_hits = rx.hits(2);
    let mut done_at = vec![0u64; m as usize];
    let mut b_commit = Vec::with_capacity(b_commits.len());
    for &(seq, s, d) in &b_commits {
        done_at[seq as usize] = d;
        b_commit.push(d - s);
    }
    let b_recv = sorted(b_hits.iter().map(|h| h.recv).collect());
    let b_lat = sorted(b_hits.iter().map(|h| h.recv.saturating_sub(h.sent)).collect());
    let b_after_commit = sorted(b_hits.iter().map(|h| h.recv.saturating_sub(done_at[h.seq as usize])).collect());
    let b_commit = sorted(b_commit);
    let b_first_sent = b_commits.iter().map(|c| c.1).min().unwrap_or(b_start);
    let b_last = b_recv.last().copied().unwrap_or(b_start);
    let b_rate = b_recv.len() as f64 / secs(b_last - b_first_sent);
    let b_emit_rate = b_emitted as f64 / secs(b_emitted_at - b_start);
    let b_drain_ms = (b_last.saturating_sub(b_emitted_at)) as f64 / 1e6;
    eprintln!(
        "   phase B: emitted {b_emitted} in {:.2} s ({b_emit_rate:.0}/s, max pacing lag {:.1} ms), received {} ({b_rate:.0}/s), last {b_drain_ms:.0} ms after the last emit; latency p50 {:.2} p99 {:.2} max {:.2} ms",
        secs(b_emitted_at - b_start),
        max_lag_ns as f64 / 1e6,
        b_recv.len(),
        pct_ms(&b_lat, 0.5),
        pct_ms(&b_lat, 0.99),
        pct_ms(&b_lat, 1.0),
    );
    eprintln!("   phase B: deliveries per second: {:?}", per_second(&b_recv, b_start));
    let rss_after_b = rss_kb("VmRSS:");

    // Every delivery record must say delivered.
    let filter = ListFilter::default();
    let t = Instant::now();
    let deliveries = engine.list_deliveries(&account, &filter).await.map_err(|e| e.detail).expect("list deliveries");
    let list_ms = t.elapsed().as_secs_f64() * 1e3;
    let delivered = deliveries.iter().filter(|d| d.status == Status::Delivered).count();
    let failed = deliveries.iter().filter(|d| d.status == Status::Failed).count();
    let pending = deliveries.iter().filter(|d| d.status == Status::Pending).count();
    let multi_attempt = deliveries.iter().filter(|d| d.attempts.len() > 1).count();
    eprintln!(
        "   store: {} deliveries, {delivered} delivered, {failed} failed, {pending} pending ({multi_attempt} with more than one attempt); listed in {list_ms:.0} ms",
        deliveries.len()
    );
    drop(deliveries);

    shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(20), running.task).await;

    json!({
        "events": n, "emitters": emitters, "workers": workers, "rate": rate, "rate_secs": rate_secs,
        "emit_errors": emit_errors.load(Ordering::Relaxed),
        "unreadable": rx.unreadable.load(Ordering::Relaxed),
        "a": {
            "emitted": a_emitted, "received": a_recv.len(), "complete": a_complete,
            "emit_secs": secs(a_emitted_at - a_start), "emit_rate": a_emit_rate,
            "deliver_secs": secs(a_last - a_start), "rate": a_rate, "steady": a_steady,
            "jobs_done_secs": a_jobs_done.map(|t| secs(t - a_start)),
            "commit_p50": pct_ms(&a_commit, 0.5), "commit_p99": pct_ms(&a_commit, 0.99),
            "lat_p50": pct_ms(&a_lat, 0.5), "lat_p99": pct_ms(&a_lat, 0.99), "lat_max": pct_ms(&a_lat, 1.0),
            "duplicates": duplicates(&a_hits),
            "cpu_secs": a_cpu, "cpu_us_per_event": a_cpu * 1e6 / a_emitted.max(1) as f64,
            "cpu_cores": a_cpu / secs(a_jobs_done.unwrap_or(a_last).max(a_last) - a_start),
        },
        "b": {
            "target": m, "emitted": b_emitted, "received": b_recv.len(), "complete": b_complete,
            "emit_secs": secs(b_emitted_at - b_start), "emit_rate": b_emit_rate, "max_lag_ms": max_lag_ns as f64 / 1e6,
            "rate": b_rate, "drain_ms": b_drain_ms,
            "jobs_done_after_ms": b_jobs_done.map(|t| t.saturating_sub(b_emitted_at) as f64 / 1e6),
            "lat_p50": pct_ms(&b_lat, 0.5), "lat_p90": pct_ms(&b_lat, 0.9), "lat_p99": pct_ms(&b_lat, 0.99),
            "lat_max": pct_ms(&b_lat, 1.0),
            "after_commit_p50": pct_ms(&b_after_commit, 0.5), "after_commit_p99": pct_ms(&b_after_commit, 0.99),
            "commit_p50": pct_ms(&b_commit, 0.5), "commit_p99": pct_ms(&b_commit, 0.99),
            "duplicates": duplicates(&b_hits),
            "cpu_secs": b_cpu, "cpu_us_per_event": b_cpu * 1e6 / b_emitted.max(1) as f64,
            "cpu_cores": b_cpu / secs(b_jobs_done.unwrap_or(b_last).max(b_last) - b_start),
        },
        "store": { "total": delivered + failed + pending, "delivered": delivered, "failed": failed, "pending": pending,
                   "multi_attempt": multi_attempt, "list_ms": list_ms },
        "rss_kb": { "before_start": rss_before_start, "idle": rss_idle, "after_a": rss_after_a, "after_b": rss_after_b,
                    "peak": rss_kb("VmHWM:") },
    })
}

fn child_main(database: String) {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = rt.block_on(run_backend(database));
    println!("RESULT {result}");
}

// ---------------------------------------------------------------------------------------
// The parent: one child per backend, then the report

struct Backend {
    label: &'static str,
    result: Result<Value, String>,
}

fn run_child(kind: &str, database: &str) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .env("BENCH_CHILD_DATABASE", database)
        .env("BENCH_CHILD_KIND", kind)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) {
        Some(r) => serde_json::from_str(r).map_err(|e| e.to_string()),
        None => Err(format!("the {kind} run failed ({})", out.status)),
    }
}

/// One row: a label, a target and a cell per backend.
fn row(label: &str, target: &str, backends: &[Backend], cell: impl Fn(&Value) -> String) -> String {
    let mut line = format!("| {label} | {target} |");
    for b in backends {
        match &b.result {
            Ok(r) => line.push_str(&format!(" {} |", cell(r))),
            Err(_) => line.push_str(" — |"),
        }
    }
    line
}

fn table(backends: &[Backend]) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    let mut t = String::from("| Measurement | Target |");
    for b in backends {
        t.push_str(&format!(" {} |", b.label));
    }
    t.push_str("\n| --- | --- |");
    for _ in backends {
        t.push_str(" --- |");
    }
    let rows = [
        row("A: emit rate through the engine (`events::emit` + `commit`)", "—", backends, |r| {
            format!(
                "{}/s ({} events, {} tasks; commit p50 / p99 {} / {} ms)",
                fmt_int(f(&r["a"]["emit_rate"])),
                fmt_int(f(&r["a"]["emitted"])),
                r["emitters"],
                ms(&r["a"]["commit_p50"]),
                ms(&r["a"]["commit_p99"])
            )
        }),
        row("A: deliveries/s, first emit → last delivery received", "≥ 5,000/s", backends, |r| {
            let v = f(&r["a"]["rate"]);
            let incomplete = if r["a"]["complete"].as_bool() == Some(true) {
                String::new()
            } else {
                format!(" (only {} of {} in time)", r["a"]["received"], r["a"]["emitted"])
            };
            format!("{}/s in {:.2} s{}{}", fmt_int(v), f(&r["a"]["deliver_secs"]), mark(v >= TARGET_RATE), incomplete)
        }),
        row("A: steady-state deliveries/s (10th → 90th percentile of arrivals)", "≥ 5,000/s", backends, |r| {
            let v = f(&r["a"]["steady"]);
            format!("{}/s{}", fmt_int(v), mark(v >= TARGET_RATE))
        }),
        row("A: every attempt recorded (no job left), after first emit", "—", backends, |r| {
            match r["a"]["jobs_done_secs"].as_f64() {
                Some(s) => format!("{s:.2} s"),
                None => "not within 30 s".into(),
            }
        }),
        row("A: event-to-delivery latency p50 / p99 / max (backlog included)", "—", backends, |r| {
            format!("{} / {} / {} ms", ms(&r["a"]["lat_p50"]), ms(&r["a"]["lat_p99"]), ms(&r["a"]["lat_max"]))
        }),
        row("B: emit rate achieved (open loop)", "5,000/s for 5 s", backends, |r| {
            format!(
                "{}/s ({} events; commit p50 / p99 {} / {} ms; pacing lag max {} ms)",
                fmt_int(f(&r["b"]["emit_rate"])),
                fmt_int(f(&r["b"]["emitted"])),
                ms(&r["b"]["commit_p50"]),
                ms(&r["b"]["commit_p99"]),
                ms(&r["b"]["max_lag_ms"])
            )
        }),
        row("B: event-to-delivery latency p50 / p90 / p99 / max", "p50 < 5 ms, p99 < 50 ms", backends, |r| {
            let (p50, p99) = (f(&r["b"]["lat_p50"]), f(&r["b"]["lat_p99"]));
            format!(
                "{} / {} / {} / {} ms{}",
                ms(&r["b"]["lat_p50"]),
                ms(&r["b"]["lat_p90"]),
                ms(&r["b"]["lat_p99"]),
                ms(&r["b"]["lat_max"]),
                mark(p50 < TARGET_P50_MS && p99 < TARGET_P99_MS)
            )
        }),
        row("B: commit returned → delivery received, p50 / p99", "—", backends, |r| {
            format!("{} / {} ms", ms(&r["b"]["after_commit_p50"]), ms(&r["b"]["after_commit_p99"]))
        }),
        row("B: deliveries/s achieved; kept up", "= emit rate", backends, |r| {
            let complete = r["b"]["complete"].as_bool() == Some(true);
            let drain = f(&r["b"]["drain_ms"]);
            let kept_up = complete && drain < 1000.0 && f(&r["b"]["emit_rate"]) >= 0.95 * f(&r["rate"]);
            format!(
                "{}/s; last delivery {} ms after the last emit{}{}",
                fmt_int(f(&r["b"]["rate"])),
                ms(&r["b"]["drain_ms"]),
                if complete {
                    String::new()
                } else {
                    format!(" (only {} of {})", r["b"]["received"], r["b"]["emitted"])
                },
                if kept_up { " ✓" } else { " ✗ (fell behind)" }
            )
        }),
        row("Deliveries `delivered` in the store (A + B)", "all", backends, |r| {
            let s = &r["store"];
            let expected = r["a"]["emitted"].as_u64().unwrap_or(0) + r["b"]["emitted"].as_u64().unwrap_or(0);
            let ok = s["delivered"].as_u64() == Some(expected) && s["total"].as_u64() == Some(expected);
            format!(
                "{} of {}{} ({} failed, {} pending, {} retried)",
                fmt_int(f(&s["delivered"])),
                fmt_int(expected as f64),
                mark(ok),
                s["failed"],
                s["pending"],
                s["multi_attempt"]
            )
        }),
        row("Duplicate deliveries at the receiver (A / B); emit errors", "0 / 0; 0", backends, |r| {
            format!("{} / {}; {}", r["a"]["duplicates"], r["b"]["duplicates"], r["emit_errors"])
        }),
        row("Process CPU per event, A / B (server + receiver + load); cores busy", "—", backends, |r| {
            format!(
                "{} / {} µs; {:.2} / {:.2} cores",
                fmt_int(f(&r["a"]["cpu_us_per_event"])),
                fmt_int(f(&r["b"]["cpu_us_per_event"])),
                f(&r["a"]["cpu_cores"]),
                f(&r["b"]["cpu_cores"])
            )
        }),
        row(
            "VmRSS: idle after start / after A / after B (peak, incl. the final listing of every delivery)",
            "—",
            backends,
            |r| {
                let k = &r["rss_kb"];
                format!("{} / {} / {} MB ({} MB)", mb(&k["idle"]), mb(&k["after_a"]), mb(&k["after_b"]), mb(&k["peak"]))
            },
        ),
    ];
    for r in rows {
        t.push('\n');
        t.push_str(&r);
    }
    for b in backends {
        if let Err(e) = &b.result {
            t.push_str(&format!("\n\n{}: {e}", b.label));
        }
    }
    t
}

fn command_line(write: bool) -> String {
    let mut vars = Vec::new();
    for name in [
        "BENCH_EVENTS",
        "BENCH_EMITTERS",
        "BENCH_RATE",
        "BENCH_RATE_SECS",
        "BENCH_WORKERS",
        "BENCH_TIMEOUT",
        "BENCH_ONLY",
    ] {
        if let Ok(v) = std::env::var(name) {
            vars.push(format!("{name}={v}"));
        }
    }
    if let Ok(v) = std::env::var("BENCH_PG_URL") {
        vars.push(format!("BENCH_PG_URL={}", if v == "off" { "off" } else { "..." }));
    }
    let mut cmd = vars.join(" ");
    if !cmd.is_empty() {
        cmd.push(' ');
    }
    cmd.push_str("cargo bench -p dialtone --bench webhooks");
    if write {
        cmd.push_str(" -- --write");
    }
    cmd
}

fn section(backends: &[Backend], load_before: &str, load_after: &str, pg_note: &str, write: bool) -> String {
    let commit = sh("git", &["-C", workspace_root().to_str().unwrap_or("."), "rev-parse", "--short", "HEAD"])
        .unwrap_or_else(|| "unknown".into());
    let dirty = sh("git", &["-C", workspace_root().to_str().unwrap_or("."), "status", "--porcelain"])
        .is_some_and(|s| !s.is_empty());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let note = std::env::var("BENCH_NOTE").unwrap_or_default();
    let busy = load_before.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        >= std::thread::available_parallelism().map(|n| n.get() as f64).unwrap_or(1.0) * 0.5;
    let first = backends.iter().find_map(|b| b.result.as_ref().ok());
    let (n, emitters, rate, rate_secs, workers) = match first {
        Some(r) => (
            r["events"].as_u64().unwrap_or(0),
            r["emitters"].as_u64().unwrap_or(0),
            r["rate"].as_u64().unwrap_or(0),
            r["rate_secs"].as_u64().unwrap_or(0),
            r["workers"].as_u64().unwrap_or(0),
        ),
        None => (0, 0, 0, 0, 0),
    };
    let mut s = String::new();
    s.push_str(SECTION);
    s.push_str("\n\n<!-- Generated by `cargo bench -p dialtone --bench webhooks -- --write`; edit crates/dialtone/benches/webhooks.rs, not this section. -->\n\n");
    if !note.is_empty() {
        s.push_str(&format!("> **{note}**\n\n"));
    } else if busy {
        s.push_str("> **Preliminary: the machine was busy (see the load average); figures are indicative only.**\n\n");
    }
    s.push_str(&format!("- Date: {date}\n"));
    s.push_str(&format!("- Commit: `{commit}`{}\n", if dirty { " (plus uncommitted changes)" } else { "" }));
    s.push_str(&format!("- Machine: {}; load average before the run: {load_before}, after: {load_after}\n", machine()));
    s.push_str(&format!(
        "- Setup: one process per backend holding Dialtone (started with `dialtone::start`, real clock, {workers} scheduler worker(s), as `dialtone serve` runs by default), \
         a receiver (axum, answers 200 at once) and the load; all on 127.0.0.1, sharing the cores. \
         Events go to the root account with one URL and no ordering key, emitted with `events::emit` + `Engine::commit` (no HTTP).\n"
    ));
    s.push_str(&format!(
        "- Phase A: {n} events emitted as fast as possible by {emitters} tasks. Phase B: {rate} events/s for {rate_secs} s, open loop \
         (an event is emitted at its scheduled time whether or not earlier ones are committed); latency = receive time − the emit time written in the payload.\n"
    ));
    s.push_str(&format!("- SQLite: a fresh file (WAL, synchronous=NORMAL). PostgreSQL: {pg_note}.\n\n"));
    s.push_str(&table(backends));
    s.push_str(
        "\n\n✓ / ✗: target met / missed. The targets (≥ 5,000 deliveries/s; p50 < 5 ms and p99 < 50 ms at 5,000 events/s) \
         are set for SQLite; PostgreSQL is measured beside it against the same numbers. \"Commit\" is the time `Engine::commit` \
         of one event (its first attempt's job, which carries the delivery until that attempt records it) takes; \"commit returned → delivery received\" leaves out the emit \
         path. RSS and CPU are the whole process (server, receiver and load; not the PostgreSQL server).\n",
    );
    s.push_str("\n### How it was measured\n\n```sh\n");
    s.push_str(&command_line(write));
    s.push_str("\n```\n\nThe environment variables it reads (defaults): BENCH_EVENTS (20000), BENCH_EMITTERS (16), BENCH_RATE (5000), \
                BENCH_RATE_SECS (5), BENCH_WORKERS (1), BENCH_TIMEOUT (60 s per phase), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test, \
                `off` to skip; a fresh schema per run, dropped afterwards), BENCH_NOTE.\n");
    s
}

fn main() {
    if let Ok(db) = std::env::var("BENCH_CHILD_DATABASE") {
        child_main(db);
        return;
    }
    let write = std::env::args().any(|a| a == "--write") || std::env::var("BENCH_WRITE").is_ok_and(|v| v == "1");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let load_before = loadavg();
    eprintln!("webhook delivery benchmark; load average {load_before}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let mut backends = Vec::new();

    if only.is_empty() || only == "sqlite" {
        let dir = std::env::temp_dir().join(format!("dialtone-bench-webhooks-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let url = format!("sqlite://{}", dir.join("bench.db").display());
        eprintln!("== SQLite");
        let result = run_child("sqlite", &url);
        let _ = std::fs::remove_dir_all(&dir);
        backends.push(Backend { label: "SQLite (WAL)", result });
    }

    let mut pg_note = "skipped".to_owned();
    if only.is_empty() || only == "postgres" {
        let base = std::env::var("BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into());
        if base == "off" {
            pg_note = "skipped (BENCH_PG_URL=off)".into();
        } else {
            let schema = format!("bench_wh_{}_{}", std::process::id(), chrono::Utc::now().timestamp());
            let made = rt.block_on(async {
                tokio::time::timeout(
                    Duration::from_secs(5),
                    dialtone_store::Store::fresh_postgres_schema(&base, &schema),
                )
                .await
            });
            match made {
                Ok(Ok(url)) => {
                    eprintln!("== PostgreSQL");
                    let result = run_child("postgres", &url);
                    let version = common::pg_version(&base);
                    let dropped = common::drop_schema(&base, &schema);
                    pg_note = format!(
                        "{} on 127.0.0.1, a fresh schema (`?options=-c search_path=...`){}",
                        version,
                        if dropped { ", dropped afterwards" } else { ", left in place (psql unavailable)" }
                    );
                    backends.push(Backend { label: "PostgreSQL", result });
                }
                Ok(Err(e)) => {
                    pg_note = format!("skipped (not reachable: {e})");
                    eprintln!("PostgreSQL {pg_note}");
                }
                Err(_) => {
                    pg_note = "skipped (not reachable within 5 s)".into();
                    eprintln!("PostgreSQL {pg_note}");
                }
            }
        }
    }

    let load_after = loadavg();
    let text = section(&backends, &load_before, &load_after, &pg_note, write);
    println!("{text}");
    if write {
        common::write_section(&text, SECTION, AFTER_SECTION, ANALYSIS);
    }
}
