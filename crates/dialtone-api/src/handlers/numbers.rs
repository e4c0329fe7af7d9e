//! `/phone_numbers`: the numbers an account owns.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use dialtone_domain::error::Result;
use dialtone_domain::numbers::{ListFilter, PhoneNumber};
use dialtone_domain::page::Page;

/// The name of the number's messaging profile, if it has one.
async fn profile_name(ctx: &Ctx, n: &PhoneNumber) -> Result<Option<String>> {
    match &n.messaging_profile_id {
        Some(p) => Ok(ctx.engine().messaging_profile(&ctx.caller.id, p).await.ok().map(|p| p.name)),
        None => Ok(None),
    }
}

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let all = ctx.engine().list_phone_numbers(&ctx.caller.id, &filter).await?;
    let names = ctx.engine().profile_names(&ctx.caller.id).await?;
    let (items, meta) = page.slice(all);
    let data = items
        .iter()
        .map(|n| n.to_json(n.messaging_profile_id.as_ref().and_then(|p| names.get(p)).map(String::as_str)))
        .collect();
    Ok(Reply::list(data, meta))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().phone_number(&ctx.caller.id, ctx.param("id")).await?;
    let name = profile_name(&ctx, &n).await?;
    Ok(Reply::data(n.to_json(name.as_deref())))
}

pub async fn update(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().update_phone_number(&ctx.caller.id, ctx.param("id"), &ctx.body).await?;
    let name = profile_name(&ctx, &n).await?;
    Ok(Reply::data(n.to_json(name.as_deref())))
}

pub async fn delete(ctx: Ctx) -> HandlerResult {
    let n = ctx.engine().delete_phone_number(&ctx.caller.id, ctx.param("id")).await?;
    let name = profile_name(&ctx, &n).await?;
    Ok(Reply::data(n.to_deleted_json(name.as_deref())))
}
