//! `/messaging_profiles`.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::page::Page;
use dialtone_domain::profiles::ListFilter;

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().list_messaging_profiles(&ctx.caller.id, &filter).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|p| p.to_json()).collect(), meta))
}

pub async fn create(ctx: Ctx) -> HandlerResult {
    let p = ctx.engine().create_messaging_profile(&ctx.caller.id, &ctx.body).await?;
    Ok(Reply::data(p.to_json()))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let p = ctx.engine().messaging_profile(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(p.to_json()))
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let p = ctx.engine().update_messaging_profile(&ctx.caller.id, ctx.param("id"), &ctx.body).await?;
    Ok(Reply::data(p.to_json()))
}

pub async fn delete(ctx: Ctx) -> HandlerResult {
    let p = ctx.engine().delete_messaging_profile(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(p.to_json()))
}

pub async fn numbers(ctx: Ctx) -> HandlerResult {
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().profile_numbers(&ctx.caller.id, ctx.param("id")).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|n| n.to_messaging_json()).collect(), meta))
}
