//! Video: `/rooms`, `/room_sessions`, `/room_participants`, `/room_recordings`,
//! `/room_compositions`.

use super::calls::base_url;
use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::page::Page;
use dialtone_domain::video::compositions::CompositionFilter;
use dialtone_domain::video::newest_first;
use dialtone_domain::video::recordings::RecordingFilter;
use dialtone_domain::video::rooms::ListFilter;
use dialtone_domain::video::sessions::{ParticipantFilter, Session, SessionFilter};
use dialtone_engine::video::SessionAction;
use serde_json::json;

pub async fn list_rooms(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> = ctx.engine().rooms(&ctx.caller.id).await?.into_iter().filter(|r| filter.matches(r)).collect();
    newest_first(&mut all, |r| r.created_at);
    let (items, meta) = page.slice(all);
    let mut out = Vec::with_capacity(items.len());
    for r in &items {
        let sessions = if filter.include_sessions { Some(room_sessions_json(&ctx, &r.id).await?) } else { None };
        out.push(r.to_json(sessions));
    }
    Ok(Reply::list(out, meta))
}

async fn room_sessions_json(ctx: &Ctx, room_id: &str) -> Result<Vec<serde_json::Value>, dialtone_domain::ApiError> {
    let mut s = ctx.engine().room_sessions(&ctx.caller.id, Some(room_id)).await?;
    newest_first(&mut s, |s| s.created_at);
    Ok(s.iter().map(|s| s.to_json(false)).collect())
}

pub async fn create_room(ctx: Ctx) -> HandlerResult {
    let r = ctx.engine().create_room(&ctx.caller.id, &ctx.body).await?;
    Ok(Reply::Json(201, json!({ "data": r.to_json(None) })))
}

pub async fn view_room(ctx: Ctx) -> HandlerResult {
    let include = ctx.query.bool("include_sessions")?.unwrap_or(false);
    let r = ctx.engine().room(&ctx.caller.id, ctx.param("room_id")).await?;
    let sessions = if include { Some(room_sessions_json(&ctx, &r.id).await?) } else { None };
    Ok(Reply::data(r.to_json(sessions)))
}

pub async fn update_room(ctx: Ctx) -> HandlerResult {
    let r = ctx.engine().update_room(&ctx.caller.id, ctx.param("room_id"), &ctx.body).await?;
    Ok(Reply::data(r.to_json(None)))
}

pub async fn delete_room(ctx: Ctx) -> HandlerResult {
    ctx.engine().delete_room(&ctx.caller.id, ctx.param("room_id")).await?;
    Ok(Reply::Empty(204))
}

pub async fn generate_token(ctx: Ctx) -> HandlerResult {
    let t = ctx.engine().room_token(&ctx.caller, ctx.param("room_id"), &ctx.body).await?;
    Ok(Reply::Json(201, json!({ "data": t.to_json() })))
}

pub async fn refresh_token(ctx: Ctx) -> HandlerResult {
    let t = ctx.engine().refresh_room_token(&ctx.caller, ctx.param("room_id"), &ctx.body).await?;
    Ok(Reply::Json(201, json!({ "data": t.to_json() })))
}

fn sessions_reply(ctx: &Ctx, sessions: Vec<Session>) -> HandlerResult {
    let filter = SessionFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> = sessions.into_iter().filter(|s| filter.matches(s)).collect();
    newest_first(&mut all, |s| s.created_at);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|s| s.to_json(filter.include_participants)).collect(), meta))
}

pub async fn list_sessions(ctx: Ctx) -> HandlerResult {
    SessionFilter::parse(&ctx.query)?;
    let all = ctx.engine().room_sessions(&ctx.caller.id, None).await?;
    sessions_reply(&ctx, all)
}

pub async fn room_sessions(ctx: Ctx) -> HandlerResult {
    SessionFilter::parse(&ctx.query)?;
    let room = ctx.engine().room(&ctx.caller.id, ctx.param("room_id")).await?;
    let all = ctx.engine().room_sessions(&ctx.caller.id, Some(&room.id)).await?;
    sessions_reply(&ctx, all)
}

pub async fn view_session(ctx: Ctx) -> HandlerResult {
    let include = ctx.query.bool("include_participants")?.unwrap_or(false);
    let s = ctx.engine().room_session(&ctx.caller.id, ctx.param("room_session_id")).await?;
    Ok(Reply::data(s.to_json(include)))
}

async fn action(ctx: Ctx, a: SessionAction) -> HandlerResult {
    ctx.engine().session_action(&ctx.caller.id, ctx.param("room_session_id"), a, &ctx.body).await?;
    Ok(Reply::data(json!({ "result": "ok" })))
}

pub async fn end_session(ctx: Ctx) -> HandlerResult {
    action(ctx, SessionAction::End).await
}

pub async fn kick(ctx: Ctx) -> HandlerResult {
    action(ctx, SessionAction::Kick).await
}

pub async fn mute(ctx: Ctx) -> HandlerResult {
    action(ctx, SessionAction::Mute).await
}

pub async fn unmute(ctx: Ctx) -> HandlerResult {
    action(ctx, SessionAction::Unmute).await
}

fn participants_reply(ctx: &Ctx, sessions: Vec<Session>) -> HandlerResult {
    let filter = ParticipantFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> = sessions.into_iter().flat_map(|s| s.participants).filter(|p| filter.matches(p)).collect();
    newest_first(&mut all, |p| p.joined_at);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|p| p.to_json()).collect(), meta))
}

pub async fn list_participants(ctx: Ctx) -> HandlerResult {
    ParticipantFilter::parse(&ctx.query)?;
    let all = ctx.engine().room_sessions(&ctx.caller.id, None).await?;
    participants_reply(&ctx, all)
}

pub async fn session_participants(ctx: Ctx) -> HandlerResult {
    ParticipantFilter::parse(&ctx.query)?;
    let s = ctx.engine().room_session(&ctx.caller.id, ctx.param("room_session_id")).await?;
    participants_reply(&ctx, vec![s])
}

pub async fn view_participant(ctx: Ctx) -> HandlerResult {
    let (_, p) = ctx.engine().room_participant(&ctx.caller.id, ctx.param("room_participant_id")).await?;
    Ok(Reply::data(p.to_json()))
}

pub async fn list_recordings(ctx: Ctx) -> HandlerResult {
    let filter = RecordingFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> =
        ctx.engine().room_recordings(&ctx.caller.id).await?.into_iter().filter(|r| filter.matches(r)).collect();
    newest_first(&mut all, |r| r.created_at);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|r| r.to_json()).collect(), meta))
}

pub async fn view_recording(ctx: Ctx) -> HandlerResult {
    let r = ctx.engine().room_recording(&ctx.caller.id, ctx.param("room_recording_id")).await?;
    Ok(Reply::data(r.to_json()))
}

pub async fn delete_recording(ctx: Ctx) -> HandlerResult {
    let r = ctx.engine().room_recording(&ctx.caller.id, ctx.param("room_recording_id")).await?;
    ctx.engine().delete_room_recordings(&[r.id]).await?;
    Ok(Reply::Empty(204))
}

/// Bulk delete: every recording matching the filters (pagination does not apply).
pub async fn delete_recordings(ctx: Ctx) -> HandlerResult {
    let filter = RecordingFilter::parse(&ctx.query)?;
    let ids: Vec<String> = ctx
        .engine()
        .room_recordings(&ctx.caller.id)
        .await?
        .into_iter()
        .filter(|r| filter.matches(r))
        .map(|r| r.id)
        .collect();
    let n = ctx.engine().delete_room_recordings(&ids).await?;
    Ok(Reply::Json(201, json!({ "data": { "room_recordings": n } })))
}

pub async fn create_composition(ctx: Ctx) -> HandlerResult {
    let base = base_url(&ctx);
    let c = ctx.engine().create_composition(&ctx.caller.id, &ctx.body, &base).await?;
    Ok(Reply::Json(202, json!({ "data": c.to_json() })))
}

pub async fn list_compositions(ctx: Ctx) -> HandlerResult {
    let filter = CompositionFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> =
        ctx.engine().compositions(&ctx.caller.id).await?.into_iter().filter(|c| filter.matches(c)).collect();
    newest_first(&mut all, |c| c.created_at);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|c| c.to_json()).collect(), meta))
}

pub async fn view_composition(ctx: Ctx) -> HandlerResult {
    let c = ctx.engine().composition(&ctx.caller.id, ctx.param("room_composition_id")).await?;
    Ok(Reply::data(c.to_json()))
}

pub async fn delete_composition(ctx: Ctx) -> HandlerResult {
    ctx.engine().delete_composition(&ctx.caller.id, ctx.param("room_composition_id")).await?;
    Ok(Reply::Empty(204))
}
