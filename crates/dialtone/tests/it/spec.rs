//! Validation of response bodies against the OpenAPI subset's response schemas.

use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

/// The embedded OpenAPI subset, parsed once.
pub fn spec() -> &'static Value {
    static SPEC: OnceLock<Value> = OnceLock::new();
    SPEC.get_or_init(|| serde_json::from_str(dialtone_api::ops::SPEC).unwrap())
}

/// `v`, or what its `$ref` (`#/components/{section}/{name}`) names, followed to the end.
pub fn resolve(v: &Value) -> &Value {
    let mut v = v;
    for _ in 0..16 {
        let Some(r) = v["$ref"].as_str() else { break };
        let mut parts = r.trim_start_matches("#/components/").splitn(2, '/');
        let (section, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        v = &spec()["components"][section][name];
    }
    v
}

type CacheKey = (String, String, u16);

/// The spec's path template matching a concrete path (static segments beat parameters).
pub fn template_for(method: &str, path: &str) -> Option<String> {
    let path = path.split('?').next().unwrap_or_default();
    let path = path.strip_prefix("/v2").unwrap_or(path);
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let mut best: Option<(usize, String)> = None;
    for (tpl, item) in spec()["paths"].as_object()? {
        if item.get(method.to_lowercase()).is_none() {
            continue;
        }
        let t: Vec<&str> = tpl.trim_matches('/').split('/').collect();
        if t.len() != segs.len() {
            continue;
        }
        let mut statics = 0;
        let ok = t.iter().zip(&segs).all(|(a, b)| {
            if a.starts_with('{') {
                true
            } else {
                statics += 1;
                a == b
            }
        });
        if ok && best.as_ref().is_none_or(|(s, _)| statics > *s) {
            best = Some((statics, tpl.clone()));
        }
    }
    best.map(|(_, t)| t)
}

/// The response schema for an operation and status, resolving `$ref`ed responses.
fn response_schema(method: &str, template: &str, status: u16) -> Option<Value> {
    let op = &spec()["paths"][template][method.to_lowercase()];
    let responses = &op["responses"];
    let key = status.to_string();
    let family = format!("{}XX", status / 100);
    let resp = resolve(responses.get(&key).or_else(|| responses.get(&family)).or_else(|| responses.get("default"))?);
    resp["content"]["application/json"]["schema"]
        .as_object()
        .map(|_| resp["content"]["application/json"]["schema"].clone())
}

/// Panics when `body` does not match the spec for this response. A status the operation
/// does not document (other than the cross-cutting 401/403/413/429/501/503) also fails.
pub fn check_response(method: &str, path: &str, status: u16, body: &Value) {
    let Some(template) = template_for(method, path) else {
        return;
    };
    let documented = spec()["paths"][&template][method.to_lowercase()]["responses"]
        .as_object()
        .map(|r| r.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default();
    let cross_cutting = [400, 401, 403, 404, 405, 413, 422, 429, 500, 501, 503];
    let family = format!("{}XX", status / 100);
    assert!(
        documented.iter().any(|k| *k == status.to_string() || *k == family || k == "default")
            || cross_cutting.contains(&status),
        "{method} {path}: status {status} is not documented (documented: {documented:?})"
    );
    let Some(schema) = response_schema(method, &template, status) else {
        return;
    };
    static CACHE: OnceLock<Mutex<HashMap<CacheKey, std::sync::Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (method.to_owned(), template.clone(), status);
    let validator = {
        let mut g = cache.lock().unwrap();
        g.entry(key)
            .or_insert_with(|| {
                let mut root = schema.clone();
                root["components"] = spec()["components"].clone();
                root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
                std::sync::Arc::new(
                    jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&root)
                        .unwrap_or_else(|e| panic!("schema for {method} {template} {status}: {e}")),
                )
            })
            .clone()
    };
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(
        errors.is_empty(),
        "{method} {path} ({status}) does not match the spec:\n{}\nbody: {body}",
        errors.join("\n")
    );
}

/// Panics when a webhook body does not match the request body the spec's `webhooks`
/// section gives the callback `name`.
pub fn check_webhook(name: &str, body: &Value) {
    static CACHE: OnceLock<Mutex<HashMap<String, std::sync::Arc<jsonschema::Validator>>>> = OnceLock::new();
    let validator = {
        let mut g = CACHE.get_or_init(Default::default).lock().unwrap();
        g.entry(name.to_owned())
            .or_insert_with(|| {
                let schema =
                    spec()["webhooks"][name]["post"]["requestBody"]["content"]["application/json"]["schema"].clone();
                assert!(schema.is_object(), "the spec has no webhook {name}");
                let mut root = schema;
                root["components"] = spec()["components"].clone();
                root["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
                std::sync::Arc::new(
                    jsonschema::options()
                        .with_draft(jsonschema::Draft::Draft202012)
                        .build(&root)
                        .unwrap_or_else(|e| panic!("schema for webhook {name}: {e}")),
                )
            })
            .clone()
    };
    let errors: Vec<String> = validator.iter_errors(body).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(errors.is_empty(), "webhook {name} does not match the spec:\n{}\nbody: {body}", errors.join("\n"));
}

#[test]
fn templates_prefer_static_segments() {
    assert_eq!(
        template_for("GET", "/v2/managed_accounts/allocatable_global_outbound_channels").as_deref(),
        Some("/managed_accounts/allocatable_global_outbound_channels")
    );
    assert_eq!(template_for("GET", "/managed_accounts/abc").as_deref(), Some("/managed_accounts/{id}"));
    assert_eq!(template_for("GET", "/nothing"), None);
}

#[test]
fn a_wrong_body_is_caught() {
    let bad = json!({"data": {"id": 5}});
    let r = std::panic::catch_unwind(|| check_response("GET", "/v2/managed_accounts/x", 200, &bad));
    assert!(r.is_err(), "a body missing required fields must fail validation");
}
