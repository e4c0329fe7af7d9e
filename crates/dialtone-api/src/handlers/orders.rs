//! `/available_phone_numbers` and `/number_orders`.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::inventory::Search;
use dialtone_domain::orders::ListFilter;
use dialtone_domain::page::Page;
use serde_json::json;

pub async fn available(ctx: Ctx) -> HandlerResult {
    let search = Search::parse(&ctx.query)?;
    let (found, best_effort) = ctx.engine().available_numbers(&search).await?;
    let meta = json!({ "total_results": found.len(), "best_effort_results": best_effort });
    let data: Vec<_> = found.iter().map(|c| c.to_json()).collect();
    Ok(Reply::Json(200, json!({ "data": data, "meta": meta, "metadata": meta })))
}

pub async fn create(ctx: Ctx) -> HandlerResult {
    let o = ctx.engine().create_number_order(&ctx.caller.id, &ctx.body).await?;
    Ok(Reply::data(o.to_json()))
}

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().number_orders(&ctx.caller.id, &filter).await?;
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|o| o.to_list_json()).collect(), meta))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let o = ctx.engine().number_order(&ctx.caller.id, ctx.param("number_order_id")).await?;
    Ok(Reply::data(o.to_json()))
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let o = ctx.engine().update_number_order(&ctx.caller.id, ctx.param("number_order_id"), &ctx.body).await?;
    Ok(Reply::data(o.to_json()))
}
