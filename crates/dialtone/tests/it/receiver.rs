//! A webhook receiver under the test's control: answers each request as its script says
//! (a status, after a delay, or held until released), records what it got, and can start
//! listening late so that the first attempts are refused.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub enum Answer {
    Status(u16),
    /// Wait, then answer.
    Delay(Duration, u16),
    /// Hold the request until [`Receiver::release`], then answer 200.
    Hold,
    /// Answer 200 with a body of this many bytes.
    Big(usize),
}

#[derive(Clone, Debug)]
pub struct Received {
    pub body: String,
    pub headers: HeaderMap,
    pub json: serde_json::Value,
    /// How many earlier requests had been answered when this one arrived.
    pub answered_before: usize,
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Answer>,
    default: Option<Answer>,
    received: Vec<Received>,
    answered: usize,
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    release: Arc<Notify>,
    released: Arc<std::sync::atomic::AtomicBool>,
}

pub struct Receiver {
    pub url: String,
    addr: std::net::SocketAddr,
    shared: Shared,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Receiver {
    /// Listening at once; answers 200 unless scripted.
    pub async fn start() -> Receiver {
        let mut r = Receiver::reserve();
        r.listen().await;
        r
    }

    /// A receiver with an address but no listener yet: connections are refused.
    pub fn reserve() -> Receiver {
        let addr = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        Receiver {
            url: format!("http://{addr}/hooks"),
            addr,
            shared: Shared { inner: Arc::default(), release: Arc::new(Notify::new()), released: Arc::default() },
            task: None,
        }
    }

    pub async fn listen(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr).await.unwrap();
        let app = axum::Router::new().fallback(handle).with_state(self.shared.clone());
        self.task = Some(tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        }));
    }

    /// Answers for the next requests, in order; then the default (200).
    pub fn script(&self, answers: &[Answer]) {
        self.shared.inner.lock().unwrap().script.extend(answers.iter().cloned());
    }

    pub fn always(&self, answer: Answer) {
        self.shared.inner.lock().unwrap().default = Some(answer);
    }

    pub fn release(&self) {
        self.shared.released.store(true, std::sync::atomic::Ordering::SeqCst);
        self.shared.release.notify_waiters();
    }

    pub fn received(&self) -> Vec<Received> {
        self.shared.inner.lock().unwrap().received.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.inner.lock().unwrap().received.len()
    }

    /// Requests that have been answered.
    pub fn answered(&self) -> usize {
        self.shared.inner.lock().unwrap().answered
    }

    /// Waits (up to 20 s) until `n` requests have arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..2000 {
            if self.count() >= n {
                return self.received();
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the receiver got {} requests, expected {n}", self.count());
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.release();
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

async fn handle(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let answer = {
        let mut g = s.inner.lock().unwrap();
        let text = String::from_utf8_lossy(&body).into_owned();
        let json = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
        let answered_before = g.answered;
        g.received.push(Received { body: text, headers, json, answered_before });
        g.script.pop_front().or_else(|| g.default.clone()).unwrap_or(Answer::Status(200))
    };
    let (status, body) = match answer {
        Answer::Status(code) => (code, "ok".to_owned()),
        Answer::Delay(d, code) => {
            tokio::time::sleep(d).await;
            (code, "late".to_owned())
        }
        Answer::Hold => {
            let notified = s.release.notified();
            if !s.released.load(std::sync::atomic::Ordering::SeqCst) {
                notified.await;
            }
            (200, "released".to_owned())
        }
        Answer::Big(n) => (200, "x".repeat(n)),
    };
    s.inner.lock().unwrap().answered += 1;
    (StatusCode::from_u16(status).unwrap(), body)
}
