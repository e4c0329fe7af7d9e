//! `/_dialtone/...`: health and the simulation API (clock, timers, faults). Not part of
//! Telnyx's API; documented in the README. Everything but health needs an API key; the
//! clock and faults act on the whole server, so they take the root (manager) key.

use crate::reply::{Reply, render_error};
use crate::{AppState, authenticate, parse_body};
use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use dialtone_domain::accounts::Account;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::fmt_time;
use serde_json::json;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/_dialtone/health", get(health))
        .route("/_dialtone/sim/clock", get(clock))
        .route("/_dialtone/sim/clock/advance", post(advance))
        .route("/_dialtone/sim/timers", post(create_timer))
        .route("/_dialtone/sim/timers/{id}", get(get_timer))
        .route("/_dialtone/sim/faults", post(add_fault).get(list_faults).delete(clear_faults))
        .route("/_dialtone/sim/faults/{id}", delete(clear_fault))
        .route("/_dialtone/sim/webhooks", post(emit_webhook))
        .route("/_dialtone/webhooks/public_key", get(public_key))
}

fn respond(r: Result<Reply, ApiError>) -> Response {
    match r {
        Ok(reply) => reply.into_response(),
        Err(e) => render_error(&e, None),
    }
}

async fn health(State(st): State<AppState>) -> Response {
    match st.engine.store.ping().await {
        Ok(()) => Reply::Json(200, json!({"status": "ok"})).into_response(),
        Err(_) => render_error(&ApiError::new(Code::Unavailable), None),
    }
}

async fn caller(st: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    Ok(authenticate(&st.engine, headers).await?.1)
}

async fn manager(st: &AppState, headers: &HeaderMap) -> Result<Account, ApiError> {
    let acct = caller(st, headers).await?;
    if !acct.is_manager() {
        return Err(ApiError::new(Code::AuthorizationFailed)
            .detail("Only the root account can change the simulation's clock and faults."));
    }
    Ok(acct)
}

fn clock_json(st: &AppState) -> serde_json::Value {
    json!({
        "record_type": "sim_clock",
        "mode": if st.engine.clock.is_manual() { "manual" } else { "real" },
        "now": fmt_time(st.engine.clock.now()),
    })
}

async fn clock(State(st): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            caller(&st, &headers).await?;
            Ok(Reply::data(clock_json(&st)))
        }
        .await,
    )
}

/// `{"seconds": N}` or `{"milliseconds": N}`: moves the manual clock and returns once every
/// job that became due has run.
async fn advance(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    respond(
        async {
            manager(&st, &headers).await?;
            let body = parse_body(body)?;
            let ms = match (body.opt_int("seconds")?, body.opt_int("milliseconds")?) {
                (Some(s), None) => s.checked_mul(1000),
                (None, Some(ms)) => Some(ms),
                (None, None) => return Err(ApiError::missing("seconds")),
                (Some(_), Some(_)) => {
                    return Err(ApiError::invalid("milliseconds", "Give seconds or milliseconds, not both."));
                }
            };
            let ms = ms
                .filter(|ms| (0..=366 * 86_400_000).contains(ms))
                .ok_or_else(|| ApiError::invalid("seconds", "The clock moves forward by at most a year at a time."))?;
            if !st.engine.clock.advance(chrono::Duration::milliseconds(ms)) {
                return Err(ApiError::new(Code::InvalidValue)
                    .detail("The clock is real; start the server with --clock manual to move it by hand."));
            }
            let ran = st.scheduler.run_due().await?;
            let mut out = clock_json(&st);
            out["jobs_run"] = json!(ran);
            Ok(Reply::data(out))
        }
        .await,
    )
}

/// `{"in_seconds": N}` (or `"in_milliseconds"`): a timer that fires once, N from now.
async fn create_timer(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let ms = match (body.opt_int("in_seconds")?, body.opt_int("in_milliseconds")?) {
                (Some(s), _) => s.saturating_mul(1000),
                (None, Some(ms)) => ms,
                (None, None) => return Err(ApiError::missing("in_seconds")),
            };
            if !(0..=366 * 86_400_000).contains(&ms) {
                return Err(ApiError::invalid("in_seconds", "A timer is due within a year."));
            }
            let due = st.engine.clock.now() + chrono::Duration::milliseconds(ms);
            Ok(Reply::Json(201, json!({"data": st.engine.create_timer(&acct.id, due).await?})))
        }
        .await,
    )
}

async fn get_timer(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            Ok(Reply::data(st.engine.timer(&acct.id, &id).await?))
        }
        .await,
    )
}

/// `{"operation": "<operationId>|*", "status": 429|500|503, "latency_ms": N,
/// "probability": 0..1, "count": N}`.
async fn add_fault(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    respond(
        async {
            manager(&st, &headers).await?;
            let body = parse_body(body)?;
            if let Some(op) = body.opt_str("operation")?
                && op != "*"
                && crate::product_of(op).is_none()
            {
                return Err(ApiError::invalid("operation", format!("'{op}' is not an operationId of the API.")));
            }
            let f = st.faults.add(&body)?;
            Ok(Reply::Json(201, json!({"data": f.to_json()})))
        }
        .await,
    )
}

async fn list_faults(State(st): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            manager(&st, &headers).await?;
            let all: Vec<_> = st.faults.list().iter().map(|f| f.to_json()).collect();
            Ok(Reply::Json(200, json!({"data": all})))
        }
        .await,
    )
}

async fn clear_faults(State(st): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            manager(&st, &headers).await?;
            let n = st.faults.clear(None);
            Ok(Reply::data(json!({"cleared": n})))
        }
        .await,
    )
}

async fn clear_fault(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            manager(&st, &headers).await?;
            let id: u64 = id.parse().map_err(|_| ApiError::new(Code::InvalidId).parameter("id"))?;
            match st.faults.clear(Some(id)) {
                0 => Err(ApiError::not_found()),
                n => Ok(Reply::data(json!({"cleared": n}))),
            }
        }
        .await,
    )
}

/// The caller's own webhook public key (base64 of the raw 32-byte Ed25519 key), the value
/// the SDKs' verifiers take as `TELNYX_PUBLIC_KEY`.
async fn public_key(State(st): State<AppState>, headers: HeaderMap) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let signer = dialtone_engine::Engine::signer(&acct)?;
            Ok(Reply::data(json!({
                "record_type": "webhook_public_key",
                "account_id": acct.id,
                "public_key": signer.public_key_base64(),
            })))
        }
        .await,
    )
}

/// Emits an arbitrary event for the caller's account:
/// `{"event_type", "payload", "url", "failover_url", "timeout_secs", "retries_ms",
/// "resource_id"}`, plus the per-command overrides `webhook_url`, `webhook_failover_url`,
/// `webhook_urls`, `webhook_retries_policies` as voice commands take them. Answers 202 with
/// the event and its delivery id (`null` when no URL applies: no URL, no webhook).
async fn emit_webhook(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    use dialtone_domain::webhooks::{Routing, check_url};
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let event_type = body.req_str("event_type")?.to_owned();
            let payload = match body.raw("payload") {
                None => json!({}),
                Some(v) if v.is_object() => v.clone(),
                Some(_) => return Err(ApiError::invalid("payload", "payload must be a JSON object.")),
            };
            let timeout_ms = match body.opt_int("timeout_secs")? {
                None => None,
                Some(s) if (1..=30).contains(&s) => Some(s as u64 * 1000),
                Some(_) => return Err(ApiError::invalid("timeout_secs", "timeout_secs must be between 1 and 30.")),
            };
            let mut routing = Routing {
                url: body.opt_str("url")?.map(|u| check_url("url", u)).transpose()?,
                failover_url: body.opt_str("failover_url")?.map(|u| check_url("failover_url", u)).transpose()?,
                timeout_ms,
                ..Routing::default()
            }
            .with_overrides(&body)?;
            if let Some(v) = body.raw("retries_ms") {
                let wrapped = json!({ "webhook_retries_policies": { event_type.clone(): { "retries_ms": v } } });
                let b = dialtone_domain::body::Body::from_value(wrapped)?;
                routing = routing.with_overrides(&b)?;
            }
            let resource = body.opt_str("resource_id")?.map(str::to_owned);
            let now = st.engine.clock.now();
            let event = dialtone_engine::events::event(&event_type, payload, now);
            let data = event.data();
            let delivery_id = match routing.destination(&event_type) {
                None => None,
                Some(dest) => {
                    let (cs, id) = dialtone_engine::events::emit(
                        dialtone_store::ChangeSet::new(),
                        &acct.id,
                        event,
                        dest,
                        resource.as_deref(),
                        now,
                    );
                    st.engine.commit(&cs).await?;
                    Some(id)
                }
            };
            Ok(Reply::Json(202, json!({"data": {"event": data, "delivery_id": delivery_id}})))
        }
        .await,
    )
}
