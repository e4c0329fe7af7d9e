//! `/webhook_deliveries`: every delivery of the caller's account, with each attempt.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::page::Page;
use dialtone_domain::webhooks::ListFilter;

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().list_deliveries(&ctx.caller.id, &filter).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|d| d.to_json()).collect(), meta))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let d = ctx.engine().delivery(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(d.to_json()))
}
