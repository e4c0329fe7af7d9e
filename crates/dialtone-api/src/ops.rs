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

#[derive(Clone, Debug)]
pub struct Op {
    pub method: String,
    /// The spec's path template (`/rooms/{room_id}`): axum's syntax too.
    pub path: String,
    pub operation_id: String,
    pub product: Product,
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
                    out.push(Op {
                        method: method.to_uppercase(),
                        path: path.clone(),
                        operation_id: op["operationId"].as_str().unwrap_or_default().to_owned(),
                        product: product_of(path),
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
    fn products_follow_the_path() {
        assert_eq!(product_of("/rooms/{room_id}"), Product::Video);
        assert_eq!(product_of("/phone_numbers/{id}/messaging"), Product::Messaging);
        assert_eq!(product_of("/phone_numbers/{id}"), Product::Numbers);
        assert_eq!(product_of("/calls/{call_control_id}/actions/answer"), Product::Voice);
    }
}
