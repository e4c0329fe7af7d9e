//! The client: configuration, authentication, sending a request with retries.

use crate::error::{ApiError, Error, Result};
use crate::query::Query;
use crate::retry;
use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

/// Telnyx's API.
pub const DEFAULT_BASE_URL: &str = "https://api.telnyx.com/v2";

/// A Telnyx API client. Cheap to clone (one shared connection pool).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: String,
    base_url: String,
    public_key: Option<String>,
    http: reqwest::Client,
    timeout: Option<Duration>,
    max_retries: u32,
    deadline: Option<Duration>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("api_key", &"<hidden>")
            .field("base_url", &self.inner.base_url)
            .field("timeout", &self.inner.timeout)
            .field("max_retries", &self.inner.max_retries)
            .field("deadline", &self.inner.deadline)
            .finish()
    }
}

/// Builds a [`Client`].
#[derive(Clone)]
pub struct ClientBuilder {
    api_key: Option<String>,
    base_url: String,
    public_key: Option<String>,
    http: Option<reqwest::Client>,
    timeout: Option<Duration>,
    max_retries: u32,
    deadline: Option<Duration>,
    #[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
    extra_roots: Vec<crate::tls::ExtraRoot>,
}

impl std::fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_ref().map(|_| "<hidden>"))
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Default for ClientBuilder {
    fn default() -> Self {
        ClientBuilder {
            api_key: None,
            base_url: DEFAULT_BASE_URL.to_owned(),
            public_key: None,
            http: None,
            timeout: Some(Duration::from_secs(60)),
            max_retries: 2,
            deadline: Some(Duration::from_secs(180)),
            #[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
            extra_roots: Vec::new(),
        }
    }
}

impl ClientBuilder {
    /// The API key (`Authorization: Bearer`).
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Where the API is, `/v2` included (`http://127.0.0.1:4010/v2` for a local Dialtone).
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// The account's webhook public key (base64 of 32 bytes) for [`Client::webhooks`].
    pub fn public_key(mut self, key: impl Into<String>) -> Self {
        self.public_key = Some(key.into());
        self
    }

    /// Each attempt's timeout (60 s by default); `None` for none.
    pub fn timeout(mut self, t: Option<Duration>) -> Self {
        self.timeout = t;
        self
    }

    /// Retries after the first attempt (2 by default).
    pub fn max_retries(mut self, n: u32) -> Self {
        self.max_retries = n;
        self
    }

    /// The time all attempts of one call may take together (180 s by default); no retry
    /// starts past it and an attempt is cut at it. `None` for no limit.
    pub fn deadline(mut self, d: Option<Duration>) -> Self {
        self.deadline = d;
        self
    }

    /// An HTTP client of your own (proxies, TLS settings, connection pool). Its TLS settings
    /// are its own: the root certificates added here do not apply to it.
    pub fn http_client(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Trusts this root certificate (DER) besides the web PKI's, for a proxy or a test server
    /// with a certificate of its own.
    #[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
    pub fn add_root_certificate_der(mut self, der: impl Into<Vec<u8>>) -> Self {
        self.extra_roots.push(crate::tls::ExtraRoot::Der(der.into()));
        self
    }

    /// Trusts every `CERTIFICATE` in this PEM text besides the web PKI's roots. A PEM without
    /// one, or that does not parse, makes [`build`](Self::build) fail with [`Error::Config`].
    #[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
    pub fn add_root_certificates_pem(mut self, pem: impl AsRef<[u8]>) -> Self {
        self.extra_roots.push(crate::tls::ExtraRoot::Pem(pem.as_ref().to_vec()));
        self
    }

    /// The client. Fails with [`Error::Config`] without an API key, with a base URL that is
    /// not `http(s)://`, or when a TLS feature is on but no crypto provider can run here (see
    /// the crate's "Features" section).
    pub fn build(self) -> Result<Client> {
        let api_key = self.api_key.filter(|k| !k.is_empty()).ok_or_else(|| Error::Config("no API key".into()))?;
        if !(self.base_url.starts_with("http://") || self.base_url.starts_with("https://")) {
            return Err(Error::Config(format!("base URL must be http(s): {}", self.base_url)));
        }
        let http = match self.http {
            Some(h) => h,
            None => {
                let b = reqwest::Client::builder().user_agent(concat!("Telnyx/Rust ", env!("CARGO_PKG_VERSION")));
                // The provider is chosen here: reqwest's own choice would be `ring`, or a
                // panic when `ring` is not compiled in.
                #[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
                let b = b.use_preconfigured_tls(crate::tls::client_config(&self.extra_roots)?);
                #[cfg(not(any(feature = "rustls-graviola", feature = "rustls-ring")))]
                if self.base_url.starts_with("https://") {
                    return Err(Error::Config(format!(
                        "base URL {} is HTTPS but the telnyx crate was built without TLS: enable the \
                         `rustls-graviola` (default) or `rustls-ring` feature, or pass your own client to \
                         ClientBuilder::http_client",
                        self.base_url
                    )));
                }
                b.build().map_err(|e| Error::Config(e.to_string()))?
            }
        };
        Ok(Client {
            inner: Arc::new(Inner {
                api_key,
                base_url: self.base_url,
                public_key: self.public_key,
                http,
                timeout: self.timeout,
                max_retries: self.max_retries,
                deadline: self.deadline,
            }),
        })
    }
}

/// Whether a request may be sent again after an answer that did not arrive or failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Reads, updates, deletes, and creations carrying a deduplication key.
    Safe,
    /// Creates something and has no deduplication key: sent again only when the first
    /// attempt never reached the server (connection refused).
    Once,
}

/// One request to send.
pub(crate) struct Request {
    pub method: Method,
    pub path: String,
    pub query: Query,
    pub body: Option<Value>,
    pub retry: Retry,
    /// `Accept`: JSON unless the operation answers something else.
    pub accept: &'static str,
}

impl Request {
    pub fn get(path: String) -> Request {
        Request {
            method: Method::GET,
            path,
            query: Query::new(),
            body: None,
            retry: Retry::Safe,
            accept: "application/json",
        }
    }

    pub fn delete(path: String) -> Request {
        Request {
            method: Method::DELETE,
            path,
            query: Query::new(),
            body: None,
            retry: Retry::Safe,
            accept: "application/json",
        }
    }

    pub fn with_body(method: Method, path: String, body: &impl Serialize, retry: Retry) -> Request {
        let body = serde_json::to_value(body).unwrap_or(Value::Null);
        Request { method, path, query: Query::new(), body: Some(body), retry, accept: "application/json" }
    }

    /// A POST with no body at all, as the official SDKs send bare actions.
    pub fn post_empty(path: String) -> Request {
        Request {
            method: Method::POST,
            path,
            query: Query::new(),
            body: None,
            retry: Retry::Safe,
            accept: "application/json",
        }
    }

    pub fn query(mut self, q: Query) -> Request {
        self.query = q;
        self
    }
}

impl Client {
    /// A client from `TELNYX_API_KEY` (required), `TELNYX_BASE_URL` (default Telnyx's) and
    /// `TELNYX_PUBLIC_KEY` (optional, for [`Client::webhooks`]), with the default retries and
    /// timeouts. Without a key it fails with [`Error::Config`] naming the variable.
    pub fn from_env() -> Result<Client> {
        let key = std::env::var("TELNYX_API_KEY").ok().filter(|k| !k.trim().is_empty()).ok_or_else(|| {
            Error::Config("TELNYX_API_KEY is not set: set it, or build the client with Client::builder()".into())
        })?;
        let mut b = Client::builder().api_key(key.trim());
        if let Ok(u) = std::env::var("TELNYX_BASE_URL")
            && !u.is_empty()
        {
            b = b.base_url(u);
        }
        if let Ok(p) = std::env::var("TELNYX_PUBLIC_KEY")
            && !p.is_empty()
        {
            b = b.public_key(p);
        }
        b.build()
    }

    /// A client with only an API key (Telnyx's base URL, the default retries and timeouts).
    pub fn new(api_key: impl Into<String>) -> Result<Client> {
        Client::builder().api_key(api_key).build()
    }

    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    pub(crate) fn public_key(&self) -> Option<&str> {
        self.inner.public_key.as_deref()
    }

    /// Sends a request and decodes a JSON answer.
    pub(crate) async fn send<T: DeserializeOwned>(&self, req: Request) -> Result<T> {
        let body = self.send_raw(req).await?;
        let text = if body.is_empty() { "null" } else { body.as_str() };
        serde_json::from_str(text).map_err(|source| Error::Decode { source, body })
    }

    /// Sends a request whose answer's body is ignored (a 204).
    pub(crate) async fn send_empty(&self, req: Request) -> Result<()> {
        self.send_raw(req).await.map(|_| ())
    }

    /// Sends a request, with retries; answers the body of the 2xx answer.
    pub(crate) async fn send_raw(&self, req: Request) -> Result<String> {
        let started = tokio::time::Instant::now();
        let deadline = self.inner.deadline.map(|d| started + d);
        let mut url = format!("{}{}", self.inner.base_url, req.path);
        if !req.query.is_empty() {
            url.push('?');
            url.push_str(&req.query.encode());
        }
        let mut attempt: u32 = 0;
        loop {
            let mut b = self
                .inner
                .http
                .request(req.method.clone(), &url)
                .bearer_auth(&self.inner.api_key)
                .header("accept", req.accept)
                .header("x-stainless-retry-count", attempt.to_string());
            if let Some(body) = &req.body {
                b = b.json(body);
            }
            let limit = match (self.inner.timeout, deadline) {
                (Some(t), Some(d)) => Some(t.min(d.saturating_duration_since(tokio::time::Instant::now()))),
                (t, None) => t,
                (None, Some(d)) => Some(d.saturating_duration_since(tokio::time::Instant::now())),
            };
            // The timeout runs on tokio's clock, so tests with a paused clock see it too.
            let outcome = match limit {
                Some(l) => match tokio::time::timeout(l, send_once(b)).await {
                    Ok(r) => r,
                    Err(_) => Err(Attempt::Timeout),
                },
                None => send_once(b).await,
            };
            let (may_retry, server_delay, err) = match outcome {
                Ok(text) => return Ok(text),
                Err(Attempt::Status { status, headers, body }) => {
                    let wait = retry::server_delay(&headers, std::time::SystemTime::now());
                    let again = retry::should_retry(status, &headers) && req.retry == Retry::Safe;
                    (again, wait, Error::from_status(ApiError::parse(status, body, wait)))
                }
                Err(Attempt::Transport(e)) => {
                    // A refused connection never reached the server: safe to send again.
                    let again = req.retry == Retry::Safe || e.is_connect();
                    (again, None, Error::Connection(e))
                }
                Err(Attempt::Timeout) => (req.retry == Retry::Safe, None, Error::Timeout),
            };
            if !may_retry || attempt >= self.inner.max_retries {
                return Err(err);
            }
            let wait = retry::delay(attempt, server_delay, retry::jitter());
            if let Some(d) = deadline
                && tokio::time::Instant::now() + wait >= d
            {
                return Err(err);
            }
            tokio::time::sleep(wait).await;
            attempt += 1;
        }
    }
}

enum Attempt {
    Status { status: u16, headers: reqwest::header::HeaderMap, body: String },
    Transport(reqwest::Error),
    Timeout,
}

async fn send_once(b: reqwest::RequestBuilder) -> std::result::Result<String, Attempt> {
    let resp = b.send().await.map_err(Attempt::Transport)?;
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.text().await.map_err(Attempt::Transport)?;
    if (200..300).contains(&status) { Ok(body) } else { Err(Attempt::Status { status, headers, body }) }
}
