//! Messaging: sending over the simulated carrier, webhooks, scheduling, inbound messages,
//! keywords and opt-outs, number pools.

use crate::harness::{Client, Server};
use crate::receiver::Receiver;
use serde_json::{Value, json};

/// A profile (webhooks to `url`) with `n` numbers bought for it; answers (profile id, numbers).
pub async fn profile_with_numbers(
    c: &Client,
    url: Option<&str>,
    n: usize,
    area: Option<&str>,
) -> (String, Vec<String>) {
    let body =
        json!({"name": format!("p-{}", uuid::Uuid::new_v4().simple()), "whitelisted_destinations": ["US", "GB"]});
    let p = c.post("/v2/messaging_profiles", body).await;
    assert_eq!(p.status, 200, "{}", p.text);
    let profile = p.body["data"]["id"].as_str().unwrap().to_owned();
    let mut q =
        format!("/v2/available_phone_numbers?filter[country_code]=US&filter[features]=sms,mms&filter[limit]={n}");
    if let Some(a) = area {
        q.push_str(&format!("&filter[national_destination_code]={a}"));
    }
    let avail = c.get(&q).await;
    assert_eq!(avail.status, 200, "{}", avail.text);
    let numbers: Vec<String> = avail.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .take(n)
        .map(|a| a["phone_number"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(numbers.len(), n);
    let order = c
        .post(
            "/v2/number_orders",
            json!({"phone_numbers": numbers.iter().map(|n| json!({"phone_number": n})).collect::<Vec<_>>(), "messaging_profile_id": profile}),
        )
        .await;
    assert!(order.status == 200 || order.status == 201, "{}", order.text);
    c.post("/_dialtone/sim/clock/advance", json!({"seconds": 5})).await;
    for num in &numbers {
        let r = c.get(&format!("/v2/phone_numbers?filter[phone_number]={}", num.replace('+', "%2B"))).await;
        assert_eq!(r.body["data"].as_array().unwrap().len(), 1, "{num} was bought: {}", r.text);
    }
    // The profile's webhooks are set once the numbers are in, so tests see only messages.
    if let Some(u) = url {
        let r = c.patch(&format!("/v2/messaging_profiles/{profile}"), json!({"webhook_url": u})).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    (profile, numbers)
}

async fn advance(c: &Client, ms: i64) {
    let r = c.post("/_dialtone/sim/clock/advance", json!({"milliseconds": ms})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Waits until the carrier has taken the message (its first step runs in the background).
async fn sent(c: &Client, id: &str) {
    for _ in 0..500 {
        if status(c, id).await != "queued" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("message {id} stayed queued");
}

/// The server's clock (manual in tests).
async fn clock_now(c: &Client) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(c.get("/_dialtone/sim/clock").await.body["data"]["now"].as_str().unwrap())
        .unwrap()
}

async fn status(c: &Client, id: &str) -> String {
    c.get(&format!("/v2/messages/{id}")).await.body["data"]["to"][0]["status"].as_str().unwrap().to_owned()
}

fn events(rx: &Receiver) -> Vec<(String, Value)> {
    rx.received()
        .into_iter()
        .map(|r| {
            (r.json["data"]["event_type"].as_str().unwrap_or_default().to_owned(), r.json["data"]["payload"].clone())
        })
        .collect()
}

#[tokio::test]
async fn a_message_is_sent_delivered_and_reported() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, numbers) = profile_with_numbers(&s, Some(&rx.url), 1, None).await;
    let r = s.post("/v2/messages", json!({"from": numbers[0], "to": "+15550100001", "text": "Hello, World!"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = &r.body["data"];
    let id = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["direction"], "outbound");
    assert_eq!(m["type"], "SMS");
    assert_eq!(m["encoding"], "GSM-7");
    assert_eq!(m["parts"], 1);
    assert_eq!(m["num_chars"], 13);
    assert_eq!(m["from"]["phone_number"], numbers[0].as_str());
    // Sent at once; delivered after the carrier's delay.
    rx.wait_for(1).await;
    assert_eq!(status(&s, &id).await, "sent");
    advance(&s, 1000).await;
    assert_eq!(status(&s, &id).await, "delivered");
    let got = rx.wait_for(2).await;
    let key = public_key(&s).await;
    assert!(got.iter().all(|r| crate::webhooks::verify(&key, r)));
    let ev = events(&rx);
    assert_eq!(ev[0].0, "message.sent");
    assert_eq!(ev[0].1["to"][0]["status"], "sent");
    assert_eq!(ev[1].0, "message.finalized");
    assert_eq!(ev[1].1["to"][0]["status"], "delivered");
    assert_eq!(ev[1].1["id"], id.as_str());
    assert!(ev[1].1["completed_at"].is_string());
}

async fn public_key(c: &Client) -> String {
    c.get("/_dialtone/webhooks/public_key").await.body["data"]["public_key"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn magic_numbers_and_simulated_behaviour() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, numbers) = profile_with_numbers(&s, Some(&rx.url), 1, None).await;
    let send = |to: &'static str| {
        let c = s.client.clone();
        let from = numbers[0].clone();
        async move {
            c.post("/v2/messages", json!({"from": from, "to": to, "text": "hi"})).await.body["data"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let failed = send("+15550100002").await;
    let rejected = send("+15550100003").await;
    let unconfirmed = send("+15550100004").await;
    let slow = send("+15550100005").await;
    for id in [&failed, &rejected, &unconfirmed, &slow] {
        sent(&s, id).await;
    }
    advance(&s, 1000).await;
    assert_eq!(status(&s, &failed).await, "delivery_failed");
    let m = s.get(&format!("/v2/messages/{failed}")).await;
    assert_eq!(m.body["data"]["errors"][0]["code"], "40008");
    assert_eq!(status(&s, &rejected).await, "sending_failed");
    assert_eq!(status(&s, &unconfirmed).await, "delivery_unconfirmed");
    assert_eq!(status(&s, &slow).await, "sent");
    advance(&s, 59_000).await;
    assert_eq!(status(&s, &slow).await, "delivered");

    // Any number can be given a behaviour.
    let r = s
        .send(
            reqwest::Method::PUT,
            "/_dialtone/sim/numbers/+14155550123",
            Some(json!({"outcome": "fail", "code": "40006", "delay_ms": 500})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = send("+14155550123").await;
    sent(&s, &id).await;
    advance(&s, 500).await;
    assert_eq!(status(&s, &id).await, "delivery_failed");
    assert_eq!(s.get(&format!("/v2/messages/{id}")).await.body["data"]["errors"][0]["code"], "40006");
    assert_eq!(s.delete("/_dialtone/sim/numbers/+14155550123").await.status, 204);
    let id = send("+14155550123").await;
    sent(&s, &id).await;
    advance(&s, 1000).await;
    assert_eq!(status(&s, &id).await, "delivered");
    let r =
        s.send(reqwest::Method::PUT, "/_dialtone/sim/numbers/+14155550123", Some(json!({"outcome": "explode"}))).await;
    assert_eq!(r.status, 422);
}

#[tokio::test]
async fn sending_rules_are_enforced() {
    let s = Server::start().await;
    let (profile, numbers) = profile_with_numbers(&s, None, 1, None).await;
    let from = numbers[0].as_str();
    // Not E.164.
    let r = s.post("/v2/messages", json!({"from": from, "to": "5551234", "text": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "40310");
    assert_eq!(r.error()["source"]["pointer"], "/to");
    // A number the account does not own.
    let r = s.post("/v2/messages", json!({"from": "+15005550006", "to": "+15550100001", "text": "x"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "40305");
    // Another account cannot send from this number.
    let m = s.post("/v2/managed_accounts", json!({"business_name": "Other"})).await;
    let other = s.with_key(m.body["data"]["api_key"].as_str().unwrap());
    let r = other.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "x"})).await;
    assert_eq!(r.code(), "40305");
    // Missing text; SMS with media; too long.
    assert_eq!(s.post("/v2/messages", json!({"from": from, "to": "+15550100001"})).await.status, 422);
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "type": "SMS", "text": "x", "media_urls": ["https://e.x/a.png"]})).await;
    assert_eq!(r.status, 422);
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "a".repeat(153 * 10 + 1)})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/text");
    // auto_detect refuses unusually long texts.
    let r = s
        .post(
            "/v2/messages",
            json!({"from": from, "to": "+15550100001", "text": "a".repeat(153 * 7), "auto_detect": true}),
        )
        .await;
    assert_eq!(r.status, 422);
    // A destination outside the whitelist.
    let r = s.post("/v2/messages", json!({"from": from, "to": "+33612345678", "text": "x"})).await;
    assert_eq!(r.status, 400);
    // gsm7 forced on a text that cannot be GSM-7.
    let r =
        s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "日本", "encoding": "gsm7"})).await;
    assert_eq!(r.status, 400);
    // A disabled profile cannot send.
    s.patch(&format!("/v2/messaging_profiles/{profile}"), json!({"enabled": false})).await;
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "x"})).await;
    assert_eq!(r.status, 400);
}

#[tokio::test]
async fn encoding_and_parts_are_reported() {
    let s = Server::start().await;
    let (_, numbers) = profile_with_numbers(&s, None, 1, None).await;
    let from = numbers[0].as_str();
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "Привет, мир"})).await;
    assert_eq!(r.body["data"]["encoding"], "UCS-2");
    assert_eq!(r.body["data"]["parts"], 1);
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "a".repeat(161)})).await;
    assert_eq!(r.body["data"]["parts"], 2);
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "a".repeat(160)})).await;
    assert_eq!(r.body["data"]["parts"], 1);
    let cost_1: f64 = r.body["data"]["cost"]["amount"].as_str().unwrap().parse().unwrap();
    let r = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "a".repeat(161)})).await;
    let cost_2: f64 = r.body["data"]["cost"]["amount"].as_str().unwrap().parse().unwrap();
    assert!(cost_2 > cost_1, "a two-part message costs more");
}

#[tokio::test]
async fn scheduled_messages_fire_on_time_and_can_be_cancelled() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, numbers) = profile_with_numbers(&s, Some(&rx.url), 1, None).await;
    let now = clock_now(&s).await;
    let at = |mins: i64| (now + chrono::Duration::minutes(mins)).to_rfc3339();
    // Outside the window.
    let r = s
        .post("/v2/messages/schedule", json!({"from": numbers[0], "to": "+15550100001", "text": "x", "send_at": at(2)}))
        .await;
    assert_eq!(r.status, 422);
    let r = s
        .post(
            "/v2/messages/schedule",
            json!({"from": numbers[0], "to": "+15550100001", "text": "x", "send_at": at(60 * 24 * 6)}),
        )
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(
        s.post("/v2/messages/schedule", json!({"from": numbers[0], "to": "+15550100001", "text": "x"})).await.status,
        422
    );
    // In the window: nothing happens until then.
    let r = s
        .post(
            "/v2/messages/schedule",
            json!({"from": numbers[0], "to": "+15550100001", "text": "later", "send_at": at(30)}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["data"]["id"].as_str().unwrap().to_owned();
    let r = s
        .post("/v2/messages", json!({"from": numbers[0], "to": "+15550100001", "text": "cancel me", "send_at": at(40)}))
        .await;
    let cancel = r.body["data"]["id"].as_str().unwrap().to_owned();
    advance(&s, 29 * 60_000).await;
    assert_eq!(rx.count(), 0);
    assert_eq!(status(&s, &id).await, "queued");
    let r = s.delete(&format!("/v2/messages/{cancel}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["to"][0]["status"], "cancelled");
    // Reads keep to OutboundMessagePayload's statuses.
    assert_eq!(s.get(&format!("/v2/messages/{cancel}")).await.body["data"]["to"][0]["status"], "queued");
    advance(&s, 60_000).await;
    assert_eq!(status(&s, &id).await, "sent");
    advance(&s, 20 * 60_000).await;
    assert_eq!(status(&s, &id).await, "delivered");
    let ids: Vec<String> =
        rx.received().iter().map(|r| r.json["data"]["payload"]["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.iter().all(|i| *i == id), "the cancelled message never went out");
    // Only scheduled messages can be cancelled.
    let r = s.delete(&format!("/v2/messages/{id}")).await;
    assert!(r.status >= 400 && r.status < 500);
    assert_eq!(s.delete(&format!("/v2/messages/{}", uuid::Uuid::new_v4())).await.status, 404);
}

/// Scheduled messages due at the same instant fire together (the scheduler runs their
/// carrier steps as one batch): each goes its own way, with its own webhooks, once.
#[tokio::test]
async fn scheduled_messages_due_together_each_fire_once() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, numbers) = profile_with_numbers(&s, Some(&rx.url), 2, None).await;
    let now = clock_now(&s).await;
    let send_at = (now + chrono::Duration::minutes(10)).to_rfc3339();
    let mut ids = Vec::new();
    for to in ["+15550100001", "+15550100002", "+15550100003", "+15550100004", numbers[1].as_str(), "+15550100001"] {
        let r =
            s.post("/v2/messages", json!({"from": numbers[0], "to": to, "text": "at ten", "send_at": send_at})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        ids.push(r.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let cancelled = ids.pop().unwrap();
    assert_eq!(s.delete(&format!("/v2/messages/{cancelled}")).await.status, 200);
    advance(&s, 10 * 60_000).await;
    let want_first = ["sent", "sent", "sending_failed", "sent", "sent"];
    for (id, want) in ids.iter().zip(want_first) {
        assert_eq!(status(&s, id).await, want, "{id}");
    }
    advance(&s, 1000).await;
    let want_last = ["delivered", "delivery_failed", "sending_failed", "delivery_unconfirmed", "delivered"];
    for (id, want) in ids.iter().zip(want_last) {
        assert_eq!(status(&s, id).await, want, "{id}");
    }
    // Five message.sent but for the rejected one, five message.finalized, one inbound.
    let got = rx.wait_for(10).await;
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(rx.count(), 10, "no webhook twice");
    let count = |event: &str, id: &str| {
        got.iter().filter(|r| r.json["data"]["event_type"] == event && r.json["data"]["payload"]["id"] == id).count()
    };
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(count("message.sent", id), usize::from(i != 2), "{id}");
        assert_eq!(count("message.finalized", id), 1, "{id}");
    }
    let inbound: Vec<_> = got.iter().filter(|r| r.json["data"]["event_type"] == "message.received").collect();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].json["data"]["payload"]["to"][0]["phone_number"], numbers[1].as_str());
    assert!(got.iter().all(|r| r.json["data"]["payload"]["id"] != cancelled.as_str()));
}

#[tokio::test]
async fn inbound_messages_keywords_and_opt_outs() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (profile, numbers) = profile_with_numbers(&s, Some(&rx.url), 1, None).await;
    let ours = numbers[0].as_str();
    let r = s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": "hi there"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].json["data"]["event_type"], "message.received");
    assert_eq!(got[0].json["data"]["payload"]["direction"], "inbound");
    assert_eq!(got[0].json["data"]["payload"]["text"], "hi there");

    // STOP opts the sender out, answers, and blocks later sends.
    s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": " stop "})).await;
    let r = s.get("/v2/messaging_optouts").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"][0]["to"], "+14155550100");
    assert_eq!(r.body["data"][0]["from"], ours);
    assert_eq!(r.body["data"][0]["keyword"], "STOP");
    assert_eq!(r.body["data"][0]["messaging_profile_id"], profile.as_str());
    let r =
        s.get(&format!("/v2/messaging_optouts?filter[messaging_profile_id]={profile}&redaction_enabled=true")).await;
    assert!(r.body["data"][0]["to"].as_str().unwrap().ends_with("****"));
    assert_eq!(
        s.get("/v2/messaging_optouts?filter[from]=%2B10000000000").await.body["data"].as_array().unwrap().len(),
        0
    );
    let r = s.post("/v2/messages", json!({"from": ours, "to": "+14155550100", "text": "promo"})).await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "40300");
    // The auto-reply went out.
    rx.wait_for(3).await;
    let ev = events(&rx);
    assert!(ev.iter().any(|(t, p)| t == "message.sent" && p["text"].as_str().unwrap().contains("unsubscribed")));
    // START lifts it.
    s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": "START"})).await;
    assert_eq!(s.get("/v2/messaging_optouts").await.body["data"].as_array().unwrap().len(), 0);
    assert_eq!(
        s.post("/v2/messages", json!({"from": ours, "to": "+14155550100", "text": "welcome back"})).await.status,
        200
    );
    // HELP answers without opting out.
    s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": "help"})).await;
    assert_eq!(s.get("/v2/messaging_optouts").await.body["data"].as_array().unwrap().len(), 0);
    // Another opt-out keyword, any case, and UNSTOP lifts it.
    s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": " Unsubscribe "})).await;
    assert_eq!(s.get("/v2/messaging_optouts").await.body["data"].as_array().unwrap().len(), 1);
    s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": ours, "text": "unstop"})).await;
    assert_eq!(s.get("/v2/messaging_optouts").await.body["data"].as_array().unwrap().len(), 0);
    // Inbound to a number nobody owns is refused.
    assert_eq!(
        s.post("/_dialtone/sim/messages", json!({"from": "+14155550100", "to": "+15005550000", "text": "x"}))
            .await
            .status,
        422
    );
}

#[tokio::test]
async fn a_message_between_two_owned_numbers_arrives_inbound() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, numbers) = profile_with_numbers(&s, Some(&rx.url), 2, None).await;
    let r = s.post("/v2/messages", json!({"from": numbers[0], "to": numbers[1], "text": "ping"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    sent(&s, r.body["data"]["id"].as_str().unwrap()).await;
    advance(&s, 1000).await;
    let got = rx.wait_for(3).await;
    let received = got.iter().find(|r| r.json["data"]["event_type"] == "message.received").expect("inbound event");
    assert_eq!(received.json["data"]["payload"]["from"]["phone_number"], numbers[0].as_str());
    assert_eq!(received.json["data"]["payload"]["to"][0]["phone_number"], numbers[1].as_str());
}

#[tokio::test]
async fn number_pool_is_sticky_and_geomatches() {
    let s = Server::start().await;
    let (profile, numbers) = profile_with_numbers(&s, None, 3, None).await;
    let r = s
        .patch(&format!("/v2/messaging_profiles/{profile}"), json!({"number_pool_settings": {"sticky_sender": true, "geomatch": false, "long_code_weight": 1, "toll_free_weight": 0, "skip_unhealthy": false}}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let send = || async {
        let r = s
            .post(
                "/v2/messages/number_pool",
                json!({"messaging_profile_id": profile, "to": "+15550100001", "text": "pool"}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["data"]["from"]["phone_number"].as_str().unwrap().to_owned()
    };
    let first = send().await;
    assert!(numbers.contains(&first));
    for _ in 0..3 {
        assert_eq!(send().await, first, "sticky sender");
    }
    assert_eq!(s.post("/v2/messages/number_pool", json!({"to": "+15550100001", "text": "x"})).await.status, 422);
}

#[tokio::test]
async fn group_mms_long_and_short_code_endpoints() {
    let s = Server::start().await;
    let (_, numbers) = profile_with_numbers(&s, None, 1, None).await;
    let from = numbers[0].as_str();
    let r = s
        .post("/v2/messages/group_mms", json!({"from": from, "to": ["+15550100001", "+15550100004"], "text": "group", "media_urls": ["https://example.com/a.png"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["to"].as_array().unwrap().len(), 2);
    let group = r.body["data"]["id"].as_str().unwrap();
    let g = s.get(&format!("/v2/messages/group/{group}")).await;
    assert_eq!(g.status, 200, "{}", g.text);
    assert_eq!(g.body["data"].as_array().unwrap().len(), 2);
    assert_eq!(g.body["data"][0]["type"], "MMS");
    let r = s.post("/v2/messages/long_code", json!({"from": from, "to": "+15550100001", "text": "lc"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post("/v2/messages/long_code", json!({"to": "+15550100001", "text": "lc"})).await;
    assert_eq!(r.status, 422);
    let r = s.post("/v2/messages/short_code", json!({"from": from, "to": "+15550100001", "text": "sc"})).await;
    assert_eq!(r.status, 400, "a long code is not a short code");
    // A short code provisioned through the simulation API sends.
    let (profile, _) = profile_with_numbers(&s, None, 1, None).await;
    let r = s.post("/_dialtone/sim/short_codes", json!({"short_code": "24273", "messaging_profile_id": profile})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        s.post("/_dialtone/sim/short_codes", json!({"short_code": "24273", "messaging_profile_id": profile}))
            .await
            .status,
        409
    );
    let r = s.post("/v2/messages/short_code", json!({"from": "24273", "to": "+15550100001", "text": "sc"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["from"]["phone_number"], "24273");
    assert_eq!(s.get(&format!("/v2/messages/{}", uuid::Uuid::new_v4())).await.status, 404);
}

/// A scheduled message's send at its `send_at` commits the message and a job that emits
/// its `message.sent` webhook, not the webhook itself: that job, run later, emits the
/// event as of the send (its time, the message as sent) and schedules the next step from
/// the send's time. A message sent at once takes its first step in the commit that creates
/// it: its webhook's first attempt and its next step are written with it.
#[tokio::test]
async fn a_scheduled_send_hands_its_webhook_to_the_next_job() {
    use dialtone_engine::messages::step_batch;
    let (s, sched) = Server::start_by_hand().await;
    let engine = s.engine.clone();
    let rx = Receiver::start().await;
    let profile = s.post("/v2/messaging_profiles", json!({"name": "p", "whitelisted_destinations": ["US"]})).await;
    let profile = profile.body["data"]["id"].as_str().unwrap().to_owned();
    let avail = s.get("/v2/available_phone_numbers?filter[country_code]=US&filter[limit]=1").await;
    let from = avail.body["data"][0]["phone_number"].as_str().unwrap().to_owned();
    let order = s
        .post("/v2/number_orders", json!({"phone_numbers": [{"phone_number": from}], "messaging_profile_id": profile}))
        .await;
    assert!(order.status == 200 || order.status == 201, "{}", order.text);
    engine.clock.advance(chrono::Duration::seconds(5));
    sched.run_due().await.unwrap();
    let r = s.patch(&format!("/v2/messaging_profiles/{profile}"), json!({"webhook_url": rx.url})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    let send_at = engine.clock.now() + chrono::Duration::minutes(10);
    let body = json!({"from": from, "to": "+15550100001", "text": "later", "send_at": send_at.to_rfc3339()});
    let scheduled = s.post("/v2/messages", body).await.body["data"]["id"].as_str().unwrap().to_owned();
    let sent_now = engine.clock.now();
    let now_msg = s.post("/v2/messages", json!({"from": from, "to": "+15550100001", "text": "now"})).await;
    assert_eq!(now_msg.body["data"]["to"][0]["status"], "queued", "the answer shows it queued");
    let now_msg = now_msg.body["data"]["id"].as_str().unwrap().to_owned();
    let claim = |limit| {
        let engine = engine.clone();
        async move {
            let jobs =
                engine.store.claim_jobs(engine.clock.now(), "test", std::time::Duration::from_secs(30), limit).await;
            jobs.unwrap()
        }
    };
    let seqs = |jobs: &[dialtone_store::Job]| jobs.iter().map(|j| j.seq).collect::<Vec<_>>();

    // Sent at once: the send's commit took the first step. The store holds the message
    // sent, its next step due a second later, and its webhook's first attempt as the one
    // job due now.
    let r = s.get(&format!("/v2/messages/{now_msg}")).await;
    assert_eq!(r.body["data"]["to"][0]["status"], "sent", "{}", r.text);
    let steps = engine.store.jobs_with_prefix(&format!("msg:{now_msg}:")).await.unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    assert_eq!(steps[0].payload.value()["step"], 2);
    assert_eq!(steps[0].due_at.timestamp_millis(), (sent_now + chrono::Duration::seconds(1)).timestamp_millis());
    assert_eq!(engine.store.due_count(engine.clock.now()).await.unwrap(), 1);
    sched.run_due().await.unwrap();
    let got = rx.wait_for(1).await;
    assert_eq!(got[0].json["data"]["event_type"], "message.sent");
    assert_eq!(got[0].json["data"]["payload"]["id"], now_msg.as_str());
    engine.clock.advance(chrono::Duration::seconds(2));
    sched.run_due().await.unwrap();
    assert_eq!(rx.wait_for(2).await.len(), 2, "message.sent and message.finalized of the first");

    // At its send_at the scheduled one is sent; its webhook is left to the job in its place.
    engine.clock.advance(send_at - engine.clock.now());
    let sent_at = engine.clock.now();
    let jobs = claim(10).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert_eq!(jobs[0].payload.value()["message_id"], scheduled.as_str());
    let cs = step_batch(engine.clone(), jobs.clone().into()).await.unwrap();
    assert_eq!((cs.updates.len(), cs.inserts.len(), cs.jobs.len()), (1, 0, 0), "{cs:?}");
    let (seq, handed) = &cs.replacing[0];
    assert_eq!(*seq, jobs[0].seq);
    assert_eq!(handed.payload.value()["webhook"], "message.sent");
    engine.store.apply_with_jobs_done(&cs, &seqs(&jobs)).await.unwrap();
    let r = s.get(&format!("/v2/messages/{scheduled}")).await;
    assert_eq!(r.body["data"]["to"][0]["status"], "sent", "sent before its webhook is written");

    // The webhook's job runs later: the event is the send's, and the next step is due a
    // second after the send, not after the job.
    engine.clock.advance(chrono::Duration::milliseconds(300));
    let jobs = claim(10).await;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let cs = step_batch(engine.clone(), jobs.clone().into()).await.unwrap();
    assert_eq!((cs.updates.len(), cs.inserts.len(), cs.jobs.len()), (0, 0, 1), "{cs:?}");
    let attempt = cs.jobs[0].payload.value();
    let event = &attempt["delivery"]["event"];
    assert_eq!(event["event_type"], "message.sent");
    assert_eq!(event["payload"]["id"], scheduled.as_str());
    assert_eq!(event["payload"]["to"][0]["status"], "sent");
    let occurred = chrono::DateTime::parse_from_rfc3339(event["occurred_at"].as_str().unwrap()).unwrap();
    assert_eq!(occurred, sent_at);
    let (_, next) = &cs.replacing[0];
    assert_eq!(next.payload.value()["step"], 2);
    assert_eq!(next.due_at, sent_at + chrono::Duration::seconds(1));
    engine.store.apply_with_jobs_done(&cs, &seqs(&jobs)).await.unwrap();

    // The rest runs as usual: both messages end delivered, each webhook once, in order.
    engine.clock.advance(chrono::Duration::seconds(2));
    sched.run_due().await.unwrap();
    for id in [&scheduled, &now_msg] {
        let r = s.get(&format!("/v2/messages/{id}")).await;
        assert_eq!(r.body["data"]["to"][0]["status"], "delivered", "{id}");
    }
    let got = rx.wait_for(4).await;
    let events: Vec<(&str, &str)> = got
        .iter()
        .map(|r| (r.json["data"]["payload"]["id"].as_str().unwrap(), r.json["data"]["event_type"].as_str().unwrap()))
        .collect();
    let later = [(scheduled.as_str(), "message.sent"), (scheduled.as_str(), "message.finalized")];
    assert_eq!(events[2..], later);
}
