//! The operations Dialtone serves, read from the OpenAPI document it embeds, so every
//! operation of the subset is routed and the served document is the implemented one.

use serde_json::Value;
use std::sync::OnceLock;

/// The OpenAPI subset, served at `/v2/openapi.json`.
pub const SPEC: &str = include_str!("../openapi/telnyx-openapi-subset.json");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Product {
    Accounts,
    Video,
    Voice,
    Messaging,
    Numbers,
    Webhooks,
}

/// How an operation's error responses are shaped in the spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorShape {
    /// `{"errors": [{code, title, detail, source, meta}]}`: the usual envelope.
    Envelope,
    /// A bare error object `{code, title, detail, ...}` (video 404s, messaging cancels).
    Bare,
    /// `{"message", "success"}` (video's generic 4XX); the envelope is kept beside it.
    MessageSuccess,
}

#[derive(Clone, Debug)]
pub struct Op {
    pub method: String,
    /// The spec's path template (`/rooms/{room_id}`): axum's syntax too.
    pub path: String,
    pub operation_id: String,
    pub product: Product,
    /// Error shapes by response key (`"404"`, `"4XX"`, `"default"`).
    pub error_shapes: Vec<(String, ErrorShape)>,
}

impl Op {
    /// The shape the spec gives this operation's error response with `status`.
    pub fn error_shape(&self, status: u16) -> ErrorShape {
        let exact = status.to_string();
        let family = format!("{}XX", status / 100);
        for key in [exact.as_str(), family.as_str(), "default"] {
            if let Some((_, shape)) = self.error_shapes.iter().find(|(k, _)| k == key) {
                return *shape;
            }
        }
        ErrorShape::Envelope
    }
}

/// Reads the shape of a response object, following `$ref`s into the components.
fn shape_of(spec: &Value, response: &Value) -> Option<ErrorShape> {
    let resolve = |v: &Value| -> Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let mut cur = spec;
                for part in r.trim_start_matches("#/").split('/') {
                    cur = &cur[part];
                }
                cur.clone()
            }
            None => v.clone(),
        }
    };
    let response = resolve(response);
    let schema = resolve(&response["content"]["application/json"]["schema"]);
    let props = schema.get("properties")?;
    if props.get("errors").is_some() {
        Some(ErrorShape::Envelope)
    } else if props.get("message").is_some() && props.get("success").is_some() {
        Some(ErrorShape::MessageSuccess)
    } else if props.get("code").is_some() && props.get("title").is_some() {
        Some(ErrorShape::Bare)
    } else {
        None
    }
}

/// Every operation of the subset, in the spec's order.
pub fn all() -> &'static [Op] {
    static OPS: OnceLock<Vec<Op>> = OnceLock::new();
    OPS.get_or_init(|| {
        let spec: Value = serde_json::from_str(SPEC).expect("embedded spec is JSON");
        let mut out = Vec::new();
        if let Some(paths) = spec["paths"].as_object() {
            for (path, item) in paths {
                let Some(item) = item.as_object() else {
                    continue;
                };
                for (method, op) in item {
                    if !matches!(method.as_str(), "get" | "post" | "put" | "patch" | "delete") {
                        continue;
                    }
                    let error_shapes = op["responses"]
                        .as_object()
                        .map(|r| {
                            r.iter()
                                .filter(|(k, _)| !k.starts_with('2'))
                                .filter_map(|(k, v)| shape_of(&spec, v).map(|s| (k.clone(), s)))
                                .collect()
                        })
                        .unwrap_or_default();
                    out.push(Op {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        operation_id: op["operationId"].as_str().unwrap_or_default().to_owned(),
                        product: product_of(path),
                        error_shapes,
                    });
                }
            }
        }
        out
    })
}

fn product_of(path: &str) -> Product {
    let first = path.trim_start_matches('/').split('/').next().unwrap_or_default();
    match first {
        "rooms" | "room_sessions" | "room_participants" | "room_recordings" | "room_compositions" => Product::Video,
        "calls" | "call_control_applications" | "connections" => Product::Voice,
        "managed_accounts" | "organizations" => Product::Accounts,
        "webhook_deliveries" => Product::Webhooks,
        "phone_numbers" | "mobile_phone_numbers" if path.ends_with("/messaging") => Product::Messaging,
        "phone_numbers" | "available_phone_numbers" | "number_orders" => Product::Numbers,
        _ => Product::Messaging,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_has_122_operations_with_ids() {
        let ops = all();
        assert_eq!(ops.len(), 122);
        assert!(ops.iter().all(|o| !o.operation_id.is_empty()));
        let ids: std::collections::HashSet<_> = ops.iter().map(|o| &o.operation_id).collect();
        assert_eq!(ids.len(), 122, "operation ids are unique");
    }

    #[test]
    fn error_shapes_come_from_the_spec() {
        let find = |id: &str| all().iter().find(|o| o.operation_id == id).unwrap();
        assert_eq!(find("CancelMessage").error_shape(404), ErrorShape::Bare);
        assert_eq!(find("ViewRoom").error_shape(404), ErrorShape::Bare);
        assert_eq!(find("SendMessage").error_shape(422), ErrorShape::Envelope);
        assert_eq!(find("ListManagedAccounts").error_shape(401), ErrorShape::Envelope);
    }

    #[test]
    fn products_follow_the_path() {
        assert_eq!(product_of("/rooms/{room_id}"), Product::Video);
        assert_eq!(product_of("/phone_numbers/{id}/messaging"), Product::Messaging);
        assert_eq!(product_of("/phone_numbers/{id}"), Product::Numbers);
        assert_eq!(product_of("/calls/{call_control_id}/actions/answer"), Product::Voice);
    }
}
