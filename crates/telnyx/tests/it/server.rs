//! A Dialtone server for a test: a fresh SQLite file, a manual clock, a known root key.

use std::time::Duration;
use tokio_util::sync::CancellationToken;

pub const ROOT_KEY: &str = "KEYsdk-test-root-0123456789";

pub struct Dialtone {
    pub base: String,
    pub client: telnyx::Client,
    shutdown: CancellationToken,
}

impl Dialtone {
    pub async fn start() -> Dialtone {
        let path = std::env::temp_dir().join(format!("telnyx-sdk-{}.db", uuid_like()));
        let config = dialtone::Config {
            database: format!("sqlite://{}", path.display()),
            api_key: Some(ROOT_KEY.to_owned()),
            signing_key: None,
            manual_clock: true,
            rate_limit: None,
            workers: 1,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let shutdown = CancellationToken::new();
        let running = dialtone::start(config, listener, shutdown.clone()).await.expect("server starts");
        let base = format!("http://{}", running.addr);
        let client = telnyx::Client::builder()
            .api_key(ROOT_KEY)
            .base_url(format!("{base}/v2"))
            .public_key(running.info.public_key.clone())
            .build()
            .unwrap();
        Dialtone { base, client, shutdown }
    }

    /// A raw call to a Dialtone endpoint (simulation controls).
    pub async fn sim(&self, method: reqwest::Method, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = reqwest::Client::new()
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(ROOT_KEY)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// Moves the manual clock and runs what became due.
    pub async fn advance(&self, secs: u64) {
        self.sim(reqwest::Method::POST, "/_dialtone/sim/clock/advance", serde_json::json!({"seconds": secs})).await;
    }
}

impl Drop for Dialtone {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

pub fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{t:x}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

#[allow(dead_code)]
pub const SHORT: Duration = Duration::from_millis(10);
