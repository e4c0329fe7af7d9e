//! The client core against a scripted local server: retries and their timing on tokio's
//! paused clock, what is never re-sent, errors per status, the overall deadline.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use telnyx::messaging::{ListMessagingProfiles, SendMessage};
use telnyx::{Client, Error};
use tokio::time::Instant;

#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
}

fn answer(status: u16, body: &str) -> Answer {
    Answer { status, headers: vec![], body: body.to_owned() }
}

#[derive(Clone, Debug)]
struct Seen {
    at: Instant,
    uri: String,
    headers: HeaderMap,
    body: String,
}

#[derive(Clone, Default)]
struct Script {
    answers: Arc<Mutex<VecDeque<Answer>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn handle(State(s): State<Script>, uri: Uri, headers: HeaderMap, body: String) -> axum::response::Response {
    s.seen.lock().unwrap().push(Seen { at: Instant::now(), uri: uri.to_string(), headers, body });
    let a = s.answers.lock().unwrap().pop_front().unwrap_or_else(|| answer(200, r#"{"data":{}}"#));
    let mut resp = (StatusCode::from_u16(a.status).unwrap(), a.body).into_response();
    resp.headers_mut().insert("content-type", "application/json".parse().unwrap());
    for (k, v) in a.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

async fn scripted(answers: Vec<Answer>) -> (Client, Script) {
    let script = Script { answers: Arc::new(Mutex::new(answers.into())), ..Default::default() };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(handle).with_state(script.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // No per-attempt timeout: on a paused clock it would fire while the server answers.
    let client = Client::builder()
        .api_key("KEYsecret")
        .base_url(format!("http://{addr}/v2"))
        .timeout(None)
        .deadline(None)
        .build()
        .unwrap();
    (client, script)
}

fn gaps(seen: &[Seen]) -> Vec<Duration> {
    seen.windows(2).map(|w| w[1].at - w[0].at).collect()
}

#[tokio::test(start_paused = true)]
async fn retries_503_with_backoff_then_succeeds() {
    let body = r#"{"data":{"id":"p1","name":"A"}}"#;
    let (client, script) = scripted(vec![answer(503, "{}"), answer(503, "{}"), answer(200, body)]).await;
    let p = client.messaging_profiles().retrieve("p1").await.unwrap();
    assert_eq!(p.id.as_deref(), Some("p1"));
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    let g = gaps(&seen);
    // 0.5 s then 1 s, each shortened by at most 25 % of jitter.
    assert!(g[0] >= Duration::from_millis(375) && g[0] <= Duration::from_millis(500), "{g:?}");
    assert!(g[1] >= Duration::from_millis(750) && g[1] <= Duration::from_millis(1000), "{g:?}");
    let counts: Vec<_> =
        seen.iter().map(|s| s.headers["x-stainless-retry-count"].to_str().unwrap().to_owned()).collect();
    assert_eq!(counts, ["0", "1", "2"]);
    assert_eq!(seen[0].headers["authorization"], "Bearer KEYsecret");
    assert_eq!(seen[0].uri, "/v2/messaging_profiles/p1");
}

#[tokio::test(start_paused = true)]
async fn honours_retry_after_ms_and_retry_after() {
    let mut a = answer(429, r#"{"errors":[{"code":"10011","title":"Too many requests"}]}"#);
    a.headers.push(("retry-after-ms", "1234".into()));
    let mut b = answer(503, "{}");
    b.headers.push(("retry-after", "3".into()));
    let (client, script) = scripted(vec![a, b, answer(200, r#"{"data":{"id":"x"}}"#)]).await;
    client.messages().retrieve("x").await.unwrap();
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(gaps(&seen), [Duration::from_millis(1234), Duration::from_secs(3)]);
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_two_retries_with_the_last_error() {
    let mut a = answer(429, r#"{"errors":[{"code":"10011","title":"Too many requests","detail":"slow down"}]}"#);
    a.headers.push(("retry-after", "2".into()));
    let (client, script) = scripted(vec![a.clone(), a.clone(), a]).await;
    let err = client.messages().retrieve("x").await.unwrap_err();
    let Error::RateLimit(e) = &err else { panic!("{err:?}") };
    assert_eq!(e.retry_after, Some(Duration::from_secs(2)));
    assert_eq!(err.code(), Some("10011"));
    assert_eq!(err.errors()[0].detail.as_deref(), Some("slow down"));
    assert_eq!(script.seen.lock().unwrap().len(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_message_send_is_never_sent_twice() {
    let (client, script) = scripted(vec![answer(503, r#"{"errors":[{"code":"10007"}]}"#)]).await;
    let err = client.messages().send(SendMessage::new("+13125550001").text("hi")).await.unwrap_err();
    assert!(matches!(err, Error::InternalServer(_)), "{err:?}");
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1);
    let body: serde_json::Value = serde_json::from_str(&seen[0].body).unwrap();
    assert_eq!(body, serde_json::json!({"to": "+13125550001", "text": "hi"}));
}

#[tokio::test(start_paused = true)]
async fn x_should_retry_decides() {
    let mut a = answer(503, "{}");
    a.headers.push(("x-should-retry", "false".into()));
    let (client, script) = scripted(vec![a]).await;
    client.messages().retrieve("x").await.unwrap_err();
    assert_eq!(script.seen.lock().unwrap().len(), 1);

    let mut b = answer(400, "{}");
    b.headers.push(("x-should-retry", "true".into()));
    let (client, script) = scripted(vec![b, answer(200, r#"{"data":{}}"#)]).await;
    client.messages().retrieve("x").await.unwrap();
    assert_eq!(script.seen.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_stops_retries() {
    let mut a = answer(503, "{}");
    a.headers.push(("retry-after", "5".into()));
    let (client, script) = scripted(vec![a.clone(), a]).await;
    let client = Client::builder()
        .api_key("k")
        .base_url(client.base_url())
        .timeout(None)
        .deadline(Some(Duration::from_secs(4)))
        .build()
        .unwrap();
    let err = client.messages().retrieve("x").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert_eq!(script.seen.lock().unwrap().len(), 1, "a retry 5 s away is past the 4 s deadline");
}

#[tokio::test]
async fn each_status_class_has_its_variant_with_errors_and_body() {
    let body = r#"{"errors":[{"code":"10015","title":"Invalid","detail":"bad","source":{"pointer":"/to"}}]}"#;
    type Is = fn(&Error) -> bool;
    let cases: Vec<(u16, Is)> = vec![
        (400, |e| matches!(e, Error::BadRequest(_))),
        (401, |e| matches!(e, Error::Authentication(_))),
        (403, |e| matches!(e, Error::PermissionDenied(_))),
        (404, |e| matches!(e, Error::NotFound(_))),
        (409, |e| matches!(e, Error::Conflict(_))),
        (422, |e| matches!(e, Error::UnprocessableEntity(_))),
        (429, |e| matches!(e, Error::RateLimit(_))),
        (500, |e| matches!(e, Error::InternalServer(_))),
        (503, |e| matches!(e, Error::InternalServer(_))),
        (405, |e| matches!(e, Error::Status(_))),
    ];
    for (status, is) in cases {
        // 409, 429 and 5xx are retried: script them three times.
        let (client, _) = scripted(vec![answer(status, body), answer(status, body), answer(status, body)]).await;
        let client = Client::builder().api_key("k").base_url(client.base_url()).max_retries(0).build().unwrap();
        let err = client.messages().retrieve("x").await.unwrap_err();
        assert!(is(&err), "{status}: {err:?}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(err.body(), Some(body));
        assert_eq!(err.errors()[0].source.as_ref().unwrap().pointer.as_deref(), Some("/to"));
    }
    // Video's bare error object is one entry.
    let (client, _) = scripted(vec![answer(404, r#"{"code":"10005","title":"Resource not found"}"#)]).await;
    let err = client.messages().retrieve("x").await.unwrap_err();
    assert_eq!(err.code(), Some("10005"));
}

#[tokio::test]
async fn connection_refused_is_a_connection_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client =
        Client::builder().api_key("k").base_url(format!("http://127.0.0.1:{port}/v2")).max_retries(0).build().unwrap();
    let err = client.messages().retrieve("x").await.unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
}

#[tokio::test]
async fn queries_are_deep_objects_percent_encoded() {
    let (client, script) = scripted(vec![answer(200, r#"{"data":[],"meta":{"page_number":1,"total_pages":0}}"#)]).await;
    let p = ListMessagingProfiles::new().name_contains("a b").page_size(5).page_number(2);
    let page = client.messaging_profiles().list(&p).await.unwrap();
    assert!(page.data.is_empty() && !page.has_next());
    assert_eq!(
        script.seen.lock().unwrap()[0].uri,
        "/v2/messaging_profiles?page%5Bnumber%5D=2&page%5Bsize%5D=5&filter%5Bname%5D%5Bcontains%5D=a%20b"
    );
}

#[test]
fn the_key_stays_out_of_debug_and_config_is_checked() {
    let c = Client::builder().api_key("KEYsupersecret").base_url("http://localhost:1/v2/").build().unwrap();
    let shown = format!("{c:?} {:?}", Client::builder().api_key("KEYsupersecret"));
    assert!(!shown.contains("supersecret"), "{shown}");
    assert_eq!(c.base_url(), "http://localhost:1/v2");
    assert!(matches!(Client::builder().build(), Err(Error::Config(_))));
    assert!(matches!(Client::builder().api_key("k").base_url("ftp://x").build(), Err(Error::Config(_))));
}

#[tokio::test(start_paused = true)]
async fn call_commands_carry_one_command_id_across_retries() {
    let ok = r#"{"data":{"result":"ok"}}"#;
    let (client, script) = scripted(vec![answer(503, "{}"), answer(200, ok)]).await;
    client.calls().hangup("v3:abc", telnyx::voice::Hangup::new()).await.unwrap();
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "a command with a command_id is retried");
    let ids: Vec<serde_json::Value> = seen
        .iter()
        .map(|s| serde_json::from_str::<serde_json::Value>(&s.body).unwrap()["command_id"].clone())
        .collect();
    assert!(ids[0].is_string());
    assert_eq!(ids[0], ids[1]);
    assert_eq!(seen[0].uri, "/v2/calls/v3:abc/actions/hangup");
    // One given by the caller is kept.
    let (client, script) = scripted(vec![answer(200, ok)]).await;
    client.calls().hangup("v3:abc", telnyx::voice::Hangup::new().command_id("mine")).await.unwrap();
    let body: serde_json::Value = serde_json::from_str(&script.seen.lock().unwrap()[0].body).unwrap();
    assert_eq!(body["command_id"], "mine");
}

#[tokio::test]
async fn pages_stop_at_an_empty_page_or_at_total_pages() {
    use telnyx::Stream;
    // No meta at all: on until an empty page.
    let page = |ids: &[&str]| {
        let data: Vec<_> = ids.iter().map(|i| serde_json::json!({"id": i})).collect();
        answer(200, &serde_json::json!({ "data": data }).to_string())
    };
    let (client, script) = scripted(vec![page(&["a", "b"]), page(&["c"]), page(&[])]).await;
    let all =
        client.messaging_profiles().list_all(&ListMessagingProfiles::new().page_size(2)).collect_all().await.unwrap();
    assert_eq!(all.iter().map(|p| p.id.clone().unwrap()).collect::<Vec<_>>(), ["a", "b", "c"]);
    let uris: Vec<_> = script.seen.lock().unwrap().iter().map(|s| s.uri.clone()).collect();
    assert_eq!(uris.len(), 3);
    assert!(uris[2].contains("page%5Bnumber%5D=3&page%5Bsize%5D=2"), "{uris:?}");

    // total_pages says one page: no second request.
    let one = answer(200, r#"{"data":[{"id":"a"}],"meta":{"page_number":1,"total_pages":1}}"#);
    let (client, script) = scripted(vec![one]).await;
    let all = client.messaging_profiles().list_all(&ListMessagingProfiles::new()).collect_all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(script.seen.lock().unwrap().len(), 1);

    // A cap fetches no page beyond it; an error ends the stream after being yielded.
    let (client, script) = scripted(vec![page(&["a", "b"]), page(&["c", "d"])]).await;
    let two = client.messaging_profiles().list_all(&ListMessagingProfiles::new()).take(2).collect_all().await.unwrap();
    assert_eq!(two.len(), 2);
    assert_eq!(script.seen.lock().unwrap().len(), 1);
    let (client, _) = scripted(vec![page(&["a"]), answer(404, r#"{"errors":[{"code":"10005"}]}"#)]).await;
    let mut s = client.messaging_profiles().list_all(&ListMessagingProfiles::new());
    assert!(s.next().await.unwrap().is_ok());
    assert!(matches!(s.next().await, Some(Err(Error::NotFound(_)))));
    assert!(s.next().await.is_none());
    // It is a futures Stream.
    fn is_stream<S: Stream + Send + 'static>(_: &S) {}
    is_stream(&s);
}

/// Resolves every name to the next address of a list (the last one from then on) and counts
/// the look-ups: one per attempt that opens a connection.
struct Steer {
    addrs: Vec<std::net::SocketAddr>,
    lookups: std::sync::atomic::AtomicUsize,
}

impl reqwest::dns::Resolve for Steer {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let n = self.lookups.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let addr = self.addrs[n.min(self.addrs.len() - 1)];
        Box::pin(async move { Ok(Box::new(std::iter::once(addr)) as reqwest::dns::Addrs) })
    }
}

/// An address nothing listens on: connecting to it is refused.
fn refused_addr() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap()
}

fn addr_of(client: &Client) -> std::net::SocketAddr {
    client.base_url().trim_start_matches("http://").trim_end_matches("/v2").parse().unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_create_is_sent_again_when_the_connection_was_refused() {
    let (live, script) = scripted(vec![answer(200, r#"{"data":{"id":"m1"}}"#)]).await;
    // The first attempt goes to a closed port, the retry to the live server.
    let steer = Arc::new(Steer { addrs: vec![refused_addr(), addr_of(&live)], lookups: Default::default() });
    let http = reqwest::Client::builder().dns_resolver(steer.clone()).build().unwrap();
    let client = Client::builder()
        .api_key("k")
        .base_url("http://api.telnyx.test/v2")
        .http_client(http)
        .timeout(None)
        .deadline(None)
        .build()
        .unwrap();
    let started = Instant::now();
    let m = client.messages().send(SendMessage::new("+13125550001").text("hi")).await.unwrap();
    assert_eq!(m.id.as_deref(), Some("m1"));
    assert_eq!(steer.lookups.load(std::sync::atomic::Ordering::SeqCst), 2, "two attempts");
    let seen = script.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "the refused attempt never reached a server");
    assert_eq!(seen[0].headers["x-stainless-retry-count"], "1");
    // After the usual backoff.
    let waited = seen[0].at - started;
    assert!(waited >= Duration::from_millis(375) && waited <= Duration::from_millis(500), "{waited:?}");
}

/// A server that reads each request whole and then closes the connection without an answer
/// (or, with `hold`, keeps it open and never answers). Counts the requests it read.
async fn reads_then_fails(hold: bool) -> (Client, Arc<std::sync::atomic::AtomicUsize>) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = count.clone();
    tokio::spawn(async move {
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let text = String::from_utf8_lossy(&buf);
                    if let Some(end) = text.find("\r\n\r\n") {
                        let length = text[..end]
                            .lines()
                            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(str::to_owned))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        if buf.len() >= end + 4 + length {
                            break;
                        }
                    }
                }
                seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if hold {
                    std::future::pending::<()>().await;
                }
            });
        }
    });
    let client = Client::builder()
        .api_key("k")
        .base_url(format!("http://{addr}/v2"))
        .timeout(Some(Duration::from_secs(5)))
        .deadline(None)
        .build()
        .unwrap();
    (client, count)
}

#[tokio::test(start_paused = true)]
async fn a_create_that_reached_the_server_is_never_sent_again() {
    use std::sync::atomic::Ordering::SeqCst;
    // The server read the message and hung up: it may have been sent.
    let (client, count) = reads_then_fails(false).await;
    let err = client.messages().send(SendMessage::new("+13125550001").text("hi")).await.unwrap_err();
    let Error::Connection(e) = &err else { panic!("{err:?}") };
    assert!(!e.is_connect(), "{e:?}");
    assert_eq!(count.load(SeqCst), 1);
    // The same failure on a read is retried: the server was there to take the retries.
    let err = client.messages().retrieve("m1").await.unwrap_err();
    assert!(matches!(err, Error::Connection(_)), "{err:?}");
    assert_eq!(count.load(SeqCst), 1 + 3);

    // The server read the order and never answered: a timeout, not re-sent either.
    let (client, count) = reads_then_fails(true).await;
    let order = telnyx::messaging::CreateNumberOrder::new();
    let err = client.number_orders().create(order).await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert_eq!(count.load(SeqCst), 1);
    // A read that times out is retried.
    assert!(matches!(client.messages().retrieve("m1").await, Err(Error::Timeout)));
    assert_eq!(count.load(SeqCst), 1 + 3);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_cuts_an_attempt_short() {
    let (client, count) = reads_then_fails(true).await;
    let client = Client::builder()
        .api_key("k")
        .base_url(client.base_url())
        .timeout(Some(Duration::from_secs(60)))
        .deadline(Some(Duration::from_secs(2)))
        .build()
        .unwrap();
    let started = Instant::now();
    let err = client.messages().retrieve("m1").await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(3),
        "cut at the deadline, not at 60 s: {took:?}"
    );
    assert_eq!(count.load(std::sync::atomic::Ordering::SeqCst), 1, "no retry starts past the deadline");
}

#[tokio::test]
async fn a_2xx_that_is_not_the_answer_is_a_decode_error_with_the_body() {
    let (client, _) = scripted(vec![answer(200, "<html>maintenance</html>")]).await;
    let err = client.messages().retrieve("x").await.unwrap_err();
    let Error::Decode { body, .. } = &err else { panic!("{err:?}") };
    assert_eq!(body, "<html>maintenance</html>");
    assert_eq!(err.status(), None);
}

#[tokio::test]
async fn a_page_stream_runs_in_a_spawned_task() {
    let page = |ids: &[&str], n: u32| {
        let data: Vec<_> = ids.iter().map(|i| serde_json::json!({"id": i})).collect();
        answer(200, &serde_json::json!({"data": data, "meta": {"page_number": n, "total_pages": 2}}).to_string())
    };
    let (client, script) = scripted(vec![page(&["a", "b"], 1), page(&["c"], 2)]).await;
    let stream = client.messaging_profiles().list_all(&ListMessagingProfiles::new().page_size(2));
    drop(client);
    // The stream owns its client: it outlives the one it came from and moves into a task.
    let all = tokio::spawn(stream.collect_all()).await.unwrap().unwrap();
    assert_eq!(all.iter().map(|p| p.id.clone().unwrap()).collect::<Vec<_>>(), ["a", "b", "c"]);
    assert_eq!(script.seen.lock().unwrap().len(), 2, "stops at total_pages");
}
