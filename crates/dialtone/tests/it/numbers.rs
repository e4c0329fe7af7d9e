//! Phone numbers: searching the inventory, number orders on the manual and the real clock
//! with their webhook, owned numbers (filters, pages, updates, release), messaging
//! settings, mobile numbers, bulk messaging updates, and tenancy throughout.

use crate::harness::{Client, Options, Resp, Server};
use crate::profiles::create_profile;
use crate::receiver::Receiver;
use serde_json::{Value, json};
use std::time::Duration;

pub async fn advance(c: &Client, ms: i64) {
    let r = c.post("/_dialtone/sim/clock/advance", json!({"milliseconds": ms})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// A new managed account's API key.
pub async fn managed_key(s: &Client) -> String {
    let r = s.post("/v2/managed_accounts", json!({"business_name": "Other"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"]["api_key"].as_str().unwrap().to_owned()
}

/// Orders numbers (with a messaging profile); answers the order.
pub async fn buy(c: &Client, numbers: &[&str], profile: Option<&str>) -> Value {
    let mut body = json!({"phone_numbers": numbers.iter().map(|n| json!({"phone_number": n})).collect::<Vec<_>>()});
    if let Some(p) = profile {
        body["messaging_profile_id"] = json!(p);
    }
    let r = c.post("/v2/number_orders", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["data"].clone()
}

/// Buys and activates numbers; answers their ids, in order.
pub async fn own(s: &Client, numbers: &[&str]) -> Vec<String> {
    buy(s, numbers, None).await;
    advance(s, 1000).await;
    let mut ids = Vec::new();
    for n in numbers {
        let r = s.get(&format!("/v2/phone_numbers?filter[phone_number]={}", &n[1..])).await;
        assert_eq!(r.body["data"][0]["status"], "active", "{}", r.text);
        ids.push(r.body["data"][0]["id"].as_str().unwrap().to_owned());
    }
    ids
}

fn numbers_of(r: &Resp) -> Vec<String> {
    r.body["data"].as_array().unwrap().iter().map(|n| n["phone_number"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn available_numbers_honour_the_filters() {
    let s = Server::start().await;
    let r = s.get("/v2/available_phone_numbers?filter[country_code]=US&filter[national_destination_code]=312").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let found = numbers_of(&r);
    assert_eq!(found.len(), 20, "the default limit");
    assert!(found.iter().all(|n| n.starts_with("+1312")));
    assert_eq!(r.body["meta"], json!({"total_results": 20, "best_effort_results": 0}));
    let first = &r.body["data"][0];
    assert_eq!(first["record_type"], "available_phone_number");
    assert_eq!(first["best_effort"], false);
    let names: Vec<&str> = first["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"sms") && names.contains(&"mms") && names.contains(&"voice"));
    assert!(
        first["region_information"].as_array().unwrap().contains(&json!({"region_type": "state", "region_name": "IL"}))
    );
    // The same search answers the same numbers: the inventory is deterministic.
    assert_eq!(
        numbers_of(
            &s.get("/v2/available_phone_numbers?filter[country_code]=US&filter[national_destination_code]=312").await
        ),
        found
    );

    let q = |query: &str| {
        let s = &s;
        let query = query.to_owned();
        async move {
            let r = s.get(&format!("/v2/available_phone_numbers?{query}")).await;
            assert_eq!(r.status, 200, "{query}: {}", r.text);
            r
        }
    };
    let r = q("filter[locality]=Chicago&filter[limit]=5").await;
    assert_eq!(numbers_of(&r).len(), 5);
    let r = q("filter[administrative_area]=CA&filter[limit]=100").await;
    assert!(numbers_of(&r).iter().all(|n| n.starts_with("+1415") || n.starts_with("+1213")));
    let r = q("filter[phone_number_type]=toll_free&filter[limit]=3").await;
    assert!(numbers_of(&r).iter().all(|n| n.starts_with("+1800")));
    let r = q("filter[country_code]=GB").await;
    assert!(numbers_of(&r).iter().all(|n| n.starts_with("+447700900")));
    let feats: Vec<&str> =
        r.body["data"][0]["features"].as_array().unwrap().iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert!(feats.contains(&"sms") && !feats.contains(&"mms"), "GB mobiles have no MMS");
    let r = q("filter[country_code]=DE&filter[phone_number_type]=mobile&filter[limit]=2").await;
    assert!(numbers_of(&r).iter().all(|n| n.starts_with("+491512345")));
    let r = q("filter[national_destination_code]=415&filter[phone_number][ends_with]=77").await;
    assert!(!numbers_of(&r).is_empty() && numbers_of(&r).iter().all(|n| n.starts_with("+1415") && n.ends_with("77")));
    let r = q("filter[national_destination_code]=212&filter[phone_number][starts_with]=202").await;
    assert!(!numbers_of(&r).is_empty() && numbers_of(&r).iter().all(|n| n.starts_with("+1212202")));
    let r = q("filter[country_code]=CA&filter[phone_number][contains]=999").await;
    assert!(numbers_of(&r).iter().all(|n| n[2..].contains("999")
        && (n.starts_with("+1416") || n.starts_with("+1604") || n.starts_with("+1514") || n.starts_with("+1613"))));
    // Fort Collins numbers are voice only: none has SMS.
    assert!(numbers_of(&q("filter[locality]=Fort Collins&filter[features]=sms").await).is_empty());
    assert_eq!(
        numbers_of(&q("filter[locality]=Fort%20Collins&filter[features]=voice,fax&filter[limit]=3").await).len(),
        3
    );
    assert!(numbers_of(&q("filter[country_code]=FR").await).is_empty());
    assert!(numbers_of(&q("filter[phone_number_type]=shared_cost").await).is_empty());

    // Best effort fills up with numbers of the same country that miss the place.
    let r = q("filter[country_code]=US&filter[locality]=Nowhere&filter[best_effort]=true&filter[limit]=4").await;
    assert_eq!(numbers_of(&r).len(), 4);
    assert!(r.body["data"].as_array().unwrap().iter().all(|n| n["best_effort"] == true));
    assert_eq!(r.body["meta"], json!({"total_results": 4, "best_effort_results": 4}));
    assert!(numbers_of(&q("filter[country_code]=US&filter[locality]=Nowhere").await).is_empty());

    for (query, param) in [
        ("filter[features]=sms,teleport", "filter[features]"),
        ("filter[phone_number_type]=pager", "filter[phone_number_type]"),
        ("filter[limit]=1000", "filter[limit]"),
        ("filter[best_effort]=maybe", "filter[best_effort]"),
        ("filter[phone_number][contains]=12*", "filter[phone_number][contains]"),
    ] {
        let r = s.get(&format!("/v2/available_phone_numbers?{query}")).await;
        assert_eq!(r.status, 422, "{query}");
        assert_eq!(r.error()["source"]["parameter"], param, "{query}");
    }
}

#[tokio::test]
async fn an_order_completes_on_the_clock_and_sends_its_webhook() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let p =
        create_profile(&s, json!({"name": "Orders", "whitelisted_destinations": ["US"], "webhook_url": rx.url})).await;
    let pid = p["id"].as_str().unwrap().to_owned();
    let app = crate::voice::application(&s, "https://app.example/hooks").await;
    let offered = numbers_of(&s.get("/v2/available_phone_numbers?filter[locality]=Seattle&filter[limit]=2").await);
    // A connection_id must name an application of the account.
    let bad = json!({"phone_numbers": [{"phone_number": offered[0]}], "connection_id": "1234567890"});
    let r = s.post("/v2/number_orders", bad).await;
    assert_eq!((r.status, r.code(), r.error()["source"]["pointer"].as_str()), (422, "10017", Some("/connection_id")));
    let body = json!({
        "phone_numbers": [{"phone_number": offered[0]}, {"phone_number": offered[1]}],
        "messaging_profile_id": pid, "connection_id": app, "customer_reference": "ref-1",
    });
    let r = s.post("/v2/number_orders", body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let o = r.body["data"].clone();
    let oid = o["id"].as_str().unwrap().to_owned();
    assert_eq!(o["status"], "pending");
    assert_eq!(o["phone_numbers_count"], 2);
    assert_eq!(o["messaging_profile_id"], pid.as_str());
    assert_eq!(o["connection_id"], app.as_str());
    assert_eq!(o["customer_reference"], "ref-1");
    assert_eq!(o["phone_numbers"][0]["phone_number"], offered[0].as_str());
    assert_eq!(o["phone_numbers"][0]["status"], "pending");
    assert_eq!(o["phone_numbers"][0]["phone_number_type"], "local");

    // The numbers are the account's at once, purchase-pending, and no longer offered.
    let mine = s.get("/v2/phone_numbers").await;
    assert_eq!(mine.body["meta"]["total_results"], 2);
    assert!(mine.body["data"].as_array().unwrap().iter().all(|n| n["status"] == "purchase-pending"));
    let again = numbers_of(&s.get("/v2/available_phone_numbers?filter[locality]=Seattle&filter[limit]=2").await);
    assert!(!again.contains(&offered[0]) && !again.contains(&offered[1]));
    let pending = s.engine.number_by_e164(&offered[0]).await.unwrap().unwrap();
    assert!(!pending.is_active());

    advance(&s, 900).await;
    assert_eq!(s.get(&format!("/v2/number_orders/{oid}")).await.body["data"]["status"], "pending");
    assert_eq!(rx.count(), 0);
    advance(&s, 100).await;
    let done = s.get(&format!("/v2/number_orders/{oid}")).await.body["data"].clone();
    assert_eq!(done["status"], "success");
    assert!(done["phone_numbers"].as_array().unwrap().iter().all(|n| n["status"] == "success"));

    let n = s.engine.number_by_e164(&offered[0]).await.unwrap().unwrap();
    assert!(n.is_active() && n.sms() && n.mms());
    assert_eq!(n.messaging_profile_id.as_deref(), Some(pid.as_str()));
    assert_eq!(n.connection_id.as_deref(), Some(app.as_str()));
    assert_eq!(n.national_destination_code, "206");
    let shown = s.get(&format!("/v2/phone_numbers/{}", n.id)).await.body["data"].clone();
    assert_eq!(shown["status"], "active");
    assert_eq!(shown["messaging_profile_name"], "Orders");
    assert!(shown["activated_at"].is_string());

    let got = rx.wait_for(1).await;
    let hook = &got[0].json;
    assert_eq!(hook["data"]["event_type"], "number_order.complete");
    assert_eq!(hook["data"]["record_type"], "event");
    assert_eq!(hook["data"]["payload"]["id"], oid.as_str());
    assert_eq!(hook["data"]["payload"]["status"], "success");
    assert_eq!(hook["meta"]["delivered_to"], rx.url.as_str());
    let key = s.get("/_dialtone/webhooks/public_key").await.body["data"]["public_key"].as_str().unwrap().to_owned();
    assert!(crate::webhooks::verify(&key, &got[0]), "signed with the account's key");
    crate::spec::check_webhook("numberOrderStatusUpdate", hook);
    // It shows among the account's deliveries, and nothing fires twice.
    advance(&s, 60_000).await;
    assert_eq!(rx.count(), 1);
    let d = s.get("/v2/webhook_deliveries?filter[event_type]=number_order.complete").await;
    assert_eq!(d.body["meta"]["total_results"], 1);
}

#[tokio::test]
async fn an_order_completes_about_a_second_later_on_the_real_clock() {
    let s = Server::start_with(Options { manual_clock: false, ..Options::default() }).await;
    let o = buy(&s, &["+12062001234"], None).await;
    let id = o["id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let order = loop {
        let order = s.get(&format!("/v2/number_orders/{id}")).await.body["data"].clone();
        if order["status"] == "success" {
            break order;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the order did not complete");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // Not before its second, by the server's own times: the time the answer took to reach
    // this test on a loaded machine does not count.
    let at = |f: &str| chrono::DateTime::parse_from_rfc3339(order[f].as_str().unwrap()).unwrap();
    let took = at("updated_at") - at("created_at");
    assert!(took >= chrono::Duration::milliseconds(1000), "completed {took} after its creation");
    assert!(s.engine.number_by_e164("+12062001234").await.unwrap().unwrap().is_active());
}

#[tokio::test]
async fn orders_refuse_numbers_that_cannot_be_bought() {
    let s = Server::start().await;
    buy(&s, &["+13122001234"], None).await;
    let other = s.with_key(&managed_key(&s).await);
    let r = other
        .post(
            "/v2/number_orders",
            json!({"phone_numbers": [{"phone_number": "+13122001299"}, {"phone_number": "+13122001234"}]}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.code(), "90422");
    assert_eq!(r.error()["source"]["pointer"], "/phone_numbers/1/phone_number");
    assert!(other.get("/v2/phone_numbers").await.body["data"].as_array().unwrap().is_empty(), "nothing was bought");
    assert!(s.engine.number_by_e164("+13122001299").await.unwrap().is_none());

    let cases = [
        (json!({}), "10004", "/phone_numbers"),
        (json!({"phone_numbers": []}), "10015", "/phone_numbers"),
        (json!({"phone_numbers": "+13122001234"}), "10020", "/phone_numbers"),
        (json!({"phone_numbers": [{}]}), "10004", "/phone_numbers/0/phone_number"),
        (json!({"phone_numbers": ["+13122001234"]}), "10020", "/phone_numbers/0"),
        (json!({"phone_numbers": [{"phone_number": "13122001299"}]}), "10016", "/phone_numbers/0/phone_number"),
        (json!({"phone_numbers": [{"phone_number": "+15555550100"}]}), "90422", "/phone_numbers/0/phone_number"),
        (
            json!({"phone_numbers": [{"phone_number": "+13122001299"}, {"phone_number": "+13122001299"}]}),
            "10015",
            "/phone_numbers/1/phone_number",
        ),
        (
            json!({"phone_numbers": [{"phone_number": "+13122001299"}], "messaging_profile_id": "00000000-0000-4000-8000-000000000000"}),
            "10017",
            "/messaging_profile_id",
        ),
    ];
    for (body, code, pointer) in cases {
        let r = s.post("/v2/number_orders", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.code(), code, "{body}");
        assert_eq!(r.error()["source"]["pointer"], pointer, "{body}");
    }
    // Another account's profile is no profile at all.
    let theirs = create_profile(&other, json!({"name": "Theirs", "whitelisted_destinations": []})).await;
    let r = s
        .post(
            "/v2/number_orders",
            json!({"phone_numbers": [{"phone_number": "+13122001299"}], "messaging_profile_id": theirs["id"]}),
        )
        .await;
    assert_eq!(r.code(), "10017");
}

#[tokio::test]
async fn orders_are_listed_filtered_updated_and_private() {
    let s = Server::start().await;
    let a = buy(&s, &["+15122001234"], None).await;
    advance(&s, 1000).await;
    let b = buy(&s, &["+15122001235", "+15122001236"], None).await;
    let (aid, bid) = (a["id"].as_str().unwrap(), b["id"].as_str().unwrap());
    let ids = |r: &Resp| -> Vec<String> {
        r.body["data"].as_array().unwrap().iter().map(|o| o["id"].as_str().unwrap().to_owned()).collect()
    };
    let all = s.get("/v2/number_orders").await;
    assert_eq!(ids(&all), [bid, aid], "newest first");
    assert_eq!(
        all.body["data"][0]["phone_numbers"][0],
        json!({"id": b["phone_numbers"][0]["id"], "phone_number": "+15122001235"})
    );
    assert_eq!(ids(&s.get("/v2/number_orders?filter[status]=success").await), [aid]);
    assert_eq!(ids(&s.get("/v2/number_orders?filter[phone_numbers_count]=2").await), [bid]);
    assert_eq!(ids(&s.get("/v2/number_orders?page[size]=1&page[number]=2").await), [aid]);
    let created = a["created_at"].as_str().unwrap();
    assert_eq!(ids(&s.get(&format!("/v2/number_orders?filter[created_at][gt]={created}")).await), [bid]);
    assert_eq!(s.get("/v2/number_orders?filter[status]=done").await.status, 422);

    let r = s.patch(&format!("/v2/number_orders/{bid}"), json!({"customer_reference": "po-77"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["customer_reference"], "po-77");
    assert_eq!(ids(&s.get("/v2/number_orders?filter[customer_reference]=po-77").await), [bid]);
    let r = s.patch(&format!("/v2/number_orders/{bid}"), json!({"customer_reference": 7})).await;
    assert_eq!((r.status, r.error()["source"]["pointer"].as_str()), (422, Some("/customer_reference")));

    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(other.get(&format!("/v2/number_orders/{aid}")).await.status, 404);
    assert_eq!(other.patch(&format!("/v2/number_orders/{aid}"), json!({"customer_reference": "x"})).await.status, 404);
    assert!(other.get("/v2/number_orders").await.body["data"].as_array().unwrap().is_empty());
    assert_eq!(s.get("/v2/number_orders/nope").await.status, 404);
}

#[tokio::test]
async fn owned_numbers_are_filtered_updated_released_and_private() {
    let s = Server::start().await;
    let ids = own(&s, &["+13032001234", "+18885551234", "+447700900123", "+16042001234"]).await;
    let all = s.get("/v2/phone_numbers").await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["meta"]["total_results"], 4);
    let n = &all.body["data"][0];
    assert_eq!(n["record_type"], "phone_number");
    assert!(n["id"].as_str().unwrap().chars().all(|c| c.is_ascii_digit()));

    let app = crate::voice::application(&s, "https://app.example/hooks").await;
    let r = s.patch(&format!("/v2/phone_numbers/{}", ids[0]), json!({"connection_id": "777"})).await;
    assert_eq!((r.status, r.code(), r.error()["source"]["pointer"].as_str()), (422, "10017", Some("/connection_id")));
    let r = s
        .patch(
            &format!("/v2/phone_numbers/{}", ids[0]),
            json!({"tags": ["vip", "sales"], "connection_id": app,
        "customer_reference": "cust-1", "billing_group_id": "bg-1", "hd_voice_enabled": true, "external_pin": "1234"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = &r.body["data"];
    assert_eq!(u["tags"], json!(["vip", "sales"]));
    assert_eq!(u["connection_id"], app.as_str());
    assert_eq!(u["customer_reference"], "cust-1");
    assert_eq!(u["hd_voice_enabled"], true);
    assert_eq!(
        s.engine.number_by_e164("+13032001234").await.unwrap().unwrap().connection_id.as_deref(),
        Some(app.as_str())
    );
    let r = s.patch(&format!("/v2/phone_numbers/{}", ids[0]), json!({"tags": "vip"})).await;
    assert_eq!((r.status, r.error()["source"]["pointer"].as_str()), (422, Some("/tags")));

    let q = |query: &str| {
        let s = &s;
        let query = query.to_owned();
        async move {
            let r = s.get(&format!("/v2/phone_numbers?{query}")).await;
            assert_eq!(r.status, 200, "{query}: {}", r.text);
            let mut v = numbers_of(&r);
            v.sort();
            v
        }
    };
    assert_eq!(q("filter[tag]=vip").await, ["+13032001234"]);
    assert_eq!(q("filter[without_tags]=true").await.len(), 3);
    assert_eq!(q(&format!("filter[connection_id]={app}")).await, ["+13032001234"]);
    assert_eq!(q("filter[customer_reference]=cust-1").await, ["+13032001234"]);
    assert_eq!(q("filter[billing_group_id]=null").await.len(), 3);
    assert_eq!(q("filter[phone_number]=8885551234").await, ["+18885551234"]);
    assert_eq!(q("filter[phone_number]=%2B1888").await, ["+18885551234"]);
    assert_eq!(q("filter[country_iso_alpha2]=GB").await, ["+447700900123"]);
    assert_eq!(q("filter[country_iso_alpha2]=US,CA").await.len(), 3);
    assert_eq!(q("filter[number_type][eq]=toll_free").await, ["+18885551234"]);
    assert_eq!(q("filter[number_type][eq]=mobile").await, ["+447700900123"]);
    assert_eq!(q("filter[status]=active").await.len(), 4);
    assert!(q("filter[status]=purchase-pending").await.is_empty());
    assert!(q("filter[source]=ported").await.is_empty());
    assert!(q("filter[voice.connection_name][contains]=main").await.is_empty());
    let sorted = numbers_of(&s.get("/v2/phone_numbers?sort=phone_number&page[size]=3").await);
    assert_eq!(sorted, ["+13032001234", "+16042001234", "+18885551234"]);
    for (query, param) in [
        ("filter[phone_number]=12", "filter[phone_number]"),
        ("filter[status]=gone", "filter[status]"),
        ("sort=size", "sort"),
        ("filter[number_type][eq]=pager", "filter[number_type][eq]"),
        ("page[number]=0", "page[number]"),
    ] {
        let r = s.get(&format!("/v2/phone_numbers?{query}")).await;
        assert_eq!((r.status, r.error()["source"]["parameter"].as_str()), (422, Some(param)), "{query}");
    }

    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(other.get(&format!("/v2/phone_numbers/{}", ids[0])).await.status, 404);
    assert_eq!(other.patch(&format!("/v2/phone_numbers/{}", ids[0]), json!({"tags": []})).await.status, 404);
    assert_eq!(other.delete(&format!("/v2/phone_numbers/{}", ids[0])).await.status, 404);
    assert!(other.get("/v2/phone_numbers").await.body["data"].as_array().unwrap().is_empty());

    // Releasing a number returns it to the inventory.
    let d = s.delete(&format!("/v2/phone_numbers/{}", ids[0])).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["data"]["status"], "deleted");
    assert_eq!(d.body["data"]["phone_number"], "+13032001234");
    assert_eq!(s.get(&format!("/v2/phone_numbers/{}", ids[0])).await.status, 404);
    assert!(s.engine.number_by_e164("+13032001234").await.unwrap().is_none());
    buy(&other, &["+13032001234"], None).await;
    assert_eq!(s.engine.number_by_e164("+13032001234").await.unwrap().unwrap().status, "purchase-pending");
}

#[tokio::test]
async fn messaging_settings_of_numbers_and_mobiles() {
    let s = Server::start().await;
    let ids = own(&s, &["+17022001234", "+18445551234", "+447700900124", "+4915123455678"]).await;
    let p = create_profile(&s, json!({"name": "Msg", "whitelisted_destinations": ["*"]})).await;
    let pid = p["id"].as_str().unwrap();

    let r = s.get(&format!("/v2/phone_numbers/{}/messaging", ids[0])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let m = &r.body["data"];
    assert_eq!(m["record_type"], "messaging_settings");
    assert_eq!(m["type"], "longcode");
    assert_eq!(m["country_code"], "US");
    assert_eq!(m["messaging_product"], "P2P");
    assert!(m["messaging_profile_id"].is_null());
    assert_eq!(m["features"]["sms"]["domestic_two_way"], true);

    let r = s
        .patch(
            &format!("/v2/phone_numbers/{}/messaging", ids[0]),
            json!({"messaging_profile_id": pid, "messaging_product": "A2P", "tags": ["x"]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["messaging_profile_id"], pid);
    assert_eq!(r.body["data"]["messaging_product"], "A2P");
    assert_eq!(r.body["data"]["tags"], json!(["x"]));
    // null keeps, "" unassigns.
    let r = s.patch(&format!("/v2/phone_numbers/{}/messaging", ids[0]), json!({"messaging_profile_id": null})).await;
    assert_eq!(r.body["data"]["messaging_profile_id"], pid);
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{pid}/phone_numbers")).await.body["meta"]["total_results"], 1);
    let r = s.patch(&format!("/v2/phone_numbers/{}/messaging", ids[0]), json!({"messaging_profile_id": ""})).await;
    assert!(r.body["data"]["messaging_profile_id"].is_null());
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{pid}/phone_numbers")).await.body["meta"]["total_results"], 0);

    let r = s.patch(&format!("/v2/phone_numbers/{}/messaging", ids[1]), json!({"messaging_product": "P2P"})).await;
    assert_eq!((r.status, r.error()["source"]["pointer"].as_str()), (422, Some("/messaging_product")));
    let r = s
        .patch(
            &format!("/v2/phone_numbers/{}/messaging", ids[1]),
            json!({"messaging_profile_id": "00000000-0000-4000-8000-000000000000"}),
        )
        .await;
    assert_eq!((r.status, r.code()), (422, "10017"));

    s.patch(&format!("/v2/phone_numbers/{}/messaging", ids[1]), json!({"messaging_profile_id": pid})).await;
    let list = |query: &str| {
        let s = &s;
        let query = query.to_owned();
        async move {
            let r = s.get(&format!("/v2/phone_numbers/messaging?{query}")).await;
            assert_eq!(r.status, 200, "{query}: {}", r.text);
            numbers_of(&r)
        }
    };
    assert_eq!(list("").await, ["+17022001234", "+18445551234", "+447700900124", "+4915123455678"]);
    assert_eq!(list("sort[phone_number]=desc&page[size]=1").await, ["+4915123455678"]);
    assert_eq!(list("filter[type]=tollfree").await, ["+18445551234"]);
    assert_eq!(list(&format!("filter[messaging_profile_id]={pid}")).await, ["+18445551234"]);
    assert_eq!(list("filter[phone_number]=%2B17022001234").await, ["+17022001234"]);
    assert_eq!(list("filter[phone_number][contains]=4477").await, ["+447700900124"]);
    assert_eq!(s.get("/v2/phone_numbers/messaging?filter[type]=pager").await.status, 422);

    // Mobile numbers only.
    let r = s.get("/v2/mobile_phone_numbers/messaging").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(numbers_of(&r), ["+447700900124", "+4915123455678"]);
    assert!(r.body["data"][0]["features"]["sms"].is_object());
    let r = s.get(&format!("/v2/mobile_phone_numbers/{}/messaging", ids[2])).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["type"], "longcode");
    assert_eq!(r.body["data"]["country_code"], "GB");
    assert_eq!(s.get(&format!("/v2/mobile_phone_numbers/{}/messaging", ids[0])).await.status, 404);

    let other = s.with_key(&managed_key(&s).await);
    assert_eq!(other.get(&format!("/v2/phone_numbers/{}/messaging", ids[0])).await.status, 404);
    assert_eq!(other.patch(&format!("/v2/phone_numbers/{}/messaging", ids[0]), json!({})).await.status, 404);
    assert_eq!(other.get(&format!("/v2/mobile_phone_numbers/{}/messaging", ids[2])).await.status, 404);
    assert!(other.get("/v2/phone_numbers/messaging").await.body["data"].as_array().unwrap().is_empty());
    assert!(other.get("/v2/mobile_phone_numbers/messaging").await.body["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bulk_updates_report_each_number() {
    let s = Server::start().await;
    own(&s, &["+14042001234", "+14042001235"]).await;
    let other = s.with_key(&managed_key(&s).await);
    buy(&other, &["+14042001236"], None).await;
    let p = create_profile(&s, json!({"name": "Bulk", "whitelisted_destinations": ["US"]})).await;
    let pid = p["id"].as_str().unwrap();

    let numbers = ["+14042001234", "+14042001235", "+14042001236", "+14042009999"];
    let r =
        s.post("/v2/messaging_numbers_bulk_updates", json!({"messaging_profile_id": pid, "numbers": numbers})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let u = &r.body["data"];
    assert_eq!(u["record_type"], "messaging_numbers_bulk_update");
    assert_eq!(u["pending"], json!(numbers));
    let oid = u["order_id"].as_str().unwrap().to_owned();
    advance(&s, 0).await;
    let r = s.get(&format!("/v2/messaging_numbers_bulk_updates/{oid}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["pending"], json!([]));
    assert_eq!(r.body["data"]["success"], json!(["+14042001234", "+14042001235"]));
    assert_eq!(r.body["data"]["failed"], json!(["+14042001236", "+14042009999"]), "another's and nobody's fail");
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{pid}/phone_numbers")).await.body["meta"]["total_results"], 2);
    assert!(other.get("/v2/phone_numbers").await.body["data"][0]["messaging_profile_id"].is_null());

    // The documented alias, and "" unassigns.
    let r = s
        .post("/v2/messaging_numbers/bulk_updates", json!({"messaging_profile_id": "", "numbers": ["+14042001234"]}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let oid2 = r.body["data"]["order_id"].as_str().unwrap().to_owned();
    advance(&s, 0).await;
    let r = s.get(&format!("/v2/messaging_numbers/bulk_updates/{oid2}")).await;
    assert_eq!(r.body["data"]["success"], json!(["+14042001234"]));
    assert_eq!(s.get(&format!("/v2/messaging_profiles/{pid}/phone_numbers")).await.body["meta"]["total_results"], 1);

    for (body, code, pointer) in [
        (json!({"numbers": ["+14042001234"]}), "10004", "/messaging_profile_id"),
        (json!({"messaging_profile_id": pid}), "10004", "/numbers"),
        (json!({"messaging_profile_id": pid, "numbers": []}), "10015", "/numbers"),
        (json!({"messaging_profile_id": pid, "numbers": ["4042001234"]}), "10016", "/numbers/0"),
        (json!({"messaging_profile_id": pid, "numbers": [5]}), "10020", "/numbers/0"),
        (
            json!({"messaging_profile_id": "00000000-0000-4000-8000-000000000000", "numbers": ["+14042001234"]}),
            "10017",
            "/messaging_profile_id",
        ),
    ] {
        let r = s.post("/v2/messaging_numbers_bulk_updates", body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert_eq!(r.code(), code, "{body}");
        assert_eq!(r.error()["source"]["pointer"], pointer, "{body}");
    }
    assert_eq!(other.get(&format!("/v2/messaging_numbers_bulk_updates/{oid}")).await.status, 404);
}
