//! Messaging profiles: every field, validation with pointers, filters and pages, tenancy,
//! the numbers of a profile, and deleting a profile that numbers use.

use crate::harness::{Client, Server};
use crate::numbers::{advance, buy, managed_key};
use serde_json::{Value, json};

pub async fn create_profile(c: &Client, body: Value) -> Value {
    let r = c.post("/v2/messaging_profiles", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].clone()
}

#[tokio::test]
async fn create_with_every_field_then_read_update_delete() {
    let s = Server::start().await;
    let p = create_profile(
        &s,
        json!({
            "name": "Alerts", "whitelisted_destinations": ["US", "CA"], "enabled": false,
            "webhook_url": "https://hooks.example.com/a", "webhook_failover_url": "https://backup.example.com/a",
            "webhook_api_version": "2010-04-01",
            "number_pool_settings": {"long_code_weight": 2, "toll_free_weight": 0.5, "skip_unhealthy": true,
                                     "sticky_sender": true, "geomatch": true},
            "url_shortener_settings": {"domain": "example.ex", "prefix": "acme", "replace_blacklist_only": true, "send_webhooks": false},
            "alpha_sender": "Acme Inc", "smart_encoding": true, "mms_fall_back_to_sms": true, "mms_transcoding": true,
            "mobile_only": true, "daily_spend_limit": "100.50", "daily_spend_limit_enabled": true,
            "redaction_enabled": true, "redaction_level": 1, "ai_assistant_id": "assistant-1", "resource_group_id": "rg-1",
        }),
    )
    .await;
    let id = p["id"].as_str().unwrap().to_owned();
    assert_eq!(p["record_type"], "messaging_profile");
    assert_eq!(p["name"], "Alerts");
    assert_eq!(p["enabled"], false);
    assert_eq!(p["whitelisted_destinations"], json!(["US", "CA"]));
    assert_eq!(p["webhook_url"], "https://hooks.example.com/a");
    assert_eq!(p["webhook_failover_url"], "https://backup.example.com/a");
    assert_eq!(p["webhook_api_version"], "2010-04-01");
    assert_eq!(
        p["number_pool_settings"],
        json!({"long_code_weight": 2.0, "toll_free_weight": 0.5, "skip_unhealthy": true, "sticky_sender": true, "geomatch": true})
    );
    assert_eq!(p["url_shortener_settings"]["prefix"], "acme");
    assert_eq!(p["alpha_sender"], "Acme Inc");
    for f in ["smart_encoding", "mms_fall_back_to_sms", "mms_transcoding", "mobile_only", "daily_spend_limit_enabled"] {
        assert_eq!(p[f], true, "{f}");
    }
    assert_eq!(p["daily_spend_limit"], "100.50");
    assert_eq!(p["redaction_level"], 1);
    assert_eq!(p["ai_assistant_id"], "assistant-1");
    assert!(p["v1_secret"].as_str().unwrap().len() >= 16);

    let got = s.get(&format!("/v2/messaging_profiles/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["data"], p);

    // Defaults of a minimal profile.
    let min = create_profile(&s, json!({"name": "Min", "whitelisted_destinations": []})).await;
    assert_eq!(min["enabled"], true);
    assert_eq!(min["webhook_api_version"], "2");
    assert!(min["webhook_url"].is_null() && min["number_pool_settings"].is_null());
    assert_eq!(min["smart_encoding"], false);
    assert_eq!(min["redaction_level"], 2);

    let r = s
        .patch(
            &format!("/v2/messaging_profiles/{id}"),
            json!({"name": "Alerts 2", "number_pool_settings": null, "webhook_url": "", "enabled": true,
                   "whitelisted_destinations": ["*"], "alpha_sender": null}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = &r.body["data"];
    assert_eq!(u["name"], "Alerts 2");
    assert!(u["number_pool_settings"].is_null() && u["webhook_url"].is_null() && u["alpha_sender"].is_null());
    assert_eq!(u["webhook_failover_url"], "https://backup.example.com/a", "untouched fields stay");
    // "*" (every destination) shows as every country code: the schema admits only those.
    let all = u["whitelisted_destinations"].as_array().unwrap();
    assert!(all.len() > 240 && all.contains(&json!("US")) && all.contains(&json!("ZW")));
    assert_eq!(u["created_at"], p["created_at"]);

    let d = s.delete(&format!("/v2/messaging_profiles/{id}")).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["data"]["id"], id.as_str());
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{id}")).await.status, 404);
    assert_eq!(s.delete(&format!("/v2/messaging_profiles/{id}")).await.status, 404);
}

#[tokio::test]
async fn validation_points_at_the_field() {
    let s = Server::start().await;
    let cases = [
        (json!({"whitelisted_destinations": ["US"]}), "10004", "/name"),
        (json!({"name": "x"}), "10004", "/whitelisted_destinations"),
        (json!({"name": 5, "whitelisted_destinations": []}), "10020", "/name"),
        (json!({"name": "x", "whitelisted_destinations": "US"}), "10020", "/whitelisted_destinations"),
        (json!({"name": "x", "whitelisted_destinations": ["US", "usa"]}), "10015", "/whitelisted_destinations/1"),
        (json!({"name": "x", "whitelisted_destinations": [], "enabled": "yes"}), "10020", "/enabled"),
        (json!({"name": "x", "whitelisted_destinations": [], "webhook_url": "ftp://x"}), "10015", "/webhook_url"),
        (
            json!({"name": "x", "whitelisted_destinations": [], "webhook_api_version": "3"}),
            "10015",
            "/webhook_api_version",
        ),
        (
            json!({"name": "x", "whitelisted_destinations": [], "number_pool_settings": {"toll_free_weight": 1, "skip_unhealthy": false}}),
            "10004",
            "/number_pool_settings/long_code_weight",
        ),
        (
            json!({"name": "x", "whitelisted_destinations": [], "number_pool_settings": {"long_code_weight": -1, "toll_free_weight": 1, "skip_unhealthy": false}}),
            "10015",
            "/number_pool_settings/long_code_weight",
        ),
        (
            json!({"name": "x", "whitelisted_destinations": [], "url_shortener_settings": {"prefix": "a"}}),
            "10004",
            "/url_shortener_settings/domain",
        ),
        (json!({"name": "x", "whitelisted_destinations": [], "alpha_sender": "Acme-Inc"}), "10015", "/alpha_sender"),
        (
            json!({"name": "x", "whitelisted_destinations": [], "daily_spend_limit": "ten"}),
            "10015",
            "/daily_spend_limit",
        ),
        (json!({"name": "x", "whitelisted_destinations": [], "redaction_level": 9}), "10015", "/redaction_level"),
    ];
    for (body, code, pointer) in cases {
        let r = s.post("/v2/messaging_profiles", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.code(), code, "{body}");
        assert_eq!(r.error()["source"]["pointer"], pointer, "{body}");
    }
    let p = create_profile(&s, json!({"name": "x", "whitelisted_destinations": []})).await;
    let r = s.patch(&format!("/v2/messaging_profiles/{}", p["id"].as_str().unwrap()), json!({"name": null})).await;
    assert_eq!(r.status, 422);
    assert_eq!(r.error()["source"]["pointer"], "/name");
    assert_eq!(s.get("/v2/messaging_profiles?page[size]=0").await.error()["source"]["parameter"], "page[size]");
}

#[tokio::test]
async fn list_filters_and_pages() {
    let s = Server::start().await;
    for name in ["Alpha", "Beta", "Alpine", "Gamma", "Delta"] {
        create_profile(&s, json!({"name": name, "whitelisted_destinations": ["US"]})).await;
    }
    let names = |r: &crate::harness::Resp| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_owned()).collect()
    };
    let all = s.get("/v2/messaging_profiles").await;
    assert_eq!(names(&all), ["Alpha", "Beta", "Alpine", "Gamma", "Delta"]);
    assert_eq!(all.body["meta"], json!({"page_number": 1, "page_size": 20, "total_pages": 1, "total_results": 5}));
    assert_eq!(names(&s.get("/v2/messaging_profiles?filter[name][contains]=alp").await), ["Alpha", "Alpine"]);
    assert_eq!(names(&s.get("/v2/messaging_profiles?filter%5Bname%5D%5Beq%5D=Beta").await), ["Beta"]);
    assert_eq!(names(&s.get("/v2/messaging_profiles?filter[name]=Gamma").await), ["Gamma"]);
    let p = s.get("/v2/messaging_profiles?page[size]=2&page[number]=3").await;
    assert_eq!(names(&p), ["Delta"]);
    assert_eq!(p.body["meta"], json!({"page_number": 3, "page_size": 2, "total_pages": 3, "total_results": 5}));
}

#[tokio::test]
async fn another_accounts_profiles_are_not_found() {
    let s = Server::start().await;
    let p = create_profile(&s, json!({"name": "Mine", "whitelisted_destinations": ["US"]})).await;
    let id = p["id"].as_str().unwrap();
    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(other.get(&format!("/v2/messaging_profiles/{id}")).await.status, 404);
    assert_eq!(other.patch(&format!("/v2/messaging_profiles/{id}"), json!({"name": "x"})).await.status, 404);
    assert_eq!(other.delete(&format!("/v2/messaging_profiles/{id}")).await.status, 404);
    assert_eq!(other.get(&format!("/v2/messaging_profiles/{id}/phone_numbers")).await.status, 404);
    assert_eq!(other.get("/v2/messaging_profiles").await.body["data"], json!([]));
    let r = other.get("/v2/messaging_profiles/not-a-uuid").await;
    assert_eq!((r.status, r.code()), (404, "10005"));
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{id}")).await.body["data"]["name"], "Mine");
    // The engine's shared lookup agrees.
    let acct = s.engine.authenticate(crate::harness::ROOT_KEY).await.unwrap().unwrap();
    assert_eq!(s.engine.messaging_profile(&acct.id, id).await.unwrap().name, "Mine");
    assert_eq!(s.engine.messaging_profile("someone-else", id).await.unwrap_err().status(), 404);
}

#[tokio::test]
async fn profile_numbers_and_deleting_a_profile_in_use() {
    let s = Server::start().await;
    let p = create_profile(&s, json!({"name": "Pool", "whitelisted_destinations": ["US"]})).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let order = buy(&s, &["+13122001235", "+18005551234", "+13122001236"], Some(&pid)).await;
    buy(&s, &["+14152001234"], None).await;
    advance(&s, 1000).await;
    assert_eq!(
        s.get(&format!("/v2/number_orders/{}", order["id"].as_str().unwrap())).await.body["data"]["status"],
        "success"
    );

    let r = s.get(&format!("/v2/messaging_profiles/{pid}/phone_numbers?page[size]=2")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["meta"]["total_results"], 3);
    let first: Vec<&str> =
        r.body["data"].as_array().unwrap().iter().map(|n| n["phone_number"].as_str().unwrap()).collect();
    assert_eq!(first, ["+13122001235", "+13122001236"]);
    assert_eq!(r.body["data"][0]["messaging_profile_id"], pid.as_str());
    assert_eq!(r.body["data"][0]["type"], "longcode");
    let acct = s.engine.authenticate(crate::harness::ROOT_KEY).await.unwrap().unwrap();
    assert_eq!(s.engine.profile_numbers(&acct.id, &pid).await.unwrap().len(), 3);

    // Deleting the profile leaves the numbers without one.
    assert_eq!(s.delete(&format!("/v2/messaging_profiles/{pid}")).await.status, 200);
    let n = s.engine.number_by_e164("+18005551234").await.unwrap().unwrap();
    assert_eq!(n.messaging_profile_id, None);
    let listed = s.get("/v2/phone_numbers?filter[phone_number]=8005551234").await;
    assert!(listed.body["data"][0]["messaging_profile_id"].is_null());
}
