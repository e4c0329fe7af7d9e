//! The HTTP surface of Dialtone.
//!
//! Every operation of the embedded OpenAPI subset is routed (under `/v2` and at the root).
//! One dispatch function does what every operation shares, in this order: authenticate the
//! bearer key (401), refuse a disabled account (403), apply the per-key rate limit (429)
//! and injected faults, read the query and the JSON body (400/413/422), then call the
//! operation's handler, or answer 501 naming the operation when it is not built yet. A
//! handler is a thin function from [`Ctx`] to [`Reply`]: it calls one engine method and
//! shapes the answer.

pub mod handlers;
pub mod limits;
pub mod ops;
pub mod reply;
mod sim;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter, on};
use dialtone_domain::accounts::Account;
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::query::Query;
use dialtone_engine::Engine;
use dialtone_engine::scheduler::Scheduler;
use ops::{Op, Product};
use reply::{Reply, render_error};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Request bodies larger than this are refused with 413 (documented in the README).
pub const BODY_LIMIT: usize = 1024 * 1024;

#[derive(Clone, Debug)]
pub struct AppState {
    pub engine: Engine,
    pub scheduler: Scheduler,
    pub rate: Arc<limits::RateLimiter>,
    pub faults: Arc<limits::Faults>,
}

/// Everything a handler gets.
pub struct Ctx {
    pub state: AppState,
    pub caller: Account,
    pub op: &'static Op,
    pub params: BTreeMap<String, String>,
    pub query: Query,
    pub body: Body,
    pub headers: HeaderMap,
}

impl Ctx {
    pub fn engine(&self) -> &Engine {
        &self.state.engine
    }

    pub fn param(&self, name: &str) -> &str {
        self.params.get(name).map(String::as_str).unwrap_or_default()
    }
}

pub type HandlerResult = Result<Reply, ApiError>;

/// The whole application router.
pub fn router(state: AppState) -> Router {
    let mut by_path: BTreeMap<&str, MethodRouter<AppState>> = BTreeMap::new();
    for op in ops::all() {
        let filter = match op.method.as_str() {
            "GET" => MethodFilter::GET,
            "POST" => MethodFilter::POST,
            "PUT" => MethodFilter::PUT,
            "PATCH" => MethodFilter::PATCH,
            _ => MethodFilter::DELETE,
        };
        let mr = by_path.remove(op.path.as_str()).unwrap_or_default();
        let route = on(
            filter,
            move |State(st): State<AppState>,
                  params: RawPathParams,
                  RawQuery(raw): RawQuery,
                  headers: HeaderMap,
                  body: Result<Bytes, BytesRejection>| async move {
                dispatch(st, op, params, raw, headers, body).await
            },
        );
        by_path.insert(op.path.as_str(), mr.merge(route));
    }
    let mut api = Router::new();
    for (path, mr) in by_path {
        api = api.route(path, mr.fallback(method_not_allowed));
    }
    // Documented alias of the bulk update endpoints.
    api = api
        .route("/messaging_numbers/bulk_updates", alias("POST", "/messaging_numbers_bulk_updates"))
        .route("/messaging_numbers/bulk_updates/{order_id}", alias("GET", "/messaging_numbers_bulk_updates/{order_id}"))
        .route("/openapi.json", axum::routing::get(openapi));

    Router::new()
        .nest("/v2", api.clone())
        .merge(api)
        .merge(sim::router())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(state)
}

fn alias(method: &str, target: &str) -> MethodRouter<AppState> {
    let op = ops::all().iter().find(|o| o.method == method && o.path == target).expect("alias target is in the spec");
    let filter = if method == "GET" { MethodFilter::GET } else { MethodFilter::POST };
    on(
        filter,
        move |State(st): State<AppState>,
              params: RawPathParams,
              RawQuery(raw): RawQuery,
              headers: HeaderMap,
              body: Result<Bytes, BytesRejection>| async move { dispatch(st, op, params, raw, headers, body).await },
    )
    .fallback(method_not_allowed)
}

async fn openapi() -> Response {
    let mut r = ops::SPEC.into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
    r
}

async fn not_found() -> Response {
    render_error(&ApiError::not_found(), None)
}

async fn method_not_allowed(method: Method) -> Response {
    render_error(&ApiError::new(Code::MethodNotAllowed).detail(format!("This path does not support {method}.")), None)
}

/// Reads the bearer key and the account it belongs to.
pub(crate) async fn authenticate(engine: &Engine, headers: &HeaderMap) -> Result<(String, Account), ApiError> {
    let key = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| ApiError::new(Code::AuthenticationFailed))?;
    match engine.authenticate(key).await? {
        Some(acct) => Ok((key.to_owned(), acct)),
        None => Err(ApiError::new(Code::AuthenticationFailed)),
    }
}

/// Parses a request body: empty means `{}`, anything else must be a JSON object.
pub(crate) fn parse_body(body: Result<Bytes, BytesRejection>) -> Result<Body, ApiError> {
    let bytes = body.map_err(|rej| {
        if rej.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(Code::PayloadTooLarge).detail(format!("The request body is larger than {BODY_LIMIT} bytes."))
        } else {
            ApiError::new(Code::BadRequest).detail("The request body could not be read.")
        }
    })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Body::default());
    }
    let value: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::new(Code::InvalidJson).detail(format!("The request body is not valid JSON: {e}.")).pointer("/")
    })?;
    Body::from_value(value)
}

async fn dispatch(
    st: AppState,
    op: &'static Op,
    params: RawPathParams,
    raw_query: Option<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let params: BTreeMap<String, String> = params.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect();
    match serve(st, op, params, raw_query, headers, body).await {
        Ok(reply) => reply.into_response(),
        Err(e) => {
            if e.status() >= 500 && e.code == Code::Unexpected {
                tracing::error!(operation = %op.operation_id, error = %e, "unexpected error");
            }
            render_error(&e, Some(op))
        }
    }
}

async fn serve(
    st: AppState,
    op: &'static Op,
    params: BTreeMap<String, String>,
    raw_query: Option<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> HandlerResult {
    let (key, caller) = authenticate(&st.engine, &headers).await?;
    if !caller.is_enabled() {
        return Err(ApiError::new(Code::AuthorizationFailed).detail("This account is disabled."));
    }
    st.rate.check(&key)?;
    let effect = st.faults.effect(&op.operation_id, rand::random::<f64>);
    if !effect.delay.is_zero() {
        tokio::time::sleep(effect.delay).await;
    }
    if let Some(e) = effect.error {
        return Err(e);
    }
    let Some(handler) = handlers::lookup(&op.operation_id) else {
        return Err(ApiError::new(Code::NotImplemented)
            .detail(format!("{} ({} {}) is not implemented by Dialtone yet.", op.operation_id, op.method, op.path)));
    };
    let query = Query::parse(raw_query.as_deref());
    let body = parse_body(body)?;
    handler(Ctx { state: st, caller, op, params, query, body, headers }).await
}

/// The product of an operation, for callers rendering errors outside dispatch.
pub fn product_of(operation_id: &str) -> Option<Product> {
    ops::all().iter().find(|o| o.operation_id == operation_id).map(|o| o.product)
}
