//! Voice call control: applications and connections, dialling over the simulated network,
//! the far end's magic numbers, commands and their errors, inbound calls, and calls
//! between two numbers of this server. Timed behaviour runs on the manual clock.

use crate::harness::{Client, Resp, Server};
use crate::numbers::{advance, managed_key, own};
use crate::receiver::Receiver;
use serde_json::{Value, json};

/// Creates an application sending its webhooks to `url`; answers its id.
pub async fn application(c: &Client, url: &str) -> String {
    let name = format!("app-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let r = c.post("/v2/call_control_applications", json!({"application_name": name, "webhook_event_url": url})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["data"]["id"].as_str().unwrap().to_owned()
}

/// The spec's callback name for an event type (`call.hangup` → `callHangup`,
/// `streaming.started` → `callStreamingStarted`, `call.dequeued` → `callLeftQueue`).
fn callback_name(event_type: &str) -> String {
    if event_type == "call.dequeued" {
        return "callLeftQueue".into();
    }
    let prefixed;
    let event_type = if event_type.starts_with("call.") {
        event_type
    } else {
        prefixed = format!("call.{event_type}");
        &prefixed
    };
    let mut out = String::new();
    let mut upper = false;
    for ch in event_type.chars() {
        if ch == '.' || ch == '_' {
            upper = true;
        } else if upper {
            out.push(ch.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(ch);
        }
    }
    out
}

/// The events the receiver got for one call, in order, each checked against the spec's
/// webhook schema.
pub(crate) fn events_of(rx: &Receiver, call_control_id: &str) -> Vec<(String, Value)> {
    let ev = raw_events(rx, call_control_id);
    for (_, body) in &ev {
        crate::spec::check_webhook(&callback_name(body["data"]["event_type"].as_str().unwrap()), body);
    }
    ev.into_iter().map(|(t, body)| (t, body["data"]["payload"].clone())).collect()
}

/// (event type, whole body) of one call's webhooks, unchecked.
pub(crate) fn raw_events(rx: &Receiver, call_control_id: &str) -> Vec<(String, Value)> {
    rx.received()
        .into_iter()
        .filter(|r| r.json["data"]["payload"]["call_control_id"] == call_control_id)
        .map(|r| (r.json["data"]["event_type"].as_str().unwrap().to_owned(), r.json))
        .collect()
}

/// Waits until the call has had `n` webhooks; answers them.
pub(crate) async fn wait_events(rx: &Receiver, call_control_id: &str, n: usize) -> Vec<(String, Value)> {
    for _ in 0..2000 {
        if raw_events(rx, call_control_id).len() >= n {
            return events_of(rx, call_control_id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let got: Vec<String> = raw_events(rx, call_control_id).into_iter().map(|(t, _)| t).collect();
    panic!("call {call_control_id} had {got:?}, expected {n} events");
}

/// The call control id of the `n`th (from 1) `call.initiated` the receiver got.
pub(crate) async fn nth_initiated(rx: &Receiver, n: usize) -> String {
    for _ in 0..2000 {
        let ids: Vec<String> = rx
            .received()
            .iter()
            .filter(|r| r.json["data"]["event_type"] == "call.initiated")
            .map(|r| r.json["data"]["payload"]["call_control_id"].as_str().unwrap().to_owned())
            .collect();
        if ids.len() >= n {
            return ids[n - 1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} calls arrived");
}

pub(crate) fn types(ev: &[(String, Value)]) -> Vec<&str> {
    ev.iter().map(|(t, _)| t.as_str()).collect()
}

pub(crate) fn hangup(ev: &[(String, Value)]) -> (String, String, String) {
    let (_, p) = ev.iter().find(|(t, _)| t == "call.hangup").expect("a call.hangup");
    (
        p["hangup_cause"].as_str().unwrap().to_owned(),
        p["hangup_source"].as_str().unwrap().to_owned(),
        p["sip_hangup_cause"].as_str().unwrap().to_owned(),
    )
}

pub(crate) fn h(c: &str, s: &str, sip: &str) -> (String, String, String) {
    (c.into(), s.into(), sip.into())
}

pub(crate) async fn dial(c: &Client, body: Value) -> Resp {
    c.post("/v2/calls", body).await
}

/// Dials `to` from `app`; answers the call control id.
pub(crate) async fn dial_ok(c: &Client, app: &str, to: &str, extra: Value) -> String {
    let mut body = json!({"connection_id": app, "to": to, "from": "+13125550100"});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let r = dial(c, body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["call_control_id"].as_str().unwrap().to_owned()
}

pub(crate) fn path(id: &str, action: &str) -> String {
    format!("/v2/calls/{id}/actions/{action}")
}

pub(crate) async fn status(c: &Client, id: &str) -> Value {
    let r = c.get(&format!("/v2/calls/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].clone()
}

pub(crate) fn pointer(r: &Resp) -> Option<&str> {
    r.error()["source"]["pointer"].as_str()
}

#[tokio::test]
async fn applications_are_created_listed_updated_and_deleted() {
    let s = Server::start().await;
    let full = json!({
        "application_name": "call-router", "webhook_event_url": "https://example.com/hooks",
        "webhook_event_failover_url": "https://failover.example.com/hooks", "webhook_timeout_secs": 25,
        "webhook_api_version": "2", "active": true, "anchorsite_override": "Amsterdam, Netherlands",
        "dtmf_type": "Inband", "first_command_timeout": true, "first_command_timeout_secs": 10,
        "call_cost_in_webhooks": true, "redact_dtmf_debug_logging": true,
        "inbound": {"channel_limit": 10, "shaken_stir_enabled": true, "sip_subdomain": "acme-voice",
            "sip_subdomain_receive_settings": "only_my_connections"},
        "outbound": {"channel_limit": 5, "outbound_voice_profile_id": "1293384261075731499"},
    });
    let r = s.post("/v2/call_control_applications", full.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let a = r.body["data"].clone();
    let id = a["id"].as_str().unwrap().to_owned();
    assert!(id.chars().all(|c| c.is_ascii_digit()));
    assert_eq!(a["record_type"], "call_control_application");
    for k in [
        "application_name",
        "webhook_event_url",
        "webhook_event_failover_url",
        "webhook_timeout_secs",
        "webhook_api_version",
        "anchorsite_override",
        "dtmf_type",
        "first_command_timeout",
        "first_command_timeout_secs",
        "call_cost_in_webhooks",
        "redact_dtmf_debug_logging",
        "inbound",
        "outbound",
    ] {
        assert_eq!(a[k], full[k], "{k}");
    }
    // The same SIP subdomain cannot be taken twice.
    let r = s.post("/v2/call_control_applications", full.clone()).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/inbound/sip_subdomain")));

    // Defaults.
    let r = s
        .post(
            "/v2/call_control_applications",
            json!({"application_name": "b-app", "webhook_event_url": "https://b.example/"}),
        )
        .await;
    let b = r.body["data"].clone();
    assert_eq!((b["active"].as_bool(), b["dtmf_type"].as_str()), (Some(true), Some("RFC 2833")));
    assert_eq!((b["webhook_api_version"].as_str(), b["first_command_timeout_secs"].as_i64()), (Some("1"), Some(30)));
    let bid = b["id"].as_str().unwrap().to_owned();

    // Refusals name the field.
    for (body, code, at) in [
        (json!({"webhook_event_url": "https://e.x/"}), "10004", "/application_name"),
        (json!({"application_name": "x"}), "10004", "/webhook_event_url"),
        (json!({"application_name": "x", "webhook_event_url": "not a url"}), "10015", "/webhook_event_url"),
        (
            json!({"application_name": "x", "webhook_event_url": "https://e.x/", "dtmf_type": "beeps"}),
            "10032",
            "/dtmf_type",
        ),
        (
            json!({"application_name": "x", "webhook_event_url": "https://e.x/", "webhook_timeout_secs": 99}),
            "10033",
            "/webhook_timeout_secs",
        ),
        (
            json!({"application_name": "x", "webhook_event_url": "https://e.x/", "inbound": {"channel_limit": "ten"}}),
            "10020",
            "/inbound/channel_limit",
        ),
    ] {
        let r = s.post("/v2/call_control_applications", body).await;
        assert_eq!((r.status, r.code(), pointer(&r)), (422, code, Some(at)), "{}", r.text);
    }

    // List: filters, sort, pages.
    let names = |r: &Resp| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|a| a["application_name"].as_str().unwrap().to_owned()).collect()
    };
    let r = s.get("/v2/call_control_applications").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(names(&r), ["b-app", "call-router"], "newest first");
    assert_eq!(r.body["meta"]["total_results"], 2);
    assert_eq!(names(&s.get("/v2/call_control_applications?sort=connection_name").await), ["b-app", "call-router"]);
    assert_eq!(names(&s.get("/v2/call_control_applications?sort=-connection_name").await), ["call-router", "b-app"]);
    assert_eq!(
        names(&s.get("/v2/call_control_applications?filter[application_name][contains]=ROUTER").await),
        ["call-router"]
    );
    let r =
        s.get("/v2/call_control_applications?filter%5Boutbound.outbound_voice_profile_id%5D=1293384261075731499").await;
    assert_eq!(names(&r), ["call-router"]);
    let r = s.get("/v2/call_control_applications?page[number]=2&page[size]=1").await;
    assert_eq!(names(&r), ["call-router"]);
    assert_eq!((r.body["meta"]["page_number"].as_i64(), r.body["meta"]["total_pages"].as_i64()), (Some(2), Some(2)));
    assert_eq!(s.get("/v2/call_control_applications?filter[application_name][contains]=ro").await.status, 422);
    assert_eq!(s.get("/v2/call_control_applications?sort=size").await.status, 422);

    // Update: the spec requires the name and URL; other fields are replaced as given.
    let r = s.patch(&format!("/v2/call_control_applications/{bid}"), json!({"active": false})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/application_name")));
    let r = s
        .patch(
            &format!("/v2/call_control_applications/{bid}"),
            json!({"application_name": "a-app", "webhook_event_url": "https://b.example/v2", "active": false, "tags": ["x"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!((r.body["data"]["active"].as_bool(), r.body["data"]["tags"][0].as_str()), (Some(false), Some("x")));
    assert_eq!(s.get(&format!("/v2/call_control_applications/{bid}")).await.body["data"]["application_name"], "a-app");
    assert_eq!(names(&s.get("/v2/call_control_applications?sort=active").await), ["a-app", "call-router"]);

    // Connections: the same applications.
    let r = s.get("/v2/connections").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["meta"]["page_size"], 250);
    let conns = r.body["data"].as_array().unwrap();
    assert_eq!(conns.len(), 2);
    assert!(conns.iter().all(|c| c["record_type"] == "call_control_application"));
    let r = s.get(&format!("/v2/connections/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["connection_name"], "call-router");
    assert_eq!(r.body["data"]["outbound_voice_profile_id"], "1293384261075731499");
    let r = s.get("/v2/connections?filter[connection_name][contains]=a-a&sort=-created_at").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);
    assert_eq!(s.get("/v2/connections?filter[fqdn]=sip.example.com").await.body["data"], json!([]));
    assert_eq!(s.get("/v2/connections/999").await.status, 404);

    // Another account sees none of it.
    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(other.get(&format!("/v2/call_control_applications/{id}")).await.status, 404);
    assert_eq!(other.get(&format!("/v2/connections/{id}")).await.status, 404);
    assert_eq!(other.get("/v2/connections").await.body["data"], json!([]));
    assert_eq!(other.delete(&format!("/v2/call_control_applications/{id}")).await.status, 404);

    // Delete answers the application; its numbers are routed nowhere after.
    let nid = own(&s, &["+13122001234"]).await.remove(0);
    let r = s.patch(&format!("/v2/phone_numbers/{nid}"), json!({"connection_id": id})).await;
    assert_eq!((r.status, r.body["data"]["connection_id"].as_str()), (200, Some(id.as_str())));
    let r = s.delete(&format!("/v2/call_control_applications/{id}")).await;
    assert_eq!((r.status, r.body["data"]["id"].as_str()), (200, Some(id.as_str())));
    assert_eq!(s.get(&format!("/v2/call_control_applications/{id}")).await.status, 404);
    assert!(s.get(&format!("/v2/phone_numbers/{nid}")).await.body["data"]["connection_id"].is_null());
}

#[tokio::test]
async fn a_dialled_call_rings_is_answered_and_hung_up() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let r = dial(
        &s,
        json!({"connection_id": app, "to": "+15550200001", "from": "+13125550100", "client_state": "aGVsbG8=",
            "command_id": "dial-1", "timeout_secs": 20}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let d = &r.body["data"];
    let id = d["call_control_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("v3:"));
    assert!(d["call_leg_id"].is_string() && d["call_session_id"].is_string());
    assert_eq!((d["is_alive"].as_bool(), d["record_type"].as_str()), (Some(false), Some("call")));
    // The same dial again within a minute answers the same call.
    let again =
        dial(&s, json!({"connection_id": app, "to": "+15550200001", "from": "+13125550100", "command_id": "dial-1"}))
            .await;
    assert_eq!(again.body["data"]["call_control_id"], id.as_str());

    let ev = wait_events(&rx, &id, 1).await;
    assert_eq!(types(&ev), ["call.initiated"]);
    let p = &ev[0].1;
    assert_eq!((p["direction"].as_str(), p["state"].as_str()), (Some("outgoing"), Some("bridging")));
    assert_eq!((p["from"].as_str(), p["to"].as_str()), (Some("+13125550100"), Some("+15550200001")));
    assert_eq!((p["connection_id"].as_str(), p["client_state"].as_str()), (Some(app.as_str()), Some("aGVsbG8=")));
    let st = status(&s, &id).await;
    assert_eq!(st["is_alive"], true);
    assert!(st.get("end_time").is_none());

    // The far end answers after its ring; the call shows in the connection's active calls.
    advance(&s, 2_999).await;
    assert_eq!(events_of(&rx, &id).len(), 1);
    advance(&s, 1).await;
    let ev = wait_events(&rx, &id, 2).await;
    assert_eq!(ev[1].0, "call.answered");
    assert_eq!(ev[1].1["state"], "answered");
    let r = s.get(&format!("/v2/connections/{app}/active_calls")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"][0]["call_control_id"], id.as_str());
    assert_eq!(r.body["data"][0]["client_state"], "aGVsbG8=");
    assert_eq!((r.body["meta"]["total_items"].as_i64(), r.body["meta"]["page_number"].as_i64()), (Some(1), Some(1)));
    advance(&s, 7_000).await;
    assert_eq!(status(&s, &id).await["call_duration"], 10);
    // Pending: the ring timeout (due at 20 s, void since the answer) and the time limit.
    let timers = dialtone_engine::calls::timer_job_prefix(&id);
    let pending = s.engine.store.jobs_with_prefix(&timers).await.unwrap();
    assert_eq!(
        pending.iter().map(|j| j.payload.value()["timer"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
        ["ring_timeout", "time_limit"]
    );

    // Hang up, with a new client_state echoed in call.hangup.
    let r = s.post(&path(&id, "hangup"), json!({"client_state": "Ynll", "command_id": "h1"})).await;
    assert_eq!((r.status, r.body["data"]["result"].as_str()), (200, Some("ok")), "{}", r.text);
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!(hangup(&ev), h("normal_clearing", "caller", "unspecified"));
    assert_eq!(ev[2].1["client_state"], "Ynll");
    let st = status(&s, &id).await;
    assert_eq!((st["is_alive"].as_bool(), st["call_duration"].as_i64()), (Some(false), Some(10)));
    assert!(st["end_time"].is_string());
    assert_eq!(s.get(&format!("/v2/connections/{app}/active_calls")).await.body["data"], json!([]));
    // The ended call's timers are cancelled, all but its expiry.
    let pending = s.engine.store.jobs_with_prefix(&timers).await.unwrap();
    assert_eq!(
        pending.iter().map(|j| j.payload.value()["timer"].as_str().unwrap().to_owned()).collect::<Vec<_>>(),
        ["expire"]
    );

    // The same command again is ignored; a new one meets an ended call.
    assert_eq!(s.post(&path(&id, "hangup"), json!({"command_id": "h1"})).await.status, 200);
    let r = s.post_empty(&path(&id, "hangup")).await;
    assert_eq!((r.status, r.code()), (422, "90018"), "{}", r.text);
    assert_eq!(r.error()["title"], "Call has already ended");
    // Ten minutes on, the call is forgotten.
    advance(&s, 600_000).await;
    let r = s.get(&format!("/v2/calls/{id}")).await;
    assert_eq!((r.status, r.code()), (422, "90015"));
    assert_eq!(events_of(&rx, &id).len(), 3, "no webhook twice");
}

#[tokio::test]
async fn magic_destinations_end_calls_with_their_causes() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let busy = dial_ok(&s, &app, "+15550200002", json!({})).await;
    let no_answer = dial_ok(&s, &app, "+15550200003", json!({"timeout_secs": 10})).await;
    let rejects = dial_ok(&s, &app, "+15550200004", json!({})).await;
    let machine = dial_ok(&s, &app, "+15550200005", json!({"answering_machine_detection": "detect"})).await;
    let unreachable = dial_ok(&s, &app, "sip:+15550200006@sip.example.com", json!({})).await;
    let short = dial_ok(&s, &app, "+15550210005", json!({})).await;
    let human =
        dial_ok(&s, &app, "+14155550100", json!({"answering_machine_detection": "detect", "time_limit_secs": 30}))
            .await;
    advance(&s, 1_000).await;
    assert_eq!(hangup(&wait_events(&rx, &busy, 2).await), h("user_busy", "callee", "486"));
    assert_eq!(hangup(&wait_events(&rx, &unreachable, 2).await), h("not_found", "callee", "404"));
    advance(&s, 2_000).await;
    assert_eq!(hangup(&wait_events(&rx, &rejects, 2).await), h("call_rejected", "callee", "603"));
    for id in [&machine, &short, &human] {
        assert_eq!(wait_events(&rx, id, 2).await[1].0, "call.answered");
    }
    advance(&s, 3_500).await;
    let ev = wait_events(&rx, &machine, 3).await;
    assert_eq!((ev[2].0.as_str(), ev[2].1["result"].as_str()), ("call.machine.detection.ended", Some("machine")));
    assert_eq!(wait_events(&rx, &human, 3).await[2].1["result"], "human");
    advance(&s, 1_500).await;
    assert_eq!(hangup(&wait_events(&rx, &short, 3).await), h("normal_clearing", "callee", "unspecified"));
    advance(&s, 2_000).await;
    assert_eq!(hangup(&wait_events(&rx, &no_answer, 2).await), h("timeout", "caller", "487"));
    assert_eq!(types(&events_of(&rx, &no_answer)), ["call.initiated", "call.hangup"]);
    // The time limit (30 s from the answer at 3 s) ends the answered call.
    advance(&s, 22_999).await;
    assert_eq!(events_of(&rx, &human).len(), 3);
    advance(&s, 1).await;
    assert_eq!(hangup(&wait_events(&rx, &human, 4).await), h("time_limit", "caller", "unspecified"));
    let st = status(&s, &human).await;
    assert_eq!((st["is_alive"].as_bool(), st["call_duration"].as_i64()), (Some(false), Some(33)));
}

#[tokio::test]
async fn dials_and_commands_are_refused_with_call_control_errors() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let base = json!({"connection_id": app, "to": "+15550200001", "from": "+13125550100"});
    let with = |k: &str, v: Value| {
        let mut b = base.clone();
        if v.is_null() {
            b.as_object_mut().unwrap().remove(k);
        } else {
            b[k] = v;
        }
        b
    };
    for (body, code, at) in [
        (with("connection_id", json!("42")), "10015", "/connection_id"),
        (with("connection_id", Value::Null), "10004", "/connection_id"),
        (with("to", Value::Null), "10004", "/to"),
        (with("to", json!("5551234")), "10016", "/to"),
        (with("from", json!("me")), "10016", "/from"),
        (with("timeout_secs", json!(601)), "10033", "/timeout_secs"),
        (with("time_limit_secs", json!(10)), "10033", "/time_limit_secs"),
        (with("answering_machine_detection", json!("guess")), "10032", "/answering_machine_detection"),
        (with("client_state", json!("%%%")), "10015", "/client_state"),
        (with("webhook_url", json!("ftp://x")), "10015", "/webhook_url"),
        (with("media_encryption", json!("SRTP")), "10011", "/media_encryption"),
        (with("timeout_secs", json!("30")), "10020", "/timeout_secs"),
    ] {
        let r = dial(&s, body).await;
        assert_eq!((r.status, r.code(), pointer(&r)), (422, code, Some(at)), "{}", r.text);
    }
    let r = s.send_raw(reqwest::Method::POST, "/v2/calls", Some("application/json"), b"{nope".to_vec()).await;
    assert_eq!(r.status, 400);
    // Another account's application, or an inactive one, cannot dial.
    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(dial(&other, base.clone()).await.code(), "10015");
    let off = application(&s, &rx.url).await;
    let r = s
        .patch(
            &format!("/v2/call_control_applications/{off}"),
            json!({"application_name": "off", "webhook_event_url": rx.url, "active": false}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(dial(&s, with("connection_id", json!(off))).await.code(), "10015");

    // Commands on unknown calls, other accounts' calls, and calls in the wrong state.
    let id = dial_ok(&s, &app, "+15550200003", json!({})).await;
    for (action, body) in [("answer", json!({})), ("reject", json!({"cause": "USER_BUSY"})), ("hangup", json!({}))] {
        let r = s.post(&path("v3:unknown", action), body.clone()).await;
        assert_eq!((r.status, r.code(), pointer(&r)), (422, "90015", Some("/call_control_id")), "{action}");
        assert_eq!(other.post(&path(&id, action), body).await.code(), "90015", "{action}");
    }
    assert_eq!(other.get(&format!("/v2/calls/{id}")).await.code(), "90015");
    let r = s.post(&path(&id, "answer"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "an outgoing call is answered by its destination");
    assert_eq!(s.post(&path(&id, "reject"), json!({"cause": "USER_BUSY"})).await.code(), "90423");
    let r = s.post(&path(&id, "reject"), json!({})).await;
    assert_eq!((r.code(), pointer(&r)), ("10004", Some("/cause")));
    let r = s.post(&path(&id, "reject"), json!({"cause": "BORED"})).await;
    assert_eq!((r.code(), pointer(&r)), ("10032", Some("/cause")));
    assert_eq!(s.post(&path(&id, "hangup"), json!({"client_state": 5})).await.code(), "10020");
    assert_eq!(status(&s, &id).await["is_alive"], true, "refused commands change nothing");
    // The id may come percent-encoded (the SDKs encode path parameters).
    let encoded = id.replace(':', "%3A");
    assert_eq!(s.post(&path(&encoded, "hangup"), json!({})).await.status, 200);
    assert_eq!(status(&s, &id).await["is_alive"], false);
    // Active calls of an unknown or foreign connection.
    assert_eq!(s.get("/v2/connections/42/active_calls").await.status, 404);
    assert_eq!(other.get(&format!("/v2/connections/{app}/active_calls")).await.status, 404);
}

#[tokio::test]
async fn command_overrides_route_the_webhooks() {
    let s = Server::start().await;
    let app_rx = Receiver::start().await;
    let call_rx = Receiver::start().await;
    let hangup_rx = Receiver::start().await;
    let app = application(&s, &app_rx.url).await;
    let id = dial_ok(
        &s,
        &app,
        "+15550200002",
        json!({"webhook_url": call_rx.url, "webhook_urls": {"call.hangup": hangup_rx.url}}),
    )
    .await;
    advance(&s, 1_000).await;
    assert_eq!(types(&wait_events(&call_rx, &id, 1).await), ["call.initiated"]);
    assert_eq!(types(&wait_events(&hangup_rx, &id, 1).await), ["call.hangup"]);
    assert_eq!(app_rx.count(), 0);
}

#[tokio::test]
async fn an_inbound_call_is_offered_to_the_numbers_application() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let nid = own(&s, &["+13122001234"]).await.remove(0);
    // Not routed yet.
    let call = |from: &str| {
        let c = s.client.clone();
        let body = json!({"from": from, "to": "+13122001234", "caller_id_name": "Ada"});
        async move { c.post("/_dialtone/sim/calls", body).await }
    };
    let r = call("+14155550100").await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/to")));
    let r = s.patch(&format!("/v2/phone_numbers/{nid}"), json!({"connection_id": app, "tags": ["main"]})).await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Answered, then the caller hangs up.
    let r = call("+14155550100").await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    let ev = wait_events(&rx, &id, 1).await;
    let p = &ev[0].1;
    assert_eq!((p["direction"].as_str(), p["state"].as_str()), (Some("incoming"), Some("parked")));
    assert_eq!((p["from"].as_str(), p["to"].as_str()), (Some("+14155550100"), Some("+13122001234")));
    assert_eq!((p["caller_id_name"].as_str(), p["tags"][0].as_str()), (Some("Ada"), Some("main")));
    let r = s.post(&path(&id, "answer"), json!({"client_state": "YQ==", "command_id": "a1"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &id, 2).await;
    assert_eq!((ev[1].0.as_str(), ev[1].1["client_state"].as_str()), ("call.answered", Some("YQ==")));
    assert_eq!(s.post(&path(&id, "answer"), json!({"command_id": "a1"})).await.status, 200, "repeat ignored");
    assert_eq!(s.post(&path(&id, "answer"), json!({})).await.code(), "90423");
    assert_eq!(s.post(&path(&id, "reject"), json!({"cause": "CALL_REJECTED"})).await.code(), "90423");
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!(hangup(&ev), h("normal_clearing", "caller", "unspecified"));
    assert_eq!(ev[2].1["client_state"], "YQ==");
    assert_eq!(s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await.code(), "90018");

    // Rejected as busy.
    let id = call("+14155550101").await.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    assert_eq!(s.post(&path(&id, "reject"), json!({"cause": "USER_BUSY"})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx, &id, 2).await), h("user_busy", "callee", "486"));
    assert_eq!(s.post(&path(&id, "answer"), json!({})).await.code(), "90018");

    // Left ringing: the caller gives up after a minute.
    let id = call("+14155550102").await.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    advance(&s, 59_000).await;
    assert_eq!(status(&s, &id).await["is_alive"], true);
    advance(&s, 1_000).await;
    assert_eq!(hangup(&wait_events(&rx, &id, 2).await), h("originator_cancel", "caller", "487"));

    // With first_command_timeout, the application has that long to act.
    let r = s
        .patch(
            &format!("/v2/call_control_applications/{app}"),
            json!({"application_name": "x", "webhook_event_url": rx.url, "first_command_timeout": true,
                "first_command_timeout_secs": 5, "inbound": {"shaken_stir_enabled": true}}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = call("+14155550103").await.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    assert_eq!(wait_events(&rx, &id, 1).await[0].1["shaken_stir_attestation"], "A");
    advance(&s, 5_000).await;
    assert_eq!(hangup(&wait_events(&rx, &id, 2).await), h("timeout", "callee", "unspecified"));

    // The sim endpoint checks its input; another account cannot call into this number.
    let r = s.post("/_dialtone/sim/calls", json!({"from": "nobody", "to": "+13122001234"})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/from")));
    let other = s.with_key(&managed_key(&s).await);
    let r = other.post("/_dialtone/sim/calls", json!({"from": "+14155550100", "to": "+13122001234"})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/to")));
}

#[tokio::test]
async fn a_call_between_two_numbers_of_this_server_arrives_inbound() {
    let s = Server::start().await;
    let rx_a = Receiver::start().await;
    let rx_b = Receiver::start().await;
    let app_a = application(&s, &rx_a.url).await;
    // The callee is another account, with its own application and number.
    let b = s.with_key(&managed_key(&s).await);
    let app_b = application(&b, &rx_b.url).await;
    crate::numbers::buy(&b, &["+13122005678"], None).await;
    advance(&s, 1_000).await;
    let r = b.get("/v2/phone_numbers?filter[phone_number]=13122005678").await;
    let nid = r.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(b.patch(&format!("/v2/phone_numbers/{nid}"), json!({"connection_id": app_b})).await.status, 200);

    let a_id = dial_ok(&s, &app_a, "+13122005678", json!({"timeout_secs": 30})).await;
    assert_eq!(types(&wait_events(&rx_a, &a_id, 1).await), ["call.initiated"]);
    let b_id = nth_initiated(&rx_b, 1).await;
    let p = &wait_events(&rx_b, &b_id, 1).await[0].1;
    assert_eq!((p["direction"].as_str(), p["from"].as_str()), (Some("incoming"), Some("+13125550100")));
    assert_eq!(p["connection_id"], app_b.as_str());
    // B's application answers: A is answered too. A hangs up: B hears the caller leave.
    assert_eq!(b.post(&path(&b_id, "answer"), json!({})).await.status, 200);
    assert_eq!(wait_events(&rx_a, &a_id, 2).await[1].0, "call.answered");
    assert_eq!(s.get(&format!("/v2/connections/{app_b}/active_calls")).await.status, 404, "not A's connection");
    assert_eq!(
        b.get(&format!("/v2/connections/{app_b}/active_calls")).await.body["data"][0]["call_control_id"],
        b_id.as_str()
    );
    assert_eq!(s.post(&path(&a_id, "hangup"), json!({})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx_a, &a_id, 3).await), h("normal_clearing", "caller", "unspecified"));
    assert_eq!(hangup(&wait_events(&rx_b, &b_id, 3).await), h("normal_clearing", "caller", "unspecified"));

    // B rejects the next call: A hears the rejection. A third rings out: both end.
    let a2 = dial_ok(&s, &app_a, "+13122005678", json!({})).await;
    let b2 = nth_initiated(&rx_b, 2).await;
    assert_eq!(b.post(&path(&b2, "reject"), json!({"cause": "CALL_REJECTED"})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx_a, &a2, 2).await), h("call_rejected", "callee", "603"));
    let a3 = dial_ok(&s, &app_a, "+13122005678", json!({"timeout_secs": 5})).await;
    let b3 = nth_initiated(&rx_b, 3).await;
    advance(&s, 5_000).await;
    assert_eq!(hangup(&wait_events(&rx_a, &a3, 2).await), h("timeout", "caller", "487"));
    assert_eq!(hangup(&wait_events(&rx_b, &b3, 2).await), h("originator_cancel", "caller", "487"));
    // A number of this server routed nowhere is unreachable.
    own(&s, &["+13122009999"]).await;
    let a4 = dial_ok(&s, &app_a, "+13122009999", json!({})).await;
    advance(&s, 500).await;
    assert_eq!(hangup(&wait_events(&rx_a, &a4, 2).await), h("not_found", "callee", "404"));
}

#[tokio::test]
async fn active_calls_page_with_page_number() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(dial_ok(&s, &app, "+15550200003", json!({})).await);
    }
    let r = s.get(&format!("/v2/connections/{app}/active_calls?page[number]=1&page[size]=2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"].as_array().unwrap().len(), 2);
    let m = &r.body["meta"];
    assert_eq!(
        (m["page_number"].as_i64(), m["total_pages"].as_i64(), m["total_items"].as_i64()),
        (Some(1), Some(2), Some(3))
    );
    assert!(m["next"].as_str().unwrap().contains("page[number]=2"));
    let r = s.get(&format!("/v2/connections/{app}/active_calls?page%5Bnumber%5D=2&page%5Bsize%5D=2")).await;
    assert_eq!(r.body["data"][0]["call_control_id"], ids[2].as_str());
    assert_eq!(r.body["data"][0]["client_state"], "");
    assert!(r.body["meta"].get("next").is_none());
}
