//! What the API acknowledged survives a restart, a crash and a graceful stop.

use crate::harness::{Options, Process, Server, fresh_database};
use serde_json::json;

#[tokio::test]
async fn data_survives_a_restart() {
    let db = fresh_database().await;
    let s = Server::start_with(Options { database: Some(db.clone()), ..Options::default() }).await;
    let a = s.post("/v2/managed_accounts", json!({"business_name": "Durable"})).await;
    let id = a.body["data"]["id"].as_str().unwrap().to_owned();
    let key = a.body["data"]["api_key"].as_str().unwrap().to_owned();
    let root = s.engine.root_account_id().await.unwrap();
    s.stop().await;

    let s = Server::start_with(Options { database: Some(db), ..Options::default() }).await;
    assert_eq!(s.engine.root_account_id().await.unwrap(), root, "the root account is not recreated");
    let r = s.get(&format!("/v2/managed_accounts/{id}")).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["organization_name"], "Durable");
    assert_eq!(s.with_key(&key).get("/v2/organizations/users").await.status, 200);
}

#[tokio::test]
async fn acknowledged_writes_survive_a_kill() {
    let db = fresh_database().await;
    let p = Process::spawn(&db, &[]).await;
    let mut ids = Vec::new();
    for i in 0..20 {
        let r = p.post("/v2/managed_accounts", json!({"business_name": format!("K{i}")})).await;
        assert_eq!(r.status, 200);
        ids.push(r.body["data"]["id"].as_str().unwrap().to_owned());
    }
    let t = p.post("/_dialtone/sim/timers", json!({"in_seconds": 3600})).await;
    let timer = t.body["data"]["id"].as_str().unwrap().to_owned();
    p.kill();

    let p = Process::spawn(&db, &["--clock", "manual"]).await;
    for id in &ids {
        assert_eq!(p.get(&format!("/v2/managed_accounts/{id}")).await.status, 200, "{id} was acknowledged");
    }
    // The timer's job survived too: it fires once its time comes.
    p.post("/_dialtone/sim/clock/advance", json!({"seconds": 3601})).await;
    assert_eq!(p.get(&format!("/_dialtone/sim/timers/{timer}")).await.body["data"]["fired_count"], 1);
}

#[tokio::test]
async fn sigterm_lets_in_flight_requests_finish() {
    let db = fresh_database().await;
    let p = Process::spawn(&db, &[]).await;
    // Hold the next create in the server for a while, then stop the server under it.
    let f = p
        .post("/_dialtone/sim/faults", json!({"operation": "CreateManagedAccount", "latency_ms": 700, "count": 1}))
        .await;
    assert_eq!(f.status, 201);
    let client = p.client.clone();
    let in_flight =
        tokio::spawn(async move { client.post("/v2/managed_accounts", json!({"business_name": "InFlight"})).await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let status = tokio::task::spawn_blocking(move || p.terminate()).await.unwrap();
    assert!(status.success(), "graceful shutdown exits 0: {status:?}");
    let r = in_flight.await.unwrap();
    assert_eq!(r.status, 200, "the request in flight at SIGTERM was answered");
    let id = r.body["data"]["id"].as_str().unwrap().to_owned();
    // And what it acknowledged is there after a restart.
    let p = Process::spawn(&db, &[]).await;
    assert_eq!(p.get(&format!("/v2/managed_accounts/{id}")).await.status, 200);
}

#[tokio::test]
async fn a_printed_key_and_signing_key_are_kept() {
    let db = fresh_database().await;
    let seed = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_dialtone"))
        .args(["serve", "--listen", "127.0.0.1:0", "--database", &db, "--signing-key", seed])
        .kill_on_drop(true)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(out.stdout.unwrap());
    let mut lines = Vec::new();
    use tokio::io::AsyncBufReadExt;
    for _ in 0..4 {
        let mut l = String::new();
        stdout.read_line(&mut l).await.unwrap();
        lines.push(l);
    }
    let text = lines.concat();
    assert!(text.contains("TELNYX_BASE_URL=http://127.0.0.1:"), "{text}");
    let key_line = lines.iter().find(|l| l.contains("TELNYX_API_KEY=")).unwrap();
    let key = key_line.trim().trim_start_matches("TELNYX_API_KEY=").to_owned();
    assert!(key.starts_with("KEY"), "a generated key is printed: {text}");
    // The public key printed is the one of the seed given.
    let signer = dialtone_domain::keys::Signer::from_seed_base64(seed).unwrap();
    assert!(text.contains(&format!("TELNYX_PUBLIC_KEY={}", signer.public_key_base64())), "{text}");
    let base = lines[1].trim().trim_start_matches("TELNYX_BASE_URL=").to_owned();
    let c = crate::harness::Client::new(base.trim_end_matches("/v2"), Some(&key));
    assert_eq!(c.get("/v2/organizations/users").await.status, 200);
}
