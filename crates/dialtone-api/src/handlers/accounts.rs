//! `/managed_accounts`.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::accounts::ListFilter;
use dialtone_domain::page::Page;

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().list_managed_accounts(&ctx.caller, &filter).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|a| a.to_listing_json()).collect(), meta))
}

pub async fn create(ctx: Ctx) -> HandlerResult {
    let (acct, key) = ctx.engine().create_managed_account(&ctx.caller, &ctx.body).await?;
    Ok(Reply::data(acct.to_managed_json(&key)))
}

async fn shown(_ctx: &Ctx, acct: dialtone_domain::accounts::Account) -> HandlerResult {
    let key = dialtone_engine::Engine::shown_key(&acct);
    Ok(Reply::data(acct.to_managed_json(&key)))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let acct = ctx.engine().managed_account(&ctx.caller, ctx.param("id")).await?;
    shown(&ctx, acct).await
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let acct = ctx.engine().update_managed_account(&ctx.caller, ctx.param("id"), &ctx.body).await?;
    shown(&ctx, acct).await
}

pub async fn disable(ctx: Ctx) -> HandlerResult {
    let acct = ctx.engine().disable_managed_account(&ctx.caller, ctx.param("id")).await?;
    shown(&ctx, acct).await
}

pub async fn enable(ctx: Ctx) -> HandlerResult {
    let acct = ctx.engine().enable_managed_account(&ctx.caller, ctx.param("id"), &ctx.body).await?;
    shown(&ctx, acct).await
}

pub async fn channels(ctx: Ctx) -> HandlerResult {
    Ok(Reply::data(ctx.engine().channels_report(&ctx.caller).await?))
}

pub async fn set_channel_limit(ctx: Ctx) -> HandlerResult {
    let acct = ctx.engine().set_channel_limit(&ctx.caller, ctx.param("id"), &ctx.body).await?;
    Ok(Reply::data(acct.to_channels_json()))
}
