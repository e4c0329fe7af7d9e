//! What a handler answers, and how errors are rendered per product.

use crate::ops::Product;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_domain::error::ApiError;
use serde_json::{Value, json};

#[derive(Debug)]
pub enum Reply {
    /// A JSON body with a status.
    Json(u16, Value),
    /// No body (204).
    Empty(u16),
    /// A non-JSON body (CSV report).
    Text(u16, &'static str, String),
}

impl Reply {
    /// `200 {"data": ...}`.
    pub fn data(v: Value) -> Reply {
        Reply::Json(200, json!({ "data": v }))
    }

    /// `200 {"data": [...], "meta": {...}}`.
    pub fn list(items: Vec<Value>, meta: dialtone_domain::page::Meta) -> Reply {
        Reply::Json(200, json!({ "data": items, "meta": meta }))
    }
}

fn status(code: u16) -> StatusCode {
    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

pub fn json_response(code: u16, body: &Value) -> Response {
    let mut r = (status(code), body.to_string()).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(code, body) => json_response(code, &body),
            Reply::Empty(code) => status(code).into_response(),
            Reply::Text(code, ct, body) => {
                let mut r = (status(code), body).into_response();
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
                r
            }
        }
    }
}

/// Renders an error in the shape the product's part of the spec gives it: the usual
/// `{"errors": [...]}` everywhere, except video, whose 404 is a bare error object and whose
/// other 4XX carry `message`/`success` (kept beside `errors` so either reading works).
pub fn render_error(e: &ApiError, product: Option<Product>) -> Response {
    let code = e.status();
    let body = match (product, code) {
        (Some(Product::Video), 404) => e.error_object(),
        (Some(Product::Video), 400..=499) if code != 422 => {
            let mut b = e.body();
            b["message"] = json!(e.detail);
            b["success"] = json!(false);
            b
        }
        _ => e.body(),
    };
    let mut r = json_response(code, &body);
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}
