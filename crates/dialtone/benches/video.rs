//! Video rooms benchmark (issue 6): join token generation rate, and 1,000 rooms with 10
//! participants each joining and leaving within a minute, with their webhooks.
//!
//! ```sh
//! cargo bench -p dialtone --bench video
//! ```
//!
//! Dialtone is started in-process on 127.0.0.1:0 (real clock, a fresh SQLite database) next to
//! a receiver (axum on 127.0.0.1:0) that answers 200 at once and counts what arrives. Load is
//! driven through the engine (the services the handlers call; no HTTP) from `BENCH_TASKS`
//! tasks:
//!
//! - Tokens: `BENCH_TOKENS` calls of `generate_join_client_token` (each signs a client and a
//!   refresh token), and the same number of bare signings in the domain.
//! - Rooms: `BENCH_ROOMS` rooms (webhook URL the receiver), `BENCH_PARTICIPANTS` joins each
//!   (each with its own token), then every participant leaves. Every room sends
//!   `session.started`, a `participant.joined` and a `participant.left` per participant, and
//!   `session.ended` 30 s (the grace period) after its last leave; the bench waits for all.
//!
//! Environment (all optional): BENCH_TOKENS (20000), BENCH_ROOMS (1000),
//! BENCH_PARTICIPANTS (10), BENCH_TASKS (32), BENCH_TIMEOUT (seconds to wait for the
//! webhooks, 180).

use axum::extract::State;
use axum::http::StatusCode;
use dialtone_domain::body::Body;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

mod common;
use common::*;

const KEY: &str = "KEYbench-video-root-0123456789";

async fn hook(State(n): State<Arc<AtomicUsize>>) -> StatusCode {
    n.fetch_add(1, Ordering::Relaxed);
    StatusCode::OK
}

async fn run_tasks<F, Fut>(total: usize, tasks: usize, f: F)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let f = Arc::new(f);
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (f, next) = (f.clone(), next.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                f(i).await;
            }
        }));
    }
    for h in handles {
        h.await.expect("task");
    }
}

#[tokio::main]
async fn main() {
    let tokens = env_num("BENCH_TOKENS", 20_000) as usize;
    let rooms = env_num("BENCH_ROOMS", 1_000) as usize;
    let per_room = env_num("BENCH_PARTICIPANTS", 10) as usize;
    let tasks = env_num("BENCH_TASKS", 32) as usize;
    let timeout = env_num("BENCH_TIMEOUT", 180);
    let shutdown = CancellationToken::new();

    let received = Arc::new(AtomicUsize::new(0));
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the receiver");
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let sd = shutdown.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).with_graceful_shutdown(async move { sd.cancelled().await }).await;
    });

    let db = std::env::temp_dir().join(format!("dialtone-bench-video-{}.db", std::process::id()));
    let config = dialtone::Config {
        database: format!("sqlite://{}", db.display()),
        api_key: Some(KEY.into()),
        signing_key: None,
        manual_clock: false,
        rate_limit: None,
        workers: 1,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the server");
    let running = dialtone::start(config, listener, shutdown.clone()).await.expect("dialtone starts");
    let engine = running.engine.clone();
    let root = engine.authenticate(KEY).await.expect("auth").expect("root account");
    println!("# Video rooms benchmark\n\n- Machine: {}; load {}", machine(), loadavg());

    // Tokens.
    let room = engine.create_room(&root.id, &Body::default()).await.expect("room");
    let empty = Body::default();
    let start = Instant::now();
    {
        let (engine, root, room_id, empty) = (engine.clone(), root.clone(), room.id.clone(), empty.clone());
        run_tasks(tokens, tasks, move |_| {
            let (engine, root, room_id, empty) = (engine.clone(), root.clone(), room_id.clone(), empty.clone());
            async move {
                engine.room_token(&root, &room_id, &empty).await.expect("token");
            }
        })
        .await;
    }
    let api_rate = tokens as f64 / start.elapsed().as_secs_f64();
    let signer = dialtone_engine::Engine::signer(&root).expect("signer");
    let now = chrono::Utc::now();
    let start = Instant::now();
    for _ in 0..tokens {
        dialtone_domain::video::tokens::generate(&signer, &room.id, "telnyx:users:x", &empty, now).expect("token");
    }
    let domain_rate = tokens as f64 / start.elapsed().as_secs_f64();
    println!(
        "- Tokens: generate_join_client_token through the engine (client + refresh token, room read): {} /s ({} tasks); \
         the same in the domain alone, one thread: {} /s (target >= 20,000 /s)",
        fmt_int(api_rate),
        tasks,
        fmt_int(domain_rate)
    );

    // Rooms.
    let body = Body::from_value(json!({"webhook_event_url": url, "max_participants": per_room.max(2)})).unwrap();
    let mut ids = Vec::with_capacity(rooms);
    for _ in 0..rooms {
        ids.push(engine.create_room(&root.id, &body).await.expect("room").id);
    }
    let ids = Arc::new(ids);
    let joined = Arc::new(std::sync::Mutex::new(Vec::with_capacity(rooms * per_room)));
    let t0 = Instant::now();
    {
        let (engine, root, ids, joined) = (engine.clone(), root.clone(), ids.clone(), joined.clone());
        run_tasks(rooms * per_room, tasks, move |i| {
            let (engine, root, ids, joined) = (engine.clone(), root.clone(), ids.clone(), joined.clone());
            async move {
                let room_id = &ids[i % ids.len()];
                let t = engine.room_token(&root, room_id, &Body::default()).await.expect("token");
                let (_, p) =
                    engine.join_room(&root, room_id, &t.token, "bench", "http://127.0.0.1").await.expect("join");
                joined.lock().unwrap().push((room_id.clone(), p.id));
            }
        })
        .await;
    }
    let join_secs = t0.elapsed().as_secs_f64();
    let parts = Arc::new(std::mem::take(&mut *joined.lock().unwrap()));
    let t1 = Instant::now();
    {
        let (engine, root, parts) = (engine.clone(), root.clone(), parts.clone());
        run_tasks(parts.len(), tasks, move |i| {
            let (engine, root, parts) = (engine.clone(), root.clone(), parts.clone());
            async move {
                let (room_id, pid) = &parts[i];
                engine.leave_room(&root, room_id, pid).await.expect("leave");
            }
        })
        .await;
    }
    let leave_secs = t1.elapsed().as_secs_f64();
    let all_done = t0.elapsed().as_secs_f64();
    let expected = rooms * (2 + 2 * per_room);
    let deadline = Instant::now() + Duration::from_secs(timeout);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let got = received.load(Ordering::Relaxed);
    let webhooks_secs = t0.elapsed().as_secs_f64();
    println!(
        "- Rooms: {rooms} rooms x {per_room} participants: {} joins (each with its own token) in {:.1} s ({} /s), \
         {} leaves in {:.1} s ({} /s): all joined and left {} within a minute ({:.1} s). \
         Webhooks: {got} of {expected} delivered {:.1} s after the first join (session.ended waits the 30 s grace period) {}",
        rooms * per_room,
        join_secs,
        fmt_int((rooms * per_room) as f64 / join_secs),
        parts.len(),
        leave_secs,
        fmt_int(parts.len() as f64 / leave_secs),
        mark(all_done <= 60.0),
        all_done,
        webhooks_secs,
        mark(got >= expected)
    );
    println!("- Server RSS at the end: {} kB (peak {} kB)", rss_kb("VmRSS"), rss_kb("VmHWM"));
    shutdown.cancel();
    let _ = std::fs::remove_file(&db);
}
