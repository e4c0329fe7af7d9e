//! Voice benchmark (issue 5): 10,000 simulated calls held at once (memory per call), and
//! 1,000 dials per second sustained with their webhooks, on SQLite and on PostgreSQL.
//!
//! ```sh
//! cargo bench -p dialtone --bench voice            # prints a markdown table
//! cargo bench -p dialtone --bench voice -- --write # also rewrites the section
//!                                                  # "Voice call control (issue 5)" of
//!                                                  # docs/benchmarks.md
//! ```
//!
//! Each phase starts the `dialtone` binary of this build (`dialtone serve --listen
//! 127.0.0.1:0`, a fresh database, real clock) as a child process, so its memory and CPU are
//! its own; this process is the load (one pooled reqwest client, as an SDK would be) and the
//! webhook receiver (axum on 127.0.0.1:0, answers 200 at once and records every event). A
//! call control application sends its webhooks to the receiver; the destination dialled has a
//! far-end script (`PUT /_dialtone/sim/destinations/{number}`).
//!
//! - Held: `BENCH_CALLS` dials (`POST /v2/calls`, `BENCH_CONCURRENCY` tasks, closed loop) to a
//!   destination that answers after 1 s and stays up (`time_limit_secs` 14400). Waits for
//!   every `call.answered`, reads the server's memory and the store's size, confirms the calls
//!   are live at once (`GET /v2/connections/{id}/active_calls` total, and `GET /v2/calls/{id}`
//!   `is_alive` for every one), hangs them all up (`actions/hangup`) and checks they end
//!   (`call.hangup` for each, no active call left).
//! - Rate: `BENCH_RATE` dials per second for `BENCH_RATE_SECS` s, open loop (each dial is sent
//!   at its scheduled time whether or not earlier ones were answered; at most
//!   `BENCH_INFLIGHT` in flight) to a destination that answers after 1 s and hangs up 2 s
//!   later, so every call makes `call.initiated`, `call.answered` and `call.hangup`. The bench
//!   waits for all three of every call and checks none is lost or duplicated.
//!
//! Environment (all optional): BENCH_CALLS (10000), BENCH_CONCURRENCY (32), BENCH_RATE (1000),
//! BENCH_RATE_SECS (10), BENCH_INFLIGHT (512), BENCH_TIMEOUT (seconds each wait may take, 180),
//! BENCH_WORKERS (scheduler workers, 1 as `dialtone serve`), BENCH_PHASES (held,rate),
//! BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test; `off` skips PostgreSQL; each
//! server gets a fresh schema, dropped at the end with `psql`), BENCH_ONLY=sqlite|postgres,
//! BENCH_NOTE (a note printed with the results), BENCH_WRITE=1 (as `--write`).

#![recursion_limit = "256"]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;
use tokio_util::sync::CancellationToken;

mod common;
use common::*;

const SECTION: &str = "## Voice call control (issue 5)";
const AFTER_SECTION: &str = "## Messaging (issue 4)";
/// A subsection of the section written by hand; `--write` keeps it.
const ANALYSIS: &str = "### Analysis";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const KEY: &str = "KEYbench-voice-0123456789";
const FROM: &str = "+13125550100";
/// Answers after `HELD_RING_MS` and stays up.
const HELD_TO: &str = "+15557000001";
const HELD_RING_MS: u64 = 1000;
/// Answers after `RATE_RING_MS`, hangs up `RATE_LIFE_MS` later.
const RATE_TO: &str = "+15557000002";
const RATE_RING_MS: u64 = 1000;
const RATE_LIFE_MS: u64 = 2000;
const TARGET_HELD: u64 = 10_000;
const TARGET_RATE: f64 = 1_000.0;

// ---------------------------------------------------------------------------------------
// Process figures (of this process, "self", or the server's pid)

fn proc_kb(pid: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Events per second of each whole second after `start` (for the log).
fn per_second(times: &[u64], start: u64) -> Vec<u64> {
    let mut out = Vec::new();
    for &r in times {
        let s = (r.saturating_sub(start) / 1_000_000_000) as usize;
        if out.len() <= s {
            out.resize(s + 1, 0);
        }
        out[s] += 1;
    }
    out
}

// ---------------------------------------------------------------------------------------
// The server: `dialtone serve` of this build, as a child process

struct Server {
    child: tokio::process::Child,
    pid: String,
    base: String,
    /// The SQLite file (its -wal and -shm beside it), or the PostgreSQL schema.
    store: StoreAt,
}

enum StoreAt {
    Sqlite(PathBuf),
    Postgres { base: String, schema: String },
}

impl Server {
    async fn start(database: &str, store: StoreAt) -> Server {
        let workers = env_num("BENCH_WORKERS", 1).to_string();
        let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database, "--api-key", KEY])
            .args(["--workers", &workers])
            .env_remove("DIALTONE_LOG")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("start dialtone serve");
        let pid = child.id().expect("the server's pid").to_string();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let first = tokio::time::timeout(Duration::from_secs(60), lines.next_line())
            .await
            .expect("the server starts within 60 s")
            .expect("read the server's output")
            .expect("the server prints where it listens");
        let base = first.rsplit(' ').next().unwrap_or_default().trim().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "unexpected first line: {first}");
        // Keep reading its output, so it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Server { child, pid, base, store }
    }

    fn rss_kb(&self) -> u64 {
        proc_kb(&self.pid, "VmRSS:")
    }

    fn peak_kb(&self) -> u64 {
        proc_kb(&self.pid, "VmHWM:")
    }

    fn cpu(&self) -> f64 {
        cpu_secs(&self.pid)
    }

    /// Bytes the store takes: the SQLite database file (the checkpoint thread copies the WAL
    /// into it every 200 ms) and, apart, its WAL and shared memory; or the schema's relations.
    fn store_bytes(&self) -> (Option<u64>, Option<u64>) {
        match &self.store {
            StoreAt::Sqlite(path) => {
                let size = |suffix: &str| {
                    let mut p = path.clone().into_os_string();
                    p.push(suffix);
                    std::fs::metadata(&p).map(|m| m.len()).unwrap_or(0)
                };
                (Some(size("")), Some(size("-wal") + size("-shm")))
            }
            StoreAt::Postgres { base, schema } => {
                let q = format!(
                    "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c \
                     JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'm')"
                );
                (sh("psql", &[base, "-Atqc", &q]).and_then(|v| v.trim().parse().ok()), None)
            }
        }
    }

    /// SIGTERM (a graceful stop, as `dialtone serve` handles it), then SIGKILL after 30 s.
    async fn stop(mut self) {
        let _ = std::process::Command::new("kill").args(["-TERM", &self.pid]).status();
        if tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await.is_err() {
            eprintln!("   the server did not stop within 30 s of SIGTERM; killing it");
            let _ = self.child.kill().await;
        }
    }
}

// ---------------------------------------------------------------------------------------
// The receiver

const INITIATED: usize = 1;
const ANSWERED: usize = 2;
const HANGUP: usize = 3;
const KINDS: [&str; 4] = ["other", "call.initiated", "call.answered", "call.hangup"];

struct Hit {
    kind: usize,
    call: Box<str>,
    event_id: Box<str>,
    /// `occurred_at` in Unix ms, and the receive time in Unix µs.
    occurred_ms: i64,
    recv_wall_us: i64,
    recv_ns: u64,
}

#[derive(Default)]
struct Receiver {
    hits: Mutex<Vec<Hit>>,
    counts: [AtomicU64; 4],
}

impl Receiver {
    fn count(&self, kind: usize) -> u64 {
        self.counts[kind].load(Ordering::Relaxed)
    }

    fn clear(&self) {
        self.hits.lock().unwrap().clear();
        for c in &self.counts {
            c.store(0, Ordering::Relaxed);
        }
    }
}

async fn hook(State(rx): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    let recv_ns = now_ns();
    let recv_wall_us = chrono::Utc::now().timestamp_micros();
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let d = &v["data"];
    let kind = KINDS.iter().position(|k| d["event_type"] == *k).unwrap_or(0);
    let occurred_ms = d["occurred_at"]
        .as_str()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.timestamp_millis())
        .unwrap_or(0);
    let hit = Hit {
        kind,
        call: d["payload"]["call_control_id"].as_str().unwrap_or_default().into(),
        event_id: d["id"].as_str().unwrap_or_default().into(),
        occurred_ms,
        recv_wall_us,
        recv_ns,
    };
    rx.hits.lock().unwrap().push(hit);
    rx.counts[kind].fetch_add(1, Ordering::Relaxed);
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

/// What arrived for a set of calls: per call, how many of each event type.
struct Tally {
    /// Calls with exactly one of each expected event type.
    complete: u64,
    /// Expected events that never came.
    missing: u64,
    /// Events of an expected type beyond the first for a call, and repeated event ids.
    dup_per_call: u64,
    dup_ids: u64,
}

fn tally(hits: &[Hit], calls: &[String], kinds: &[usize]) -> Tally {
    let mut per: HashMap<&str, [u32; 4]> = calls.iter().map(|c| (c.as_str(), [0; 4])).collect();
    for h in hits {
        if let Some(c) = per.get_mut(&*h.call) {
            c[h.kind] += 1;
        }
    }
    let mut t = Tally { complete: 0, missing: 0, dup_per_call: 0, dup_ids: 0 };
    for c in per.values() {
        let mut ok = true;
        for &k in kinds {
            match c[k] {
                0 => {
                    t.missing += 1;
                    ok = false;
                }
                1 => {}
                n => {
                    t.dup_per_call += (n - 1) as u64;
                    ok = false;
                }
            }
        }
        if ok {
            t.complete += 1;
        }
    }
    let mut ids: Vec<&str> = hits.iter().map(|h| &*h.event_id).collect();
    ids.sort_unstable();
    let total = ids.len();
    ids.dedup();
    t.dup_ids = (total - ids.len()) as u64;
    t
}

// ---------------------------------------------------------------------------------------
// The client

#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: Arc<str>,
}

impl Api {
    fn new(base: &str, pool: usize) -> Api {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(pool.max(1))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(60))
            .build()
            .expect("reqwest client");
        Api { http, base: base.into() }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Result<(u16, Value), String> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(KEY);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
    }

    async fn must(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Value {
        let (st, v) = self.call(method, path, body).await.expect("request");
        assert!((200..300).contains(&st), "{path}: {st} {v}");
        v
    }

    /// `GET /v2/connections/{id}/active_calls`: the total of live calls.
    async fn active_total(&self, app: &str) -> Option<u64> {
        let path = format!("/v2/connections/{app}/active_calls?page[size]=1");
        let (st, v) = self.call(reqwest::Method::GET, &path, None).await.ok()?;
        (st == 200).then(|| v["meta"]["total_results"].as_u64()).flatten()
    }
}

/// An application sending its webhooks to `hook_url`, and a script for `to`.
async fn setup(api: &Api, hook_url: &str, to: &str, script: Value) -> String {
    use reqwest::Method;
    let app = api
        .must(
            Method::POST,
            "/v2/call_control_applications",
            Some(&json!({"application_name": "bench", "webhook_event_url": hook_url})),
        )
        .await;
    let app = app["data"]["id"].as_str().expect("the application's id").to_owned();
    let path = format!("/_dialtone/sim/destinations/{}", to.replace('+', "%2B"));
    api.must(Method::PUT, &path, Some(&script)).await;
    app
}

/// The result of many requests run by `tasks` tasks, each as soon as its previous answer came.
struct Closed {
    /// (item index, latency, answer) of the 2xx.
    ok: Vec<(usize, u64, Value)>,
    errors: u64,
    first_error: Option<String>,
    secs: f64,
}

async fn closed_loop<F>(total: usize, tasks: usize, api: &Api, request: F) -> Closed
where
    F: Fn(usize) -> (reqwest::Method, String, Option<Value>) + Send + Sync + 'static,
{
    let request = Arc::new(request);
    let next = Arc::new(AtomicUsize::new(0));
    let start = now_ns();
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (api, next, request) = (api.clone(), next.clone(), request.clone());
        handles.push(tokio::spawn(async move {
            let mut ok = Vec::new();
            let mut errors = 0u64;
            let mut first_error = None;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let (method, path, body) = request(i);
                let t0 = now_ns();
                match api.call(method, &path, body.as_ref()).await {
                    Ok((st, v)) if (200..300).contains(&st) => ok.push((i, now_ns() - t0, v)),
                    Ok((st, v)) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| format!("{st} {v}"));
                    }
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert(e);
                    }
                }
            }
            (ok, errors, first_error)
        }));
    }
    let mut out = Closed { ok: Vec::new(), errors: 0, first_error: None, secs: 0.0 };
    for h in handles {
        let (ok, errors, first) = h.await.expect("task");
        out.ok.extend(ok);
        out.errors += errors;
        if out.first_error.is_none() {
            out.first_error = first;
        }
    }
    out.secs = secs(now_ns() - start);
    out
}

/// Waits until `done()` or the timeout; answers the time it held (ns), or `None`.
async fn wait_until(timeout: Duration, mut done: impl FnMut() -> bool) -> Option<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        if done() {
            return Some(now_ns());
        }
        if Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Phase held: 10,000 calls up at once

async fn run_held(database: String, store: StoreAt) -> Value {
    use reqwest::Method;
    let n = env_num("BENCH_CALLS", TARGET_HELD) as usize;
    let tasks = env_num("BENCH_CONCURRENCY", 32).max(1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", 180));
    now_ns();
    let shutdown = CancellationToken::new();
    let (rx, hook_url) = start_receiver(shutdown.clone()).await;
    let server = Server::start(&database, store).await;
    let api = Api::new(&server.base, tasks);
    let app = setup(&api, &hook_url, HELD_TO, json!({"ring_ms": HELD_RING_MS})).await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let rss_idle = server.rss_kb();
    let store_idle = server.store_bytes();
    let cpu0 = server.cpu();
    let self_cpu0 = cpu_secs("self");

    eprintln!("   held: dialling {n} calls from {tasks} tasks");
    let dial_body = json!({"connection_id": app, "to": HELD_TO, "from": FROM, "time_limit_secs": 14400});
    let start = now_ns();
    let dials = {
        let body = dial_body.clone();
        closed_loop(n, tasks, &api, move |_| (Method::POST, "/v2/calls".into(), Some(body.clone()))).await
    };
    let dialled_at = now_ns();
    let rss_dialled = server.rss_kb();
    let ids: Vec<String> =
        dials.ok.iter().filter_map(|(_, _, v)| v["data"]["call_control_id"].as_str().map(str::to_owned)).collect();
    let lat = sorted(dials.ok.iter().map(|o| o.1).collect());
    eprintln!(
        "   held: {} dialled in {:.2} s ({:.0}/s; p50 {:.2} p99 {:.2} ms), {} errors{}",
        ids.len(),
        dials.secs,
        ids.len() as f64 / dials.secs,
        pct_ms(&lat, 0.5),
        pct_ms(&lat, 0.99),
        dials.errors,
        dials
            .first_error
            .as_deref()
            .map(|e| format!(": {}", e.chars().take(300).collect::<String>()))
            .unwrap_or_default()
    );
    let dialled = ids.len() as u64;
    let answered_at = wait_until(timeout, || rx.count(ANSWERED) >= dialled).await;
    let answered = rx.count(ANSWERED);
    eprintln!(
        "   held: {answered} call.answered after {:?} s",
        answered_at.map(|t| secs(t - start)).map(|s| (s * 100.0).round() / 100.0)
    );
    // Let the scheduler settle (the answers' webhook records) before reading memory.
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let cpu_up = server.cpu() - cpu0;
    let rss_up = server.rss_kb();
    let store_up = server.store_bytes();
    let active_up = api.active_total(&app).await;
    let gets = {
        let ids = Arc::new(ids.clone());
        closed_loop(ids.len(), tasks, &api, move |i| (Method::GET, format!("/v2/calls/{}", ids[i]), None)).await
    };
    let alive = gets.ok.iter().filter(|(_, _, v)| v["data"]["is_alive"] == true).count() as u64;
    let hangups_before = rx.count(HANGUP);
    eprintln!(
        "   held: live at once: active_calls total {active_up:?}, is_alive {alive} of {} ({:.2} s for the GETs), {hangups_before} call.hangup so far; server RSS {} → {} kB",
        ids.len(),
        gets.secs,
        rss_idle,
        rss_up
    );

    let cpu1 = server.cpu();
    let hang = {
        let ids = Arc::new(ids.clone());
        closed_loop(ids.len(), tasks, &api, move |i| {
            (Method::POST, format!("/v2/calls/{}/actions/hangup", ids[i]), Some(json!({})))
        })
        .await
    };
    let hang_lat = sorted(hang.ok.iter().map(|o| o.1).collect());
    let hung_at = now_ns();
    let ended_at = wait_until(timeout, || rx.count(HANGUP) >= dialled).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu_hang = server.cpu() - cpu1;
    let active_end = api.active_total(&app).await;
    eprintln!(
        "   held: {} hung up in {:.2} s, {} errors; {} call.hangup, {:?} s after the last hangup; active_calls total {active_end:?}",
        hang.ok.len(),
        hang.secs,
        hang.errors,
        rx.count(HANGUP),
        ended_at.map(|t| secs(t.saturating_sub(hung_at)))
    );
    let hits = std::mem::take(&mut *rx.hits.lock().unwrap());
    let t = tally(&hits, &ids, &[INITIATED, ANSWERED, HANGUP]);
    let rss_end = server.rss_kb();
    let peak = server.peak_kb();
    let self_cpu = cpu_secs("self") - self_cpu0;
    shutdown.cancel();
    server.stop().await;
    let per_call_kb = (rss_up as f64 - rss_idle as f64) / dialled.max(1) as f64;
    let per_call_store = match (store_idle.0, store_up.0) {
        (Some(a), Some(b)) => json!((b as f64 - a as f64) / dialled.max(1) as f64),
        _ => Value::Null,
    };
    json!({
        "n": n, "tasks": tasks, "dialled": dialled, "dial_errors": dials.errors, "dial_first_error": dials.first_error,
        "dial_secs": dials.secs, "dial_rate": dialled as f64 / dials.secs,
        "dial_p50": pct_ms(&lat, 0.5), "dial_p99": pct_ms(&lat, 0.99),
        "answered": answered, "answered_secs": answered_at.map(|t| secs(t - start)),
        "answered_after_dials_secs": answered_at.map(|t| secs(t.saturating_sub(dialled_at))),
        "active_up": active_up, "alive": alive, "get_errors": gets.errors, "get_rate": gets.ok.len() as f64 / gets.secs,
        "hangups_before": hangups_before,
        "hung": hang.ok.len(), "hang_errors": hang.errors, "hang_first_error": hang.first_error,
        "hang_secs": hang.secs, "hang_rate": hang.ok.len() as f64 / hang.secs,
        "hang_p50": pct_ms(&hang_lat, 0.5), "hang_p99": pct_ms(&hang_lat, 0.99),
        "ended": t.complete, "hangup_rx": hits.iter().filter(|h| h.kind == HANGUP).count(),
        "ended_secs": ended_at.map(|t| secs(t.saturating_sub(hung_at))),
        "active_end": active_end,
        "complete": t.complete, "missing": t.missing, "dup_per_call": t.dup_per_call, "dup_ids": t.dup_ids,
        "webhooks": hits.len(),
        "cpu_us_per_call_up": cpu_up * 1e6 / dialled.max(1) as f64,
        "cpu_us_per_hangup": cpu_hang * 1e6 / dialled.max(1) as f64,
        "client_cpu_us_per_call": self_cpu * 1e6 / dialled.max(1) as f64,
        "rss_kb": { "idle": rss_idle, "dialled": rss_dialled, "up": rss_up, "end": rss_end, "peak": peak },
        "per_call_kb": per_call_kb,
        "store": { "idle": store_idle.0, "up": store_up.0, "wal_idle": store_idle.1, "wal_up": store_up.1 },
        "per_call_store_bytes": per_call_store,
    })
}

// ---------------------------------------------------------------------------------------
// Phase rate: 1,000 dials per second, open loop, with their webhooks

struct Dial {
    sched: u64,
    sent: u64,
    done: u64,
    status: u16,
    id: Option<String>,
    error: Option<String>,
}

async fn run_rate(database: String, store: StoreAt) -> Value {
    let rate = env_num("BENCH_RATE", TARGET_RATE as u64).max(1);
    let dur = env_num("BENCH_RATE_SECS", 10).max(1);
    let inflight = env_num("BENCH_INFLIGHT", 512).max(1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", 180));
    now_ns();
    let shutdown = CancellationToken::new();
    let (rx, hook_url) = start_receiver(shutdown.clone()).await;
    let server = Server::start(&database, store).await;
    let api = Api::new(&server.base, inflight);
    let app = setup(&api, &hook_url, RATE_TO, json!({"ring_ms": RATE_RING_MS, "hangup_after_ms": RATE_LIFE_MS})).await;
    // Warm the client's pool and the server's caches with a few calls, then forget them.
    let body = json!({"connection_id": app, "to": RATE_TO, "from": FROM});
    for _ in 0..8 {
        api.must(reqwest::Method::POST, "/v2/calls", Some(&body)).await;
    }
    tokio::time::sleep(Duration::from_millis(RATE_RING_MS + RATE_LIFE_MS + 1500)).await;
    rx.clear();
    let rss_idle = server.rss_kb();
    let total = (rate * dur) as usize;
    eprintln!("   rate: {rate} dials/s for {dur} s ({total} dials, at most {inflight} in flight)");
    let body = Bytes::from(body.to_string());
    let url: Arc<str> = format!("{}/v2/calls", server.base).into();
    let sem = Arc::new(tokio::sync::Semaphore::new(inflight));
    let dials: Arc<Mutex<Vec<Dial>>> = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let cpu0 = server.cpu();
    let self_cpu0 = cpu_secs("self");
    let interval = 1e9 / rate as f64;
    let start = now_ns() + 10_000_000;
    let mut max_lag = 0u64;
    let mut handles = Vec::with_capacity(total);
    for i in 0..total {
        let sched = start + (i as f64 * interval) as u64;
        let now = now_ns();
        if sched > now {
            tokio::time::sleep(Duration::from_nanos(sched - now)).await;
        }
        let permit = sem.clone().acquire_owned().await.expect("semaphore");
        max_lag = max_lag.max(now_ns().saturating_sub(sched));
        let (http, url, body, dials) = (api.http.clone(), url.clone(), body.clone(), dials.clone());
        handles.push(tokio::spawn(async move {
            let sent = now_ns();
            let resp =
                http.post(&*url).bearer_auth(KEY).header("content-type", "application/json").body(body).send().await;
            let (status, id, error) = match resp {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let bytes = r.bytes().await.unwrap_or_default();
                    let v: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
                    let id = v["data"]["call_control_id"].as_str().map(str::to_owned);
                    let error = (status != 200).then(|| format!("{status} {}", String::from_utf8_lossy(&bytes)));
                    (status, id, error)
                }
                Err(e) => (0, None, Some(e.to_string())),
            };
            let done = now_ns();
            drop(permit);
            dials.lock().unwrap().push(Dial { sched, sent, done, status, id, error });
        }));
    }
    for h in handles {
        let _ = h.await;
    }
    let load_end = now_ns();
    let load_cpu = server.cpu() - cpu0;
    let rss_load = server.rss_kb();
    let dials = std::mem::take(&mut *dials.lock().unwrap());
    let ok: Vec<&Dial> = dials.iter().filter(|d| d.status == 200 && d.id.is_some()).collect();
    let ids: Vec<String> = ok.iter().map(|d| d.id.clone().unwrap()).collect();
    let n_ok = ok.len() as u64;
    let errors = dials.len() as u64 - n_ok;
    let first_error = dials.iter().find_map(|d| d.error.clone());
    let last_sched = start + ((total.max(1) - 1) as f64 * interval) as u64;
    let last_sent = dials.iter().map(|d| d.sent).max().unwrap_or(start);
    let send_secs = secs(last_sent.saturating_sub(start)).max(1.0 / rate as f64);
    let load_secs = secs(load_end - start);
    let lat_sched = sorted(ok.iter().map(|d| d.done - d.sched).collect());
    let lat_sent = sorted(ok.iter().map(|d| d.done - d.sent).collect());
    let answered_ns = sorted(ok.iter().map(|d| d.done).collect());
    // Answered within the load's schedule: 200s per second over the time the dials were due.
    let answered_rate = n_ok as f64 / load_secs;
    eprintln!(
        "   rate: {n_ok} × 200 of {} in {load_secs:.2} s ({answered_rate:.0}/s; sent over {send_secs:.2} s), {errors} errors; latency from schedule p50 {:.2} p99 {:.2} max {:.2} ms, from send p50 {:.2} p99 {:.2} ms; pacing lag max {:.1} ms{}",
        dials.len(),
        pct_ms(&lat_sched, 0.5),
        pct_ms(&lat_sched, 0.99),
        pct_ms(&lat_sched, 1.0),
        pct_ms(&lat_sent, 0.5),
        pct_ms(&lat_sent, 0.99),
        max_lag as f64 / 1e6,
        first_error
            .as_deref()
            .map(|e| format!("; first error: {}", e.chars().take(300).collect::<String>()))
            .unwrap_or_default()
    );
    eprintln!("   rate: 200s per second: {:?}", per_second(&answered_ns, start));
    let during = [rx.count(INITIATED), rx.count(ANSWERED), rx.count(HANGUP)];

    // Drain: every call's three webhooks.
    let expected = 3 * n_ok;
    let drained_at =
        wait_until(timeout, || rx.count(INITIATED) >= n_ok && rx.count(ANSWERED) >= n_ok && rx.count(HANGUP) >= n_ok)
            .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let total_cpu = server.cpu() - cpu0;
    let self_cpu = cpu_secs("self") - self_cpu0;
    let rss_end = server.rss_kb();
    let peak = server.peak_kb();
    let hits = std::mem::take(&mut *rx.hits.lock().unwrap());
    shutdown.cancel();
    server.stop().await;

    let t = tally(&hits, &ids, &[INITIATED, ANSWERED, HANGUP]);
    let answered_at: HashMap<&str, u64> = ok.iter().map(|d| (d.id.as_deref().unwrap(), d.done)).collect();
    let mut occurred: HashMap<&str, [i64; 4]> = HashMap::new();
    let mut init_lag = Vec::new();
    let mut deliver_lag = Vec::new();
    for h in &hits {
        if h.kind == 0 {
            continue;
        }
        deliver_lag.push(((h.recv_wall_us - h.occurred_ms * 1000).max(0) * 1000) as u64);
        if h.kind == INITIATED
            && let Some(&a) = answered_at.get(&*h.call)
        {
            init_lag.push(h.recv_ns.saturating_sub(a));
        }
        occurred.entry(&*h.call).or_default()[h.kind] = h.occurred_ms;
    }
    // How late the far end's timers fired: answer after the ring, hang-up after its life.
    let mut answer_late = Vec::new();
    let mut hangup_late = Vec::new();
    for o in occurred.values() {
        if o[INITIATED] > 0 && o[ANSWERED] > 0 {
            answer_late.push(((o[ANSWERED] - o[INITIATED] - RATE_RING_MS as i64).max(0) * 1_000_000) as u64);
        }
        if o[ANSWERED] > 0 && o[HANGUP] > 0 {
            hangup_late.push(((o[HANGUP] - o[ANSWERED] - RATE_LIFE_MS as i64).max(0) * 1_000_000) as u64);
        }
    }
    let (init_lag, deliver_lag) = (sorted(init_lag), sorted(deliver_lag));
    let (answer_late, hangup_late) = (sorted(answer_late), sorted(hangup_late));
    let recvs = sorted(hits.iter().filter(|h| h.kind > 0).map(|h| h.recv_ns).collect());
    eprintln!("   rate: webhooks per second: {:?}", per_second(&recvs, start));
    // Steady state: once every event type flows (a call's life after its dial), to the load's end.
    let steady_from = start + (RATE_RING_MS + RATE_LIFE_MS) * 1_000_000;
    let (w0, w1) = if load_end > steady_from + 1_000_000_000 { (steady_from, load_end) } else { (start, load_end) };
    let in_window = recvs.iter().filter(|&&r| r >= w0 && r < w1).count() as f64;
    let webhook_rate = in_window / secs(w1 - w0);
    let last_recv = recvs.last().copied().unwrap_or(load_end);
    // A call's last webhook is due its scripted life after its dial.
    let last_due = last_sched + (RATE_RING_MS + RATE_LIFE_MS) * 1_000_000;
    let last_behind_ms = last_recv.saturating_sub(last_due) as f64 / 1e6;
    let all_in = t.complete == n_ok && t.missing == 0 && t.dup_per_call == 0 && t.dup_ids == 0;
    let kept_up =
        n_ok as f64 >= 0.99 * total as f64 && answered_rate >= 0.99 * rate as f64 && all_in && last_behind_ms <= 2000.0;
    eprintln!(
        "   rate: {} webhooks ({} expected), {} calls complete, {} missing, {} duplicates; last {:.0} ms after its due time; initiated lag p50 {:.1} p99 {:.1} ms; occurred→received p50 {:.1} p99 {:.1} ms; answer late p50 {:.0} p99 {:.0} ms; hang-up late p50 {:.0} p99 {:.0} ms",
        hits.len(),
        expected,
        t.complete,
        t.missing,
        t.dup_per_call + t.dup_ids,
        last_behind_ms,
        pct_ms(&init_lag, 0.5),
        pct_ms(&init_lag, 0.99),
        pct_ms(&deliver_lag, 0.5),
        pct_ms(&deliver_lag, 0.99),
        pct_ms(&answer_late, 0.5),
        pct_ms(&answer_late, 0.99),
        pct_ms(&hangup_late, 0.5),
        pct_ms(&hangup_late, 0.99)
    );
    json!({
        "rate": rate, "secs": dur, "inflight": inflight, "total": total,
        "ok": n_ok, "errors": errors, "first_error": first_error,
        "load_secs": load_secs, "answered_rate": answered_rate, "sent_rate": dials.len() as f64 / send_secs,
        "pacing_lag_ms": max_lag as f64 / 1e6,
        "lat_p50": pct_ms(&lat_sched, 0.5), "lat_p99": pct_ms(&lat_sched, 0.99), "lat_max": pct_ms(&lat_sched, 1.0),
        "sent_p50": pct_ms(&lat_sent, 0.5), "sent_p99": pct_ms(&lat_sent, 0.99),
        "during": during, "webhooks": hits.len(), "expected": expected, "webhook_rate": webhook_rate,
        "window_secs": secs(w1 - w0),
        "complete": t.complete, "missing": t.missing, "dup_per_call": t.dup_per_call, "dup_ids": t.dup_ids,
        "drained_secs": drained_at.map(|d| secs(d.saturating_sub(load_end))),
        "last_behind_ms": last_behind_ms, "kept_up": kept_up,
        "init_lag_p50": pct_ms(&init_lag, 0.5), "init_lag_p99": pct_ms(&init_lag, 0.99),
        "deliver_p50": pct_ms(&deliver_lag, 0.5), "deliver_p99": pct_ms(&deliver_lag, 0.99), "deliver_max": pct_ms(&deliver_lag, 1.0),
        "answer_late_p50": pct_ms(&answer_late, 0.5), "answer_late_p99": pct_ms(&answer_late, 0.99),
        "hangup_late_p50": pct_ms(&hangup_late, 0.5), "hangup_late_p99": pct_ms(&hangup_late, 0.99),
        "load_cores": load_cpu / load_secs,
        "cpu_us_per_call": total_cpu * 1e6 / n_ok.max(1) as f64,
        "client_cpu_us_per_call": self_cpu * 1e6 / n_ok.max(1) as f64,
        "rss_kb": { "idle": rss_idle, "load": rss_load, "end": rss_end, "peak": peak },
    })
}

// ---------------------------------------------------------------------------------------
// The report

struct Backend {
    label: &'static str,
    held: Option<Result<Value, String>>,
    rate: Option<Result<Value, String>>,
}

type Phase = fn(&Backend) -> &Option<Result<Value, String>>;

fn held(b: &Backend) -> &Option<Result<Value, String>> {
    &b.held
}

fn rate(b: &Backend) -> &Option<Result<Value, String>> {
    &b.rate
}

/// One row: a label, a target and a cell per backend (from the result of one phase).
fn row(label: &str, target: &str, backends: &[Backend], phase: Phase, cell: impl Fn(&Value) -> String) -> String {
    let mut line = format!("| {label} | {target} |");
    for b in backends {
        match phase(b) {
            Some(Ok(r)) => line.push_str(&format!(" {} |", cell(r))),
            Some(Err(_)) => line.push_str(" failed |"),
            None => line.push_str(" not run |"),
        }
    }
    line
}

fn secs_cell(v: &Value) -> String {
    match v.as_f64() {
        Some(s) => format!("{s:.2} s"),
        None => "not within the timeout".into(),
    }
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

fn bytes_mb(v: &Value) -> String {
    match v.as_f64() {
        Some(b) => format!("{:.1}", b / 1024.0 / 1024.0),
        None => "—".into(),
    }
}

fn table(backends: &[Backend]) -> String {
    let mut t = String::from("| Measurement | Target |");
    for b in backends {
        t.push_str(&format!(" {} |", b.label));
    }
    t.push_str("\n| --- | --- |");
    for _ in backends {
        t.push_str(" --- |");
    }
    let rows = [
        row("Held: dials over HTTP (`POST /v2/calls`, closed loop)", "—", backends, held, |r| {
            format!(
                "{} in {:.1} s: {}/s ({} tasks; p50 / p99 {} / {} ms; {} errors)",
                fmt_int(f(&r["dialled"])),
                f(&r["dial_secs"]),
                fmt_int(f(&r["dial_rate"])),
                r["tasks"],
                ms(&r["dial_p50"]),
                ms(&r["dial_p99"]),
                r["dial_errors"]
            )
        }),
        row("Held: every call answered (`call.answered` received), after the first dial", "—", backends, held, |r| {
            format!(
                "{} of {} in {}",
                fmt_int(f(&r["answered"])),
                fmt_int(f(&r["dialled"])),
                secs_cell(&r["answered_secs"])
            )
        }),
        row(
            "Held: live at once: `active_calls` total / `GET /v2/calls/{id}` with `is_alive`",
            "10,000",
            backends,
            held,
            |r| {
                let ok = f(&r["active_up"]) >= TARGET_HELD as f64 && f(&r["alive"]) >= TARGET_HELD as f64;
                format!(
                    "{} / {} of {}{}",
                    fmt_int(f(&r["active_up"])),
                    fmt_int(f(&r["alive"])),
                    fmt_int(f(&r["dialled"])),
                    mark(ok)
                )
            },
        ),
        row("Held: server VmRSS idle / dialled / all answered / after hang-up (peak)", "—", backends, held, |r| {
            let k = &r["rss_kb"];
            format!(
                "{} / {} / {} / {} MB ({} MB)",
                mb(&k["idle"]),
                mb(&k["dialled"]),
                mb(&k["up"]),
                mb(&k["end"]),
                mb(&k["peak"])
            )
        }),
        row("Held: server memory per held call (RSS growth ÷ calls)", "reported", backends, held, |r| {
            format!("{:.2} kB", f(&r["per_call_kb"]))
        }),
        row(
            "Held: store size idle / with the calls up (SQLite: the database file; WAL beside it); per call",
            "—",
            backends,
            held,
            |r| {
                let s = &r["store"];
                let wal = if s["wal_up"].is_null() {
                    String::new()
                } else {
                    format!(" (WAL {} / {} MB)", bytes_mb(&s["wal_idle"]), bytes_mb(&s["wal_up"]))
                };
                format!(
                    "{} / {} MB{wal}; {} bytes",
                    bytes_mb(&s["idle"]),
                    bytes_mb(&s["up"]),
                    if r["per_call_store_bytes"].is_null() {
                        "—".into()
                    } else {
                        fmt_int(f(&r["per_call_store_bytes"]))
                    }
                )
            },
        ),
        row(
            "Held: server CPU per call up (dial, `call.initiated`, answer timer, `call.answered`)",
            "—",
            backends,
            held,
            |r| format!("{} µs", fmt_int(f(&r["cpu_us_per_call_up"]))),
        ),
        row("Held: hang-ups over HTTP (`actions/hangup`)", "—", backends, held, |r| {
            format!(
                "{} in {:.1} s: {}/s (p50 / p99 {} / {} ms; {} errors); {} µs server CPU each with its webhook",
                fmt_int(f(&r["hung"])),
                f(&r["hang_secs"]),
                fmt_int(f(&r["hang_rate"])),
                ms(&r["hang_p50"]),
                ms(&r["hang_p99"]),
                r["hang_errors"],
                fmt_int(f(&r["cpu_us_per_hangup"]))
            )
        }),
        row(
            "Held: ended: `call.hangup` received / `active_calls` total after; last `call.hangup` after the last hang-up",
            "all / 0",
            backends,
            held,
            |r| {
                let ok = f(&r["hangup_rx"]) >= f(&r["dialled"]) && r["active_end"] == 0;
                format!(
                    "{} / {}{}; {}",
                    fmt_int(f(&r["hangup_rx"])),
                    r["active_end"],
                    mark(ok),
                    secs_cell(&r["ended_secs"])
                )
            },
        ),
        row(
            "Held: calls with exactly one `call.initiated`, `call.answered`, `call.hangup`; lost; duplicates",
            "all; 0; 0",
            backends,
            held,
            |r| {
                let ok =
                    r["complete"] == r["dialled"] && r["missing"] == 0 && r["dup_per_call"] == 0 && r["dup_ids"] == 0;
                format!(
                    "{}{}; {}; {}",
                    fmt_int(f(&r["complete"])),
                    mark(ok),
                    r["missing"],
                    f(&r["dup_per_call"]) + f(&r["dup_ids"])
                )
            },
        ),
        row("Rate: dials sent / answered 200 per second (open loop)", "≥ 1,000/s", backends, rate, |r| {
            let v = f(&r["answered_rate"]);
            format!(
                "{} / {}/s{} ({} of {} in {:.1} s; {} errors)",
                fmt_int(f(&r["sent_rate"])),
                fmt_int(v),
                mark(v >= TARGET_RATE * 0.99),
                fmt_int(f(&r["ok"])),
                fmt_int(f(&r["total"])),
                f(&r["load_secs"]),
                r["errors"]
            )
        }),
        row(
            "Rate: dial latency from its scheduled time p50 / p99 / max (from sending p50 / p99); pacing lag max",
            "—",
            backends,
            rate,
            |r| {
                format!(
                    "{} / {} / {} ms ({} / {} ms); {} ms",
                    ms(&r["lat_p50"]),
                    ms(&r["lat_p99"]),
                    ms(&r["lat_max"]),
                    ms(&r["sent_p50"]),
                    ms(&r["sent_p99"]),
                    ms(&r["pacing_lag_ms"])
                )
            },
        ),
        row("Rate: webhooks received per second, steady state (3 per call)", "3 × rate", backends, rate, |r| {
            let v = f(&r["webhook_rate"]);
            format!("{}/s{} (over {:.1} s)", fmt_int(v), mark(v >= 3.0 * f(&r["rate"]) * 0.95), f(&r["window_secs"]))
        }),
        row("Rate: `call.initiated` received after the dial's 200, p50 / p99", "—", backends, rate, |r| {
            format!("{} / {} ms", ms(&r["init_lag_p50"]), ms(&r["init_lag_p99"]))
        }),
        row("Rate: event to delivery (`occurred_at` → received), p50 / p99 / max", "—", backends, rate, |r| {
            format!("{} / {} / {} ms", ms(&r["deliver_p50"]), ms(&r["deliver_p99"]), ms(&r["deliver_max"]))
        }),
        row(
            "Rate: far-end timers late: answer after the 1 s ring / hang-up 2 s later, p50 / p99",
            "—",
            backends,
            rate,
            |r| {
                format!(
                    "{} / {} ms; {} / {} ms",
                    ms(&r["answer_late_p50"]),
                    ms(&r["answer_late_p99"]),
                    ms(&r["hangup_late_p50"]),
                    ms(&r["hangup_late_p99"])
                )
            },
        ),
        row(
            "Rate: calls with exactly one `call.initiated`, `call.answered`, `call.hangup`; lost; duplicates",
            "all; 0; 0",
            backends,
            rate,
            |r| {
                let ok = r["complete"] == r["ok"] && r["missing"] == 0 && r["dup_per_call"] == 0 && r["dup_ids"] == 0;
                format!(
                    "{} of {}{}; {}; {}",
                    fmt_int(f(&r["complete"])),
                    fmt_int(f(&r["ok"])),
                    mark(ok),
                    r["missing"],
                    f(&r["dup_per_call"]) + f(&r["dup_ids"])
                )
            },
        ),
        row(
            "Rate: kept up (rate met, every webhook once, the last ≤ 2 s after it was due)",
            "yes",
            backends,
            rate,
            |r| {
                let ok = r["kept_up"] == true;
                format!(
                    "{}{}: last webhook {} ms after it was due; all in {} after the load",
                    if ok { "yes" } else { "no" },
                    mark(ok),
                    fmt_int(f(&r["last_behind_ms"])),
                    secs_cell(&r["drained_secs"])
                )
            },
        ),
        row(
            "Rate: server CPU per call (dial, 3 webhooks, its timers); cores busy during the load; client CPU per call",
            "—",
            backends,
            rate,
            |r| {
                format!(
                    "{} µs; {:.2} cores; {} µs",
                    fmt_int(f(&r["cpu_us_per_call"])),
                    f(&r["load_cores"]),
                    fmt_int(f(&r["client_cpu_us_per_call"]))
                )
            },
        ),
        row("Rate: server VmRSS idle / end of the load / drained (peak)", "—", backends, rate, |r| {
            let k = &r["rss_kb"];
            format!("{} / {} / {} MB ({} MB)", mb(&k["idle"]), mb(&k["load"]), mb(&k["end"]), mb(&k["peak"]))
        }),
    ];
    for r in rows {
        t.push('\n');
        t.push_str(&r);
    }
    for b in backends {
        for (name, p) in [("held", &b.held), ("rate", &b.rate)] {
            if let Some(Err(e)) = p {
                t.push_str(&format!("\n\n{} {name}: {e}", b.label));
            }
        }
    }
    t
}

fn command_line(write: bool) -> String {
    let mut vars = Vec::new();
    for name in [
        "BENCH_CALLS",
        "BENCH_CONCURRENCY",
        "BENCH_RATE",
        "BENCH_RATE_SECS",
        "BENCH_INFLIGHT",
        "BENCH_TIMEOUT",
        "BENCH_WORKERS",
        "BENCH_PHASES",
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
    cmd.push_str("cargo bench -p dialtone --bench voice");
    if write {
        cmd.push_str(" -- --write");
    }
    cmd
}

fn first(backends: &[Backend], phase: Phase) -> Option<&Value> {
    backends.iter().find_map(|b| phase(b).as_ref().and_then(|r| r.as_ref().ok()))
}

fn section(backends: &[Backend], load_before: &str, load_after: &str, pg_note: &str, write: bool) -> String {
    let root = workspace_root();
    let root = root.to_str().unwrap_or(".");
    let commit = sh("git", &["-C", root, "rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = sh("git", &["-C", root, "status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let note = std::env::var("BENCH_NOTE").unwrap_or_default();
    let cores = std::thread::available_parallelism().map(|n| n.get() as f64).unwrap_or(1.0);
    let busy = load_before.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0) >= cores * 0.5;
    let workers = env_num("BENCH_WORKERS", 1);
    let mut s = String::new();
    s.push_str(SECTION);
    s.push_str("\n\n<!-- Generated by `cargo bench -p dialtone --bench voice -- --write`; edit crates/dialtone/benches/voice.rs, not this section. -->\n\n");
    if !note.is_empty() {
        s.push_str(&format!("> **{note}**\n\n"));
    } else if busy {
        s.push_str("> **Preliminary: the machine was busy (see the load average); figures are indicative only.**\n\n");
    }
    s.push_str(&format!("- Date: {date}\n"));
    s.push_str(&format!("- Commit: `{commit}`{}\n", if dirty { " (plus uncommitted changes)" } else { "" }));
    s.push_str(&format!("- Machine: {}; load average before the run: {load_before}, after: {load_after}\n", machine()));
    s.push_str(&format!(
        "- Setup: per backend and phase, the `dialtone` binary of this build runs as a child process (`dialtone serve --listen 127.0.0.1:0`, \
         a fresh database, real clock, {workers} scheduler worker(s), as by default), so its memory (VmRSS) and CPU are its own. The bench process \
         is the load (one pooled reqwest client, over HTTP as an SDK) and the webhook receiver (axum, answers 200 at once); all on 127.0.0.1, \
         sharing the cores. A call control application sends its webhooks to the receiver; the dialled destination follows a far-end script \
         (`PUT /_dialtone/sim/destinations/{{number}}`).\n"
    ));
    if let Some(r) = first(backends, held) {
        s.push_str(&format!(
            "- Held: {} dials (`POST /v2/calls`, `time_limit_secs` 14400) from {} tasks, each as soon as its previous answer came, to a destination \
             that answers after {HELD_RING_MS} ms and stays up; then wait for every `call.answered`, read memory and the store's size (1 s after), \
             check the calls are live at once (`GET /v2/connections/{{id}}/active_calls` total, and `GET /v2/calls/{{id}}` for each), hang each up \
             with `actions/hangup` and wait for every `call.hangup`. Memory per call = (VmRSS with the calls up − VmRSS idle) ÷ calls.\n",
            fmt_int(f(&r["n"])),
            r["tasks"]
        ));
    }
    if let Some(r) = first(backends, rate) {
        s.push_str(&format!(
            "- Rate: {} dials/s for {} s, open loop (each sent at its scheduled time, at most {} in flight) to a destination that answers after \
             {RATE_RING_MS} ms and hangs up {RATE_LIFE_MS} ms later: each call makes `call.initiated`, `call.answered` and `call.hangup`. Latency is the \
             client's, from the dial's scheduled time (so a late send counts) to the end of the answer's body. Event to delivery: receive time − the \
             event's `occurred_at` (ms). \"Kept up\": ≥ 99 % of the dials answered 200 at ≥ 99 % of the rate, every call's three webhooks received \
             exactly once, and the last one at most 2 s after it was due (its call's dial time + {} ms).\n",
            fmt_int(f(&r["rate"])),
            r["secs"],
            r["inflight"],
            RATE_RING_MS + RATE_LIFE_MS
        ));
    }
    s.push_str(&format!("- SQLite: a fresh file (WAL, synchronous=NORMAL). PostgreSQL: {pg_note}.\n\n"));
    s.push_str(&table(backends));
    s.push_str(
        "\n\n✓ / ✗: target met / missed. The targets (10,000 concurrent calls held, memory per call reported; 1,000 dials/s sustained with their \
         webhooks) are set for SQLite; PostgreSQL is measured beside it against the same numbers. Server CPU and RSS are the `dialtone serve` \
         process alone (not the PostgreSQL server); client CPU is the bench process (load and receiver).\n",
    );
    s.push_str("\n### How it was measured\n\n```sh\n");
    s.push_str(&command_line(write));
    s.push_str(
        "\n```\n\nThe environment variables it reads (defaults): BENCH_CALLS (10000), BENCH_CONCURRENCY (32), BENCH_RATE (1000), \
         BENCH_RATE_SECS (10), BENCH_INFLIGHT (512), BENCH_TIMEOUT (180 s per wait), BENCH_WORKERS (1), BENCH_PHASES (held,rate), \
         BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test, `off` to skip; a fresh schema per server, dropped afterwards), BENCH_ONLY, \
         BENCH_NOTE.\n",
    );
    s
}

/// Runs one phase against a fresh server; a panic in the phase is its failure.
fn run_phase(rt: &tokio::runtime::Runtime, phase: &str, database: &str, store: StoreAt) -> Result<Value, String> {
    let (phase, database) = (phase.to_owned(), database.to_owned());
    let handle = rt.spawn(async move {
        if phase == "held" { run_held(database, store).await } else { run_rate(database, store).await }
    });
    rt.block_on(handle).map_err(|e| format!("the phase failed: {e}"))
}

fn main() {
    let write = std::env::args().any(|a| a == "--write") || std::env::var("BENCH_WRITE").is_ok_and(|v| v == "1");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "held,rate".into());
    let phases: Vec<&str> = phases.split(',').map(str::trim).filter(|p| *p == "held" || *p == "rate").collect();
    let load_before = loadavg();
    eprintln!("voice benchmark; load average {load_before}");
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let mut backends = Vec::new();

    if only.is_empty() || only == "sqlite" {
        let mut b = Backend { label: "SQLite (WAL)", held: None, rate: None };
        for phase in &phases {
            let dir = std::env::temp_dir().join(format!("dialtone-bench-voice-{}-{phase}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let path = dir.join("bench.db");
            let url = format!("sqlite://{}", path.display());
            eprintln!("== SQLite, {phase}; load average {}", loadavg());
            let result = run_phase(&rt, phase, &url, StoreAt::Sqlite(path));
            let _ = std::fs::remove_dir_all(&dir);
            if *phase == "held" { b.held = Some(result) } else { b.rate = Some(result) }
        }
        backends.push(b);
    }

    let mut pg_note = "skipped".to_owned();
    if only.is_empty() || only == "postgres" {
        let base = std::env::var("BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into());
        if base == "off" {
            pg_note = "skipped (BENCH_PG_URL=off)".into();
        } else {
            let mut b = Backend { label: "PostgreSQL", held: None, rate: None };
            let mut dropped_all = true;
            let mut reachable = true;
            for phase in &phases {
                let schema = format!("bench_voice_{}_{}_{phase}", std::process::id(), chrono::Utc::now().timestamp());
                let made = rt.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(5),
                        dialtone_store::Store::fresh_postgres_schema(&base, &schema),
                    )
                    .await
                });
                match made {
                    Ok(Ok(url)) => {
                        eprintln!("== PostgreSQL, {phase}; load average {}", loadavg());
                        let store = StoreAt::Postgres { base: base.clone(), schema: schema.clone() };
                        let result = run_phase(&rt, phase, &url, store);
                        let dropped = common::drop_schema(&base, &schema);
                        if !dropped {
                            dropped_all = false;
                        }
                        if *phase == "held" { b.held = Some(result) } else { b.rate = Some(result) }
                    }
                    Ok(Err(e)) => {
                        pg_note = format!("skipped (not reachable: {e})");
                        reachable = false;
                        eprintln!("PostgreSQL {pg_note}");
                        break;
                    }
                    Err(_) => {
                        pg_note = "skipped (not reachable within 5 s)".into();
                        reachable = false;
                        eprintln!("PostgreSQL {pg_note}");
                        break;
                    }
                }
            }
            if reachable {
                let version = common::pg_version(&base);
                pg_note = format!(
                    "{} on 127.0.0.1, a fresh schema per server (`?options=-c search_path=...`){}",
                    version,
                    if dropped_all { ", dropped afterwards" } else { ", left in place (psql unavailable)" }
                );
                backends.push(b);
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
