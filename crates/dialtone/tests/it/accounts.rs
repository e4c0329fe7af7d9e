//! The eight managed-account operations, tenancy and disabled accounts.

use crate::harness::{Server, email};
use serde_json::json;

async fn create(s: &Server, name: &str) -> serde_json::Value {
    let r = s.post("/v2/managed_accounts", json!({"business_name": name, "email": email("ma")})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].clone()
}

#[tokio::test]
async fn create_returns_a_key_that_works_at_once() {
    let s = Server::start().await;
    let r = s
        .post(
            "/v2/managed_accounts",
            json!({"business_name": "Larry's Cat Food Inc", "email": "larry@customer.org", "password": "3jVjLq!tMuWKyWx4",
                   "managed_account_allow_custom_pricing": true, "rollup_billing": true, "unknown_field": 1}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let a = &r.body["data"];
    assert_eq!(a["organization_name"], "Larry's Cat Food Inc");
    assert_eq!(a["email"], "larry@customer.org");
    assert_eq!(a["managed_account_allow_custom_pricing"], true);
    assert_eq!(a["rollup_billing"], true);
    assert_eq!(a["record_type"], "managed_account");
    let key = a["api_key"].as_str().unwrap();
    // The new account's key authenticates at once, as that account.
    let users = s.with_key(key).get("/v2/organizations/users").await;
    assert_eq!(users.status, 200);
    assert_eq!(users.body["data"][0]["email"], "larry@customer.org");
    assert_eq!(users.body["data"][0]["record_type"], "organization_owner");

    // Reads show the key masked: only its hash is stored.
    let got = s.get(&format!("/v2/managed_accounts/{}", a["id"].as_str().unwrap())).await;
    assert_eq!(got.status, 200);
    let shown = got.body["data"]["api_key"].as_str().unwrap();
    assert_ne!(shown, key);
    assert!(key.starts_with(shown.trim_end_matches('…')));
}

#[tokio::test]
async fn email_is_unique_and_derived_when_absent() {
    let s = Server::start().await;
    let e = email("dup");
    assert_eq!(s.post("/v2/managed_accounts", json!({"business_name": "A", "email": e})).await.status, 200);
    let r = s.post("/v2/managed_accounts", json!({"business_name": "B", "email": e})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/email");
    let r = s.post("/v2/managed_accounts", json!({"business_name": "C"})).await;
    assert_eq!(r.status, 200);
    assert!(r.body["data"]["email"].as_str().unwrap().starts_with("owner+"));
}

#[tokio::test]
async fn create_validates_its_fields() {
    let s = Server::start().await;
    let r = s.post("/v2/managed_accounts", json!({})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "10004");
    assert_eq!(r.error()["source"]["pointer"], "/business_name");
    let r = s.post("/v2/managed_accounts", json!({"business_name": 12})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/business_name");
    let r = s.post("/v2/managed_accounts", json!({"business_name": "x", "rollup_billing": "yes"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/rollup_billing");
    let r = s.post("/v2/managed_accounts", json!({"business_name": "x", "email": "not-an-email"})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.code(), "10019");
}

#[tokio::test]
async fn retrieve_update_disable_enable() {
    let s = Server::start().await;
    let a = create(&s, "Acme").await;
    let id = a["id"].as_str().unwrap();
    let key = a["api_key"].as_str().unwrap().to_owned();

    let r = s.patch(&format!("/v2/managed_accounts/{id}"), json!({"managed_account_allow_custom_pricing": true})).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["data"]["managed_account_allow_custom_pricing"], true);
    assert_eq!(
        s.get(&format!("/v2/managed_accounts/{id}")).await.body["data"]["managed_account_allow_custom_pricing"],
        true
    );

    // Disabled: the account's own key gets 403 on every service operation.
    let r = s.post_empty(&format!("/v2/managed_accounts/{id}/actions/disable")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let managed = s.with_key(&key);
    for path in ["/v2/organizations/users", "/v2/rooms", "/v2/managed_accounts"] {
        let r = managed.get(path).await;
        assert_eq!(r.status, 403, "{path}: {}", r.text);
        assert_eq!(r.code(), "10010");
    }
    let r = s.get("/v2/managed_accounts?filter[status][eq]=disabled").await;
    assert_eq!(r.body["data"].as_array().unwrap().len(), 1);

    let r = s
        .send(
            reqwest::Method::POST,
            &format!("/v2/managed_accounts/{id}/actions/enable"),
            Some(json!({"reenable_all_connections": true})),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(managed.get("/v2/organizations/users").await.status, 200);
    let acct = s.engine.account(id).await.unwrap().unwrap();
    assert!(acct.is_enabled() && acct.connections_enabled);
}

#[tokio::test]
async fn another_managers_view_is_404_and_managed_accounts_cannot_manage() {
    let s = Server::start().await;
    let a = create(&s, "A").await;
    let b = create(&s, "B").await;
    let a_key = a["api_key"].as_str().unwrap();
    let b_id = b["id"].as_str().unwrap();
    // A managed account is not a manager.
    let r = s.with_key(a_key).get(&format!("/v2/managed_accounts/{b_id}")).await;
    assert_eq!(r.status, 403);
    let r = s.with_key(a_key).post("/v2/managed_accounts", json!({"business_name": "x"})).await;
    assert_eq!(r.status, 403);
    // The root cannot see itself as a managed account, and unknown ids are 404.
    let r = s.get(&format!("/v2/managed_accounts/{}", uuid::Uuid::new_v4())).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.code(), "10005");
    // One account's users are invisible to another.
    let b_users = s.with_key(b["api_key"].as_str().unwrap()).get("/v2/organizations/users").await;
    let b_owner = b_users.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(s.with_key(a_key).get(&format!("/v2/organizations/users/{b_owner}")).await.status, 404);
}

#[tokio::test]
async fn list_filters_sorts_and_pages() {
    let s = Server::start().await;
    for (name, mail) in [("Zeta Corp", "zed@alpha.io"), ("Alpha LLC", "amy@beta.io"), ("Beta Inc", "bob@gamma.io")] {
        assert_eq!(s.post("/v2/managed_accounts", json!({"business_name": name, "email": mail})).await.status, 200);
        s.engine.clock.advance(chrono::Duration::seconds(1));
    }
    let names = |r: &crate::harness::Resp| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|a| a["organization_name"].as_str().unwrap().to_owned()).collect()
    };
    // Default: newest first.
    assert_eq!(names(&s.get("/v2/managed_accounts").await), ["Beta Inc", "Alpha LLC", "Zeta Corp"]);
    assert_eq!(names(&s.get("/v2/managed_accounts?sort=created_at").await), ["Zeta Corp", "Alpha LLC", "Beta Inc"]);
    assert_eq!(names(&s.get("/v2/managed_accounts?sort=email").await), ["Alpha LLC", "Beta Inc", "Zeta Corp"]);
    assert_eq!(names(&s.get("/v2/managed_accounts?sort=-email").await), ["Zeta Corp", "Beta Inc", "Alpha LLC"]);
    // Percent-encoded deepObject filters.
    let r = s.get("/v2/managed_accounts?filter%5Bemail%5D%5Bcontains%5D=BETA").await;
    assert_eq!(names(&r), ["Alpha LLC"]);
    let r = s.get("/v2/managed_accounts?filter[organization_name][eq]=Zeta%20Corp").await;
    assert_eq!(names(&r), ["Zeta Corp"]);
    let r = s.get("/v2/managed_accounts?filter[organization_name][contains]=llc").await;
    assert_eq!(names(&r), ["Alpha LLC"]);
    let r = s.get("/v2/managed_accounts?filter[email][eq]=bob@gamma.io").await;
    assert_eq!(names(&r), ["Beta Inc"]);
    let r = s.get("/v2/managed_accounts?filter[email][contains]=ab").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["parameter"], "filter[email][contains]");
    let r = s.get("/v2/managed_accounts?sort=name").await;
    assert_eq!(r.status, 422);
    // Pages.
    let r = s.get("/v2/managed_accounts?page[size]=2&page[number]=2&sort=email").await;
    assert_eq!(names(&r), ["Zeta Corp"]);
    assert_eq!(r.body["meta"], json!({"page_number": 2, "page_size": 2, "total_pages": 2, "total_results": 3}));
    let r = s.get("/v2/managed_accounts?page[number]=5").await;
    assert!(r.body["data"].as_array().unwrap().is_empty());
    assert_eq!(r.body["meta"]["page_number"], 5);
    assert_eq!(s.get("/v2/managed_accounts?page[size]=251").await.status, 422);
    assert_eq!(s.get("/v2/managed_accounts?page[size]=abc").await.status, 422);
    assert_eq!(s.get("/v2/managed_accounts?include_cancelled_accounts=true").await.status, 200);
}

#[tokio::test]
async fn global_outbound_channels() {
    let s = Server::start().await;
    let a = create(&s, "A").await;
    let id = a["id"].as_str().unwrap();
    let r = s.get("/v2/managed_accounts/allocatable_global_outbound_channels").await;
    assert_eq!(r.status, 200);
    let total = r.body["data"]["allocatable_global_outbound_channels"].as_i64().unwrap();
    assert_eq!(r.body["data"]["total_global_channels_allocated"], 10);

    let r =
        s.patch(&format!("/v2/managed_accounts/{id}/update_global_channel_limit"), json!({"channel_limit": 30})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["channel_limit"], 30);
    assert_eq!(r.body["data"]["record_type"], "managed_account_global_outbound_settings");
    let r = s.get("/v2/managed_accounts/allocatable_global_outbound_channels").await;
    assert_eq!(r.body["data"]["total_global_channels_allocated"], 30);

    // More than can be allocated is refused and nothing changes.
    let r = s
        .patch(&format!("/v2/managed_accounts/{id}/update_global_channel_limit"), json!({"channel_limit": total + 1}))
        .await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/channel_limit");
    assert_eq!(s.engine.account(id).await.unwrap().unwrap().channel_limit, 30);
    let r = s
        .patch(&format!("/v2/managed_accounts/{id}/update_global_channel_limit"), json!({"channel_limit": "ten"}))
        .await;
    assert_eq!(r.status, 422);
    // A managed account may not see the manager's report.
    let r = s
        .with_key(a["api_key"].as_str().unwrap())
        .get("/v2/managed_accounts/allocatable_global_outbound_channels")
        .await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn racing_creations_never_allocate_more_channels_than_the_pool() {
    let s = Server::start().await;
    // 1000 channels at 10 each: the 101st account and later get none, however the
    // creations interleave.
    let mut tasks = Vec::new();
    for i in 0..110 {
        let c = s.client.clone();
        tasks.push(tokio::spawn(async move {
            let r = c.post("/v2/managed_accounts", json!({"business_name": format!("Race {i}")})).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body["data"]["id"].as_str().unwrap().to_owned()
        }));
    }
    let mut sum = 0;
    for t in tasks {
        let id = t.await.unwrap();
        sum += s.engine.account(&id).await.unwrap().unwrap().channel_limit;
    }
    assert_eq!(sum, 1000);
    let r = s.get("/v2/managed_accounts/allocatable_global_outbound_channels").await;
    assert_eq!(r.body["data"]["total_global_channels_allocated"], 1000);
}
