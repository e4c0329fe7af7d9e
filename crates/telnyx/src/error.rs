//! One error type for every call: a variant per status class the official SDKs tell apart,
//! plus transport, timeout and decoding failures.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::time::Duration;

/// The result of every API call.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where an error points in the request.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorSource {
    /// A JSON pointer into the request body, e.g. `/to`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// The query or path parameter at fault.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
}

/// One entry of Telnyx's `errors` array (or video's bare error object).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ErrorObject {
    /// Telnyx's error code, e.g. `"10015"` (numbers are turned into strings).
    #[serde(default, deserialize_with = "crate::model::string_or_number")]
    pub code: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub source: Option<ErrorSource>,
    #[serde(default)]
    pub meta: Option<Value>,
    /// Fields this version does not know (video's `message`, say).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An answer outside 2xx: its status, the parsed errors and the raw body.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ApiError {
    pub status: u16,
    /// The `errors` array; video's bare error object or `{message}` is one entry.
    pub errors: Vec<ErrorObject>,
    /// The body as received.
    pub body: String,
    /// The delay the server asked for (`retry-after-ms` or `Retry-After`).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub(crate) fn parse(status: u16, body: String, retry_after: Option<Duration>) -> ApiError {
        let errors = match serde_json::from_str::<Value>(&body) {
            Ok(Value::Object(mut o)) => match o.remove("errors") {
                Some(v @ Value::Array(_)) => serde_json::from_value(v).unwrap_or_default(),
                _ if o.is_empty() => Vec::new(),
                _ => {
                    let mut e: ErrorObject = serde_json::from_value(Value::Object(o)).unwrap_or_default();
                    if e.detail.is_none() {
                        e.detail = e.extra.get("message").and_then(Value::as_str).map(str::to_owned);
                    }
                    vec![e]
                }
            },
            _ => Vec::new(),
        };
        ApiError { status, errors, body, retry_after }
    }

    /// The first error's code, the usual thing to match on.
    pub fn code(&self) -> Option<&str> {
        self.errors.first().and_then(|e| e.code.as_deref())
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if let Some(e) = self.errors.first() {
            if let Some(c) = &e.code {
                write!(f, " [{c}]")?;
            }
            if let Some(t) = &e.title {
                write!(f, " {t}")?;
            }
            if let Some(d) = &e.detail {
                write!(f, ": {d}")?;
            }
        }
        Ok(())
    }
}

/// Everything a call can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 400
    #[error("bad request: {0}")]
    BadRequest(ApiError),
    /// 401: a missing or wrong API key.
    #[error("authentication failed: {0}")]
    Authentication(ApiError),
    /// 403
    #[error("permission denied: {0}")]
    PermissionDenied(ApiError),
    /// 404
    #[error("not found: {0}")]
    NotFound(ApiError),
    /// 409
    #[error("conflict: {0}")]
    Conflict(ApiError),
    /// 422: the request was understood but refused; `source.pointer` says where.
    #[error("unprocessable entity: {0}")]
    UnprocessableEntity(ApiError),
    /// 429, with the server's `retry_after` when it gave one.
    #[error("rate limited: {0}")]
    RateLimit(ApiError),
    /// 500 and above.
    #[error("server error: {0}")]
    InternalServer(ApiError),
    /// Any other status outside 2xx (405, 413, ...).
    #[error("unexpected status: {0}")]
    Status(ApiError),
    /// The request did not get an answer (connection refused, reset, DNS...).
    #[error("connection error: {0}")]
    Connection(#[source] reqwest::Error),
    /// An attempt ran past the client's timeout, or the retries past the overall deadline.
    #[error("timed out")]
    Timeout,
    /// A 2xx answer whose body is not what the operation returns.
    #[error("cannot decode the answer: {source}")]
    Decode {
        #[source]
        source: serde_json::Error,
        body: String,
    },
    /// The client is not configured (no API key, bad base URL, missing public key...).
    #[error("configuration: {0}")]
    Config(String),
    /// A webhook failed verification.
    #[error("webhook: {0}")]
    Webhook(#[from] crate::webhooks::WebhookError),
}

impl Error {
    pub(crate) fn from_status(e: ApiError) -> Error {
        match e.status {
            400 => Error::BadRequest(e),
            401 => Error::Authentication(e),
            403 => Error::PermissionDenied(e),
            404 => Error::NotFound(e),
            409 => Error::Conflict(e),
            422 => Error::UnprocessableEntity(e),
            429 => Error::RateLimit(e),
            500.. => Error::InternalServer(e),
            _ => Error::Status(e),
        }
    }

    /// The API's answer when there was one.
    pub fn api(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(e)
            | Error::Authentication(e)
            | Error::PermissionDenied(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::UnprocessableEntity(e)
            | Error::RateLimit(e)
            | Error::InternalServer(e)
            | Error::Status(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, when the server answered.
    pub fn status(&self) -> Option<u16> {
        self.api().map(|e| e.status)
    }

    /// The parsed `errors` array (empty when there was no answer).
    pub fn errors(&self) -> &[ErrorObject] {
        self.api().map(|e| e.errors.as_slice()).unwrap_or(&[])
    }

    /// The raw body of the answer.
    pub fn body(&self) -> Option<&str> {
        self.api().map(|e| e.body.as_str())
    }

    /// The first error's Telnyx code.
    pub fn code(&self) -> Option<&str> {
        self.api().and_then(ApiError::code)
    }
}
