//! The API surface: routing of every operation, 404/405/501, the served spec, and bad input.

use crate::harness::Server;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn every_operation_is_routed_under_v2_and_at_the_root() {
    let s = Server::start().await;
    let built = dialtone_api::handlers::implemented();
    for op in dialtone_api::ops::all() {
        let path = op.path.replace(['{', '}'], "");
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        for prefix in ["/v2", ""] {
            let r = s.send(method.clone(), &format!("{prefix}{path}"), None).await;
            if built.contains(&op.operation_id.as_str()) {
                assert_ne!(r.status, 501, "{} is built", op.operation_id);
            } else {
                assert_eq!(r.status, 501, "{} {prefix}{path}: {}", op.method, r.text);
                assert!(r.error()["detail"].as_str().unwrap().contains(&op.operation_id));
            }
            // Nothing falls through to the unknown-path 404 without the spec's 10005 body.
            assert_ne!(r.status, 405, "{} {path}", op.method);
        }
    }
}

#[tokio::test]
async fn unknown_paths_and_methods() {
    let s = Server::start().await;
    let r = s.get("/_stainless_unknown_path").await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "10005");
    let r = s.get("/v2/no/such/thing").await;
    assert_eq!(r.status, 404);
    let r = s.send(Method::PUT, "/v2/managed_accounts", None).await;
    assert_eq!(r.status, 405);
    assert!(r.body["errors"].is_array());
}

#[tokio::test]
async fn authentication() {
    let s = Server::start().await;
    let r = s.without_key().get("/v2/managed_accounts").await;
    assert_eq!(r.status, 401);
    assert_eq!(r.code(), "10009");
    let r = s.with_key("KEYwrong").get("/v2/managed_accounts").await;
    assert_eq!(r.status, 401);
    // Unbuilt operations authenticate first too.
    assert_eq!(s.without_key().get("/v2/rooms").await.status, 401);
    assert_eq!(s.without_key().get("/_dialtone/sim/clock").await.status, 401);
    assert_eq!(s.without_key().get("/_dialtone/health").await.status, 200);
}

#[tokio::test]
async fn the_spec_is_served() {
    let s = Server::start().await;
    for path in ["/v2/openapi.json", "/openapi.json"] {
        let r = s.without_key().get(path).await;
        assert_eq!(r.status, 200);
        assert_eq!(r.body["openapi"].as_str().unwrap().chars().next(), Some('3'));
        assert_eq!(r.body["paths"].as_object().unwrap().len(), 101);
    }
}

#[tokio::test]
async fn bad_input_answers_4xx_in_the_telnyx_format() {
    let s = Server::start().await;
    // Malformed JSON.
    let r = s
        .send_raw(Method::POST, "/v2/managed_accounts", Some("application/json"), b"{\"business_name\":".to_vec())
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.code(), "10023");
    assert_eq!(r.error()["source"]["pointer"], "/");
    // Not an object.
    let r = s.send_raw(Method::POST, "/v2/managed_accounts", Some("application/json"), b"[1,2]".to_vec()).await;
    assert_eq!(r.status, 400);
    // JSON without a content type is still JSON.
    let r = s.send_raw(Method::POST, "/v2/managed_accounts", None, br#"{"business_name":"NoCT"}"#.to_vec()).await;
    assert_eq!(r.status, 200);
    // Huge body.
    let huge = format!("{{\"business_name\":\"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let r = s.send_raw(Method::POST, "/v2/managed_accounts", Some("application/json"), huge.into_bytes()).await;
    assert_eq!(r.status, 413);
    assert!(r.body["errors"].is_array());
    // Ids that are not UUIDs, or belong to nobody.
    for id in ["not-a-uuid", "%F0%9F%92%A9", "00000000-0000-0000-0000-000000000000"] {
        let r = s.get(&format!("/v2/managed_accounts/{id}")).await;
        assert_eq!(r.status, 404, "{id}");
    }
    // Empty-body POSTs, with and without a JSON content type.
    let a = s.post("/v2/managed_accounts", json!({"business_name": "Empty"})).await;
    let id = a.body["data"]["id"].as_str().unwrap();
    let r = s
        .send_raw(Method::POST, &format!("/v2/managed_accounts/{id}/actions/disable"), Some("application/json"), vec![])
        .await;
    assert_eq!(r.status, 200);
    let r = s.send_raw(Method::POST, &format!("/v2/managed_accounts/{id}/actions/enable"), None, vec![]).await;
    assert_eq!(r.status, 200);
    // A PATCH with a wrong type.
    let r =
        s.patch(&format!("/v2/managed_accounts/{id}"), json!({"managed_account_allow_custom_pricing": "true"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/managed_account_allow_custom_pricing");
}

#[tokio::test]
async fn the_bulk_update_alias_reaches_the_same_operation() {
    let s = Server::start().await;
    // Both paths answer alike: the same validation of the same body.
    for path in ["/v2/messaging_numbers/bulk_updates", "/v2/messaging_numbers_bulk_updates"] {
        let r = s.post(path, json!({})).await;
        assert_eq!(r.status, 422, "{path}: {}", r.text);
        assert_eq!(r.error()["source"]["pointer"], "/messaging_profile_id", "{path}");
    }
    assert_eq!(s.get("/v2/messaging_numbers/bulk_updates/nope").await.status, 404);
}
