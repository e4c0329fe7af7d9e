//! Webhooks Dialtone really signed and delivered, verified and typed; tampered ones refused.

use crate::server::Dialtone;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use serde_json::json;
use std::sync::{Arc, Mutex};
use telnyx::webhooks::{EventKind, WebhookError};

type Got = Arc<Mutex<Vec<(HeaderMap, Bytes)>>>;

async fn keep(State(got): State<Got>, headers: HeaderMap, body: Bytes) -> &'static str {
    got.lock().unwrap().push((headers, body));
    "ok"
}

/// A receiver recording every request.
pub async fn receiver() -> (String, Got) {
    let got: Got = Arc::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(keep).with_state(got.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, got)
}

/// Waits (on the real clock) until `n` webhooks arrived.
pub async fn wait_for(got: &Got, n: usize) -> Vec<(HeaderMap, Bytes)> {
    for _ in 0..500 {
        if got.lock().unwrap().len() >= n {
            return got.lock().unwrap().clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("{} webhooks arrived, wanted {n}", got.lock().unwrap().len());
}

fn to_reqwest(h: &HeaderMap) -> reqwest::header::HeaderMap {
    let mut out = reqwest::header::HeaderMap::new();
    for (k, v) in h {
        out.insert(
            reqwest::header::HeaderName::from_bytes(k.as_str().as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_bytes(v.as_bytes()).unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn delivered_events_verify_and_parse_and_tampered_ones_do_not() {
    let d = Dialtone::start().await;
    let (url, got) = receiver().await;
    let sim = |event_type: &str, payload: serde_json::Value| {
        d.sim(
            reqwest::Method::POST,
            "/_dialtone/sim/webhooks",
            json!({"event_type": event_type, "payload": payload, "url": url}),
        )
    };
    sim("call.hangup", json!({"call_control_id": "v3:abc", "hangup_cause": "normal_clearing"})).await;
    sim("message.finalized", json!({"id": "m1", "to": [{"phone_number": "+13125550001", "status": "delivered"}]}))
        .await;
    sim("video.room.session.started", json!({"room_id": "r1", "session_id": "s1"})).await;
    sim("fax.received", json!({"fax_id": "f1"})).await;
    let all = wait_for(&got, 4).await;
    let verifier = d.client.webhooks().unwrap();
    let mut kinds = Vec::new();
    for (headers, body) in &all {
        let ev = verifier.unwrap(body, &to_reqwest(headers)).expect("Dialtone's signature verifies");
        assert_eq!(ev.attempt, Some(1));
        assert!(!ev.id.is_empty());
        kinds.push(ev.kind);
    }
    kinds.sort_by(|a, b| a.event_type().cmp(b.event_type()));
    match &kinds[0] {
        EventKind::CallHangup(p) => {
            assert_eq!(p.call_control_id.as_deref(), Some("v3:abc"));
            assert_eq!(p.hangup_cause.as_deref(), Some("normal_clearing"));
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&kinds[1], EventKind::Unknown { event_type, .. } if event_type == "fax.received"));
    assert!(matches!(&kinds[2], EventKind::MessageFinalized(p) if p.id.as_deref() == Some("m1")));
    assert!(matches!(&kinds[3], EventKind::VideoRoomSessionStarted(p) if p.room_id.as_deref() == Some("r1")));

    // Tampered: one byte of the body, the timestamp, a missing header.
    let (headers, body) = &all[0];
    let mut h = to_reqwest(headers);
    let mut bad = body.to_vec();
    let i = bad.iter().position(|b| *b == b'1').unwrap_or(5);
    bad[i] ^= 1;
    assert_eq!(verifier.unwrap(&bad, &h).unwrap_err(), WebhookError::BadSignature);
    let ts: u64 = h["telnyx-timestamp"].to_str().unwrap().parse().unwrap();
    h.insert("telnyx-timestamp", (ts + 1).to_string().parse().unwrap());
    assert_eq!(verifier.unwrap(body, &h).unwrap_err(), WebhookError::BadSignature);
    h.insert("telnyx-timestamp", (ts - 600).to_string().parse().unwrap());
    assert_eq!(verifier.unwrap(body, &h).unwrap_err(), WebhookError::Expired);
    h.remove("telnyx-signature-ed25519");
    assert_eq!(verifier.unwrap(body, &h).unwrap_err(), WebhookError::MissingHeader("telnyx-signature-ed25519"));
    // Another account's key does not verify the root account's webhooks.
    let other = telnyx::WebhookVerifier::new("11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=").unwrap();
    assert_eq!(other.unwrap(body, &to_reqwest(headers)).unwrap_err(), WebhookError::BadSignature);
}

/// The axum extractor accepts what Dialtone signed and refuses a tampered body with 400.
#[cfg(feature = "axum")]
#[tokio::test]
async fn the_axum_extractor_verifies() {
    use telnyx::webhooks::Verified;
    let d = Dialtone::start().await;
    let (url, got) = receiver().await;
    d.sim(
        reqwest::Method::POST,
        "/_dialtone/sim/webhooks",
        json!({"event_type": "message.received", "payload": {"id": "m9"}, "url": url}),
    )
    .await;
    let (headers, body) = wait_for(&got, 1).await.remove(0);
    let app = axum::Router::new()
        .route(
            "/hooks",
            axum::routing::post(|Verified(ev): Verified| async move {
                match ev.kind {
                    EventKind::MessageReceived(m) => m.id.unwrap_or_default(),
                    _ => String::new(),
                }
            }),
        )
        .with_state(d.client.webhooks().unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut signed = to_reqwest(&headers);
    signed.remove("content-length");
    let post = |body: Vec<u8>| {
        reqwest::Client::new().post(format!("http://{addr}/hooks")).headers(signed.clone()).body(body).send()
    };
    let ok = post(body.to_vec()).await.unwrap();
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.unwrap(), "m9");
    let mut bad = body.to_vec();
    let i = bad.iter().position(|b| *b == b'9').unwrap();
    bad[i] = b'8';
    assert_eq!(post(bad).await.unwrap().status(), 400);
}
