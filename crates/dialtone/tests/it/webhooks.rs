//! Signed webhook delivery: envelope and signature, retries on the manual clock, failover,
//! timeouts, ordering, isolation of slow endpoints, crash recovery, and the deliveries API.

use crate::harness::{Client, Process, Server, fresh_database};
use crate::receiver::{Answer, Receiver};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::time::Duration;

/// Verifies a received webhook as the documented scheme says, independently of Dialtone's
/// signing code: Ed25519 over `"{telnyx-timestamp}|{raw body}"`.
pub fn verify(public_key_b64: &str, r: &crate::receiver::Received) -> bool {
    let ts = r.headers["telnyx-timestamp"].to_str().unwrap();
    let sig = STANDARD.decode(r.headers["telnyx-signature-ed25519"].to_str().unwrap()).unwrap();
    let pk: [u8; 32] = STANDARD.decode(public_key_b64).unwrap().try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    let sig = ed25519_dalek::Signature::from_bytes(&sig.try_into().unwrap());
    vk.verify_strict(format!("{ts}|{}", r.body).as_bytes(), &sig).is_ok()
}

async fn public_key(c: &Client) -> String {
    let r = c.get("/_dialtone/webhooks/public_key").await;
    assert_eq!(r.status, 200);
    r.body["data"]["public_key"].as_str().unwrap().to_owned()
}

async fn emit(c: &Client, body: Value) -> String {
    let r = c.post("/_dialtone/sim/webhooks", body).await;
    assert_eq!(r.status, 202, "{}", r.text);
    r.body["data"]["delivery_id"].as_str().unwrap_or_default().to_owned()
}

async fn delivery(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/v2/webhook_deliveries/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].clone()
}

/// Waits until the delivery has `n` attempts recorded.
async fn attempts(c: &Client, id: &str, n: usize) -> Value {
    for _ in 0..1000 {
        let d = delivery(c, id).await;
        if d["attempts"].as_array().unwrap().len() >= n {
            return d;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("delivery {id} did not reach {n} attempts: {}", delivery(c, id).await);
}

async fn advance(s: &Client, ms: i64) {
    let r = s.post("/_dialtone/sim/clock/advance", json!({"milliseconds": ms})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn envelope_and_signature() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = emit(&s, json!({"event_type": "call.initiated", "payload": {"call_control_id": "v3:abc"}, "url": rx.url}))
        .await;
    let got = rx.wait_for(1).await;
    let r = &got[0];
    assert!(verify(&public_key(&s).await, r), "the signature verifies with the account's public key");
    assert_eq!(r.headers["content-type"], "application/json");
    let ts: i64 = r.headers["telnyx-timestamp"].to_str().unwrap().parse().unwrap();
    assert!((ts - chrono::Utc::now().timestamp()).abs() < 60, "the timestamp is real time, not the manual clock");
    let data = &r.json["data"];
    assert_eq!(data["event_type"], "call.initiated");
    assert_eq!(data["record_type"], "event");
    assert_eq!(data["payload"]["call_control_id"], "v3:abc");
    assert!(data["id"].as_str().unwrap().len() == 36 && data["occurred_at"].is_string());
    assert_eq!(r.json["meta"], json!({"attempt": 1, "delivered_to": rx.url}));

    let d = attempts(&s, &id, 1).await;
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["webhook"], *data);
    assert_eq!(d["attempts"][0]["http"]["response"]["status"], 200);
    assert_eq!(d["attempts"][0]["http"]["response"]["body"], "ok");
    assert_eq!(d["attempts"][0]["http"]["request"]["url"], rx.url.as_str());
    assert!(d["started_at"].is_string() && d["finished_at"].is_string());
    // A tampered body fails verification.
    let mut tampered = r.clone();
    tampered.body = tampered.body.replace("v3:abc", "v3:abd");
    assert!(!verify(&public_key(&s).await, &tampered));
}

/// Until its first attempt, a delivery is its attempt's job: the job carries it, the
/// deliveries API shows it pending from there, and the attempt writes its record once,
/// with that attempt, in the commit that removes the job. A retry reads the record.
#[tokio::test]
async fn a_delivery_is_pending_in_its_job_until_its_first_attempt_records_it() {
    let (s, sched) = Server::start_by_hand().await;
    let engine = s.engine.clone();
    let mut rx = Receiver::reserve();
    let id = emit(&s, json!({"event_type": "call.hangup", "payload": {"n": 1}, "url": rx.url})).await;

    assert!(engine.store.get("webhook_delivery", &id).await.unwrap().is_none(), "no record before an attempt");
    let job = engine.store.job(&format!("wh:{id}:1")).await.unwrap().expect("the first attempt's job");
    assert_eq!(job.payload.value()["delivery"]["id"], id.as_str());
    let d = delivery(&s, &id).await;
    assert_eq!(d["id"], id.as_str());
    assert!(d.get("status").is_none() && d["attempts"] == json!([]), "pending: {d}");
    assert_eq!(d["webhook"]["event_type"], "call.hangup");
    assert_eq!(d["webhook"]["payload"], json!({"n": 1}));
    let listed = s.get("/v2/webhook_deliveries").await;
    assert_eq!(listed.body["meta"]["total_results"], 1, "{}", listed.text);
    assert_eq!(listed.body["data"][0], d);
    let other = s.with_key(&crate::numbers::managed_key(&s).await);
    let r = other.get(&format!("/v2/webhook_deliveries/{id}")).await;
    assert_eq!(r.status, 404, "another account does not see it: {}", r.text);
    assert_eq!(other.get("/v2/webhook_deliveries").await.body["meta"]["total_results"], 0);

    // The first attempt is refused: the record is written with it, and the retry's job
    // only names the delivery.
    sched.run_due().await.unwrap();
    assert!(engine.store.job(&format!("wh:{id}:1")).await.unwrap().is_none());
    let (_, recorded) = engine
        .store
        .get_as::<dialtone_domain::webhooks::Delivery>("webhook_delivery", &id)
        .await
        .unwrap()
        .expect("recorded by its first attempt");
    assert_eq!(recorded.attempts.len(), 1);
    let retry = engine.store.job(&format!("wh:{id}:2")).await.unwrap().expect("a retry");
    assert_eq!(retry.payload.value(), json!({"delivery_id": id}));
    let d = delivery(&s, &id).await;
    assert_eq!(d["attempts"][0]["errors"], json!([75002]));
    assert_eq!(s.get("/v2/webhook_deliveries").await.body["meta"]["total_results"], 1, "listed once");

    // The retry reads the record and adds to it.
    rx.listen().await;
    engine.clock.advance(chrono::Duration::seconds(2));
    sched.run_due().await.unwrap();
    assert_eq!(rx.wait_for(1).await[0].json["meta"]["attempt"], 2);
    let d = delivery(&s, &id).await;
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn refused_then_500_then_200_is_retried_and_delivered() {
    let s = Server::start().await;
    let mut rx = Receiver::reserve();
    let id = emit(&s, json!({"event_type": "message.sent", "url": rx.url})).await;
    let d = attempts(&s, &id, 1).await;
    assert!(d.get("status").is_none(), "still pending after a refused connection: {d}");
    assert_eq!(d["attempts"][0]["status"], "failed");
    assert_eq!(d["attempts"][0]["errors"], json!([75002]));
    assert!(d["attempts"][0]["http"].get("response").is_none());

    rx.listen().await;
    rx.script(&[Answer::Status(500), Answer::Status(200)]);
    // Nothing happens until the backoff (1 s + jitter) has passed on the clock.
    advance(&s, 900).await;
    assert_eq!(rx.count(), 0);
    advance(&s, 400).await;
    assert_eq!(rx.count(), 1);
    assert_eq!(delivery(&s, &id).await["attempts"][0]["http"]["response"]["status"], 500);
    advance(&s, 2600).await;
    let got = rx.wait_for(2).await;
    assert_eq!(got[0].json["meta"]["attempt"], 2);
    assert_eq!(got[1].json["meta"]["attempt"], 3);
    let key = public_key(&s).await;
    assert!(got.iter().all(|r| verify(&key, r)), "each attempt is signed anew");
    assert_eq!(got[0].json["data"]["id"], got[1].json["data"]["id"], "same event, same id");
    let d = delivery(&s, &id).await;
    assert_eq!(d["status"], "delivered");
    let statuses: Vec<&str> = d["attempts"].as_array().unwrap().iter().map(|a| a["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["delivered", "failed", "failed"], "newest first");
}

#[tokio::test]
async fn a_failing_primary_goes_to_the_failover_url() {
    let s = Server::start().await;
    let primary = Receiver::start().await;
    primary.always(Answer::Status(503));
    let failover = Receiver::start().await;
    let id = emit(&s, json!({"event_type": "call.hangup", "url": primary.url, "failover_url": failover.url})).await;
    attempts(&s, &id, 1).await;
    advance(&s, 1300).await;
    advance(&s, 2600).await;
    assert_eq!(primary.count(), 3, "three attempts on the primary URL");
    let got = failover.wait_for(1).await;
    assert_eq!(got[0].json["meta"], json!({"attempt": 4, "delivered_to": failover.url}));
    let d = attempts(&s, &id, 4).await;
    assert_eq!(d["status"], "delivered");
    assert_eq!(d["attempts"][0]["http"]["request"]["url"], failover.url.as_str());

    // Both failing: six attempts, then failed.
    failover.always(Answer::Status(500));
    let id = emit(&s, json!({"event_type": "call.hangup", "url": primary.url, "failover_url": failover.url})).await;
    attempts(&s, &id, 1).await;
    for _ in 0..4 {
        advance(&s, 2600).await;
    }
    let d = attempts(&s, &id, 6).await;
    assert_eq!(d["status"], "failed");
    assert_eq!(d["attempts"][0]["errors"], json!([75499]));
    let r = s.get("/v2/webhook_deliveries?filter[status][eq]=failed").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn a_receiver_slower_than_the_timeout_is_a_failure() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    rx.script(&[Answer::Delay(Duration::from_millis(2500), 200)]);
    let id = emit(&s, json!({"event_type": "x.slow", "url": rx.url, "timeout_secs": 1})).await;
    let d = attempts(&s, &id, 1).await;
    assert_eq!(d["attempts"][0]["status"], "failed");
    assert_eq!(d["attempts"][0]["errors"], json!([75003]));
    assert!(d.get("status").is_none());
    advance(&s, 1300).await;
    assert_eq!(attempts(&s, &id, 2).await["status"], "delivered");
}

#[tokio::test]
async fn events_of_one_resource_are_attempted_in_order() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    // The first event is answered slowly; without ordering the second would arrive first.
    rx.script(&[Answer::Delay(Duration::from_millis(300), 200)]);
    let mut ids = Vec::new();
    for i in 0..5 {
        let r = s
            .post(
                "/_dialtone/sim/webhooks",
                json!({"event_type": "call.x", "payload": {"n": i}, "url": rx.url, "resource_id": "call-1"}),
            )
            .await;
        ids.push(r.body["data"]["event"]["id"].as_str().unwrap().to_owned());
    }
    let got = rx.wait_for(5).await;
    let order: Vec<String> = got.iter().map(|r| r.json["data"]["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(order, ids);
    for (i, r) in got.iter().enumerate() {
        assert_eq!(r.answered_before, i, "event {i} was sent only after the one before it was answered");
    }
}

#[tokio::test]
async fn a_dead_endpoint_does_not_hold_up_a_live_one() {
    let s = Server::start().await;
    let dead = Receiver::start().await;
    dead.always(Answer::Hold);
    let live = Receiver::start().await;
    for i in 0..30 {
        emit(&s, json!({"event_type": "x.dead", "payload": {"n": i}, "url": dead.url, "timeout_secs": 30})).await;
    }
    dead.wait_for(30).await;
    for i in 0..30 {
        emit(&s, json!({"event_type": "x.live", "payload": {"n": i}, "url": live.url})).await;
    }
    live.wait_for(30).await;
    for _ in 0..200 {
        if live.answered() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(live.answered(), 30, "every live delivery was answered");
    assert_eq!(dead.answered(), 0, "while every dead one is still held");
    dead.release();
}

#[tokio::test]
async fn a_delivery_interrupted_by_a_crash_is_made_after_restart() {
    let db = fresh_database().await;
    let rx = Receiver::start().await;
    rx.script(&[Answer::Hold]);
    let p = Process::spawn(&db, &[]).await;
    let id = emit(&p, json!({"event_type": "x.crash", "url": rx.url, "timeout_secs": 30})).await;
    rx.wait_for(1).await;
    p.kill();
    rx.release();
    // After the restart the attempt runs again (at once on SQLite, whose leases die with
    // the process; after the lease runs out on PostgreSQL).
    let p = Process::spawn(&db, &[]).await;
    let got = rx.wait_for(2).await;
    assert_eq!(got[1].json["data"]["id"], got[0].json["data"]["id"]);
    let mut d = json!(null);
    for _ in 0..600 {
        d = delivery(&p, &id).await;
        if d["status"] == "delivered" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(d["status"], "delivered");
}

#[tokio::test]
async fn per_command_overrides_route_and_time_retries() {
    let s = Server::start().await;
    let default = Receiver::start().await;
    let hangups = Receiver::start().await;
    hangups.script(&[Answer::Status(500)]);
    let overrides = json!({
        "url": default.url,
        "webhook_urls": {"call.hangup": hangups.url},
        "webhook_retries_policies": {"call.hangup": {"retries_ms": [250]}},
    });
    let mut a = overrides.clone();
    a["event_type"] = json!("call.answered");
    emit(&s, a).await;
    default.wait_for(1).await;
    let mut h = overrides.clone();
    h["event_type"] = json!("call.hangup");
    let id = emit(&s, h).await;
    hangups.wait_for(1).await;
    attempts(&s, &id, 1).await;
    advance(&s, 249).await;
    assert_eq!(hangups.count(), 1, "the policy's delay is kept exactly");
    advance(&s, 1).await;
    assert_eq!(hangups.count(), 2);
    assert_eq!(default.count(), 1, "only the mapped event type went elsewhere");
    // The retry is answered 200.
    assert_eq!(attempts(&s, &id, 2).await["status"], "delivered");

    // Bad overrides are refused with a pointer.
    let r = s
        .post("/_dialtone/sim/webhooks", json!({"event_type": "x", "url": default.url, "retries_ms": [50000, 20000]}))
        .await;
    assert_eq!(r.status, 422);
    assert!(r.error()["source"]["pointer"].as_str().unwrap().contains("retries_ms"));
    let r = s.post("/_dialtone/sim/webhooks", json!({"event_type": "x", "url": "ftp://nope"})).await;
    assert_eq!(r.status, 422);
    // No URL, no webhook.
    let r = s.post("/_dialtone/sim/webhooks", json!({"event_type": "x"})).await;
    assert_eq!(r.status, 202);
    assert!(r.body["data"]["delivery_id"].is_null());
}

#[tokio::test]
async fn deliveries_are_per_account_and_filterable() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    rx.always(Answer::Big(50_000));
    let m = s.post("/v2/managed_accounts", json!({"business_name": "Hooks"})).await;
    let other = s.with_key(m.body["data"]["api_key"].as_str().unwrap());
    let mine = emit(&s, json!({"event_type": "call.initiated", "payload": {"tag": "root-one"}, "url": rx.url})).await;
    let theirs = emit(&other, json!({"event_type": "message.sent", "url": rx.url})).await;
    let got = rx.wait_for(2).await;
    // Each account signs with its own key, and reads only its own key and deliveries.
    let (root_pk, other_pk) = (public_key(&s).await, public_key(&other).await);
    assert_ne!(root_pk, other_pk);
    let by_type = |t: &str| got.iter().find(|r| r.json["data"]["event_type"] == t).unwrap().clone();
    assert!(verify(&root_pk, &by_type("call.initiated")));
    assert!(verify(&other_pk, &by_type("message.sent")));
    assert!(!verify(&root_pk, &by_type("message.sent")));
    attempts(&s, &mine, 1).await;
    attempts(&other, &theirs, 1).await;
    assert_eq!(s.get(&format!("/v2/webhook_deliveries/{theirs}")).await.status, 404);
    let list = s.get("/v2/webhook_deliveries").await;
    assert_eq!(list.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(list.body["meta"]["total_results"], 1);
    // The response body is kept only as an excerpt.
    let body = list.body["data"][0]["attempts"][0]["http"]["response"]["body"].as_str().unwrap();
    assert_eq!(body.len(), 10 * 1024);

    for (q, n) in [
        ("filter[event_type]=call.initiated,call.hangup", 1),
        ("filter[event_type]=message.sent", 0),
        ("filter[webhook][contains]=root-one", 1),
        ("filter[attempts][contains]=127.0.0.1", 1),
        ("filter[status][eq]=delivered", 1),
        ("filter[started_at][gte]=2000-01-01T00:00:00Z", 1),
        ("filter[finished_at][lte]=2000-01-01", 0),
    ] {
        let r = s.get(&format!("/v2/webhook_deliveries?{q}")).await;
        assert_eq!(r.status, 200, "{q}");
        assert_eq!(r.body["data"].as_array().unwrap().len(), n, "{q}");
    }
    assert_eq!(s.get("/v2/webhook_deliveries?filter[status][eq]=maybe").await.status, 422);
    assert_eq!(s.get("/v2/webhook_deliveries?filter[started_at][gte]=soon").await.status, 422);
}
