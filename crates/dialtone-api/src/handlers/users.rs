//! `/organizations/users`.

use crate::reply::Reply;
use crate::{Ctx, HandlerResult};
use axum::http::header;
use dialtone_domain::error::Result;
use dialtone_domain::page::Page;
use dialtone_domain::users::{ListFilter, groups_report_csv};

fn include_groups(ctx: &Ctx) -> Result<bool> {
    Ok(ctx.query.bool("include_groups")?.unwrap_or(false))
}

pub async fn list(ctx: Ctx) -> HandlerResult {
    let filter = ListFilter::parse(&ctx.query)?;
    let page = Page::from_query(&ctx.query)?;
    let users = ctx.engine().list_users(&ctx.caller, &filter).await?;
    let (items, meta) = page.slice(users);
    Ok(Reply::list(items.iter().map(|u| u.to_json(filter.include_groups)).collect(), meta))
}

pub async fn retrieve(ctx: Ctx) -> HandlerResult {
    let groups = include_groups(&ctx)?;
    let user = ctx.engine().user(&ctx.caller, ctx.param("id")).await?;
    Ok(Reply::data(user.to_json(groups)))
}

pub async fn remove(ctx: Ctx) -> HandlerResult {
    let user = ctx.engine().remove_user(&ctx.caller, ctx.param("id")).await?;
    Ok(Reply::data(user.to_json(false)))
}

/// JSON by default, CSV when the `Accept` header asks for `text/csv`.
pub async fn groups_report(ctx: Ctx) -> HandlerResult {
    let users = ctx.engine().list_users(&ctx.caller, &ListFilter::default()).await?;
    let wants_csv =
        ctx.headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/csv"));
    if wants_csv {
        Ok(Reply::Text(200, "text/csv", groups_report_csv(&users)))
    } else {
        Ok(Reply::data(serde_json::Value::Array(users.iter().map(|u| u.to_json(true)).collect())))
    }
}
