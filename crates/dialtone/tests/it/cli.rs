//! The client commands of `dialtone` (messages, calls, rooms, sim, webhooks listen) run as
//! a process against a server started in the test.

use crate::harness::{ROOT_KEY, Server};
use serde_json::{Value, json};
use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn run(s: &Server, args: &[&str]) -> std::process::Output {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(args)
        .env("TELNYX_BASE_URL", format!("{}/v2", s.client.base))
        .env("TELNYX_API_KEY", ROOT_KEY)
        .env_remove("TELNYX_PUBLIC_KEY")
        .output()
        .await
        .unwrap()
}

async fn run_json(s: &Server, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = run(s, &all).await;
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A number of the root account with a messaging profile and a call control application.
async fn owned_number(s: &Server) -> (String, String) {
    let profile = s.post("/v2/messaging_profiles", json!({"name": "cli", "whitelisted_destinations": ["US"]})).await;
    let app = s
        .post(
            "/v2/call_control_applications",
            json!({"application_name": "cli", "webhook_event_url": "https://example.com/h"}),
        )
        .await;
    let found = s.get("/v2/available_phone_numbers?filter[locality]=Chicago&filter[limit]=1").await;
    let number = found.body["data"][0]["phone_number"].as_str().unwrap().to_owned();
    let order = s
        .post(
            "/v2/number_orders",
            json!({"phone_numbers": [{"phone_number": number}], "messaging_profile_id": profile.body["data"]["id"],
                   "connection_id": app.body["data"]["id"]}),
        )
        .await;
    assert_eq!(order.status, 200, "{}", order.text);
    (number, app.body["data"]["id"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn messages_sim_and_calls_from_the_command_line() {
    let s = Server::start().await;
    let (number, app) = owned_number(&s).await;
    let advanced = run_json(&s, &["sim", "advance", "--seconds", "1"]).await;
    assert!(advanced.is_object());
    let sent = run_json(&s, &["messages", "send", "--from", &number, "--to", "+15550100001", "--text", "hi"]).await;
    assert_eq!(sent["to"][0]["phone_number"], "+15550100001");
    let id = sent["id"].as_str().unwrap();
    let got = run_json(&s, &["messages", "get", id]).await;
    assert_eq!(got["text"], "hi");
    // The table: one line per scalar field, the id among them.
    let out = run(&s, &["messages", "get", id]).await;
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.lines().any(|l| l.starts_with("id ") && l.ends_with(id)), "{text}");
    // An error is reported with its code and a failing status.
    let bad = run(&s, &["messages", "send", "--from", "+19995550100", "--to", "+15550100001", "--text", "x"]).await;
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("40305"));

    let call =
        run_json(&s, &["calls", "dial", "--connection-id", &app, "--from", &number, "--to", "+15550200001"]).await;
    let ccid = call["call_control_id"].as_str().unwrap().to_owned();
    run_json(&s, &["sim", "advance", "--seconds", "3"]).await;
    let live = run_json(&s, &["calls", "get", &ccid]).await;
    assert_eq!(live["is_alive"], true);
    let spoke = run_json(&s, &["calls", "speak", &ccid, "--text", "hello there"]).await;
    assert_eq!(spoke["result"], "ok");
    run_json(&s, &["calls", "hangup", &ccid]).await;
    assert_eq!(run_json(&s, &["calls", "get", &ccid]).await["is_alive"], false);

    // An outside caller, then the far end hangs up.
    let inbound = run_json(&s, &["sim", "call", "--from", "+13125550999", "--to", &number]).await;
    let icid = inbound["call_control_id"].as_str().unwrap().to_owned();
    run_json(&s, &["sim", "hangup", &icid]).await;
    let texted = run(&s, &["sim", "message", "--from", "+13125550999", "--to", &number, "--text", "hello"]).await;
    assert!(texted.status.success(), "{}", String::from_utf8_lossy(&texted.stderr));
}

#[tokio::test]
async fn rooms_from_the_command_line() {
    let s = Server::start().await;
    let room = run_json(&s, &["rooms", "create", "--unique-name", "cli-room", "--max-participants", "4"]).await;
    assert_eq!(room["unique_name"], "cli-room");
    assert_eq!(room["max_participants"], 4);
    let listed = run_json(&s, &["rooms", "list"]).await;
    assert!(listed.as_array().unwrap().iter().any(|r| r["id"] == room["id"]), "{listed}");
    // A second room of the same name is refused, with the error on stderr.
    let again = run(&s, &["rooms", "create", "--unique-name", "cli-room"]).await;
    assert!(!again.status.success());
    assert!(!again.stderr.is_empty());
}

#[tokio::test]
async fn webhooks_listen_verifies_and_prints_each_event() {
    let s = Server::start().await;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["webhooks", "listen", "--listen", "127.0.0.1:0"])
        .env("TELNYX_BASE_URL", format!("{}/v2", s.client.base))
        .env("TELNYX_API_KEY", ROOT_KEY)
        .env_remove("TELNYX_PUBLIC_KEY")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let url = first.strip_prefix("Listening for webhooks on ").unwrap().to_owned();
    s.post(
        "/_dialtone/sim/webhooks",
        json!({"event_type": "call.hangup", "payload": {"call_control_id": "v3:cli"}, "url": url}),
    )
    .await;
    let printed =
        tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    assert!(printed.contains("call.hangup") && printed.contains("v3:cli"), "{printed}");
    // A forged webhook is refused with 400 and not printed as an event.
    let forged = reqwest::Client::new()
        .post(&url)
        .header("telnyx-signature-ed25519", "AAAA")
        .header("telnyx-timestamp", "1")
        .body(r#"{"data":{"event_type":"call.hangup"}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 400);
    let _ = child.kill().await;
}

/// A link click (Telnyx sends it, Dialtone does not) has no event type or payload: the
/// listener still verifies it with the key given and prints it with its message id.
#[tokio::test]
async fn webhooks_listen_prints_a_link_click() {
    use base64::Engine as _;
    use ed25519_dalek::Signer as _;
    let s = Server::start().await;
    let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
    let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["webhooks", "listen", "--listen", "127.0.0.1:0", "--public-key", &public])
        .env("TELNYX_BASE_URL", format!("{}/v2", s.client.base))
        .env("TELNYX_API_KEY", ROOT_KEY)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    let url = first.strip_prefix("Listening for webhooks on ").unwrap().to_owned();
    let body = r#"{"data":{"record_type":"link_clicked","url":"https://example.com","to":"+13125550001","message_id":"7ee4241c-f127-47e5-9c34-3aac291f8058","time_clicked":"2019-04-01T14:45:45.450Z"}}"#;
    let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs().to_string();
    let sig = key.sign(format!("{ts}|{body}").as_bytes());
    let answer = reqwest::Client::new()
        .post(&url)
        .header("telnyx-signature-ed25519", base64::engine::general_purpose::STANDARD.encode(sig.to_bytes()))
        .header("telnyx-timestamp", ts)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let printed =
        tokio::time::timeout(std::time::Duration::from_secs(20), lines.next_line()).await.unwrap().unwrap().unwrap();
    assert!(printed.contains("link_clicked") && printed.contains("7ee4241c-f127-47e5-9c34-3aac291f8058"), "{printed}");
    let _ = child.kill().await;
}
