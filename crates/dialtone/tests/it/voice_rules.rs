//! Account rules of voice: a managed account's global outbound channel limit caps its live
//! outbound calls, and a disabled account cannot dial while its live calls go on.

use crate::harness::{Client, Server};
use crate::numbers::advance;
use crate::receiver::Receiver;
use crate::voice::{application, dial, path, status, types, wait_events};
use serde_json::json;

/// A new managed account with `limit` outbound channels: (its id, a client with its key).
async fn managed_with_limit(s: &Server, limit: i64) -> (String, Client) {
    let r = s.post("/v2/managed_accounts", json!({"business_name": "Channels"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["data"]["id"].as_str().unwrap().to_owned();
    let key = r.body["data"]["api_key"].as_str().unwrap().to_owned();
    let r = s
        .patch(&format!("/v2/managed_accounts/{id}/update_global_channel_limit"), json!({"channel_limit": limit}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    (id, s.with_key(&key))
}

fn body(app: &str, to: &str) -> serde_json::Value {
    json!({"connection_id": app, "to": to, "from": "+13125550100"})
}

async fn dial_id(c: &Client, app: &str, to: &str) -> String {
    let r = dial(c, body(app, to)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["call_control_id"].as_str().unwrap().to_owned()
}

async fn refused_for_channels(c: &Client, app: &str) {
    let r = dial(c, body(app, "+15550200001")).await;
    assert_eq!((r.status, r.code()), (403, "90443"), "{}", r.text);
    assert_eq!(r.error()["title"], "User channel limit exceeded");
}

#[tokio::test]
async fn the_channel_limit_caps_live_outbound_calls_and_ended_calls_give_theirs_back() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (_, m) = managed_with_limit(&s, 2).await;
    let app = application(&m, &rx.url).await;

    let first = dial_id(&m, &app, "+15550200001").await;
    // Busy: the far end refuses after its delay, and the timer that ends the call frees the channel.
    let busy = dial_id(&m, &app, "+15550200002").await;
    refused_for_channels(&m, &app).await;
    advance(&s, 3_000).await;
    let ev = wait_events(&rx, &busy, 2).await;
    assert_eq!(types(&ev), ["call.initiated", "call.hangup"]);
    // +15550210005 answers after the ring and hangs up 5 s later: the far end's hangup frees it too.
    let short = dial_id(&m, &app, "+15550210005").await;
    refused_for_channels(&m, &app).await;
    advance(&s, 3_000).await;
    wait_events(&rx, &short, 2).await;
    refused_for_channels(&m, &app).await;
    advance(&s, 5_000).await;
    let ev = wait_events(&rx, &short, 3).await;
    assert_eq!(ev[2].0, "call.hangup");

    // The application's own hangup frees a channel as well.
    let second = dial_id(&m, &app, "+15550200001").await;
    refused_for_channels(&m, &app).await;
    assert_eq!(m.post_empty(&path(&first, "hangup")).await.status, 200);
    let third = dial_id(&m, &app, "+15550200001").await;
    assert!(status(&m, &second).await["is_alive"].as_bool().unwrap());
    assert!(status(&m, &third).await["is_alive"].as_bool().unwrap());
    refused_for_channels(&m, &app).await;

    // Racing dials for the one free channel: exactly one gets it.
    assert_eq!(m.post_empty(&path(&third, "hangup")).await.status, 200);
    let racers: Vec<_> = (0..6)
        .map(|_| {
            let m = m.clone();
            let app = app.clone();
            tokio::spawn(async move { dial(&m, body(&app, "+15550200001")).await })
        })
        .collect();
    let mut ok = 0;
    for racer in racers {
        let r = racer.await.unwrap();
        match r.status {
            200 => ok += 1,
            _ => assert_eq!((r.status, r.code()), (403, "90443"), "{}", r.text),
        }
    }
    assert_eq!(ok, 1, "one racing dial takes the last channel, the rest are refused");
}

#[tokio::test]
async fn the_root_account_has_no_channel_limit_and_a_limit_of_zero_refuses_every_dial() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    for _ in 0..12 {
        dial_id(&s, &app, "+15550200003").await;
    }
    let (_, m) = managed_with_limit(&s, 0).await;
    let app = application(&m, &rx.url).await;
    refused_for_channels(&m, &app).await;
}

#[tokio::test]
async fn a_disabled_account_cannot_dial_and_its_live_calls_go_on() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let (id, m) = managed_with_limit(&s, 5).await;
    let app = application(&m, &rx.url).await;
    let call = dial_id(&m, &app, "+15550200001").await;

    let r = s.post_empty(&format!("/v2/managed_accounts/{id}/actions/disable")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = dial(&m, body(&app, "+15550200001")).await;
    assert_eq!((r.status, r.code()), (403, "10010"), "{}", r.text);
    // The call dialled before goes on: the far end answers it and its webhooks are sent.
    advance(&s, 3_000).await;
    let ev = wait_events(&rx, &call, 2).await;
    assert_eq!(types(&ev), ["call.initiated", "call.answered"]);
    advance(&s, 60_000).await;
    let live = s.engine.call(&id, &call).await.unwrap();
    assert!(live.is_alive() && live.is_answered());

    // Enabled again, the account commands its call and dials anew.
    let r = s.post(&format!("/v2/managed_accounts/{id}/actions/enable"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(status(&m, &call).await["call_duration"], 63, "counted from the dial");
    assert_eq!(m.post_empty(&path(&call, "hangup")).await.status, 200);
    dial_id(&m, &app, "+15550200001").await;
}

#[tokio::test]
async fn a_scripted_destination_rings_presses_and_hangs_up_as_its_script_says() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let dest = "/_dialtone/sim/destinations/+15557770001";
    let script = json!({"ring_ms": 5000, "dtmf": "42#", "dtmf_after_ms": 1000, "hangup_after_ms": 4000});
    let r = s.put(dest, script).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["record_type"], "sim_destination");
    let r = s.get(dest).await;
    assert_eq!((r.status, r.body["data"]["ring_ms"].as_i64()), (200, Some(5000)), "{}", r.text);
    assert_eq!(r.body["data"]["dtmf"], "42#");

    // A SIP URI whose user part is the scripted number follows the script too.
    let id = dial_id(&s, &app, "sip:+15557770001@sip.example.com").await;
    advance(&s, 4_999).await;
    assert_eq!(types(&wait_events(&rx, &id, 1).await), ["call.initiated"]);
    advance(&s, 1).await;
    assert_eq!(wait_events(&rx, &id, 2).await[1].0, "call.answered");
    advance(&s, 1_000).await;
    let ev = wait_events(&rx, &id, 5).await;
    let digits: Vec<&str> =
        ev.iter().filter(|(t, _)| t == "call.dtmf.received").map(|(_, p)| p["digit"].as_str().unwrap()).collect();
    assert_eq!(digits, ["4", "2", "#"]);
    advance(&s, 3_000).await;
    let ev = wait_events(&rx, &id, 6).await;
    assert_eq!(crate::voice::hangup(&ev).1, "callee");

    // Deleted, the destination answers after the default ring and stays on the line.
    assert_eq!(s.delete(dest).await.status, 204);
    assert_eq!(s.get(dest).await.status, 404);
    assert_eq!(s.delete(dest).await.status, 404);
    let id = dial_id(&s, &app, "+15557770001").await;
    advance(&s, 3_000).await;
    assert_eq!(types(&wait_events(&rx, &id, 2).await), ["call.initiated", "call.answered"]);

    // A script that does not answer rings until the caller's timeout; it overrides a magic number.
    assert_eq!(s.post("/_dialtone/sim/destinations/+15550200001", json!({"answer": false})).await.status, 200);
    let r =
        dial(&s, json!({"connection_id": app, "to": "+15550200001", "from": "+13125550100", "timeout_secs": 10})).await;
    let id = r.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    advance(&s, 10_000).await;
    let ev = wait_events(&rx, &id, 2).await;
    assert_eq!(types(&ev), ["call.initiated", "call.hangup"]);
    assert_eq!(crate::voice::hangup(&ev).0, "timeout");

    // Scripts belong to their account.
    let (_, m) = managed_with_limit(&s, 1).await;
    assert_eq!(m.get("/_dialtone/sim/destinations/+15550200001").await.status, 404);
}

#[tokio::test]
async fn bad_destination_scripts_are_refused_with_their_field() {
    let s = Server::start().await;
    let r = s.put("/_dialtone/sim/destinations/+15557770001", json!({"ring_ms": -5})).await;
    assert_eq!((r.status, crate::voice::pointer(&r)), (422, Some("/ring_ms")), "{}", r.text);
    let r = s.put("/_dialtone/sim/destinations/+15557770001", json!({"dtmf": "9z"})).await;
    assert_eq!((r.status, crate::voice::pointer(&r)), (422, Some("/dtmf")), "{}", r.text);
    let r = s.put("/_dialtone/sim/destinations/not-a-number", json!({})).await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(s.get("/_dialtone/sim/destinations/+15557770001").await.status, 404);
}

#[tokio::test]
async fn a_script_replaces_a_magic_numbers_presses() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    // +15550200007 presses 1234# once answered; scripted without digits, it presses nothing.
    assert_eq!(s.put("/_dialtone/sim/destinations/+15550200007", json!({"ring_ms": 1000})).await.status, 200);
    let id = dial_id(&s, &app, "+15550200007").await;
    advance(&s, 1_000).await;
    wait_events(&rx, &id, 2).await;
    advance(&s, 10_000).await;
    assert_eq!(s.post_empty(&path(&id, "hangup")).await.status, 200);
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!(types(&ev), ["call.initiated", "call.answered", "call.hangup"], "no digits pressed");
}
