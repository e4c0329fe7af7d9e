//! Per-key rate limits and injected faults.

use crate::harness::{Options, Server};
use serde_json::json;
use std::time::Instant;

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after_per_key() {
    let s = Server::start_with(Options { rate_limit: Some(3), ..Options::default() }).await;
    let other = s.post("/v2/managed_accounts", json!({"business_name": "Other"})).await;
    let other_key = other.body["data"]["api_key"].as_str().unwrap().to_owned();
    let mut limited = None;
    for _ in 0..10 {
        let r = s.get("/v2/managed_accounts").await;
        if r.status == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("the limit is reached within 10 requests");
    assert_eq!(r.code(), "10011");
    assert!(r.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    // Another key has its own budget.
    assert_eq!(s.with_key(&other_key).get("/v2/organizations/users").await.status, 200);
}

#[tokio::test]
async fn faults_hit_chosen_operations_for_n_calls() {
    let s = Server::start().await;
    let r =
        s.post("/_dialtone/sim/faults", json!({"operation": "ListManagedAccounts", "status": 503, "count": 2})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(s.get("/v2/managed_accounts").await.status, 503);
    // Other operations are untouched.
    assert_eq!(s.get("/v2/organizations/users").await.status, 200);
    assert_eq!(s.get("/v2/managed_accounts").await.status, 503);
    assert_eq!(s.get("/v2/managed_accounts").await.status, 200);

    s.post("/_dialtone/sim/faults", json!({"operation": "*", "status": 429})).await;
    let r = s.get("/v2/organizations/users").await;
    assert_eq!(r.status, 429);
    assert_eq!(r.headers["retry-after"], "1");
    assert_eq!(s.get("/_dialtone/sim/faults").await.body["data"].as_array().unwrap().len(), 1);
    let r = s.delete("/_dialtone/sim/faults").await;
    assert_eq!(r.body["data"]["cleared"], 1);
    assert_eq!(s.get("/v2/organizations/users").await.status, 200);
}

#[tokio::test]
async fn faults_with_probability_and_latency() {
    let s = Server::start().await;
    let r = s
        .post("/_dialtone/sim/faults", json!({"operation": "ListOrganizationUsers", "status": 500, "probability": 0.0}))
        .await;
    let id = r.body["data"]["id"].as_str().unwrap().to_owned();
    for _ in 0..5 {
        assert_eq!(s.get("/v2/organizations/users").await.status, 200);
    }
    assert_eq!(s.delete(&format!("/_dialtone/sim/faults/{id}")).await.status, 200);
    assert_eq!(s.delete(&format!("/_dialtone/sim/faults/{id}")).await.status, 404);

    s.post("/_dialtone/sim/faults", json!({"operation": "ListOrganizationUsers", "latency_ms": 300, "count": 1})).await;
    let t = Instant::now();
    assert_eq!(s.get("/v2/organizations/users").await.status, 200);
    assert!(t.elapsed().as_millis() >= 300, "the injected latency is applied");
}

#[tokio::test]
async fn faults_are_validated_and_root_only() {
    let s = Server::start().await;
    assert_eq!(s.post("/_dialtone/sim/faults", json!({"operation": "NoSuchOp", "status": 500})).await.status, 422);
    assert_eq!(s.post("/_dialtone/sim/faults", json!({"operation": "ListRooms", "status": 418})).await.status, 422);
    assert_eq!(s.post("/_dialtone/sim/faults", json!({"operation": "ListRooms"})).await.status, 422);
    let m = s.post("/v2/managed_accounts", json!({"business_name": "M"})).await;
    let key = m.body["data"]["api_key"].as_str().unwrap();
    assert_eq!(
        s.with_key(key).post("/_dialtone/sim/faults", json!({"operation": "*", "status": 500})).await.status,
        403
    );
}
