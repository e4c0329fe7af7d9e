//! `/messages`: send (every channel), retrieve, cancel a scheduled send, group MMS, opt-outs.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::messaging::Channel;
use dialtone_domain::page::Page;
use dialtone_domain::webhooks::parse_time;
use serde_json::json;

async fn send(ctx: Ctx, channel: Channel) -> HandlerResult {
    let msgs = ctx.engine().send_message(&ctx.caller, &ctx.body, channel).await?;
    if channel == Channel::GroupMms {
        // One message per recipient; the answer shows them as one, with every recipient.
        let mut v = msgs.first().map(|m| m.to_json()).unwrap_or_default();
        v["to"] = json!(msgs.iter().map(|m| m.to_json()["to"][0].clone()).collect::<Vec<_>>());
        v["id"] = json!(msgs.first().and_then(|m| m.group_message_id.clone()));
        return Ok(Reply::data(v));
    }
    match msgs.first() {
        Some(m) => Ok(Reply::data_of(&m.payload())),
        None => Ok(Reply::data(serde_json::Value::Null)),
    }
}

pub async fn send_any(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::Any).await
}
pub async fn send_long_code(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::LongCode).await
}
pub async fn send_short_code(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::ShortCode).await
}
pub async fn send_number_pool(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::NumberPool).await
}
pub async fn send_group_mms(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::GroupMms).await
}
pub async fn schedule(ctx: Ctx) -> HandlerResult {
    send(ctx, Channel::Schedule).await
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let m = ctx.engine().message(&ctx.caller, ctx.param("id")).await?;
    Ok(Reply::data_of(&m.payload()))
}

/// `DELETE /messages/{id}` answers the cancelled message itself (not enveloped, per spec).
pub async fn cancel(ctx: Ctx) -> HandlerResult {
    let m = ctx.engine().cancel_message(&ctx.caller, ctx.param("id")).await?;
    Ok(Reply::Json(200, m.to_cancelled_json()))
}

pub async fn group(ctx: Ctx) -> HandlerResult {
    let ms = ctx.engine().group_messages(&ctx.caller, ctx.param("message_id")).await?;
    Ok(Reply::Json(200, json!({"data": ms.iter().map(|m| m.to_json()).collect::<Vec<_>>()})))
}

pub async fn optouts(ctx: Ctx) -> HandlerResult {
    let page = Page::from_query(&ctx.query)?;
    let redact = ctx.query.bool("redaction_enabled")?.unwrap_or(false);
    let all = ctx
        .engine()
        .list_optouts(&ctx.caller, ctx.query.str("filter[messaging_profile_id]"), ctx.query.str("filter[from]"))
        .await?;
    let since = ctx.query.time("created_at[gte]")?;
    let until = ctx.query.time("created_at[lte]")?;
    let all: Vec<_> = all
        .into_iter()
        .filter(|o| {
            let at = o["created_at"].as_str().and_then(parse_time);
            since.is_none_or(|s| at.is_some_and(|a| a >= s)) && until.is_none_or(|u| at.is_some_and(|a| a <= u))
        })
        .collect();
    let (items, meta) = page.slice(all);
    let items = items
        .into_iter()
        .map(|mut o| {
            if redact && let Some(to) = o["to"].as_str() {
                let keep = to.len().saturating_sub(4);
                o["to"] = json!(format!("{}****", &to[..keep]));
            }
            o
        })
        .collect();
    Ok(Reply::list(items, meta))
}

pub async fn whatsapp(ctx: Ctx) -> HandlerResult {
    Ok(Reply::data(ctx.engine().send_whatsapp(&ctx.caller, &ctx.body).await?))
}
