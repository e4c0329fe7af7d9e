//! Messaging benchmark (issue 4): `POST /v2/messages` over real HTTP, and scheduled messages
//! firing at their due time, on SQLite and on PostgreSQL.
//!
//! ```sh
//! cargo bench -p dialtone --bench messaging            # prints a markdown table
//! cargo bench -p dialtone --bench messaging -- --write # also rewrites the section
//!                                                      # "Messaging (issue 4)" of
//!                                                      # docs/benchmarks.md
//! ```
//!
//! Each measurement runs in a child process of this binary (so its memory and CPU figures are
//! its own), with a fresh database: Dialtone is started in-process on 127.0.0.1:0 next to a
//! receiver (axum on 127.0.0.1:0) that answers 200 at once and records which message event
//! arrived when. A messaging profile is created over HTTP with one bought US number, then its
//! `webhook_url` is set to the receiver, so every message's webhooks are really enqueued and
//! delivered.
//!
//! - HTTP (real clock): `BENCH_CONCURRENCY` tasks, each on its own keep-alive HTTP/1.1
//!   connection (hyper's, with no pool or middleware, as wrk's), send `POST /v2/messages`
//!   from the number to the magic number +15550100001 (sent at once, delivered 1 s later)
//!   for `BENCH_DURATION` seconds, each as soon as its previous answer came. Per-request
//!   latency, throughput, non-200 answers; then how far the `message.sent` /
//!   `message.finalized` webhooks lag behind. Once they have all arrived,
//!   a paced run sends at `BENCH_PACED_RATE` for `BENCH_PACED_DURATION` seconds, from
//!   `BENCH_PACED_TASKS` tasks, for the latency at that rate (the target's "5,000/s with p99
//!   under 20 ms"; issue 2 measures accounts the same way): flat out, a closed loop keeps the
//!   server saturated and its latency is that of a full queue. The paced run lasts 30 s, not
//!   10: on the 2-core virtual machines this runs on, the host stops both CPUs for 10-70 ms
//!   two or three times a minute (`scripts/machine-pauses.py`), and one such pause makes
//!   200-350 requests late at 5,000/s, while a 10 s run's p99 allows only 500. Over 30 s the
//!   p99 allows 1,500: it measures the server's steady state, with the pauses that fall in
//!   the run still counted.
//! - Scheduled (manual clock): `BENCH_SCHEDULED` messages are created through
//!   `Engine::send_message` (no HTTP), all with the same `send_at` T = now + 6 min; then the
//!   clock is moved to T + 1 ms (`engine.clock.advance` + `engine.wake()`, what
//!   `POST /_dialtone/sim/clock/advance` does before it runs due jobs itself) and the bench
//!   measures the wall time until every message has fired.
//!
//! Environment (all optional): BENCH_DURATION (10 s), BENCH_CONCURRENCY (32), BENCH_SCHEDULED
//! (100000), BENCH_TIMEOUT (seconds to wait for webhooks after the HTTP load, and for the
//! scheduled messages to fire, 300), BENCH_WORKERS (scheduler workers, 1 as `dialtone serve`),
//! BENCH_PACED_RATE (5000), BENCH_PACED_DURATION (30 s), BENCH_PACED_TASKS (64), BENCH_PHASES (http,scheduled), BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/test;
//! `off` skips PostgreSQL; each child gets a fresh schema, dropped at the end with `psql` when
//! it is installed), BENCH_NOTE (a note printed with the results), BENCH_WRITE=1 (as
//! `--write`), BENCH_ONLY=sqlite|postgres.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use dialtone_domain::body::Body;
use dialtone_domain::messaging::{self, Channel, Message};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod common;
use common::*;

const SECTION: &str = "## Messaging (issue 4)";
const AFTER_SECTION: &str = "## Webhook delivery (issue 3)";
/// A subsection of the section written by hand; `--write` keeps it.
const ANALYSIS: &str = "### Analysis";
const DEFAULT_PG: &str = "postgres://postgres@127.0.0.1:5432/test";
const KEY: &str = "KEYbench-messaging-0123456789";
const MAGIC_TO: &str = "+15550100001";
const TARGET_RATE: f64 = 5_000.0;
const TARGET_P99_MS: f64 = 20.0;
const TARGET_FIRE_SECS: f64 = 1.0;

// ---------------------------------------------------------------------------------------
// Small helpers

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
// The receiver

const SENT: u8 = 1;
const FINALIZED: u8 = 2;

#[derive(Default)]
struct Receiver {
    /// (event, message id, receive time)
    hits: Mutex<Vec<(u8, String, u64)>>,
    counts: [AtomicU64; 3],
}

impl Receiver {
    fn count(&self, kind: u8) -> u64 {
        self.counts[kind as usize].load(Ordering::Relaxed)
    }

    fn hits(&self, kind: u8) -> Vec<(String, u64)> {
        self.hits.lock().unwrap().iter().filter(|h| h.0 == kind).map(|h| (h.1.clone(), h.2)).collect()
    }
}

/// The two fields of a webhook the receiver reads. The rest of the body is skipped, not
/// built into a `Value`: the receiver shares the cores with the server it measures, and
/// parsing every webhook into a tree took about 3 % of the process's CPU.
#[derive(serde::Deserialize, Default)]
struct Hook<'a> {
    #[serde(borrow)]
    data: HookData<'a>,
}

#[derive(serde::Deserialize, Default)]
struct HookData<'a> {
    #[serde(borrow)]
    event_type: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: IdOnly<'a>,
}

/// `{"id": ...}`, other fields skipped: a webhook's payload, or a sent message's `data`.
#[derive(serde::Deserialize, Default)]
struct IdOnly<'a> {
    #[serde(borrow, default)]
    id: std::borrow::Cow<'a, str>,
}

/// The answer to a send, of which the load reads the message id.
#[derive(serde::Deserialize, Default)]
struct Sent<'a> {
    #[serde(borrow)]
    data: IdOnly<'a>,
}

async fn hook(State(rx): State<Arc<Receiver>>, body: Bytes) -> StatusCode {
    let recv = now_ns();
    let v: Hook = serde_json::from_slice(&body).unwrap_or_default();
    let kind = match &*v.data.event_type {
        "message.sent" => SENT,
        "message.finalized" => FINALIZED,
        _ => 0,
    };
    let id = v.data.payload.id.into_owned();
    rx.hits.lock().unwrap().push((kind, id, recv));
    rx.counts[kind as usize].fetch_add(1, Ordering::Relaxed);
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

fn duplicates(hits: &[(String, u64)]) -> u64 {
    let mut ids: Vec<&str> = hits.iter().map(|h| h.0.as_str()).collect();
    ids.sort_unstable();
    let total = ids.len();
    ids.dedup();
    (total - ids.len()) as u64
}

// ---------------------------------------------------------------------------------------
// Setting up: a profile, a number, the webhook URL

struct Api {
    http: reqwest::Client,
    base: String,
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self.http.request(method, format!("{}{}", self.base, path)).bearer_auth(KEY);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let resp = req.send().await.expect("request");
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.unwrap_or_default();
        (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
    }
}

struct Setup {
    running: dialtone::Running,
    shutdown: CancellationToken,
    rx: Arc<Receiver>,
    from: String,
}

async fn setup(database: String, manual_clock: bool) -> Setup {
    let workers = env_num("BENCH_WORKERS", 1) as usize;
    let shutdown = CancellationToken::new();
    let (rx, hook_url) = start_receiver(shutdown.clone()).await;
    let config = dialtone::Config {
        database,
        api_key: Some(KEY.into()),
        signing_key: None,
        manual_clock,
        rate_limit: None,
        workers,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the server");
    let running = dialtone::start(config, listener, shutdown.clone()).await.expect("dialtone starts");
    let http =
        reqwest::Client::builder().tcp_nodelay(true).timeout(Duration::from_secs(60)).build().expect("reqwest client");
    let api = Api { http, base: format!("http://{}", running.addr) };
    use reqwest::Method;
    let (st, p) = api
        .call(
            Method::POST,
            "/v2/messaging_profiles",
            Some(json!({"name": "bench", "whitelisted_destinations": ["US"]})),
        )
        .await;
    assert_eq!(st, 200, "create the messaging profile: {p}");
    let profile = p["data"]["id"].as_str().unwrap().to_owned();
    let (st, avail) = api
        .call(
            Method::GET,
            "/v2/available_phone_numbers?filter[country_code]=US&filter[features]=sms,mms&filter[limit]=1",
            None,
        )
        .await;
    assert_eq!(st, 200, "available numbers: {avail}");
    let from = avail["data"][0]["phone_number"].as_str().expect("an available number").to_owned();
    let (st, o) = api
        .call(
            Method::POST,
            "/v2/number_orders",
            Some(json!({"phone_numbers": [{"phone_number": from}], "messaging_profile_id": profile})),
        )
        .await;
    assert!(st == 200 || st == 201, "number order: {o}");
    if manual_clock {
        let (st, r) = api.call(Method::POST, "/_dialtone/sim/clock/advance", Some(json!({"seconds": 5}))).await;
        assert_eq!(st, 200, "advance the clock: {r}");
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let q = format!("/v2/phone_numbers?filter[phone_number]={}", from.replace('+', "%2B"));
    loop {
        let (_, r) = api.call(Method::GET, &q, None).await;
        if r["data"][0]["status"] == "active" {
            break;
        }
        assert!(Instant::now() < deadline, "the number order did not complete: {r}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (st, r) = api
        .call(Method::PATCH, &format!("/v2/messaging_profiles/{profile}"), Some(json!({"webhook_url": hook_url})))
        .await;
    assert_eq!(st, 200, "set the webhook URL: {r}");
    Setup { running, shutdown, rx, from }
}

/// Waits until the scheduler holds no job due before `before`; answers when (ns), or `None`
/// on timeout.
async fn wait_jobs_done(
    engine: &dialtone_engine::Engine,
    before: chrono::DateTime<chrono::Utc>,
    timeout: Duration,
) -> Option<u64> {
    let deadline = Instant::now() + timeout;
    loop {
        match engine.store.due_count(before).await {
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

// ---------------------------------------------------------------------------------------
// Phase HTTP: POST /v2/messages under load (real clock)

/// A load task's own keep-alive HTTP/1.1 connection to the server, as wrk's connections
/// are: each request is written on it and its answer read, with no pool, redirect or retry
/// layer in between (on a shared reqwest client the process spent 5-7 % more CPU a message,
/// taken from the server it measures). A request gets 60 s; a connection that fails is
/// opened again for the next request.
struct LoadConn {
    addr: std::net::SocketAddr,
    host: HeaderValue,
    auth: HeaderValue,
    tx: Option<SendRequest<Full<Bytes>>>,
}

impl LoadConn {
    fn new(addr: std::net::SocketAddr) -> LoadConn {
        let host = HeaderValue::from_str(&addr.to_string()).expect("an address is a header value");
        let auth = HeaderValue::from_str(&format!("Bearer {KEY}")).expect("the key is a header value");
        LoadConn { addr, host, auth, tx: None }
    }

    /// One `POST /v2/messages` of the load: the answer's status and body.
    async fn post_message(&mut self, body: &Bytes) -> Result<(u16, Bytes), String> {
        let result = match tokio::time::timeout(Duration::from_secs(60), self.try_post(body)).await {
            Ok(result) => result,
            Err(_) => Err("no answer within 60 s".to_owned()),
        };
        if result.is_err() {
            self.tx = None;
        }
        result
    }

    async fn try_post(&mut self, body: &Bytes) -> Result<(u16, Bytes), String> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            None => {
                let stream = tokio::net::TcpStream::connect(self.addr).await.map_err(|e| e.to_string())?;
                stream.set_nodelay(true).map_err(|e| e.to_string())?;
                let (tx, conn) = http1::handshake(TokioIo::new(stream)).await.map_err(|e| e.to_string())?;
                tokio::spawn(conn);
                self.tx.insert(tx)
            }
        };
        tx.ready().await.map_err(|e| e.to_string())?;
        let req = hyper::Request::post("/v2/messages")
            .header(hyper::header::HOST, self.host.clone())
            .header(hyper::header::AUTHORIZATION, self.auth.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(body.clone()))
            .map_err(|e| e.to_string())?;
        let resp = tx.send_request(req).await.map_err(|e| e.to_string())?;
        let status = resp.status().as_u16();
        let bytes = resp.into_body().collect().await.map_err(|e| e.to_string())?.to_bytes();
        Ok((status, bytes))
    }
}

async fn run_http(database: String) -> Value {
    let duration = Duration::from_secs(env_num("BENCH_DURATION", 10).max(1));
    let concurrency = env_num("BENCH_CONCURRENCY", 32).max(1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", 300));
    now_ns();
    let s = setup(database, false).await;
    let engine = s.running.engine.clone();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let rss_idle = rss_kb("VmRSS:");
    let body = Bytes::from(json!({"from": s.from, "to": MAGIC_TO, "text": "Hello from the benchmark"}).to_string());

    eprintln!("   http: {concurrency} tasks for {} s", duration.as_secs());
    let non200 = Arc::new(AtomicU64::new(0));
    let transport = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let cpu0 = cpu_secs("self");
    let start = now_ns();
    let end = start + duration.as_nanos() as u64;
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (body, non200, transport, first_error) =
            (body.clone(), non200.clone(), transport.clone(), first_error.clone());
        let mut conn = LoadConn::new(s.running.addr);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut ok: Vec<(String, u64, u64)> = Vec::new();
            while now_ns() < end {
                let t0 = now_ns();
                let resp = conn.post_message(&body).await;
                match resp {
                    Ok((status, bytes)) => {
                        let t1 = now_ns();
                        lat.push(t1 - t0);
                        if status == 200 {
                            let v: Sent = serde_json::from_slice(&bytes).unwrap_or_default();
                            ok.push((v.data.id.into_owned(), t0, t1));
                        } else {
                            non200.fetch_add(1, Ordering::Relaxed);
                            let mut e = first_error.lock().unwrap();
                            if e.is_none() {
                                *e = Some(format!("{status} {}", String::from_utf8_lossy(&bytes)));
                            }
                        }
                    }
                    Err(e) => {
                        transport.fetch_add(1, Ordering::Relaxed);
                        let mut f = first_error.lock().unwrap();
                        if f.is_none() {
                            *f = Some(e);
                        }
                    }
                }
            }
            (lat, ok)
        }));
    }
    let mut lat = Vec::new();
    let mut ok = Vec::new();
    for t in tasks {
        let (l, o) = t.await.unwrap();
        lat.extend(l);
        ok.extend(o);
    }
    let load_end = now_ns();
    let load_cpu = cpu_secs("self") - cpu0;
    let rss_after_load = rss_kb("VmRSS:");
    let sent_during = s.rx.count(SENT);
    let fin_during = s.rx.count(FINALIZED);
    let n_ok = ok.len() as u64;
    let elapsed = secs(load_end - start);
    let rate = n_ok as f64 / elapsed;
    let lat = sorted(lat);
    let answered: Vec<u64> = ok.iter().map(|o| o.2).collect();
    eprintln!(
        "   http: {n_ok} × 200 in {elapsed:.2} s ({rate:.0}/s), {} non-200, {} transport errors; p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} ms",
        non200.load(Ordering::Relaxed),
        transport.load(Ordering::Relaxed),
        pct_ms(&lat, 0.5),
        pct_ms(&lat, 0.9),
        pct_ms(&lat, 0.99),
        pct_ms(&lat, 1.0)
    );
    eprintln!("   http: 200s per second: {:?}", per_second(&sorted(answered), start));
    if let Some(e) = first_error.lock().unwrap().as_ref() {
        eprintln!("   http: first error: {}", e.chars().take(300).collect::<String>());
    }
    eprintln!("   http: during the load the receiver got {sent_during} message.sent, {fin_during} message.finalized");

    // Drain: every message's two webhooks.
    let deadline = Instant::now() + timeout;
    let mut complete = true;
    while s.rx.count(SENT) < n_ok || s.rx.count(FINALIZED) < n_ok {
        if Instant::now() > deadline {
            complete = false;
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let far = chrono::Utc::now() + chrono::Duration::days(365);
    let jobs_done = wait_jobs_done(&engine, far, Duration::from_secs(60)).await;
    let total_cpu = cpu_secs("self") - cpu0;
    let sent_hits = s.rx.hits(SENT);
    let fin_hits = s.rx.hits(FINALIZED);
    let answered_at: HashMap<&str, u64> = ok.iter().map(|o| (o.0.as_str(), o.2)).collect();
    let mut sent_lag = Vec::new();
    let mut before_answer = 0u64;
    for (id, recv) in &sent_hits {
        if let Some(&a) = answered_at.get(id.as_str()) {
            if *recv < a {
                before_answer += 1;
            }
            sent_lag.push(recv.saturating_sub(a));
        }
    }
    let mut fin_lag = Vec::new();
    for (id, recv) in &fin_hits {
        if let Some(&a) = answered_at.get(id.as_str()) {
            fin_lag.push(recv.saturating_sub(a + 1_000_000_000));
        }
    }
    let sent_lag = sorted(sent_lag);
    let fin_lag = sorted(fin_lag);
    let last_recv = sent_hits.iter().chain(fin_hits.iter()).map(|h| h.1).max().unwrap_or(load_end);
    let drain_ms = last_recv.saturating_sub(load_end) as f64 / 1e6;
    let recvs: Vec<u64> = sent_hits.iter().chain(fin_hits.iter()).map(|h| h.1).collect();
    eprintln!("   http: webhooks per second: {:?}", per_second(&sorted(recvs), start));
    eprintln!(
        "   http: received {} message.sent ({} before the 200), {} message.finalized of {n_ok}; last {drain_ms:.0} ms after the load; sent lag p50 {:.1} p99 {:.1} ms, finalized lag p50 {:.1} p99 {:.1} ms",
        sent_hits.len(),
        before_answer,
        fin_hits.len(),
        pct_ms(&sent_lag, 0.5),
        pct_ms(&sent_lag, 0.99),
        pct_ms(&fin_lag, 0.5),
        pct_ms(&fin_lag, 0.99)
    );
    let rss_after = rss_kb("VmRSS:");
    let paced_duration = Duration::from_secs(env_num("BENCH_PACED_DURATION", 30).max(1));
    let paced = run_paced(&s, &body, paced_duration).await;
    s.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.running.task).await;
    json!({
        "paced": paced,
        "concurrency": concurrency, "duration": duration.as_secs(),
        "ok": n_ok, "non200": non200.load(Ordering::Relaxed), "transport": transport.load(Ordering::Relaxed),
        "first_error": first_error.lock().unwrap().clone(),
        "elapsed": elapsed, "rate": rate,
        "lat_p50": pct_ms(&lat, 0.5), "lat_p90": pct_ms(&lat, 0.9), "lat_p99": pct_ms(&lat, 0.99), "lat_max": pct_ms(&lat, 1.0),
        "sent_during": sent_during, "fin_during": fin_during,
        "sent": sent_hits.len(), "fin": fin_hits.len(), "complete": complete, "before_answer": before_answer,
        "sent_lag_p50": pct_ms(&sent_lag, 0.5), "sent_lag_p99": pct_ms(&sent_lag, 0.99), "sent_lag_max": pct_ms(&sent_lag, 1.0),
        "fin_lag_p50": pct_ms(&fin_lag, 0.5), "fin_lag_p99": pct_ms(&fin_lag, 0.99), "fin_lag_max": pct_ms(&fin_lag, 1.0),
        "drain_ms": drain_ms,
        "jobs_done_ms": jobs_done.map(|t| t.saturating_sub(load_end) as f64 / 1e6),
        "dup_sent": duplicates(&sent_hits), "dup_fin": duplicates(&fin_hits),
        "load_cpu": load_cpu, "load_cores": load_cpu / elapsed,
        "cpu_us_per_msg": total_cpu * 1e6 / n_ok.max(1) as f64,
        "rss_kb": { "idle": rss_idle, "after_load": rss_after_load, "after": rss_after, "peak": rss_kb("VmHWM:") },
    })
}

/// `POST /v2/messages` at a fixed rate (BENCH_PACED_RATE, 5,000/s) for `duration`, after
/// the flat-out load has drained: the latency at that rate, as issue 2's paced run measures
/// it for accounts. Request k is due at start + k / rate, sent by task k mod
/// BENCH_PACED_TASKS (64) at that time or, if that task is still waiting for its previous
/// answer, as soon as it has it; latency runs from the due time, so a server that falls
/// behind is charged for the wait (no coordinated omission).
async fn run_paced(s: &Setup, body: &Bytes, duration: Duration) -> Value {
    let rate = env_num("BENCH_PACED_RATE", 5_000).max(1);
    let tasks_n = env_num("BENCH_PACED_TASKS", 64).max(1);
    let total = rate * duration.as_secs();
    eprintln!("   paced: {rate}/s for {} s from {tasks_n} tasks", duration.as_secs());
    let errors = Arc::new(AtomicU64::new(0));
    let start = now_ns() + 10_000_000;
    // A server that cannot keep up is not waited for past the run's length.
    let stop = start + duration.as_nanos() as u64;
    let mut tasks = Vec::new();
    for t in 0..tasks_n {
        let (body, errors) = (body.clone(), errors.clone());
        let mut conn = LoadConn::new(s.running.addr);
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut k = t;
            while k < total && now_ns() < stop {
                let due = start + k * 1_000_000_000 / rate;
                let now = now_ns();
                if due > now {
                    tokio::time::sleep(Duration::from_nanos(due - now)).await;
                }
                let ok = matches!(conn.post_message(&body).await, Ok((200, _)));
                if ok {
                    lat.push((due, now_ns() - due));
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
                k += tasks_n;
            }
            lat
        }));
    }
    let mut timed = Vec::new();
    for t in tasks {
        timed.extend(t.await.unwrap());
    }
    let elapsed = secs(now_ns() - start);
    let clusters = slow_clusters(&timed, start);
    let lat = sorted(timed.iter().map(|&(_, l)| l).collect());
    let achieved = lat.len() as f64 / elapsed;
    eprintln!(
        "   paced: {} × 200 in {elapsed:.2} s ({achieved:.0}/s), {} errors; p50 {:.2} p90 {:.2} p99 {:.2} max {:.2} ms",
        lat.len(),
        errors.load(Ordering::Relaxed),
        pct_ms(&lat, 0.5),
        pct_ms(&lat, 0.9),
        pct_ms(&lat, 0.99),
        pct_ms(&lat, 1.0)
    );
    eprintln!("   paced: {clusters}");
    json!({
        "rate": rate, "tasks": tasks_n, "duration": duration.as_secs(), "ok": lat.len(), "errors": errors.load(Ordering::Relaxed),
        "elapsed": elapsed, "achieved": achieved,
        "p50": pct_ms(&lat, 0.5), "p90": pct_ms(&lat, 0.9), "p99": pct_ms(&lat, 0.99), "max": pct_ms(&lat, 1.0),
        "slow": clusters,
    })
}

/// Where the paced run's slow requests (over the p99 target from their due time) were due: how
/// many 100 ms windows held any, and the five that held the most, as "at +S s: N (max M
/// ms)". Slow requests spread over the run are a server near its capacity; a few dense
/// windows are stalls.
fn slow_clusters(timed: &[(u64, u64)], start: u64) -> String {
    let slow_ns = (TARGET_P99_MS * 1e6) as u64;
    let mut windows: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
    for &(due, lat) in timed {
        if lat > slow_ns {
            let w = windows.entry(due.saturating_sub(start) / 100_000_000).or_default();
            w.0 += 1;
            w.1 = w.1.max(lat);
        }
    }
    let slow: u64 = windows.values().map(|w| w.0).sum();
    let mut top: Vec<_> = windows.iter().collect();
    top.sort_by_key(|w| std::cmp::Reverse(w.1.0));
    let top: Vec<String> = top
        .iter()
        .take(5)
        .map(|(w, (n, max))| format!("at +{:.1} s: {n} (max {:.0} ms)", **w as f64 / 10.0, *max as f64 / 1e6))
        .collect();
    format!(
        "{slow} requests over {TARGET_P99_MS} ms, in {} windows of 100 ms; the densest: {}",
        windows.len(),
        if top.is_empty() { "none".to_string() } else { top.join(", ") }
    )
}

// ---------------------------------------------------------------------------------------
// Phase scheduled: N messages due at one instant (manual clock)

async fn run_scheduled(database: String) -> Value {
    let n = env_num("BENCH_SCHEDULED", 100_000) as usize;
    let concurrency = env_num("BENCH_CONCURRENCY", 32).max(1) as usize;
    let timeout = Duration::from_secs(env_num("BENCH_TIMEOUT", 300));
    now_ns();
    let s = setup(database, true).await;
    let engine = s.running.engine.clone();
    let account = engine.account(&s.running.info.root_account_id).await.ok().flatten().expect("the root account");
    let account = Arc::new(account);
    let rss_idle = rss_kb("VmRSS:");
    let now = engine.clock.now();
    let due = chrono::DateTime::from_timestamp((now + chrono::Duration::minutes(6)).timestamp(), 0).unwrap();
    let body =
        json!({"from": s.from, "to": MAGIC_TO, "text": "Hello from the benchmark, later", "send_at": due.to_rfc3339()});
    let body = Arc::new(Body::from_value(body).unwrap());

    eprintln!("   scheduled: creating {n} messages from {concurrency} tasks");
    let next = Arc::new(AtomicUsize::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_secs("self");
    let start = now_ns();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (engine, account, body, next, errors) =
            (engine.clone(), account.clone(), body.clone(), next.clone(), errors.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let t0 = now_ns();
                match engine.send_message(&account, &body, Channel::Any).await {
                    Ok(_) => lat.push(now_ns() - t0),
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) == 0 {
                            eprintln!("   send_message failed: {} {}", e.status(), e.detail);
                        }
                    }
                }
            }
            lat
        }));
    }
    let mut create_lat = Vec::new();
    for t in tasks {
        create_lat.extend(t.await.unwrap());
    }
    let created_at = now_ns();
    let create_cpu = cpu_secs("self") - cpu0;
    let created = create_lat.len() as u64;
    let create_secs = secs(created_at - start);
    let create_lat = sorted(create_lat);
    eprintln!(
        "   scheduled: created {created} in {create_secs:.2} s ({:.0}/s; p50 {:.2} p99 {:.2} ms), {} errors",
        created as f64 / create_secs,
        pct_ms(&create_lat, 0.5),
        pct_ms(&create_lat, 0.99),
        errors.load(Ordering::Relaxed)
    );
    let pending = engine.store.due_count(due).await.unwrap_or(-1);
    assert_eq!(pending, created as i64, "every scheduled message has its job, due at T");
    let rss_created = rss_kb("VmRSS:");

    // Fire: the clock moves to T + 1 ms; step 1 (scheduled → sent) is due at T.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let cpu1 = cpu_secs("self");
    let fire_at = now_ns();
    engine.clock.advance(due + chrono::Duration::milliseconds(1) - engine.clock.now());
    engine.wake();
    let clock_now = engine.clock.now();
    // A message's step 1 moves it from scheduled to sent in the commit that puts, in place
    // of the step's job (due at T), the job that writes its message.sent webhook (due at
    // T + 1 ms). So the step jobs due by T that are left are the messages not sent yet,
    // and one COUNT tells how many were sent (the store's statuses are checked at the end).
    let mut all_sent: Option<u64> = None;
    let mut all_sent_rx: Option<u64> = None;
    let mut all_done: Option<u64> = None;
    let mut at_1s: Option<(i64, u64)> = None;
    let mut sent = 0i64;
    let mut last_log = fire_at;
    let deadline = Instant::now() + timeout;
    loop {
        let t = now_ns();
        let left = engine.store.due_count(due).await.unwrap_or(i64::MAX);
        sent = sent.max(created as i64 - left);
        let sent_rx = s.rx.count(SENT);
        if all_sent.is_none() && left == 0 {
            all_sent = Some(t);
        }
        if all_sent_rx.is_none() && sent_rx >= created {
            all_sent_rx = Some(t);
        }
        if at_1s.is_none() && t - fire_at >= 1_000_000_000 {
            at_1s = Some((sent, sent_rx));
        }
        if all_sent_rx.is_some()
            && all_sent.is_some()
            && engine.store.due_count(clock_now).await.unwrap_or(i64::MAX) == 0
        {
            all_done = Some(t);
            break;
        }
        if t - last_log >= 5_000_000_000 {
            last_log = t;
            eprintln!("   scheduled: +{:.0} s: {sent} sent, {sent_rx} message.sent received", secs(t - fire_at));
        }
        if Instant::now() > deadline {
            break;
        }
        // Each poll is three COUNT(*)s over the jobs table (O(jobs due)): often enough to
        // catch the 1 s mark to a tenth, then rarely, so polling does not compete with the
        // scheduler. (Every 20 ms over all 100,000, the counts took 12.6 % of the process's
        // CPU while the messages fired.) Once few step jobs are left, their count is cheap,
        // and a poll every 10 ms times the last of them to a hundredth.
        let poll = if now_ns() - fire_at >= 2_000_000_000 {
            250
        } else if all_sent.is_none() && left <= 10_000 {
            10
        } else {
            100
        };
        tokio::time::sleep(Duration::from_millis(poll)).await;
    }
    let fire_cpu = cpu_secs("self") - cpu1;
    let sent_hits = s.rx.hits(SENT);
    let recvs = sorted(sent_hits.iter().map(|h| h.1).collect());
    let at_1s = at_1s.unwrap_or((sent, s.rx.count(SENT)));
    let last = all_done.unwrap_or(now_ns());
    eprintln!("   scheduled: message.sent per second after the due time: {:?}", per_second(&recvs, fire_at));
    eprintln!(
        "   scheduled: every message sent after {:?} s, every message.sent received after {:?} s, every due job done after {:?} s; within 1 s: {} sent, {} message.sent",
        all_sent.map(|t| secs(t - fire_at)),
        all_sent_rx.map(|t| secs(t - fire_at)),
        all_done.map(|t| secs(t - fire_at)),
        at_1s.0,
        at_1s.1
    );
    let rss_fired = rss_kb("VmRSS:");
    // Every message must say sent (the next step, delivered, waits for the clock).
    let t = Instant::now();
    let docs = engine.store.list(messaging::KIND, Some(&account.id), None).await.expect("list messages");
    let list_ms = t.elapsed().as_secs_f64() * 1e3;
    let total = docs.len();
    let in_sent = docs
        .iter()
        .filter(|d| Message::from_value(&d.data).is_some_and(|m| m.status == messaging::Status::Sent))
        .count();
    drop(docs);
    eprintln!("   scheduled: {in_sent} of {total} messages sent in the store (listed in {list_ms:.0} ms)");
    s.shutdown.cancel();
    let _ = tokio::time::timeout(Duration::from_secs(20), s.running.task).await;
    json!({
        "n": n, "concurrency": concurrency, "created": created, "create_errors": errors.load(Ordering::Relaxed),
        "create_secs": create_secs, "create_rate": created as f64 / create_secs,
        "create_p50": pct_ms(&create_lat, 0.5), "create_p99": pct_ms(&create_lat, 0.99),
        "create_cpu_us": create_cpu * 1e6 / created.max(1) as f64,
        "sent_rx_secs": all_sent_rx.map(|t| secs(t - fire_at)),
        "all_done_secs": all_done.map(|t| secs(t - fire_at)),
        "sent_secs": all_sent.map(|t| secs(t - fire_at)),
        "within_1s_sent": at_1s.0, "within_1s_sent_rx": at_1s.1,
        "sent_at_end": sent, "sent_rx": sent_hits.len(), "dup_sent": duplicates(&sent_hits),
        "sent_rate": sent as f64 / secs(all_sent.unwrap_or(last) - fire_at),
        "sent_rx_rate": sent_hits.len() as f64 / secs(last - fire_at),
        "store_sent": in_sent, "store_total": total, "list_ms": list_ms,
        "fire_cpu": fire_cpu, "fire_cores": fire_cpu / secs(last - fire_at),
        "fire_cpu_us_per_msg": fire_cpu * 1e6 / created.max(1) as f64,
        "rss_kb": { "idle": rss_idle, "created": rss_created, "fired": rss_fired, "peak": rss_kb("VmHWM:") },
    })
}

fn child_main(database: String) {
    let phase = std::env::var("BENCH_CHILD_PHASE").unwrap_or_default();
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = match phase.as_str() {
        "http" => rt.block_on(run_http(database)),
        _ => rt.block_on(run_scheduled(database)),
    };
    println!("RESULT {result}");
}

// ---------------------------------------------------------------------------------------
// The parent: one child per backend and phase, then the report

struct Backend {
    label: &'static str,
    http: Option<Result<Value, String>>,
    sched: Option<Result<Value, String>>,
}

fn run_child(kind: &str, phase: &str, database: &str) -> Result<Value, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = std::process::Command::new(exe)
        .env("BENCH_CHILD_DATABASE", database)
        .env("BENCH_CHILD_PHASE", phase)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    match stdout.lines().find_map(|l| l.strip_prefix("RESULT ")) {
        Some(r) => serde_json::from_str(r).map_err(|e| e.to_string()),
        None => Err(format!("the {kind} {phase} run failed ({})", out.status)),
    }
}

/// One row: a label, a target and a cell per backend (from the result of one phase).
fn row(
    label: &str,
    target: &str,
    backends: &[Backend],
    phase: fn(&Backend) -> &Option<Result<Value, String>>,
    cell: impl Fn(&Value) -> String,
) -> String {
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

fn table(backends: &[Backend]) -> String {
    let f = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    fn h(b: &Backend) -> &Option<Result<Value, String>> {
        &b.http
    }
    fn sc(b: &Backend) -> &Option<Result<Value, String>> {
        &b.sched
    }
    let mut t = String::from("| Measurement | Target |");
    for b in backends {
        t.push_str(&format!(" {} |", b.label));
    }
    t.push_str("\n| --- | --- |");
    for _ in backends {
        t.push_str(" --- |");
    }
    let rows = [
        row("HTTP: `POST /v2/messages` answered 200 per second", "≥ 5,000/s", backends, h, |r| {
            let v = f(&r["rate"]);
            format!(
                "{}/s{} ({} in {:.1} s, {} tasks)",
                fmt_int(v),
                mark(v >= TARGET_RATE),
                fmt_int(f(&r["ok"])),
                f(&r["elapsed"]),
                r["concurrency"]
            )
        }),
        row("HTTP flat out: latency p50 / p90 / p99 / max (closed loop at full load)", "—", backends, h, |r| {
            format!("{} / {} / {} / {} ms", ms(&r["lat_p50"]), ms(&r["lat_p90"]), ms(&r["lat_p99"]), ms(&r["lat_max"]))
        }),
        row(
            "HTTP paced (after the flat-out load): requests per second; latency from each request's due time, p50 / p90 / p99 / max",
            "≥ 5,000/s with p99 < 20 ms",
            backends,
            h,
            |r| {
                let p = &r["paced"];
                let ok = f(&p["rate"]) >= TARGET_RATE
                    && f(&p["achieved"]) >= 0.99 * f(&p["rate"])
                    && f(&p["p99"]) < TARGET_P99_MS
                    && f(&p["errors"]) == 0.0;
                format!(
                    "{}/s of {}/s ({} tasks, {} errors): {} / {} / {} / {} ms{}",
                    fmt_int(f(&p["achieved"])),
                    fmt_int(f(&p["rate"])),
                    p["tasks"],
                    p["errors"],
                    ms(&p["p50"]),
                    ms(&p["p90"]),
                    ms(&p["p99"]),
                    ms(&p["max"]),
                    mark(ok)
                )
            },
        ),
        row(
            "HTTP paced: the requests over 20 ms, and where they were due (spread out: a server near its capacity; a few dense windows: stalls)",
            "—",
            backends,
            h,
            |r| r["paced"]["slow"].as_str().unwrap_or("").to_string(),
        ),
        row("HTTP: non-200 answers / transport errors", "0 / 0", backends, h, |r| {
            format!("{} / {}", r["non200"], r["transport"])
        }),
        row(
            "Webhooks received during the load: `message.sent` / `message.finalized`",
            "= messages sent",
            backends,
            h,
            |r| {
                format!(
                    "{} / {} of {}",
                    fmt_int(f(&r["sent_during"])),
                    fmt_int(f(&r["fin_during"])),
                    fmt_int(f(&r["ok"]))
                )
            },
        ),
        row("`message.sent` lag after the 200, p50 / p99 / max", "—", backends, h, |r| {
            format!("{} / {} / {} ms", ms(&r["sent_lag_p50"]), ms(&r["sent_lag_p99"]), ms(&r["sent_lag_max"]))
        }),
        row("`message.finalized` lag beyond the carrier's 1 s, p50 / p99 / max", "—", backends, h, |r| {
            format!("{} / {} / {} ms", ms(&r["fin_lag_p50"]), ms(&r["fin_lag_p99"]), ms(&r["fin_lag_max"]))
        }),
        row("Last webhook received, after the end of the load", "—", backends, h, |r| {
            let complete = r["complete"].as_bool() == Some(true);
            format!(
                "{} s{}",
                ms(&json!(f(&r["drain_ms"]) / 1000.0)),
                if complete {
                    format!(" (all {} received)", fmt_int(f(&r["sent"]) + f(&r["fin"])))
                } else {
                    format!(" (only {} + {} of 2 × {})", r["sent"], r["fin"], r["ok"])
                }
            )
        }),
        row("HTTP: duplicate webhooks (sent / finalized)", "0 / 0", backends, h, |r| {
            format!("{} / {}", r["dup_sent"], r["dup_fin"])
        }),
        row("HTTP: process CPU per message, load to drain; cores busy during the load", "—", backends, h, |r| {
            format!("{} µs; {:.2} cores", fmt_int(f(&r["cpu_us_per_msg"])), f(&r["load_cores"]))
        }),
        row("HTTP: VmRSS idle / after the load / after the drain (peak)", "—", backends, h, |r| {
            let k = &r["rss_kb"];
            format!("{} / {} / {} MB ({} MB)", mb(&k["idle"]), mb(&k["after_load"]), mb(&k["after"]), mb(&k["peak"]))
        }),
        row("Scheduled: creating the messages (`Engine::send_message`, `send_at` = T)", "—", backends, sc, |r| {
            format!(
                "{} in {:.1} s: {}/s ({} tasks; p50 / p99 {} / {} ms; {} µs CPU each; {} errors)",
                fmt_int(f(&r["created"])),
                f(&r["create_secs"]),
                fmt_int(f(&r["create_rate"])),
                r["concurrency"],
                ms(&r["create_p50"]),
                ms(&r["create_p99"]),
                fmt_int(f(&r["create_cpu_us"])),
                r["create_errors"]
            )
        }),
        row("Scheduled: within 1 s of T: `sent` / `message.sent` received", "all sent", backends, sc, |r| {
            let ok = f(&r["within_1s_sent"]) >= f(&r["created"]);
            format!(
                "{} / {} of {}{}",
                fmt_int(f(&r["within_1s_sent"])),
                fmt_int(f(&r["within_1s_sent_rx"])),
                fmt_int(f(&r["created"])),
                mark(ok)
            )
        }),
        row("Scheduled: T → every message `sent` (fired); messages sent per second", "≤ 1 s", backends, sc, |r| {
            let v = f(&r["sent_secs"]);
            let partial = if r["sent_secs"].is_null() {
                format!(", {} sent by then", fmt_int(f(&r["sent_at_end"])))
            } else {
                String::new()
            };
            format!(
                "{}{}; {}/s{partial}",
                secs_cell(&r["sent_secs"]),
                mark(v <= TARGET_FIRE_SECS),
                fmt_int(f(&r["sent_rate"]))
            )
        }),
        row("Scheduled: T → last `message.sent` webhook received", "—", backends, sc, |r| {
            let partial = if r["sent_rx_secs"].is_null() {
                format!(" ({} received by then)", fmt_int(f(&r["sent_rx"])))
            } else {
                String::new()
            };
            format!("{}{partial}", secs_cell(&r["sent_rx_secs"]))
        }),
        row("Scheduled: T → no job due left", "—", backends, sc, |r| secs_cell(&r["all_done_secs"])),
        row("Scheduled: messages `sent` in the store; duplicate `message.sent`", "all; 0", backends, sc, |r| {
            let ok = r["store_sent"] == r["created"];
            format!(
                "{} of {}{}; {}",
                fmt_int(f(&r["store_sent"])),
                fmt_int(f(&r["store_total"])),
                mark(ok),
                r["dup_sent"]
            )
        }),
        row("Scheduled: process CPU per message while firing; cores busy", "—", backends, sc, |r| {
            format!("{} µs; {:.2} cores", fmt_int(f(&r["fire_cpu_us_per_msg"])), f(&r["fire_cores"]))
        }),
        row(
            "Scheduled: VmRSS idle / after creating / after firing (peak, incl. listing every message)",
            "—",
            backends,
            sc,
            |r| {
                let k = &r["rss_kb"];
                format!("{} / {} / {} MB ({} MB)", mb(&k["idle"]), mb(&k["created"]), mb(&k["fired"]), mb(&k["peak"]))
            },
        ),
    ];
    for r in rows {
        t.push('\n');
        t.push_str(&r);
    }
    for b in backends {
        for (name, p) in [("HTTP", &b.http), ("scheduled", &b.sched)] {
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
        "BENCH_DURATION",
        "BENCH_CONCURRENCY",
        "BENCH_SCHEDULED",
        "BENCH_TIMEOUT",
        "BENCH_WORKERS",
        "BENCH_PACED_RATE",
        "BENCH_PACED_DURATION",
        "BENCH_PACED_TASKS",
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
    cmd.push_str("cargo bench -p dialtone --bench messaging");
    if write {
        cmd.push_str(" -- --write");
    }
    cmd
}

fn first(backends: &[Backend], phase: fn(&Backend) -> &Option<Result<Value, String>>) -> Option<&Value> {
    backends.iter().find_map(|b| phase(b).as_ref().and_then(|r| r.as_ref().ok()))
}

fn section(
    backends: &[Backend],
    load_before: &str,
    load_after: &str,
    yardstick: (f64, f64),
    pg_note: &str,
    write: bool,
) -> String {
    let root = workspace_root();
    let root = root.to_str().unwrap_or(".");
    let commit = sh("git", &["-C", root, "rev-parse", "--short", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = sh("git", &["-C", root, "status", "--porcelain"]).is_some_and(|s| !s.is_empty());
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    let note = std::env::var("BENCH_NOTE").unwrap_or_default();
    let busy = load_before.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        >= std::thread::available_parallelism().map(|n| n.get() as f64).unwrap_or(1.0) * 0.5;
    fn h(b: &Backend) -> &Option<Result<Value, String>> {
        &b.http
    }
    fn sc(b: &Backend) -> &Option<Result<Value, String>> {
        &b.sched
    }
    let http = first(backends, h);
    let sched = first(backends, sc);
    let workers = env_num("BENCH_WORKERS", 1);
    let mut s = String::new();
    s.push_str(SECTION);
    s.push_str("\n\n<!-- Generated by `cargo bench -p dialtone --bench messaging -- --write`; edit crates/dialtone/benches/messaging.rs, not this section. -->\n\n");
    if !note.is_empty() {
        s.push_str(&format!("> **{note}**\n\n"));
    } else if busy {
        s.push_str("> **Preliminary: the machine was busy (see the load average); figures are indicative only.**\n\n");
    }
    s.push_str(&format!("- Date: {date}\n"));
    s.push_str(&format!("- Commit: `{commit}`{}\n", if dirty { " (plus uncommitted changes)" } else { "" }));
    s.push_str(&format!("- Machine: {}; load average before the run: {load_before}, after: {load_after}\n", machine()));
    s.push_str(&format!(
        "- Machine speed: a fixed single-threaded loop (`cpu_yardstick_ms` in the benches' common module) took {:.0} ms before the run and {:.0} ms after; \
         the figures below follow it (lower is faster)\n",
        yardstick.0, yardstick.1
    ));
    s.push_str(&format!(
        "- Setup: one process per backend and measurement, holding Dialtone (started with `dialtone::start`, {workers} scheduler worker(s), as `dialtone serve` runs by default), \
         a receiver (axum, answers 200 at once) and the load; all on 127.0.0.1, sharing the cores. A messaging profile with one bought US number, \
         its `webhook_url` set to the receiver; every message goes to the magic number {MAGIC_TO} (sent at once, delivered 1 s later), \
         so each one makes two scheduler steps and two webhooks (`message.sent`, `message.finalized`).\n"
    ));
    if let Some(r) = http {
        s.push_str(&format!(
            "- HTTP (real clock): {} tasks, each on its own keep-alive HTTP/1.1 connection (hyper, no pool or middleware, as wrk's), send `POST /v2/messages` for {} s, each as soon as its previous answer came \
             (closed loop); latency is the client's, from sending the request to the end of the answer's body. Webhook lag: receive time − the time the 200 came \
             (`message.sent`), − that + 1 s (`message.finalized`). Once every webhook has arrived, a paced run: {} requests per second for {} s more, \
             request k due at start + k / rate and sent by task k mod {} at that time (or as soon as that task has its previous answer); \
             its latency runs from the due time, so falling behind counts.\n",
            r["concurrency"], r["duration"], r["paced"]["rate"], r["paced"]["duration"], r["paced"]["tasks"]
        ));
    }
    if let Some(r) = sched {
        s.push_str(&format!(
            "- Scheduled (manual clock): {} messages created through `Engine::send_message` by {} tasks, all with `send_at` = T (now + 6 min), \
             then the clock is moved to T + 1 ms (`engine.clock.advance` + `engine.wake()`) and the background worker runs them. A scheduled message \
             is sent in one step at T (scheduled → sent), committed with the job that writes its `message.sent` webhook (due at T + 1 ms) in place of its \
             step's job (due at T), so \"fired\" (sent) is measured as the step jobs due by T that are left: one `COUNT(*)` polled every 100 ms for 2 s (every 10 ms once at most 10,000 are left), then every 250 ms. \
             Afterwards every message's status in the store is checked.\n",
            fmt_int(r["created"].as_f64().unwrap_or(0.0)),
            r["concurrency"]
        ));
    }
    s.push_str(&format!("- SQLite: a fresh file (WAL, synchronous=NORMAL). PostgreSQL: {pg_note}.\n\n"));
    s.push_str(&table(backends));
    s.push_str(
        "\n\n✓ / ✗: target met / missed. The targets (≥ 5,000 `POST /v2/messages`/s with p99 < 20 ms; 100,000 scheduled messages all fired within \
         1 s of their due time) are set for SQLite; PostgreSQL is measured beside it against the same numbers. RSS and CPU are the whole process \
         (server, receiver and load; not the PostgreSQL server).\n",
    );
    s.push_str("\n### How it was measured\n\n```sh\n");
    s.push_str(&command_line(write));
    s.push_str(
        "\n```\n\nThe environment variables it reads (defaults): BENCH_DURATION (10 s), BENCH_CONCURRENCY (32), BENCH_SCHEDULED (100000), \
         BENCH_TIMEOUT (300 s: the wait for the webhooks after the load, and for the scheduled messages to fire), BENCH_WORKERS (1), \
         BENCH_PACED_RATE (5000), BENCH_PACED_DURATION (30 s), BENCH_PACED_TASKS (64), \
         BENCH_PHASES (http,scheduled), BENCH_PG_URL (postgres://postgres@127.0.0.1:5432/test, `off` to skip; a fresh schema per process, \
         dropped afterwards), BENCH_NOTE.\n",
    );
    s
}

fn main() {
    if let Ok(db) = std::env::var("BENCH_CHILD_DATABASE") {
        child_main(db);
        return;
    }
    let write = std::env::args().any(|a| a == "--write") || std::env::var("BENCH_WRITE").is_ok_and(|v| v == "1");
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    let phases = std::env::var("BENCH_PHASES").unwrap_or_else(|_| "http,scheduled".into());
    let phases: Vec<&str> = phases.split(',').map(str::trim).filter(|p| *p == "http" || *p == "scheduled").collect();
    let load_before = loadavg();
    let yardstick_before = cpu_yardstick_ms();
    eprintln!("messaging benchmark; load average {load_before}; yardstick {yardstick_before:.0} ms");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio runtime");
    let mut backends = Vec::new();

    if only.is_empty() || only == "sqlite" {
        let mut b = Backend { label: "SQLite (WAL)", http: None, sched: None };
        for phase in &phases {
            let dir = std::env::temp_dir().join(format!("dialtone-bench-messaging-{}-{phase}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let url = format!("sqlite://{}", dir.join("bench.db").display());
            eprintln!("== SQLite, {phase}");
            let result = run_child("sqlite", phase, &url);
            let _ = std::fs::remove_dir_all(&dir);
            if *phase == "http" { b.http = Some(result) } else { b.sched = Some(result) }
        }
        backends.push(b);
    }

    let mut pg_note = "skipped".to_owned();
    if only.is_empty() || only == "postgres" {
        let base = std::env::var("BENCH_PG_URL").unwrap_or_else(|_| DEFAULT_PG.into());
        if base == "off" {
            pg_note = "skipped (BENCH_PG_URL=off)".into();
        } else {
            let mut b = Backend { label: "PostgreSQL", http: None, sched: None };
            let mut dropped_all = true;
            let mut reachable = true;
            for phase in &phases {
                let schema = format!("bench_msg_{}_{}_{phase}", std::process::id(), chrono::Utc::now().timestamp());
                let made = rt.block_on(async {
                    tokio::time::timeout(
                        Duration::from_secs(5),
                        dialtone_store::Store::fresh_postgres_schema(&base, &schema),
                    )
                    .await
                });
                match made {
                    Ok(Ok(url)) => {
                        eprintln!("== PostgreSQL, {phase}");
                        let result = run_child("postgres", phase, &url);
                        let dropped = common::drop_schema(&base, &schema);
                        if !dropped {
                            dropped_all = false;
                        }
                        if *phase == "http" { b.http = Some(result) } else { b.sched = Some(result) }
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
                    "{} on 127.0.0.1, a fresh schema per process (`?options=-c search_path=...`){}",
                    version,
                    if dropped_all { ", dropped afterwards" } else { ", left in place (psql unavailable)" }
                );
                backends.push(b);
            }
        }
    }

    let load_after = loadavg();
    let yardstick = (yardstick_before, cpu_yardstick_ms());
    let text = section(&backends, &load_before, &load_after, yardstick, &pg_note, write);
    println!("{text}");
    if write {
        common::write_section(&text, SECTION, AFTER_SECTION, ANALYSIS);
    }
}
