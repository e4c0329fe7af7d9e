//! Organization users: people who sign in to an account's organization. The server makes an
//! owner for each account; `dialtone users add` adds sub-users and groups.

use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "org_user";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub id: String,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub account_id: String,
    pub email: String,
    pub owner: bool,
    pub user_status: String,
    pub groups: Vec<Group>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    pub bypasses_sso: bool,
    pub created_at: DateTime<Utc>,
}

pub const STATUSES: &[&str] = &["enabled", "disabled", "blocked"];

impl User {
    pub fn new(id: String, account_id: String, email: String, owner: bool, now: DateTime<Utc>) -> User {
        User {
            id,
            account_id,
            email,
            owner,
            user_status: "enabled".into(),
            groups: Vec::new(),
            last_sign_in_at: None,
            bypasses_sso: false,
            created_at: now,
        }
    }

    pub fn record_type(&self) -> &'static str {
        if self.owner { "organization_owner" } else { "organization_sub_user" }
    }

    /// The spec's `OrganizationUser`; `groups` only when asked for.
    pub fn to_json(&self, include_groups: bool) -> Value {
        let mut v = json!({
            "id": self.id,
            "record_type": self.record_type(),
            "email": self.email,
            "user_status": self.user_status,
            "last_sign_in_at": self.last_sign_in_at.map(fmt_time),
            "organization_user_bypasses_sso": self.bypasses_sso,
            "created_at": fmt_time(self.created_at),
        });
        if include_groups {
            v["groups"] = serde_json::to_value(&self.groups).unwrap_or_default();
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<User> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

/// The owner cannot be removed from its own organization.
pub fn check_removable(u: &User) -> Result<()> {
    if u.owner {
        return Err(ApiError::new(Code::AuthorizationFailed).detail("The organization owner cannot be removed."));
    }
    Ok(())
}

#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    email: Option<String>,
    status: Option<String>,
    pub include_groups: bool,
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<Self> {
        Ok(ListFilter {
            email: q.str("filter[email]").map(str::to_lowercase),
            status: q.one_of("filter[user_status]", STATUSES)?.map(str::to_owned),
            include_groups: q.bool("include_groups")?.unwrap_or(false),
        })
    }

    pub fn matches(&self, u: &User) -> bool {
        self.email.as_ref().is_none_or(|e| u.email.to_lowercase().contains(e))
            && self.status.as_ref().is_none_or(|s| &u.user_status == s)
    }
}

/// The groups report as CSV, with the spec's columns: one row per user, group names joined
/// with `, ` in one (quoted) cell.
pub fn groups_report_csv(users: &[User]) -> String {
    let mut out = String::from("id,email,user_status,created_at,last_sign_in_at,groups\n");
    for u in users {
        let groups: Vec<&str> = u.groups.iter().map(|g| g.name.as_str()).collect();
        let fields = [
            u.id.clone(),
            u.email.clone(),
            u.user_status.clone(),
            fmt_time(u.created_at),
            u.last_sign_in_at.map(fmt_time).unwrap_or_default(),
            groups.join(", "),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_follows_include_groups() {
        let mut u = User::new("u1".into(), "a".into(), "x@y.z".into(), false, Utc::now());
        u.groups.push(Group { id: "g".into(), name: "Sales".into() });
        assert!(u.to_json(false).get("groups").is_none());
        assert_eq!(u.to_json(true)["groups"][0]["name"], "Sales");
        assert_eq!(u.to_json(false)["record_type"], "organization_sub_user");
        assert!(u.to_json(false)["last_sign_in_at"].is_null());
    }

    #[test]
    fn csv_escapes_fields() {
        let mut u = User::new("u1".into(), "a".into(), "x@y.z".into(), true, Utc::now());
        u.groups = vec![Group { id: "1".into(), name: "A, B".into() }, Group { id: "2".into(), name: "C".into() }];
        let csv = groups_report_csv(&[u]);
        let row = csv.lines().nth(1).unwrap();
        assert!(csv.starts_with("id,email,user_status,created_at,last_sign_in_at,groups\n"));
        assert!(row.starts_with("u1,x@y.z,enabled,"));
        assert!(row.ends_with("\"A, B, C\""), "{row}");
    }

    #[test]
    fn owner_is_not_removable_and_filters_apply() {
        let o = User::new("u1".into(), "a".into(), "Owner@y.z".into(), true, Utc::now());
        assert!(check_removable(&o).is_err());
        let f = ListFilter::parse(&Query::parse(Some("filter[email]=owner&filter[user_status]=enabled"))).unwrap();
        assert!(f.matches(&o));
        assert!(ListFilter::parse(&Query::parse(Some("filter[user_status]=gone"))).is_err());
    }
}
