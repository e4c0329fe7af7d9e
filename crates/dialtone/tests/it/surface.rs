//! The API surface: routing of every operation, 404/405/501, the served spec, and bad input.

use crate::harness::Server;
use crate::spec;
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

/// The properties the spec names for an operation's JSON request body (through `$ref`,
/// `allOf`, `oneOf` and `anyOf`).
fn body_properties(schema: &serde_json::Value, out: &mut Vec<String>, depth: usize) {
    let schema = spec::resolve(schema);
    if depth > 8 {
        return;
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        for s in schema[key].as_array().into_iter().flatten() {
            body_properties(s, out, depth + 1);
        }
    }
    for name in schema["properties"].as_object().into_iter().flat_map(|p| p.keys()) {
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
}

/// The query keys the spec names for an operation, with `deepObject` parameters spelled out
/// to their leaves (`filter[created_at][gte]`).
fn query_keys(op: &serde_json::Value, item: &serde_json::Value) -> Vec<String> {
    fn leaves(schema: &serde_json::Value, key: String, out: &mut Vec<String>, depth: usize) {
        match spec::resolve(schema)["properties"].as_object() {
            Some(props) if depth < 4 => {
                for (name, sub) in props {
                    leaves(sub, format!("{key}[{name}]"), out, depth + 1);
                }
            }
            _ => out.push(key),
        }
    }
    let mut out = Vec::new();
    for p in op["parameters"].as_array().into_iter().chain(item["parameters"].as_array()).flatten() {
        let p = spec::resolve(p);
        if p["in"] != "query" {
            continue;
        }
        let name = p["name"].as_str().unwrap_or_default().to_owned();
        if p["style"] == "deepObject" {
            leaves(&p["schema"], name, &mut out, 0);
        } else {
            out.push(name);
        }
    }
    out
}

/// Every operation, fed bodies of the wrong shape and every property of its request body
/// with values of the wrong type (or out of any range), on ids that exist and ids that do
/// not; and lists and reads every query parameter the spec names with values it cannot
/// take: always an answer in the Telnyx format, never a 5xx (the harness checks both on
/// every response).
#[tokio::test]
async fn wrong_bodies_and_wrong_values_never_answer_5xx() {
    let s = Server::start().await;
    let spec = spec::spec();
    // Real ids for the path parameters that name things this account can have.
    let account = s.post("/v2/managed_accounts", json!({"business_name": "Sweep"})).await;
    let account = account.body["data"]["id"].as_str().expect(&account.text).to_owned();
    let profile = s.post("/v2/messaging_profiles", json!({"name": "sweep", "whitelisted_destinations": ["US"]})).await;
    let profile = profile.body["data"]["id"].as_str().expect(&profile.text).to_owned();
    let room = s.post("/v2/rooms", json!({"unique_name": "sweep"})).await;
    let room = room.body["data"]["id"].as_str().expect(&room.text).to_owned();
    // A parameter named `id` names what the path's first segment lists.
    let real = |path: &str, param: &str| -> Option<&str> {
        let collection = path.trim_start_matches('/').split('/').next().unwrap_or_default();
        match (param, collection) {
            ("id", "managed_accounts") | ("managed_account_id", _) => Some(&account),
            ("id", "messaging_profiles") | ("messaging_profile_id" | "profile_id", _) => Some(&profile),
            ("id", "rooms") | ("room_id", _) => Some(&room),
            _ => None,
        }
    };
    let wrong: Vec<serde_json::Value> = vec![
        json!(null),
        json!(true),
        json!(-1),
        json!(18446744073709551615u64),
        json!(1.5e300),
        json!(""),
        json!("x".repeat(5000)),
        json!("\u{1F4A9}\u{0000}"),
        json!([]),
        json!([json!({})]),
        json!({"nested": {"deeper": [1, "two", null]}}),
    ];
    let mut requests = 0;
    let mut statuses = std::collections::BTreeMap::new();
    // Deletes last, so the other operations find the real ids still there.
    let mut ops: Vec<_> = dialtone_api::ops::all().iter().collect();
    ops.sort_by_key(|op| op.method == "DELETE");
    for op in ops {
        let method = Method::from_bytes(op.method.as_bytes()).unwrap();
        let params: Vec<&str> =
            op.path.split('/').filter_map(|seg| seg.strip_prefix('{').and_then(|p| p.strip_suffix('}'))).collect();
        let with = |use_real: bool| {
            let mut path = format!("/v2{}", op.path);
            for p in &params {
                let id =
                    if use_real { real(&op.path, p).unwrap_or("00000000-0000-0000-0000-000000000000") } else { "nope" };
                path = path.replace(&format!("{{{p}}}"), id);
            }
            path
        };
        let paths = if params.is_empty() { vec![with(true)] } else { vec![with(true), with(false)] };
        let op_spec = &spec["paths"][&op.path][op.method.to_lowercase()];
        let content = &spec::resolve(&op_spec["requestBody"])["content"]["application/json"];
        let mut props = Vec::new();
        body_properties(&content["schema"], &mut props, 0);
        // The spec's example of the body, where it has one: each wrong value goes in it, so
        // that it is the one thing wrong.
        let example = [&content["example"], &spec::resolve(&content["schema"])["example"]]
            .into_iter()
            .chain(content["examples"].as_object().into_iter().flat_map(|e| e.values()).map(|e| &e["value"]))
            .find(|e| e.is_object())
            .cloned()
            .unwrap_or_else(|| json!({}));
        if op.method == "DELETE" || op.method == "GET" {
            // Query strings instead of bodies: pages and filters of the wrong type.
            let mut queries: Vec<String> =
                ["page[size]=-1", "page[number]=x", "page[size]=99999999999999999999", "filter[x][y][z]=1"]
                    .map(String::from)
                    .into();
            for key in query_keys(op_spec, &spec["paths"][&op.path]) {
                for value in
                    ["", "x", "-1", "99999999999999999999", "2026-13-45T99:99:99Z", "%00", "a,b,,", "%F0%9F%92%A9"]
                {
                    queries.push(format!("{key}={value}"));
                }
                queries.push(format!("{key}[deeper]=1"));
            }
            for path in &paths {
                for q in &queries {
                    let r = s.send(method.clone(), &format!("{path}?{q}"), None).await;
                    *statuses.entry(r.status).or_insert(0) += 1;
                    requests += 1;
                }
            }
            continue;
        }
        for path in &paths {
            for body in [b"{".as_slice(), b"[]", b"\"text\"", b"null", b"{}", b"{\"a\":1}\x00"] {
                let r = s.send_raw(method.clone(), path, Some("application/json"), body.to_vec()).await;
                *statuses.entry(r.status).or_insert(0) += 1;
                requests += 1;
            }
            for prop in &props {
                for value in &wrong {
                    let mut body = example.clone();
                    body[prop.as_str()] = value.clone();
                    let r = s.send(method.clone(), path, Some(body)).await;
                    *statuses.entry(r.status).or_insert(0) += 1;
                    requests += 1;
                }
            }
        }
    }
    // Most wrong values reach validation (422), not only the lookup of a missing id (404).
    let invalid = statuses.get(&422).copied().unwrap_or(0);
    assert!(requests > 12_000 && invalid * 2 > requests, "{requests} requests: {statuses:?}");
}
