//! Messaging settings of phone numbers: `/phone_numbers/messaging`,
//! `/phone_numbers/{id}/messaging`, `/mobile_phone_numbers/...` and
//! `/messaging_numbers_bulk_updates` (also routed as `/messaging_numbers/bulk_updates`).

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::numbers::MessagingFilter;
use dialtone_domain::page::Page;

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = MessagingFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().list_messaging_numbers(&ctx.caller.id, &filter).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|n| n.to_messaging_json()).collect(), meta))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().phone_number(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(n.to_messaging_json()))
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().update_messaging_settings(&ctx.caller.id, ctx.param("id"), &ctx.body).await?;
    Ok(Reply::data(n.to_messaging_json()))
}

pub async fn list_mobile(ctx: Ctx) -> HandlerResult {
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> =
        ctx.engine().account_numbers(&ctx.caller.id).await?.into_iter().filter(|n| n.is_mobile()).collect();
    all.sort_by(|a, b| a.phone_number.cmp(&b.phone_number));
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|n| n.to_mobile_messaging_json()).collect(), meta))
}

pub async fn retrieve_mobile(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().mobile_number(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(n.to_mobile_messaging_json()))
}

pub async fn bulk_create(ctx: Ctx) -> HandlerResult {
    let u = ctx.engine().create_bulk_update(&ctx.caller.id, &ctx.body).await?;
    Ok(Reply::data(u.to_json()))
}

pub async fn bulk_retrieve(ctx: Ctx) -> HandlerResult {
    let u = ctx.engine().bulk_update(&ctx.caller.id, ctx.param("order_id")).await?;
    Ok(Reply::data(u.to_json()))
}
