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
            assert_eq!(p.hangup_cause, Some(telnyx::webhooks::HangupCause::NormalClearing));
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

/// The spec subset, read by the tests only (the SDK itself knows nothing of it).
fn spec() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../dialtone-api/openapi/telnyx-openapi-subset.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn resolve<'a>(spec: &'a serde_json::Value, mut s: &'a serde_json::Value) -> &'a serde_json::Value {
    while let Some(r) = s.get("$ref").and_then(|r| r.as_str()) {
        s = spec.pointer(r.trim_start_matches('#')).unwrap();
    }
    s
}

/// A value the schema admits with every property set; enums take their `pick`-th value
/// (modulo their length), so that running `pick` over 0..n uses every value.
fn sample(spec: &serde_json::Value, schema: &serde_json::Value, pick: usize) -> serde_json::Value {
    use serde_json::Value;
    let s = resolve(spec, schema);
    if let Some(parts) = s.get("allOf").and_then(Value::as_array) {
        let mut out = serde_json::Map::new();
        for p in parts {
            if let Value::Object(o) = sample(spec, p, pick) {
                out.extend(o);
            }
        }
        return Value::Object(out);
    }
    if let Some(first) = s.get("oneOf").or(s.get("anyOf")).and_then(|v| v.get(0)) {
        return sample(spec, first, pick);
    }
    if let Some(values) = s.get("enum").and_then(Value::as_array) {
        return values[pick % values.len()].clone();
    }
    let ty = match s.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).find(|t| *t != "null").unwrap_or("null"),
        Some(Value::String(t)) => t.as_str(),
        _ if s.get("properties").is_some() => "object",
        _ => "string",
    };
    match ty {
        "object" => {
            let props = s.get("properties").and_then(Value::as_object).cloned().unwrap_or_default();
            Value::Object(props.iter().map(|(k, v)| (k.clone(), sample(spec, v, pick))).collect())
        }
        "array" => Value::Array(vec![sample(spec, s.get("items").unwrap_or(&Value::Null), pick)]),
        "integer" => json!(7),
        "number" => json!(1.5),
        "boolean" => json!(true),
        _ => s.get("example").filter(|e| e.is_string()).cloned().unwrap_or_else(|| json!("text")),
    }
}

/// Every webhook of the spec, with every field its schema gives and every enum value it
/// lists, parses into its own variant with nothing left untyped: no field in any `extra`, no
/// enum value `Unknown`.
#[test]
fn every_event_of_the_spec_parses_fully_typed() {
    let spec = spec();
    let mut covered = std::collections::BTreeSet::new();
    for (name, hook) in spec["webhooks"].as_object().unwrap() {
        let envelope = resolve(&spec, &hook["post"]["requestBody"]["content"]["application/json"]["schema"]);
        let data = resolve(&spec, &envelope["properties"]["data"]);
        let props = &data["properties"];
        for pick in 0..10 {
            let body = match props.get("event_type") {
                Some(et) => {
                    let et = resolve(&spec, et);
                    let types: Vec<String> = match et.get("enum") {
                        Some(values) => serde_json::from_value(values.clone()).unwrap(),
                        None => vec![et["example"].as_str().unwrap().to_owned()],
                    };
                    let event_type = &types[pick % types.len()];
                    json!({"data": {"event_type": event_type, "id": "e1", "record_type": "event",
                        "occurred_at": "2025-01-01T00:00:00Z", "payload": sample(&spec, &props["payload"], pick)},
                        "meta": {"attempt": 1, "delivered_to": "https://example.com/hooks"}})
                }
                // The link click: `data` is the click.
                None => json!({ "data": sample(&spec, data, pick) }),
            };
            let event_type = body["data"]["event_type"].as_str().unwrap_or("link_clicked").to_owned();
            let ev =
                telnyx::Event::parse(body.to_string().as_bytes()).unwrap_or_else(|e| panic!("{name}: {e}\n{body}"));
            assert!(!matches!(ev.kind, EventKind::Unknown { .. }), "{name}: {event_type} has no variant");
            assert_eq!(ev.event_type(), event_type, "{name}");
            let shown = format!("{:?}", ev.kind);
            assert!(!shown.contains("Unknown("), "{name}: an enum value is not typed: {shown}");
            assert!(!shown.contains("extra: {\""), "{name}: a field is not typed: {shown}");
            covered.insert(event_type);
        }
    }
    // With the video events (not in the spec), that is every event with a variant.
    let video: Vec<&str> = EventKind::KNOWN.iter().copied().filter(|t| t.starts_with("video.")).collect();
    assert_eq!(video.len(), 7);
    covered.extend(video.into_iter().map(str::to_owned));
    let known: std::collections::BTreeSet<String> = EventKind::KNOWN.iter().map(|t| t.to_string()).collect();
    assert_eq!(covered, known);
}
