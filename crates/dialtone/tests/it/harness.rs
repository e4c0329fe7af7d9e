//! Starts Dialtone for a test (in-process on port 0, or as a real process for crash and
//! multi-process tests) and talks to it. Every JSON response of an operation of the spec
//! is validated against the spec's response schema for its status, so no test can pass
//! on a body the official SDKs would reject.
//!
//! The backend comes from `DIALTONE_TEST_DATABASE`: unset runs SQLite (a fresh file per
//! server); a `postgres://` URL runs PostgreSQL, a fresh schema per server.

use crate::spec;
use reqwest::Method;
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const ROOT_KEY: &str = "KEYtest-root-0123456789";

/// A database URL no other test uses.
pub async fn fresh_database() -> String {
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    match std::env::var("DIALTONE_TEST_DATABASE") {
        Ok(base) if base.starts_with("postgres") => {
            dialtone_store::Store::fresh_postgres_schema(&base, &name).await.expect("create schema")
        }
        _ => {
            let path = std::env::temp_dir().join(format!("dialtone-{name}.db"));
            format!("sqlite://{}", path.display())
        }
    }
}

pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The first Telnyx error object (the usual envelope, or video's bare object).
    pub fn error(&self) -> &Value {
        if self.body.get("errors").is_some() { &self.body["errors"][0] } else { &self.body }
    }

    pub fn code(&self) -> &str {
        self.error()["code"].as_str().unwrap_or_default()
    }
}

/// An HTTP client for one server, with the root key by default.
#[derive(Clone)]
pub struct Client {
    pub base: String,
    pub key: Option<String>,
    http: reqwest::Client,
}

impl Client {
    pub fn new(base: &str, key: Option<&str>) -> Client {
        Client {
            base: base.to_owned(),
            key: key.map(str::to_owned),
            http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        }
    }

    pub fn with_key(&self, key: &str) -> Client {
        Client { key: Some(key.to_owned()), ..self.clone() }
    }

    pub fn without_key(&self) -> Client {
        Client { key: None, ..self.clone() }
    }

    /// Sends a request; `path` is relative to the server root (`/v2/...`).
    pub async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let mut req = self.http.request(method.clone(), format!("{}{}", self.base, path));
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("request reaches the server");
        self.finish(method, path, resp).await
    }

    pub async fn send_raw(&self, method: Method, path: &str, content_type: Option<&str>, body: Vec<u8>) -> Resp {
        let mut req = self.http.request(method.clone(), format!("{}{}", self.base, path)).body(body);
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        let resp = req.send().await.expect("request reaches the server");
        self.finish(method, path, resp).await
    }

    pub async fn send_with_header(&self, method: Method, path: &str, name: &str, value: &str) -> Resp {
        let mut req = self.http.request(method.clone(), format!("{}{}", self.base, path)).header(name, value);
        if let Some(k) = &self.key {
            req = req.bearer_auth(k);
        }
        let resp = req.send().await.expect("request reaches the server");
        self.finish(method, path, resp).await
    }

    async fn finish(&self, method: Method, path: &str, resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.unwrap_or_default();
        let is_json = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        assert!(status < 500 || status == 501 || status == 503, "{method} {path} answered {status}: {text}");
        if is_json {
            assert!(!text.is_empty(), "a JSON content type never comes with an empty body");
        }
        let body = if is_json {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: bad JSON ({e}): {text}"))
        } else {
            Value::Null
        };
        if is_json {
            spec::check_response(method.as_str(), path, status, &body);
        }
        Resp { status, body, text, headers }
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(Method::POST, path, Some(body)).await
    }

    /// A POST with no body at all (as the Node SDK sends actions).
    pub async fn post_empty(&self, path: &str) -> Resp {
        self.send(Method::POST, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.send(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(Method::DELETE, path, None).await
    }
}

/// An in-process server.
pub struct Server {
    pub client: Client,
    pub database: String,
    pub engine: dialtone_engine::Engine,
    shutdown: CancellationToken,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

pub struct Options {
    pub manual_clock: bool,
    pub rate_limit: Option<u32>,
    pub workers: usize,
    pub database: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options { manual_clock: true, rate_limit: None, workers: 1, database: None }
    }
}

impl Server {
    /// A server on a fresh database with a manual clock.
    pub async fn start() -> Server {
        Server::start_with(Options::default()).await
    }

    /// A server that runs no job by itself, and the scheduler (with the webhook worker) a
    /// test runs them with, or claims and steps them by hand.
    pub async fn start_by_hand() -> (Server, dialtone_engine::scheduler::Scheduler) {
        let s = Server::start_with(Options { workers: 0, ..Options::default() }).await;
        let sched = dialtone_webhooks::Worker::new()
            .register(dialtone_engine::scheduler::Builder::standard())
            .build(s.engine.clone());
        (s, sched)
    }

    pub async fn start_with(opts: Options) -> Server {
        let database = match opts.database {
            Some(d) => d,
            None => fresh_database().await,
        };
        let config = dialtone::Config {
            database: database.clone(),
            api_key: Some(ROOT_KEY.to_owned()),
            signing_key: None,
            manual_clock: opts.manual_clock,
            rate_limit: opts.rate_limit,
            workers: opts.workers,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shutdown = CancellationToken::new();
        let running = dialtone::start(config, listener, shutdown.clone()).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        Server {
            client: Client::new(&base, Some(ROOT_KEY)),
            database,
            engine: running.engine,
            shutdown,
            task: Some(running.task),
        }
    }

    /// Stops gracefully and waits until the server has let go of the database.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(t) = self.task.take() {
            t.await.unwrap().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl std::ops::Deref for Server {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// A `dialtone serve` child process (for crash and multi-process tests).
pub struct Process {
    pub client: Client,
    child: Child,
}

impl Process {
    pub async fn spawn(database: &str, extra: &[&str]) -> Process {
        // The server binds port 0 and prints its address: no port can be taken in between.
        let log = std::env::temp_dir().join(format!("dialtone-test-{}.log", uuid::Uuid::new_v4().simple()));
        let mut child = Command::new(env!("CARGO_BIN_EXE_dialtone"))
            .args(["serve", "--listen", "127.0.0.1:0", "--database", database, "--api-key", ROOT_KEY])
            .args(extra)
            .env_remove("DIALTONE_LISTEN")
            .env("DIALTONE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("spawn dialtone");
        let stdout = child.stdout.take().unwrap();
        // Owned by the Process at once, so a failed start still kills and reaps it.
        let mut process = Process { client: Client::new("http://unknown", Some(ROOT_KEY)), child };
        let (tx, rx) = tokio::sync::oneshot::channel();
        // Reads the first line, then drains the rest so the server never writes to a
        // closed pipe.
        std::thread::spawn(move || {
            use std::io::BufRead;
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let _ = reader.read_line(&mut line);
            let _ = tx.send(line);
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let line = tokio::time::timeout(Duration::from_secs(20), rx).await.ok().and_then(Result::ok);
        let base = line.as_deref().and_then(|l| l.trim().strip_prefix("Dialtone is listening on ")).map(str::to_owned);
        let Some(base) = base else {
            let out = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("dialtone on {database} did not start; its log:\n{out}");
        };
        process.client = Client::new(&base, Some(ROOT_KEY));
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(r) = http.get(format!("{base}/_dialtone/health")).send().await
                && r.status().as_u16() == 200
            {
                return process;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let out = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("dialtone on {database} did not become healthy; its log:\n{out}");
    }

    /// SIGKILL: no chance to flush or finish anything.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        self.child.wait().unwrap()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for Process {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

/// A unique email for a test.
pub fn email(tag: &str) -> String {
    format!("{tag}-{}@example.com", &uuid::Uuid::new_v4().simple().to_string()[..10])
}
