//! The HTTP/1.1 client that webhook attempts to plain `http://` URLs go out on.
//!
//! An attempt is one request and one answer, so the client is small: a pool of idle
//! keep-alive connections per `host:port`, and each connection driven by the attempt that
//! uses it, in that attempt's own task. A general client (reqwest on hyper's pooled
//! client) spawns a task per connection, hands every request to it over a channel and
//! runs it through redirect and retry layers; under the messaging bench's load, going
//! without them spared 8-9 % of the process's CPU a message.
//!
//! What it does not do is left to the caller's other path (reqwest): TLS, and URLs this
//! client does not take as they are (user info, anything `http::Uri` does not parse).
//! Neither path follows redirects: only a 2xx counts as delivered.

use crate::{Outcome, error_chain, header_excerpt};
use bytes::Bytes;
use dialtone_domain::webhooks::{BODY_EXCERPT, errors};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{HOST, HeaderName, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;

type Connection = http1::Connection<TokioIo<TcpStream>, Full<Bytes>>;

/// How long a connection may sit idle in the pool before it is closed (as reqwest's
/// default pool does).
const IDLE_FOR: Duration = Duration::from_secs(90);
/// How long a new connection may take to open.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A request this client can send: an `http://` URL with a host and no user info.
pub(crate) struct Target {
    /// `host:port` as written in the URL: the pool's key and the `Host` header.
    authority: String,
    host: String,
    port: u16,
    path: String,
}

impl Target {
    /// `None` for a URL the other path takes (https, user info, or one `http::Uri` does
    /// not parse).
    pub(crate) fn parse(url: &str) -> Option<Target> {
        let uri: Uri = url.parse().ok()?;
        if uri.scheme_str() != Some("http") {
            return None;
        }
        let authority = uri.authority()?;
        if authority.as_str().contains('@') || authority.host().is_empty() {
            return None;
        }
        // `[::1]` is written with brackets; the socket address wants the bare address.
        let host = authority.host().trim_start_matches('[').trim_end_matches(']').to_owned();
        let path = uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
        Some(Target { authority: authority.as_str().to_owned(), host, port: authority.port_u16().unwrap_or(80), path })
    }
}

/// An open connection: its request handle and the connection itself, which only moves
/// while someone polls it.
struct Conn {
    tx: SendRequest<Full<Bytes>>,
    conn: Pin<Box<Connection>>,
}

struct Idle {
    conn: Conn,
    since: Instant,
}

#[derive(Default)]
pub(crate) struct Client {
    idle: Mutex<Pool>,
}

#[derive(Default)]
struct Pool {
    by_authority: HashMap<String, VecDeque<Idle>>,
    checkins: u64,
}

/// Connections kept idle for one `host:port`, at most: as many as attempts can be in
/// flight, so that a burst to one application finds its connections again.
const MAX_IDLE: usize = dialtone_engine::scheduler::MAX_IN_FLIGHT;

impl Client {
    /// Sends one request and reads at most [`BODY_EXCERPT`] bytes of its answer, all
    /// within `timeout`.
    pub(crate) async fn send(
        &self,
        method: &str,
        target: &Target,
        headers: &[(String, String)],
        body: Bytes,
        timeout: Duration,
    ) -> Outcome {
        let first = match build(method, target, headers, body.clone()) {
            Ok(request) => request,
            Err(detail) => return Outcome::Failed { code: errors::BAD_URL, detail },
        };
        // The same request, for a second connection.
        let again = || build(method, target, headers, body.clone()).expect("built once already");
        match tokio::time::timeout(timeout, self.exchange(target, first, again)).await {
            Ok(outcome) => outcome,
            Err(_) => Outcome::Failed {
                code: errors::TIMEOUT,
                detail: format!("no answer from {} within {} ms", target.authority, timeout.as_millis()),
            },
        }
    }

    async fn exchange(
        &self,
        target: &Target,
        first: Request<Full<Bytes>>,
        again: impl Fn() -> Request<Full<Bytes>>,
    ) -> Outcome {
        // A pooled connection may have been closed by the other side while it sat idle,
        // too recently to be seen: a request it could not carry goes again on a new one.
        let mut request = Some(first);
        let mut pooled = self.checkout(&target.authority);
        loop {
            let reused = pooled.is_some();
            let mut conn = match pooled.take() {
                Some(c) => c,
                None => match connect(target).await {
                    Ok(c) => c,
                    Err(outcome) => return outcome,
                },
            };
            let sent = conn.tx.try_send_request(request.take().unwrap_or_else(&again));
            let mut open = Some(conn.conn);
            match drive(&mut open, sent).await {
                Ok(resp) => return self.read(target, conn.tx, open, resp).await,
                Err(mut e) => {
                    // The request comes back if it was never written.
                    let unsent = e.take_message();
                    let error = e.into_error();
                    if reused && (unsent.is_some() || error.is_incomplete_message() || error.is_canceled()) {
                        request = unsent;
                        continue;
                    }
                    return Outcome::Failed { code: errors::CONNECTION, detail: error_chain(&error) };
                }
            }
        }
    }

    /// Reads the answer's status, headers and the start of its body; the connection goes
    /// back to the pool if the answer was read to its end and the connection stays open.
    async fn read(
        &self,
        target: &Target,
        tx: SendRequest<Full<Bytes>>,
        mut open: Option<Pin<Box<Connection>>>,
        resp: hyper::Response<hyper::body::Incoming>,
    ) -> Outcome {
        let status = resp.status().as_u16();
        let headers = header_excerpt(resp.headers());
        let mut body = resp.into_body();
        let mut excerpt = Vec::new();
        let mut ended = false;
        while excerpt.len() < BODY_EXCERPT {
            match drive(&mut open, body.frame()).await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        excerpt.extend_from_slice(&data);
                    }
                }
                Some(Err(_)) => break,
                None => {
                    ended = true;
                    break;
                }
            }
        }
        excerpt.truncate(BODY_EXCERPT);
        if ended && let Some(conn) = open {
            self.checkin(&target.authority, Conn { tx, conn });
        }
        Outcome::Response { status, headers, body: String::from_utf8_lossy(&excerpt).into_owned() }
    }

    /// The most recently used idle connection to `authority` that is still open.
    fn checkout(&self, authority: &str) -> Option<Conn> {
        loop {
            let idle = {
                let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                let list = pool.by_authority.get_mut(authority)?;
                let idle = list.pop_back()?;
                if idle.since.elapsed() > IDLE_FOR {
                    // The rest are older still.
                    list.clear();
                    return None;
                }
                idle
            };
            let mut conn = idle.conn;
            // One poll lets the connection read what came while it was idle: the other
            // side closing it ends it here.
            let mut cx = Context::from_waker(Waker::noop());
            if conn.conn.as_mut().poll(&mut cx).is_pending() && conn.tx.is_ready() {
                return Some(conn);
            }
        }
    }

    fn checkin(&self, authority: &str, mut conn: Conn) {
        // The poll that takes the connection from "answer read" back to idle.
        let mut cx = Context::from_waker(Waker::noop());
        if conn.conn.as_mut().poll(&mut cx).is_ready() {
            return;
        }
        let mut pool = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        pool.checkins += 1;
        if pool.checkins.is_multiple_of(1024) {
            // Now and then, close what sat idle too long under every authority.
            pool.by_authority.retain(|_, list| {
                list.retain(|c| c.since.elapsed() <= IDLE_FOR);
                !list.is_empty()
            });
        }
        let list = match pool.by_authority.get_mut(authority) {
            Some(list) => list,
            None => pool.by_authority.entry(authority.to_owned()).or_default(),
        };
        if list.len() >= MAX_IDLE {
            list.pop_front();
        }
        list.push_back(Idle { conn, since: Instant::now() });
    }
}

/// Polls `fut` and, beside it, the connection it runs on, until `fut` is done. The
/// connection's future does the connection's reading and writing; once it ends (the other
/// side closed it, or it failed) it is dropped and `fut` sees the outcome.
async fn drive<F: Future>(open: &mut Option<Pin<Box<Connection>>>, fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        if let Some(conn) = open.as_mut()
            && conn.as_mut().poll(cx).is_ready()
        {
            *open = None;
        }
        fut.as_mut().poll(cx)
    })
    .await
}

async fn connect(target: &Target) -> Result<Conn, Outcome> {
    let opened = tokio::time::timeout(CONNECT_TIMEOUT, async {
        let addrs =
            tokio::net::lookup_host((target.host.as_str(), target.port)).await.map_err(|e| Outcome::Failed {
                code: errors::UNRESOLVED,
                detail: format!("dns error: failed to lookup address information for {}: {e}", target.host),
            })?;
        let mut last = None;
        for addr in addrs {
            match TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Some(format!("tcp connect error: {addr}: {e}")),
            }
        }
        Err(Outcome::Failed {
            code: errors::CONNECTION,
            detail: last.unwrap_or_else(|| format!("no address found for {}", target.host)),
        })
    })
    .await;
    let stream = match opened {
        Ok(Ok(stream)) => stream,
        Ok(Err(outcome)) => return Err(outcome),
        Err(_) => {
            return Err(Outcome::Failed {
                code: errors::TIMEOUT,
                detail: format!("connecting to {} took over {} s", target.authority, CONNECT_TIMEOUT.as_secs()),
            });
        }
    };
    // Each request is written whole at once; waiting for more would only delay it.
    let _ = stream.set_nodelay(true);
    let (tx, conn) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| Outcome::Failed { code: errors::CONNECTION, detail: error_chain(&e) })?;
    Ok(Conn { tx, conn: Box::pin(conn) })
}

fn build(
    method: &str,
    target: &Target,
    headers: &[(String, String)],
    body: Bytes,
) -> Result<Request<Full<Bytes>>, String> {
    let method = if method == "GET" { hyper::Method::GET } else { hyper::Method::POST };
    let mut req = Request::builder().method(method).uri(target.path.as_str());
    let map = req.headers_mut().ok_or("the request could not be built")?;
    map.insert(HOST, HeaderValue::from_str(&target.authority).map_err(|e| e.to_string())?);
    for (k, v) in headers {
        let name = HeaderName::from_bytes(k.as_bytes()).map_err(|e| e.to_string())?;
        map.insert(name, HeaderValue::from_str(v).map_err(|e| e.to_string())?);
    }
    req.body(Full::new(body)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8000/hooks?x=1").unwrap();
        assert_eq!(
            (t.authority.as_str(), t.host.as_str(), t.port, t.path.as_str()),
            ("127.0.0.1:8000", "127.0.0.1", 8000, "/hooks?x=1")
        );
        let t = Target::parse("http://example.com").unwrap();
        assert_eq!((t.authority.as_str(), t.port, t.path.as_str()), ("example.com", 80, "/"));
        let t = Target::parse("http://[::1]:9/h").unwrap();
        assert_eq!((t.host.as_str(), t.authority.as_str()), ("::1", "[::1]:9"));
        // Left to the general client.
        for url in [
            "https://example.com/h",
            "http://user:pw@example.com/h",
            "http://bücher.example/h",
            "not a url",
            "ftp://x/y",
        ] {
            assert!(Target::parse(url).is_none(), "{url}");
        }
    }

    /// A server written on the socket: answers every request on a connection with
    /// `answer`; if `close` says so, only the first: the second is read and dropped with
    /// the connection, as a server closing an idle connection just as a request comes
    /// does. Counts the connections it accepted and keeps each request's head.
    struct Raw {
        url: String,
        accepted: Arc<AtomicUsize>,
        heads: Arc<Mutex<Vec<String>>>,
    }

    async fn raw(answer: &'static str, close: bool) -> Raw {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks?k=v", listener.local_addr().unwrap());
        let accepted = Arc::new(AtomicUsize::new(0));
        let heads = Arc::new(Mutex::new(Vec::new()));
        let (a, h) = (accepted.clone(), heads.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { return };
                a.fetch_add(1, Ordering::SeqCst);
                let h = h.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut served = 0;
                    loop {
                        // One request: its head, then as many bytes as its Content-Length.
                        let end = loop {
                            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break i + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..end]).into_owned();
                        let len: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_owned())
                            })
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < end + len {
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        buf.drain(..end + len);
                        h.lock().unwrap().push(head);
                        served += 1;
                        if close && served > 1 {
                            return;
                        }
                        if sock.write_all(answer.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Raw { url, accepted, heads }
    }

    const OK: &str = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nx-seen: yes\r\n\r\nok";

    async fn post(client: &Client, url: &str) -> Outcome {
        let headers = vec![("content-type".to_owned(), "application/json".to_owned())];
        client
            .send(
                "POST",
                &Target::parse(url).unwrap(),
                &headers,
                Bytes::from_static(b"{\"a\":1}"),
                Duration::from_secs(5),
            )
            .await
    }

    fn status(o: &Outcome) -> Option<u16> {
        match o {
            Outcome::Response { status, .. } => Some(*status),
            Outcome::Failed { .. } => None,
        }
    }

    #[tokio::test]
    async fn a_connection_is_kept_and_used_again() {
        let server = raw(OK, false).await;
        let client = Client::default();
        for _ in 0..3 {
            let o = post(&client, &server.url).await;
            let Outcome::Response { status, headers, body } = o else { panic!("{o:?}") };
            assert_eq!((status, body.as_str()), (200, "ok"));
            assert!(headers.contains(&("x-seen".to_owned(), "yes".to_owned())));
        }
        assert_eq!(server.accepted.load(Ordering::SeqCst), 1, "three requests, one connection");
        let heads = server.heads.lock().unwrap().clone();
        assert_eq!(heads.len(), 3);
        let host = server.url.trim_start_matches("http://").split('/').next().unwrap().to_owned();
        for head in heads {
            assert!(head.starts_with("POST /hooks?k=v HTTP/1.1\r\n"), "{head}");
            assert!(head.contains(&format!("host: {host}\r\n")), "{head}");
            assert!(head.contains("content-length: 7\r\n"), "{head}");
        }
    }

    #[tokio::test]
    async fn a_connection_closed_by_the_other_side_is_not_a_failure() {
        // The server drops each kept connection when the next request comes on it: that
        // request goes again on a new connection, and no attempt fails.
        let server = raw(OK, true).await;
        let client = Client::default();
        for i in 0..3 {
            let o = post(&client, &server.url).await;
            assert_eq!(status(&o), Some(200), "request {i}: {o:?}");
        }
        assert_eq!(server.accepted.load(Ordering::SeqCst), 3);
        assert_eq!(server.heads.lock().unwrap().len(), 5, "two requests were dropped and sent again");
    }

    #[tokio::test]
    async fn a_redirect_is_not_followed() {
        let server =
            raw("HTTP/1.1 302 Found\r\nlocation: http://127.0.0.1:9/elsewhere\r\ncontent-length: 0\r\n\r\n", false)
                .await;
        let o = post(&Client::default(), &server.url).await;
        assert_eq!(status(&o), Some(302), "{o:?}");
        assert_eq!(server.heads.lock().unwrap().len(), 1);

        // Nor by the general client, which takes a URL with user info.
        let url = server.url.replace("http://", "http://user:pw@");
        assert!(Target::parse(&url).is_none());
        let o = crate::Worker::new().send("POST", &url, &[], "{}".to_owned(), 5_000).await;
        assert_eq!(status(&o), Some(302), "{o:?}");
        assert_eq!(server.heads.lock().unwrap().len(), 2);
    }

    #[tokio::test]
    async fn failures_are_classified() {
        // Nothing listens on a port just released.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let o = post(&Client::default(), &format!("http://127.0.0.1:{port}/h")).await;
        assert!(matches!(o, Outcome::Failed { code: errors::CONNECTION, .. }), "{o:?}");

        // A server that never answers.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/h", listener.local_addr().unwrap());
        let held = tokio::spawn(async move {
            let _sock = listener.accept().await;
            tokio::time::sleep(Duration::from_secs(10)).await;
        });
        let headers = vec![];
        let o = Client::default()
            .send("POST", &Target::parse(&url).unwrap(), &headers, Bytes::new(), Duration::from_millis(200))
            .await;
        assert!(matches!(o, Outcome::Failed { code: errors::TIMEOUT, .. }), "{o:?}");
        held.abort();

        // A header value that cannot be sent.
        let server = raw(OK, false).await;
        let headers = vec![("x-bad".to_owned(), "line\nbreak".to_owned())];
        let o = Client::default()
            .send("POST", &Target::parse(&server.url).unwrap(), &headers, Bytes::new(), Duration::from_secs(1))
            .await;
        assert!(matches!(o, Outcome::Failed { code: errors::BAD_URL, .. }), "{o:?}");
    }
}
