//! What a handler answers, and how errors are rendered per product.

use crate::ops::{ErrorShape, Op};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dialtone_domain::error::ApiError;
use serde_json::{Value, json};

#[derive(Debug)]
pub enum Reply {
    /// A JSON body with a status.
    Json(u16, Value),
    /// A JSON body already serialized (from a type, without a `Value` tree).
    JsonText(u16, String),
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

    /// `200 {"data": ...}` from any serializable type, straight to text.
    pub fn data_of<T: serde::Serialize>(v: &T) -> Reply {
        #[derive(serde::Serialize)]
        struct Data<'a, T> {
            data: &'a T,
        }
        match serde_json::to_string(&Data { data: v }) {
            Ok(text) => Reply::JsonText(200, text),
            Err(e) => Reply::Json(500, ApiError::unexpected().detail(e.to_string()).body()),
        }
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
    json_text_response(code, body.to_string())
}

fn json_text_response(code: u16, body: String) -> Response {
    let mut r = (status(code), body).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self {
            Reply::Json(code, body) => json_response(code, &body),
            Reply::JsonText(code, body) => json_text_response(code, body),
            Reply::Empty(code) => status(code).into_response(),
            Reply::Text(code, ct, body) => {
                let mut r = (status(code), body).into_response();
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
                r
            }
        }
    }
}

/// Renders an error in the shape the spec gives the operation's response with that status:
/// the usual `{"errors": [...]}`, a bare error object (video 404s, messaging cancels), or
/// video's `{message, success}` (kept beside `errors` so either reading works). Errors
/// outside an operation (unknown paths, simulation API) use the envelope.
pub fn render_error(e: &ApiError, op: Option<&Op>) -> Response {
    let code = e.status();
    let shape = op.map(|o| o.error_shape(code)).unwrap_or(ErrorShape::Envelope);
    let body = match shape {
        ErrorShape::Bare => e.error_object(),
        ErrorShape::MessageSuccess => {
            let mut b = e.body();
            b["message"] = json!(e.detail);
            b["success"] = json!(false);
            b
        }
        ErrorShape::Envelope => e.body(),
    };
    let mut r = json_response(code, &body);
    if let Some(secs) = e.retry_after
        && let Ok(v) = HeaderValue::from_str(&secs.to_string())
    {
        r.headers_mut().insert(header::RETRY_AFTER, v);
    }
    r
}
