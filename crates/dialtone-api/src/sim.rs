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
        .route("/_dialtone/sim/messages", post(inbound_message))
        .route("/_dialtone/sim/short_codes", post(short_code))
        .route("/_dialtone/sim/calls", post(inbound_call))
        .route("/_dialtone/sim/calls/{id}/hangup", post(far_end_hangup))
        .route("/_dialtone/sim/calls/{id}/dtmf", post(far_end_dtmf))
        .route("/_dialtone/recordings/{file}", get(recording))
        .route("/_dialtone/sim/rooms/{room_id}/join", post(room_join))
        .route("/_dialtone/sim/rooms/{room_id}/leave", post(room_leave))
        .route("/_dialtone/sim/room_participants/{id}", get(room_participant))
        .route("/_dialtone/video/recordings/{file}", get(video_recording))
        .route("/_dialtone/video/compositions/{file}", get(video_composition))
        .route(
            "/_dialtone/sim/destinations/{number}",
            axum::routing::put(set_destination).post(set_destination).delete(clear_destination).get(get_destination),
        )
        .route("/_dialtone/sim/numbers/{number}", axum::routing::put(set_number).delete(clear_number).get(get_number))
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

/// `{"from": "+1...", "to": "<a number on this server>", "text": "...", "media_urls": [..]}`:
/// a message from anywhere arrives at a number on this server (`message.received` to its
/// profile's webhook URL; STOP / START / HELP handled).
async fn inbound_message(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let from = body.req_str("from")?.to_owned();
            let to = body.req_str("to")?.to_owned();
            for (field, v) in [("from", &from), ("to", &to)] {
                if !dialtone_domain::messaging::is_e164(v) && !dialtone_domain::messaging::is_short_code(v) {
                    return Err(ApiError::new(Code::NotE164).pointer(format!("/{field}")));
                }
            }
            let text = body.opt_str("text")?.map(str::to_owned);
            let media: Vec<String> = match body.raw("media_urls") {
                None => vec![],
                Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect(),
                Some(_) => return Err(ApiError::invalid("media_urls", "media_urls must be an array of URLs.")),
            };
            if text.is_none() && media.is_empty() {
                return Err(ApiError::missing("text"));
            }
            // The destination must be a number of the caller's account (the root may reach any).
            match st.engine.number_by_e164(&to).await? {
                Some(n) if n.account_id == acct.id || acct.is_manager() => {}
                _ => return Err(ApiError::invalid("to", format!("{to} is not a number of this account."))),
            }
            let msg = st.engine.receive_message(&from, &to, text, media).await?;
            Ok(Reply::Json(201, json!({"data": msg.to_json()})))
        }
        .await,
    )
}

/// `{"outcome": "deliver"|"fail"|"unconfirmed"|"reject", "code": "40008", "delay_ms": N}`:
/// how the simulated carrier treats messages from this account to `number`.
async fn set_number(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    use dialtone_domain::messaging::carrier::{self, Behaviour};
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            if !dialtone_domain::messaging::is_e164(&number) && !dialtone_domain::messaging::is_short_code(&number) {
                return Err(ApiError::new(Code::NotE164).parameter("number"));
            }
            let body = parse_body(body)?;
            let delay = match body.opt_int("delay_ms")? {
                None => carrier::DEFAULT_DELAY_MS,
                Some(ms) if (0..=86_400_000).contains(&ms) => ms as u64,
                Some(_) => return Err(ApiError::invalid("delay_ms", "delay_ms must be between 0 and 86400000.")),
            };
            let code = match body.opt_str("code")? {
                None => "40008".to_owned(),
                Some(c) if carrier::KNOWN_CODES.contains(&c) => c.to_owned(),
                Some(c) => {
                    return Err(ApiError::invalid(
                        "code",
                        format!("'{c}' is not a delivery error code Dialtone knows."),
                    ));
                }
            };
            let b = match body.req_str("outcome")? {
                "deliver" => Behaviour::Deliver { after_ms: delay },
                "fail" => Behaviour::Fail { code, after_ms: delay },
                "unconfirmed" => Behaviour::Unconfirmed { after_ms: delay },
                "reject" => Behaviour::RejectSend { code },
                other => {
                    return Err(ApiError::invalid(
                        "outcome",
                        format!("'{other}' is not one of deliver, fail, unconfirmed, reject."),
                    ));
                }
            };
            st.engine.set_number_behaviour(&acct, &number, Some(b.clone())).await?;
            Ok(Reply::data(json!({"record_type": "sim_number", "number": number, "behaviour": b})))
        }
        .await,
    )
}

async fn get_number(State(st): State<AppState>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let b = st.engine.number_behaviour(&acct, &number).await?;
            Ok(Reply::data(json!({"record_type": "sim_number", "number": number, "behaviour": b})))
        }
        .await,
    )
}

async fn clear_number(State(st): State<AppState>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            st.engine.set_number_behaviour(&acct, &number, None).await?;
            Ok(Reply::Empty(204))
        }
        .await,
    )
}

/// `PUT`/`POST /_dialtone/sim/destinations/{number}`: what the far end `number` does when
/// the account's calls ring it (see `far_end::Script`).
async fn set_destination(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(number): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let script = dialtone_domain::far_end::Script::parse(&parse_body(body)?)?;
            let kept = st.engine.set_destination_script(&acct, &number, Some(script)).await?;
            Ok(Reply::data(kept.map(|s| s.to_json(&number)).unwrap_or_default()))
        }
        .await,
    )
}

async fn get_destination(State(st): State<AppState>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            Ok(Reply::data(st.engine.destination_script(&acct, &number).await?.to_json(&number)))
        }
        .await,
    )
}

async fn clear_destination(State(st): State<AppState>, headers: HeaderMap, Path(number): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            st.engine.set_destination_script(&acct, &number, None).await?;
            Ok(Reply::Empty(204))
        }
        .await,
    )
}

/// `{"short_code": "12345", "messaging_profile_id": "..."}`: gives the caller a short code to
/// send from (`POST /messages/short_code`).
async fn short_code(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let code = body.req_str("short_code")?.to_owned();
            let profile = body.req_str("messaging_profile_id")?.to_owned();
            let n = st.engine.provision_short_code(&acct, &code, &profile).await?;
            Ok(Reply::Json(201, json!({"data": {"record_type": "short_code", "id": n.id, "short_code": n.phone_number, "messaging_profile_id": profile}})))
        }
        .await,
    )
}

/// `{"from": "+1...", "to": "<a number of this account>", "caller_id_name": "...",
/// "give_up_secs": N}`: a call from anywhere to a number routed to an application
/// (`call.initiated`, incoming and parked, to the application). Unanswered, the caller gives
/// up after `give_up_secs` (default 60).
async fn inbound_call(State(st): State<AppState>, headers: HeaderMap, body: Result<Bytes, BytesRejection>) -> Response {
    use dialtone_domain::calls;
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let from = body.req_str("from")?.to_owned();
            if !calls::is_destination(&from) {
                return Err(ApiError::new(Code::NotE164)
                    .detail("'from' must be an E.164 number or a SIP URI.")
                    .pointer("/from"));
            }
            let to = body.req_str("to")?.to_owned();
            if !dialtone_domain::numbers::is_e164(&to) {
                return Err(ApiError::new(Code::NotE164).pointer("/to"));
            }
            let name = body.opt_str("caller_id_name")?.map(str::to_owned);
            let give_up = body.opt_int_in("give_up_secs", 1, 3600)?.unwrap_or(calls::DEFAULT_GIVE_UP_SECS);
            let call = st.engine.place_inbound_call(&acct, &from, &to, name, give_up).await?;
            let mut data = call.to_json(st.engine.clock.now());
            data["connection_id"] = json!(call.connection_id);
            data["from"] = json!(call.from);
            data["to"] = json!(call.to);
            data["direction"] = json!("incoming");
            Ok(Reply::Json(201, json!({ "data": data })))
        }
        .await,
    )
}

/// The far end of one of the caller's calls hangs up now: the outside caller of an
/// incoming call (giving up if it is still ringing), the destination of an outgoing one.
async fn far_end_hangup(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let call = st.engine.far_end_hangup(&acct, &id).await?;
            Ok(Reply::data(call.to_json(st.engine.clock.now())))
        }
        .await,
    )
}

/// `{"digits": "1234#", "delay_ms": 0}`: the far end of one of the caller's answered calls
/// presses these digits now, or `delay_ms` from now (a `call.dtmf.received` each, fed to a
/// running gather).
async fn far_end_dtmf(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let digits = body.req_str("digits")?;
            if digits.chars().count() > 128 || !digits.chars().all(|c| c.is_ascii_digit() || "*#ABCD".contains(c)) {
                return Err(ApiError::invalid("digits", "'digits' are up to 128 of 0-9, A-D, * and #."));
            }
            let delay = body.opt_int_in("delay_ms", 0, 3_600_000)?.unwrap_or(0) as u64;
            let call = st.engine.far_end_dtmf(&acct, &id, digits, delay).await?;
            Ok(Reply::data(call.to_json(st.engine.clock.now())))
        }
        .await,
    )
}

/// `GET /_dialtone/recordings/{id}.wav`: a call recording's audio (8 kHz mono PCM WAV);
/// `{id}.mp3` for a recording made as MP3 (MPEG-1 Layer III). No API key: like Telnyx's
/// recording URLs, the URL itself is the credential.
async fn recording(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    let (id, mp3) = match (file.strip_suffix(".wav"), file.strip_suffix(".mp3")) {
        (Some(id), _) => (id, false),
        (_, Some(id)) => (id, true),
        _ => return respond(Err(ApiError::not_found().detail("Recordings are served as {id}.wav or {id}.mp3."))),
    };
    match st.engine.recording(id).await {
        Ok(r) if mp3 && r.format != "mp3" => {
            respond(Err(ApiError::not_found().detail("This recording was made as WAV: get {id}.wav.")))
        }
        Ok(r) if mp3 => ([(axum::http::header::CONTENT_TYPE, "audio/mpeg")], r.mp3()).into_response(),
        Ok(r) => match st.engine.recording_wav(&r).await {
            Ok(wav) => ([(axum::http::header::CONTENT_TYPE, "audio/wav")], wav).into_response(),
            Err(e) => respond(Err(e)),
        },
        Err(e) => respond(Err(e)),
    }
}

/// Where the caller reached this server (recording and composition URLs start here).
fn base_url(headers: &HeaderMap) -> String {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or_else(|| "localhost".into());
    let proto = header("x-forwarded-proto").unwrap_or_else(|| "http".into());
    format!("{proto}://{host}")
}

/// A participant as the simulation shows it: the API's fields plus its mute state, whether
/// it is still in the session, and why it left.
fn sim_participant(p: &dialtone_domain::video::sessions::Participant, room_id: &str) -> serde_json::Value {
    let mut v = p.to_json();
    v["room_id"] = json!(room_id);
    v["muted"] = json!(p.muted);
    v["present"] = json!(p.is_present());
    v["left_reason"] = json!(p.left_reason);
    v["recording_ids"] = json!(p.recordings.iter().map(|(_, id)| id).collect::<Vec<_>>());
    v
}

/// `{"token": "<client token>", "context": "..."}`: a simulated client joins one of the
/// caller's rooms with a client token (checked: signature, expiry, room, capacity). The
/// first participant starts a session. Answers 201 with the participant.
async fn room_join(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let token = body.req_str("token")?;
            let context = body.opt_str("context")?.unwrap_or_default();
            let (_, p) = st.engine.join_room(&acct, &room_id, token, context, &base_url(&headers)).await?;
            Ok(Reply::Json(201, json!({ "data": sim_participant(&p, &room_id) })))
        }
        .await,
    )
}

/// `{"participant_id": "..."}`: the participant leaves the room's active session.
async fn room_leave(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(room_id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let body = parse_body(body)?;
            let id = body.req_str("participant_id")?;
            let p = st.engine.leave_room(&acct, &room_id, id).await?;
            Ok(Reply::data(sim_participant(&p, &room_id)))
        }
        .await,
    )
}

/// One of the caller's participants with its simulated state (`muted`, `present`).
async fn room_participant(State(st): State<AppState>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    respond(
        async {
            let acct = caller(&st, &headers).await?;
            let (s, p) = st.engine.room_participant(&acct.id, &id).await?;
            Ok(Reply::data(sim_participant(&p, &s.room_id)))
        }
        .await,
    )
}

/// `GET /_dialtone/video/recordings/{id}.ogg|.mp4`: a completed room recording (audio as
/// Ogg Opus silence, video as an MP4 test pattern, of the recording's length). No API
/// key: the URL is the credential.
async fn video_recording(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((id, ext)) = file.rsplit_once('.') else {
        return respond(Err(ApiError::not_found()));
    };
    match st.engine.recording_download(id).await {
        Ok(r) if r.extension() == ext => {
            let ct = if ext == "ogg" { "audio/ogg" } else { "video/mp4" };
            ([(axum::http::header::CONTENT_TYPE, ct)], dialtone_engine::video::recording_file(&r)).into_response()
        }
        Ok(_) => respond(Err(ApiError::not_found())),
        Err(e) => respond(Err(e)),
    }
}

/// `GET /_dialtone/video/compositions/{id}.mp4`: a completed composition (an MP4 test
/// pattern of the session's length in the requested resolution).
async fn video_composition(State(st): State<AppState>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".mp4") else {
        return respond(Err(ApiError::not_found()));
    };
    match st.engine.composition_download(id).await {
        Ok(c) => ([(axum::http::header::CONTENT_TYPE, "video/mp4")], dialtone_engine::video::composition_file(&c))
            .into_response(),
        Err(e) => respond(Err(e)),
    }
}
