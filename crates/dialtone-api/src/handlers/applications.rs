//! `/call_control_applications` and `/connections` (an application is a connection).

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::applications::{ConnectionFilter, ListFilter, connections_page};
use dialtone_domain::page::Page;
use serde_json::json;

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let mut all: Vec<_> =
        ctx.engine().applications(&ctx.caller.id).await?.into_iter().filter(|a| filter.matches(a)).collect();
    filter.sort.apply(&mut all);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|a| a.to_json()).collect(), meta))
}

pub async fn create(ctx: Ctx) -> HandlerResult {
    let a = ctx.engine().create_application(&ctx.caller.id, &ctx.body).await?;
    Ok(Reply::Json(201, json!({ "data": a.to_json() })))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let a = ctx.engine().application(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(a.to_json()))
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let a = ctx.engine().update_application(&ctx.caller.id, ctx.param("id"), &ctx.body).await?;
    Ok(Reply::data(a.to_json()))
}

pub async fn delete(ctx: Ctx) -> HandlerResult {
    let a = ctx.engine().delete_application(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(a.to_json()))
}

pub async fn connections(ctx: Ctx) -> HandlerResult {
    let filter = ConnectionFilter::parse(&ctx.query)?;
    let page = connections_page(&ctx.query)?;
    let mut all: Vec<_> =
        ctx.engine().applications(&ctx.caller.id).await?.into_iter().filter(|a| filter.matches(a)).collect();
    filter.sort.apply(&mut all);
    let (items, meta) = page.slice(all);
    Ok(Reply::list(items.iter().map(|a| a.to_connection_json()).collect(), meta))
}

pub async fn connection(ctx: Ctx) -> HandlerResult {
    let a = ctx.engine().application(&ctx.caller.id, ctx.param("id")).await?;
    Ok(Reply::data(a.to_connection_json()))
}

/// The spec gives this list a cursor meta, but the SDKs page it with `page[number]`: the
/// meta carries both (`total_items` and `next` beside the page numbers).
pub async fn active_calls(ctx: Ctx) -> HandlerResult {
    let page = Page::from_query(&ctx.query)?;
    let id = ctx.param("connection_id").to_owned();
    let calls = ctx.engine().active_calls(&ctx.caller.id, &id).await?;
    let now = ctx.engine().clock.now();
    let (items, meta) = page.slice(calls);
    let mut m = serde_json::to_value(meta).unwrap_or_default();
    m["total_items"] = json!(meta.total_results);
    if meta.page_number < meta.total_pages {
        m["next"] = json!(format!(
            "/v2/connections/{id}/active_calls?page[number]={}&page[size]={}",
            meta.page_number + 1,
            meta.page_size
        ));
    }
    if meta.page_number > 1 {
        m["previous"] = json!(format!(
            "/v2/connections/{id}/active_calls?page[number]={}&page[size]={}",
            meta.page_number - 1,
            meta.page_size
        ));
    }
    Ok(Reply::Json(200, json!({ "data": items.iter().map(|c| c.to_active_json(now)).collect::<Vec<_>>(), "meta": m })))
}
