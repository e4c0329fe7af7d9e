//! `/calls`: dial, the call's status, and the commands built so far.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_engine::calls::{Action, RecordAction};
use serde_json::json;

pub async fn dial(ctx: Ctx) -> HandlerResult {
    let base = base_url(&ctx);
    let (call, recording_id) = ctx.engine().dial(&ctx.caller, &ctx.body, &base).await?;
    let now = ctx.engine().clock.now();
    Ok(Reply::data(call.to_dial_json(now, recording_id.as_deref())))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let call = ctx.engine().call(&ctx.caller.id, ctx.param("call_control_id")).await?;
    Ok(Reply::data(call.to_json(ctx.engine().clock.now())))
}

async fn action(ctx: Ctx, action: Action) -> HandlerResult {
    ctx.engine().call_action(&ctx.caller, ctx.param("call_control_id"), action, &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn answer(ctx: Ctx) -> HandlerResult {
    action(ctx, Action::Answer).await
}

pub async fn reject(ctx: Ctx) -> HandlerResult {
    action(ctx, Action::Reject).await
}

pub async fn hangup(ctx: Ctx) -> HandlerResult {
    action(ctx, Action::Hangup).await
}

/// An action of the engine's media commands (`actions/{action}`).
async fn media(ctx: Ctx, action: &str) -> HandlerResult {
    ctx.engine().media_action(&ctx.caller, ctx.param("call_control_id"), action, &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn client_state_update(ctx: Ctx) -> HandlerResult {
    media(ctx, "client_state_update").await
}

pub async fn send_dtmf(ctx: Ctx) -> HandlerResult {
    media(ctx, "send_dtmf").await
}

pub async fn send_sip_info(ctx: Ctx) -> HandlerResult {
    media(ctx, "send_sip_info").await
}

pub async fn speak(ctx: Ctx) -> HandlerResult {
    media(ctx, "speak").await
}

pub async fn playback_start(ctx: Ctx) -> HandlerResult {
    media(ctx, "playback_start").await
}

pub async fn playback_stop(ctx: Ctx) -> HandlerResult {
    media(ctx, "playback_stop").await
}

pub async fn gather(ctx: Ctx) -> HandlerResult {
    media(ctx, "gather").await
}

pub async fn gather_using_audio(ctx: Ctx) -> HandlerResult {
    media(ctx, "gather_using_audio").await
}

pub async fn gather_using_speak(ctx: Ctx) -> HandlerResult {
    media(ctx, "gather_using_speak").await
}

pub async fn gather_stop(ctx: Ctx) -> HandlerResult {
    media(ctx, "gather_stop").await
}

pub async fn bridge(ctx: Ctx) -> HandlerResult {
    ctx.engine().bridge(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn transfer(ctx: Ctx) -> HandlerResult {
    ctx.engine().transfer(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn refer(ctx: Ctx) -> HandlerResult {
    ctx.engine().refer(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

/// Where the caller reached this server: recordings are served from there.
pub(crate) fn base_url(ctx: &Ctx) -> String {
    let header = |name: &str| ctx.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let host = header("x-forwarded-host").or_else(|| header("host")).unwrap_or_else(|| "localhost".into());
    let proto = header("x-forwarded-proto").unwrap_or_else(|| "http".into());
    format!("{proto}://{host}")
}

async fn record(ctx: Ctx, action: RecordAction) -> HandlerResult {
    let base = base_url(&ctx);
    ctx.engine().record_action(&ctx.caller, ctx.param("call_control_id"), action, &ctx.body, &base).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn record_start(ctx: Ctx) -> HandlerResult {
    record(ctx, RecordAction::Start).await
}

pub async fn record_pause(ctx: Ctx) -> HandlerResult {
    record(ctx, RecordAction::Pause).await
}

pub async fn record_resume(ctx: Ctx) -> HandlerResult {
    record(ctx, RecordAction::Resume).await
}

pub async fn record_stop(ctx: Ctx) -> HandlerResult {
    record(ctx, RecordAction::Stop).await
}

async fn service(ctx: Ctx, action: &str) -> HandlerResult {
    ctx.engine().service_action(&ctx.caller, ctx.param("call_control_id"), action, &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn fork_start(ctx: Ctx) -> HandlerResult {
    service(ctx, "fork_start").await
}

pub async fn fork_stop(ctx: Ctx) -> HandlerResult {
    service(ctx, "fork_stop").await
}

pub async fn siprec_start(ctx: Ctx) -> HandlerResult {
    service(ctx, "siprec_start").await
}

pub async fn siprec_stop(ctx: Ctx) -> HandlerResult {
    service(ctx, "siprec_stop").await
}

pub async fn streaming_start(ctx: Ctx) -> HandlerResult {
    service(ctx, "streaming_start").await
}

pub async fn streaming_stop(ctx: Ctx) -> HandlerResult {
    service(ctx, "streaming_stop").await
}

pub async fn transcription_start(ctx: Ctx) -> HandlerResult {
    service(ctx, "transcription_start").await
}

pub async fn transcription_stop(ctx: Ctx) -> HandlerResult {
    service(ctx, "transcription_stop").await
}

pub async fn suppression_start(ctx: Ctx) -> HandlerResult {
    service(ctx, "suppression_start").await
}

pub async fn suppression_stop(ctx: Ctx) -> HandlerResult {
    service(ctx, "suppression_stop").await
}

pub async fn switch_supervisor_role(ctx: Ctx) -> HandlerResult {
    ctx.engine().switch_supervisor_role(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn enqueue(ctx: Ctx) -> HandlerResult {
    ctx.engine().enqueue(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn leave_queue(ctx: Ctx) -> HandlerResult {
    ctx.engine().leave_queue(&ctx.caller, ctx.param("call_control_id"), &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

/// An AI / conversation relay action; the session id is answered beside `result`.
async fn ai(ctx: Ctx, action: &str) -> HandlerResult {
    let session = ctx.engine().ai_action(&ctx.caller, ctx.param("call_control_id"), action, &ctx.body).await?;
    let mut data = json!({ "result": "ok" });
    if let Some(id) = session {
        let key = if action == "conversation_relay_start" { "conversation_relay_id" } else { "conversation_id" };
        data[key] = json!(id);
    }
    Ok(Reply::data(data))
}

pub async fn ai_assistant_start(ctx: Ctx) -> HandlerResult {
    ai(ctx, "ai_assistant_start").await
}

pub async fn ai_assistant_stop(ctx: Ctx) -> HandlerResult {
    ai(ctx, "ai_assistant_stop").await
}

pub async fn ai_assistant_join(ctx: Ctx) -> HandlerResult {
    ai(ctx, "ai_assistant_join").await
}

pub async fn ai_assistant_add_messages(ctx: Ctx) -> HandlerResult {
    ai(ctx, "ai_assistant_add_messages").await
}

pub async fn gather_using_ai(ctx: Ctx) -> HandlerResult {
    ai(ctx, "gather_using_ai").await
}

pub async fn conversation_relay_start(ctx: Ctx) -> HandlerResult {
    ai(ctx, "conversation_relay_start").await
}

pub async fn conversation_relay_stop(ctx: Ctx) -> HandlerResult {
    ai(ctx, "conversation_relay_stop").await
}
