//! Accounts: the root (manager) account and the accounts it manages.
//!
//! Every resource belongs to one account. The root account is created at first start and
//! is the only manager; managed accounts are created through `POST /managed_accounts` and
//! get an API key that works at once.

use crate::body::{Body, is_email};
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "account";

/// Outbound channels the root account may hand out to its managed accounts (documented).
pub const DEFAULT_ALLOCATABLE_CHANNELS: i64 = 1000;
/// The store counter holding the channels a manager has allocated to its managed accounts
/// (store migration 3 computes its starting value with this same text).
pub fn allocated_channels_key(manager_id: &str) -> String {
    format!("allocated_channels:{manager_id}")
}

/// The store counter holding an account's live outbound calls (dials not yet ended). A dial
/// raises it by one, bounded by the account's channel limit, in the commit that creates the
/// call; the commit that ends the call lowers it again.
pub fn outbound_calls_key(account_id: &str) -> String {
    format!("outbound_calls:{account_id}")
}

/// Channels a managed account gets at creation while that many are still unallocated.
pub const DEFAULT_CHANNEL_LIMIT: i64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Enabled,
    Disabled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub id: String,
    /// `None` for the root account.
    pub manager_account_id: Option<String>,
    pub email: String,
    pub organization_name: String,
    pub api_user: String,
    pub api_token: String,
    pub status: Status,
    pub managed_account_allow_custom_pricing: bool,
    pub rollup_billing: bool,
    /// Outbound channels allocated to a managed account (voice enforces it).
    pub channel_limit: i64,
    /// For the manager: the pool its managed accounts' limits come out of.
    pub allocatable_global_outbound_channels: i64,
    /// Whether the account's connections are enabled (`disable` turns them off;
    /// `enable` with `reenable_all_connections` turns them back on).
    pub connections_enabled: bool,
    pub has_password: bool,
    /// The first characters of the account's API key, shown (masked) on reads.
    #[serde(default)]
    pub api_key_prefix: String,
    /// Base64 Ed25519 seed for this account's webhook signatures and join tokens.
    pub signing_seed: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The refusal of a dial over the account's global outbound channel limit.
pub fn channel_limit_error(cap: i64) -> ApiError {
    ApiError::new(Code::ChannelLimitExceeded).detail(format!(
        "The account's global outbound channel limit ({cap}) is reached: hang up a call or raise the limit."
    ))
}

impl Account {
    pub fn is_manager(&self) -> bool {
        self.manager_account_id.is_none()
    }

    pub fn is_enabled(&self) -> bool {
        self.status == Status::Enabled
    }

    /// The cap on the account's concurrent outbound calls: a managed account's
    /// `channel_limit` (its global outbound channels); the root account has none.
    pub fn outbound_channel_cap(&self) -> Option<i64> {
        (!self.is_manager()).then_some(self.channel_limit)
    }

    /// Whether the account may place one more outbound call while `live` of its calls are
    /// up: a disabled account cannot dial at all, and a managed account at its channel
    /// limit is refused (403, Dialtone's code `90443` for Telnyx's SIP
    /// "403 User channel limit exceeded D1").
    pub fn check_can_dial(&self, live: i64) -> Result<()> {
        if !self.is_enabled() {
            return Err(ApiError::new(Code::AuthorizationFailed).detail("This account is disabled."));
        }
        match self.outbound_channel_cap() {
            Some(cap) if live >= cap => Err(channel_limit_error(cap)),
            _ => Ok(()),
        }
    }

    /// The root account at first start.
    pub fn root(id: String, email: String, signing_seed: String, now: DateTime<Utc>) -> Account {
        Account {
            api_user: email.clone(),
            organization_name: "Dialtone".into(),
            email,
            id,
            manager_account_id: None,
            api_token: random_token(),
            status: Status::Enabled,
            managed_account_allow_custom_pricing: false,
            rollup_billing: false,
            channel_limit: 0,
            allocatable_global_outbound_channels: DEFAULT_ALLOCATABLE_CHANNELS,
            connections_enabled: true,
            has_password: false,
            api_key_prefix: String::new(),
            signing_seed,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Account> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }

    /// The spec's `ManagedAccount`; `api_key` is the key in clear right after creation and
    /// its masked prefix afterwards (keys are stored only as hashes).
    pub fn to_managed_json(&self, api_key: &str) -> Value {
        let mut v = self.to_listing_json();
        v["api_key"] = json!(api_key);
        v["api_token"] = json!(self.api_token);
        v["balance"] = json!({
            "available_credit": "0.00",
            "balance": "0.00",
            "credit_limit": "0.00",
            "currency": "USD",
            "record_type": "balance",
        });
        v
    }

    /// The spec's `ManagedAccountMultiListing`.
    pub fn to_listing_json(&self) -> Value {
        json!({
            "record_type": "managed_account",
            "id": self.id,
            "email": self.email,
            "api_user": self.api_user,
            "manager_account_id": self.manager_account_id.clone().unwrap_or_default(),
            "organization_name": self.organization_name,
            "managed_account_allow_custom_pricing": self.managed_account_allow_custom_pricing,
            "rollup_billing": self.rollup_billing,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        })
    }

    pub fn to_channels_json(&self) -> Value {
        json!({
            "record_type": "managed_account_global_outbound_settings",
            "id": self.id,
            "email": self.email,
            "manager_account_id": self.manager_account_id.clone().unwrap_or_default(),
            "channel_limit": self.channel_limit,
        })
    }
}

fn random_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut b = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// The unique key that keeps emails unique across all accounts.
pub fn email_key(email: &str) -> String {
    email.to_ascii_lowercase()
}

/// The manager may use managed-account operations; a managed account may not.
pub fn require_manager(caller: &Account) -> Result<()> {
    if caller.is_manager() {
        Ok(())
    } else {
        Err(ApiError::new(Code::AuthorizationFailed).detail("Only a manager account can manage accounts."))
    }
}

/// A validated `CreateManagedAccountRequest`.
#[derive(Clone, Debug, PartialEq)]
pub struct NewManagedAccount {
    pub business_name: String,
    pub email: Option<String>,
    pub password: Option<String>,
    pub allow_custom_pricing: bool,
    pub rollup_billing: bool,
}

impl NewManagedAccount {
    pub fn parse(body: &Body) -> Result<Self> {
        let business_name = body.req_str("business_name")?.trim().to_owned();
        let email = body.opt_str("email")?.map(str::trim).map(str::to_owned);
        if let Some(e) = &email
            && !is_email(e)
        {
            return Err(ApiError::new(Code::InvalidEmail)
                .detail(format!("'{e}' is not a valid email address."))
                .pointer("/email"));
        }
        let password = body.opt_str("password")?.map(str::to_owned);
        if let Some(p) = &password
            && p.len() < 8
        {
            return Err(ApiError::invalid("password", "The password must be at least 8 characters long."));
        }
        Ok(NewManagedAccount {
            business_name,
            email,
            password,
            allow_custom_pricing: body.opt_bool("managed_account_allow_custom_pricing")?.unwrap_or(false),
            rollup_billing: body.opt_bool("rollup_billing")?.unwrap_or(false),
        })
    }

    /// Builds the account. Without an email one is derived from the manager's
    /// (`owner+<id8>@domain`), as Telnyx derives it from the manager account's address.
    pub fn build(
        self,
        manager: &Account,
        allocated: i64,
        id: String,
        signing_seed: String,
        now: DateTime<Utc>,
    ) -> Account {
        let email = self.email.unwrap_or_else(|| {
            let (local, domain) = manager.email.split_once('@').unwrap_or((&manager.email, "dialtone.local"));
            format!("{local}+{}@{domain}", id.replace('-', ""))
        });
        let free = (manager.allocatable_global_outbound_channels - allocated).max(0);
        Account {
            api_user: email.clone(),
            email,
            organization_name: self.business_name,
            manager_account_id: Some(manager.id.clone()),
            id,
            api_token: random_token(),
            status: Status::Enabled,
            managed_account_allow_custom_pricing: self.allow_custom_pricing,
            rollup_billing: self.rollup_billing,
            channel_limit: DEFAULT_CHANNEL_LIMIT.min(free),
            allocatable_global_outbound_channels: 0,
            connections_enabled: true,
            has_password: self.password.is_some(),
            api_key_prefix: String::new(),
            signing_seed,
            created_at: now,
            updated_at: now,
        }
    }
}

/// `PATCH /managed_accounts/{id}`.
pub fn apply_update(acct: &mut Account, body: &Body, now: DateTime<Utc>) -> Result<()> {
    if let Some(v) = body.opt_bool("managed_account_allow_custom_pricing")? {
        acct.managed_account_allow_custom_pricing = v;
    }
    acct.updated_at = now;
    Ok(())
}

pub fn disable(acct: &mut Account, now: DateTime<Utc>) {
    acct.status = Status::Disabled;
    acct.connections_enabled = false;
    acct.updated_at = now;
}

pub fn enable(acct: &mut Account, body: &Body, now: DateTime<Utc>) -> Result<()> {
    let reenable = body.opt_bool("reenable_all_connections")?.unwrap_or(false);
    acct.status = Status::Enabled;
    if reenable {
        acct.connections_enabled = true;
    }
    acct.updated_at = now;
    Ok(())
}

/// `PATCH /managed_accounts/{id}/update_global_channel_limit`: refuses more than the
/// manager has left to allocate (422).
pub fn set_channel_limit(
    manager: &Account,
    acct: &mut Account,
    allocated_to_others: i64,
    body: &Body,
    now: DateTime<Utc>,
) -> Result<()> {
    let Some(limit) = body.opt_int("channel_limit")? else {
        return Ok(());
    };
    if limit < 0 {
        return Err(ApiError::invalid("channel_limit", "channel_limit must be 0 or more."));
    }
    let available = manager.allocatable_global_outbound_channels - allocated_to_others;
    if limit > available {
        return Err(ApiError::invalid(
            "channel_limit",
            format!("Only {} global outbound channels can be allocated to this account.", available.max(0)),
        ));
    }
    acct.channel_limit = limit;
    acct.updated_at = now;
    Ok(())
}

/// The allocatable report for the manager, given what its managed accounts hold.
pub fn channels_report(manager: &Account, allocated: i64) -> Value {
    json!({
        "record_type": "allocatable_global_outbound_channels",
        "allocatable_global_outbound_channels": manager.allocatable_global_outbound_channels,
        "managed_account_allow_custom_pricing": manager.managed_account_allow_custom_pricing,
        "total_global_channels_allocated": allocated,
    })
}

/// `GET /managed_accounts` filters and sort.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    email_contains: Option<String>,
    email_eq: Option<String>,
    org_contains: Option<String>,
    org_eq: Option<String>,
    status: Option<String>,
    sort: String,
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<Self> {
        let contains = |name: &str| -> Result<Option<String>> {
            match q.str(name) {
                Some(v) if v.chars().count() < 3 => {
                    Err(ApiError::invalid_param(name, format!("'{name}' requires at least three characters.")))
                }
                v => Ok(v.map(str::to_lowercase)),
            }
        };
        Ok(ListFilter {
            email_contains: contains("filter[email][contains]")?,
            email_eq: q.str("filter[email][eq]").map(str::to_owned),
            org_contains: contains("filter[organization_name][contains]")?,
            org_eq: q.str("filter[organization_name][eq]").map(str::to_owned),
            status: q
                .one_of("filter[status][eq]", &["all", "active", "enabled", "cancelled", "disabled", "blocked"])?
                .map(str::to_owned),
            sort: q
                .one_of("sort", &["created_at", "-created_at", "email", "-email"])?
                .unwrap_or("-created_at")
                .to_owned(),
        })
    }

    pub fn matches(&self, a: &Account) -> bool {
        let status_ok = match self.status.as_deref() {
            None | Some("all") => true,
            Some("active") | Some("enabled") => a.is_enabled(),
            Some("disabled") => !a.is_enabled(),
            // Dialtone has no cancelled or blocked accounts.
            Some(_) => false,
        };
        status_ok
            && self.email_contains.as_ref().is_none_or(|c| a.email.to_lowercase().contains(c))
            && self.email_eq.as_ref().is_none_or(|e| &a.email == e)
            && self.org_contains.as_ref().is_none_or(|c| a.organization_name.to_lowercase().contains(c))
            && self.org_eq.as_ref().is_none_or(|o| &a.organization_name == o)
    }

    pub fn sort(&self, accounts: &mut [Account]) {
        match self.sort.as_str() {
            "created_at" => accounts.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id))),
            "email" => accounts.sort_by(|a, b| a.email.cmp(&b.email)),
            "-email" => accounts.sort_by(|a, b| b.email.cmp(&a.email)),
            _ => accounts.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn root() -> Account {
        Account::root(
            "00000000-0000-4000-8000-000000000001".into(),
            "owner@example.com".into(),
            String::new(),
            Utc::now(),
        )
    }

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    #[test]
    fn create_requires_business_name_and_valid_email() {
        assert_eq!(NewManagedAccount::parse(&body(json!({}))).unwrap_err().pointer.as_deref(), Some("/business_name"));
        let e = NewManagedAccount::parse(&body(json!({"business_name": "x", "email": "nope"}))).unwrap_err();
        assert_eq!(e.code, Code::InvalidEmail);
        let e = NewManagedAccount::parse(&body(json!({"business_name": 5}))).unwrap_err();
        assert_eq!(e.code, Code::InvalidType);
    }

    #[test]
    fn email_is_derived_from_the_manager_when_absent() {
        let m = root();
        let req = NewManagedAccount::parse(&body(json!({"business_name": "Acme"}))).unwrap();
        let a = req.build(&m, 0, "abcdef12-0000-4000-8000-000000000000".into(), String::new(), Utc::now());
        assert_eq!(a.email, "owner+abcdef12000040008000000000000000@example.com");
        assert_eq!(a.manager_account_id.as_deref(), Some(m.id.as_str()));
        assert_eq!(a.channel_limit, DEFAULT_CHANNEL_LIMIT);
        let a = NewManagedAccount::parse(&body(json!({"business_name": "Acme"}))).unwrap().build(
            &m,
            m.allocatable_global_outbound_channels - 3,
            "abcdef12-0000".into(),
            String::new(),
            Utc::now(),
        );
        assert_eq!(a.channel_limit, 3);
    }

    #[test]
    fn dialling_needs_an_enabled_account_under_its_channel_limit() {
        let m = root();
        assert_eq!(m.outbound_channel_cap(), None);
        assert!(m.check_can_dial(5000).is_ok(), "the root account has no channel limit");
        let mut a = NewManagedAccount::parse(&body(json!({"business_name": "Acme"}))).unwrap().build(
            &m,
            0,
            "abcdef12-0000".into(),
            String::new(),
            Utc::now(),
        );
        a.channel_limit = 2;
        assert!(a.check_can_dial(1).is_ok());
        let e = a.check_can_dial(2).unwrap_err();
        assert_eq!((e.status(), e.code), (403, Code::ChannelLimitExceeded));
        a.channel_limit = 0;
        assert_eq!(a.check_can_dial(0).unwrap_err().code, Code::ChannelLimitExceeded);
        a.channel_limit = 2;
        disable(&mut a, Utc::now());
        assert_eq!(a.check_can_dial(0).unwrap_err().code, Code::AuthorizationFailed);
    }

    #[test]
    fn channel_limit_cannot_exceed_what_is_left() {
        let m = root();
        let mut a = NewManagedAccount::parse(&body(json!({"business_name": "Acme"}))).unwrap().build(
            &m,
            0,
            "abcdef12-0000".into(),
            String::new(),
            Utc::now(),
        );
        set_channel_limit(&m, &mut a, 900, &body(json!({"channel_limit": 100})), Utc::now()).unwrap();
        assert_eq!(a.channel_limit, 100);
        let e = set_channel_limit(&m, &mut a, 900, &body(json!({"channel_limit": 101})), Utc::now()).unwrap_err();
        assert_eq!(e.status(), 422);
        assert!(set_channel_limit(&m, &mut a, 0, &body(json!({"channel_limit": -1})), Utc::now()).is_err());
    }

    #[test]
    fn disable_and_enable_handle_connections() {
        let mut a = root();
        disable(&mut a, Utc::now());
        assert!(!a.is_enabled() && !a.connections_enabled);
        enable(&mut a, &body(json!({})), Utc::now()).unwrap();
        assert!(a.is_enabled() && !a.connections_enabled);
        enable(&mut a, &body(json!({"reenable_all_connections": true})), Utc::now()).unwrap();
        assert!(a.connections_enabled);
    }

    #[test]
    fn filters_and_sorts() {
        let f = ListFilter::parse(&Query::parse(Some("filter[email][contains]=OWN&sort=email"))).unwrap();
        assert!(f.matches(&root()));
        assert!(ListFilter::parse(&Query::parse(Some("filter[email][contains]=ab"))).is_err());
        assert!(ListFilter::parse(&Query::parse(Some("sort=bogus"))).is_err());
        let f = ListFilter::parse(&Query::parse(Some("filter[status][eq]=disabled"))).unwrap();
        assert!(!f.matches(&root()));
    }
}
