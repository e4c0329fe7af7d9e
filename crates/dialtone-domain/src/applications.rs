//! Call control applications: where a call's webhooks go and how its calls behave. An
//! application is also a *connection* (Telnyx's older name, still used by
//! `/connections` and by phone numbers' `connection_id`, which routes inbound calls to it).

use crate::body::Body;
use crate::error::{ApiError, Result};
use crate::fmt_time;
use crate::page::Page;
use crate::query::Query;
use crate::webhooks::{Routing, check_url};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "call_control_application";

pub const ANCHORSITES: &[&str] = &[
    "Latency",
    "Chicago, IL",
    "Ashburn, VA",
    "San Jose, CA",
    "London, UK",
    "Chennai, IN",
    "Amsterdam, Netherlands",
    "Toronto, Canada",
    "Sydney, Australia",
];
/// The anchorsites the spec's `Connection` schema admits (no Chennai): an application
/// anchored elsewhere is shown on `/connections` without the field.
const CONNECTION_ANCHORSITES: &[&str] = &[
    "Latency",
    "Chicago, IL",
    "Ashburn, VA",
    "San Jose, CA",
    "Sydney, Australia",
    "Amsterdam, Netherlands",
    "London, UK",
    "Toronto, Canada",
];
pub const DTMF_TYPES: &[&str] = &["RFC 2833", "Inband", "SIP INFO"];
pub const WEBHOOK_API_VERSIONS: &[&str] = &["1", "2"];
pub const RECEIVE_SETTINGS: &[&str] = &["only_my_connections", "from_anyone"];
/// `first_command_timeout_secs` accepted.
pub const FIRST_COMMAND_TIMEOUT_RANGE: (i64, i64) = (1, 120);

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel_limit: Option<i64>,
    pub shaken_stir_enabled: bool,
    pub sip_subdomain: Option<String>,
    pub sip_subdomain_receive_settings: String,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Outbound {
    pub channel_limit: Option<i64>,
    pub outbound_voice_profile_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Application {
    /// A numeric string, as Telnyx's connection ids are.
    pub id: String,
    pub account_id: String,
    pub application_name: String,
    pub active: bool,
    pub anchorsite_override: String,
    pub call_cost_in_webhooks: bool,
    pub dtmf_type: String,
    pub first_command_timeout: bool,
    pub first_command_timeout_secs: i64,
    pub inbound: Inbound,
    pub outbound: Outbound,
    pub redact_dtmf_debug_logging: bool,
    pub tags: Vec<String>,
    pub webhook_api_version: String,
    pub webhook_event_url: String,
    pub webhook_event_failover_url: Option<String>,
    pub webhook_timeout_secs: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    /// `POST /call_control_applications`: `application_name` and `webhook_event_url` are
    /// required; everything else takes the spec's default.
    pub fn create(body: &Body, id: String, account_id: String, now: DateTime<Utc>) -> Result<Application> {
        let mut a = Application {
            id,
            account_id,
            application_name: String::new(),
            active: true,
            anchorsite_override: "Latency".into(),
            call_cost_in_webhooks: false,
            dtmf_type: "RFC 2833".into(),
            first_command_timeout: false,
            first_command_timeout_secs: 30,
            inbound: Inbound { sip_subdomain_receive_settings: "from_anyone".into(), ..Inbound::default() },
            outbound: Outbound::default(),
            redact_dtmf_debug_logging: false,
            tags: Vec::new(),
            webhook_api_version: "1".into(),
            webhook_event_url: String::new(),
            webhook_event_failover_url: None,
            webhook_timeout_secs: None,
            created_at: now,
            updated_at: now,
        };
        a.apply(body, now)?;
        Ok(a)
    }

    /// `PATCH /call_control_applications/{id}`: the spec requires `application_name` and
    /// `webhook_event_url` here too (the SDKs always send them); the other fields given
    /// replace the application's.
    pub fn update(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        let mut next = self.clone();
        next.apply(body, now)?;
        *self = next;
        Ok(())
    }

    fn apply(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        self.application_name = body.req_str("application_name")?.to_owned();
        self.webhook_event_url = check_url("webhook_event_url", body.req_str("webhook_event_url")?)?;
        if body.is_null("webhook_event_failover_url") {
            self.webhook_event_failover_url = None;
        } else if let Some(u) = body.opt_str("webhook_event_failover_url")? {
            self.webhook_event_failover_url =
                if u.is_empty() { None } else { Some(check_url("webhook_event_failover_url", u)?) };
        }
        if body.is_null("webhook_timeout_secs") {
            self.webhook_timeout_secs = None;
        } else if let Some(t) = body.opt_int_in("webhook_timeout_secs", 0, 30)? {
            self.webhook_timeout_secs = Some(t);
        }
        for (field, slot) in [
            ("active", &mut self.active),
            ("call_cost_in_webhooks", &mut self.call_cost_in_webhooks),
            ("first_command_timeout", &mut self.first_command_timeout),
            ("redact_dtmf_debug_logging", &mut self.redact_dtmf_debug_logging),
        ] {
            if let Some(v) = body.opt_bool(field)? {
                *slot = v;
            }
        }
        let (lo, hi) = FIRST_COMMAND_TIMEOUT_RANGE;
        if let Some(s) = body.opt_int_in("first_command_timeout_secs", lo, hi)? {
            self.first_command_timeout_secs = s;
        }
        for (field, allowed, slot) in [
            ("anchorsite_override", ANCHORSITES, &mut self.anchorsite_override),
            ("dtmf_type", DTMF_TYPES, &mut self.dtmf_type),
            ("webhook_api_version", WEBHOOK_API_VERSIONS, &mut self.webhook_api_version),
        ] {
            if let Some(v) = body.opt_enum(field, allowed)? {
                *slot = v.to_owned();
            }
        }
        if let Some(tags) = body.opt_str_array("tags")? {
            self.tags = tags;
        }
        if let Some(b) = body.opt_object("inbound")? {
            self.inbound.apply(&b).map_err(|e| e.within("/inbound"))?;
        }
        if let Some(b) = body.opt_object("outbound")? {
            self.outbound.apply(&b).map_err(|e| e.within("/outbound"))?;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Where the application's calls send their webhooks (a command may override it).
    pub fn routing(&self) -> Routing {
        Routing {
            url: Some(self.webhook_event_url.clone()),
            failover_url: self.webhook_event_failover_url.clone(),
            timeout_ms: self.webhook_timeout_secs.filter(|s| *s > 0).map(|s| s as u64 * 1000),
            ..Routing::default()
        }
    }

    /// The spec's `CallControlApplication`. Optional fields without a value are left out
    /// where the schema does not admit `null`.
    pub fn to_json(&self) -> Value {
        let mut inbound = json!({
            "shaken_stir_enabled": self.inbound.shaken_stir_enabled,
            "sip_subdomain_receive_settings": self.inbound.sip_subdomain_receive_settings,
        });
        if let Some(l) = self.inbound.channel_limit {
            inbound["channel_limit"] = json!(l);
        }
        if let Some(s) = &self.inbound.sip_subdomain {
            inbound["sip_subdomain"] = json!(s);
        }
        let mut outbound = json!({});
        if let Some(l) = self.outbound.channel_limit {
            outbound["channel_limit"] = json!(l);
        }
        if let Some(p) = &self.outbound.outbound_voice_profile_id {
            outbound["outbound_voice_profile_id"] = json!(p);
        }
        json!({
            "record_type": "call_control_application",
            "id": self.id,
            "application_name": self.application_name,
            "active": self.active,
            "anchorsite_override": self.anchorsite_override,
            "call_cost_in_webhooks": self.call_cost_in_webhooks,
            "dtmf_type": self.dtmf_type,
            "first_command_timeout": self.first_command_timeout,
            "first_command_timeout_secs": self.first_command_timeout_secs,
            "inbound": inbound,
            "outbound": outbound,
            "redact_dtmf_debug_logging": self.redact_dtmf_debug_logging,
            "tags": self.tags,
            "webhook_api_version": self.webhook_api_version,
            "webhook_event_url": self.webhook_event_url,
            "webhook_event_failover_url": self.webhook_event_failover_url,
            "webhook_timeout_secs": self.webhook_timeout_secs,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        })
    }

    /// The spec's `Connection`: the application as `/connections` lists it.
    pub fn to_connection_json(&self) -> Value {
        let mut v = json!({
            "record_type": "call_control_application",
            "id": self.id,
            "connection_name": self.application_name,
            "active": self.active,
            "tags": self.tags,
            "webhook_api_version": self.webhook_api_version,
            "webhook_event_url": self.webhook_event_url,
            "webhook_event_failover_url": self.webhook_event_failover_url,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if CONNECTION_ANCHORSITES.contains(&self.anchorsite_override.as_str()) {
            v["anchorsite_override"] = json!(self.anchorsite_override);
        }
        if let Some(p) = &self.outbound.outbound_voice_profile_id {
            v["outbound_voice_profile_id"] = json!(p);
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Application> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

impl Inbound {
    fn apply(&mut self, b: &Body) -> Result<()> {
        if b.is_null("channel_limit") {
            self.channel_limit = None;
        } else if let Some(l) = b.opt_int_in("channel_limit", 1, 100_000)? {
            self.channel_limit = Some(l);
        }
        if let Some(v) = b.opt_bool("shaken_stir_enabled")? {
            self.shaken_stir_enabled = v;
        }
        if b.is_null("sip_subdomain") {
            self.sip_subdomain = None;
        } else if let Some(s) = b.opt_str("sip_subdomain")? {
            let ok = s.is_empty()
                || (s.len() <= 63
                    && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                    && !s.starts_with('-')
                    && !s.ends_with('-'));
            if !ok {
                return Err(ApiError::invalid(
                    "sip_subdomain",
                    "'sip_subdomain' must be at most 63 letters, digits and inner hyphens.",
                ));
            }
            self.sip_subdomain = Some(s.to_ascii_lowercase()).filter(|s| !s.is_empty());
        }
        if let Some(v) = b.opt_enum("sip_subdomain_receive_settings", RECEIVE_SETTINGS)? {
            self.sip_subdomain_receive_settings = v.to_owned();
        }
        Ok(())
    }
}

impl Outbound {
    fn apply(&mut self, b: &Body) -> Result<()> {
        if b.is_null("channel_limit") {
            self.channel_limit = None;
        } else if let Some(l) = b.opt_int_in("channel_limit", 1, 100_000)? {
            self.channel_limit = Some(l);
        }
        if b.is_null("outbound_voice_profile_id") {
            self.outbound_voice_profile_id = None;
        } else if let Some(p) = b.opt_str("outbound_voice_profile_id")? {
            if !p.is_empty() && !p.chars().all(|c| c.is_ascii_digit()) {
                return Err(ApiError::invalid(
                    "outbound_voice_profile_id",
                    "'outbound_voice_profile_id' must be a numeric id.",
                ));
            }
            self.outbound_voice_profile_id = Some(p.to_owned()).filter(|p| !p.is_empty());
        }
        Ok(())
    }
}

/// `sort` of both lists: `created_at`, `connection_name` (the application's name) or
/// `active`, ascending, or descending with a `-` prefix; newest first when absent.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sort {
    key: Option<String>,
    descending: bool,
}

impl Sort {
    pub fn parse(q: &Query) -> Result<Sort> {
        let Some(raw) = q.str("sort") else {
            return Ok(Sort::default());
        };
        let (descending, key) = match raw.strip_prefix('-') {
            Some(k) => (true, k),
            None => (false, raw),
        };
        if !["created_at", "connection_name", "active"].contains(&key) {
            return Err(ApiError::invalid_param(
                "sort",
                format!("'sort' must be created_at, connection_name or active (with - for descending), not '{raw}'."),
            ));
        }
        Ok(Sort { key: Some(key.to_owned()), descending })
    }

    /// Sorts `apps`, given oldest first: ties keep that order (reversed when descending).
    pub fn apply(&self, apps: &mut [Application]) {
        match self.key.as_deref() {
            Some("connection_name") => apps.sort_by(|a, b| a.application_name.cmp(&b.application_name)),
            Some("active") => apps.sort_by_key(|a| a.active),
            _ => apps.sort_by_key(|a| a.created_at),
        }
        if self.descending || self.key.is_none() {
            apps.reverse();
        }
    }
}

/// A name filter: at least three characters, matched case-insensitively.
fn contains_filter(q: &Query, name: &str) -> Result<Option<String>> {
    match q.str(name) {
        None => Ok(None),
        Some(v) if v.chars().count() < 3 => {
            Err(ApiError::invalid_param(name, format!("'{name}' requires at least three characters.")))
        }
        Some(v) => Ok(Some(v.to_lowercase())),
    }
}

/// `GET /call_control_applications` filters.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    name_contains: Option<String>,
    outbound_voice_profile_id: Option<String>,
    pub sort: Sort,
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<ListFilter> {
        Ok(ListFilter {
            name_contains: contains_filter(q, "filter[application_name][contains]")?,
            outbound_voice_profile_id: q.str("filter[outbound.outbound_voice_profile_id]").map(str::to_owned),
            sort: Sort::parse(q)?,
        })
    }

    pub fn matches(&self, a: &Application) -> bool {
        self.name_contains.as_ref().is_none_or(|c| a.application_name.to_lowercase().contains(c))
            && self
                .outbound_voice_profile_id
                .as_ref()
                .is_none_or(|p| a.outbound.outbound_voice_profile_id.as_ref() == Some(p))
    }
}

/// `GET /connections` filters (an application has no `fqdn`, so that filter matches none).
#[derive(Clone, Debug, Default)]
pub struct ConnectionFilter {
    name_contains: Option<String>,
    fqdn: bool,
    outbound_voice_profile_id: Option<String>,
    pub sort: Sort,
}

impl ConnectionFilter {
    pub fn parse(q: &Query) -> Result<ConnectionFilter> {
        Ok(ConnectionFilter {
            name_contains: contains_filter(q, "filter[connection_name][contains]")?,
            fqdn: q.str("filter[fqdn]").is_some(),
            outbound_voice_profile_id: q
                .str("filter[outbound_voice_profile_id]")
                .or_else(|| q.str("filter[outbound.outbound_voice_profile_id]"))
                .map(str::to_owned),
            sort: Sort::parse(q)?,
        })
    }

    pub fn matches(&self, a: &Application) -> bool {
        !self.fqdn
            && self.name_contains.as_ref().is_none_or(|c| a.application_name.to_lowercase().contains(c))
            && self
                .outbound_voice_profile_id
                .as_ref()
                .is_none_or(|p| a.outbound.outbound_voice_profile_id.as_ref() == Some(p))
    }
}

/// `/connections` pages default to 250 items (the spec's default for that list).
pub fn connections_page(q: &Query) -> Result<Page> {
    let mut page = Page::from_query(q)?;
    if q.str("page[size]").is_none() {
        page.size = crate::page::MAX_SIZE;
    }
    Ok(page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    fn create(v: Value) -> Result<Application> {
        Application::create(&body(v), "1".into(), "a".into(), Utc::now())
    }

    #[test]
    fn create_needs_a_name_and_a_url_and_takes_the_defaults() {
        assert_eq!(
            create(json!({"webhook_event_url": "https://e.x/"})).unwrap_err().pointer.as_deref(),
            Some("/application_name")
        );
        let e = create(json!({"application_name": "x"})).unwrap_err();
        assert_eq!((e.code, e.pointer.as_deref()), (Code::MissingParameter, Some("/webhook_event_url")));
        let e = create(json!({"application_name": "x", "webhook_event_url": "example.com"})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/webhook_event_url"));
        let a = create(json!({"application_name": "x", "webhook_event_url": "https://e.x/h"})).unwrap();
        let j = a.to_json();
        assert_eq!(j["active"], true);
        assert_eq!(j["anchorsite_override"], "Latency");
        assert_eq!(j["dtmf_type"], "RFC 2833");
        assert_eq!(j["first_command_timeout_secs"], 30);
        assert_eq!(j["webhook_api_version"], "1");
        assert_eq!(j["inbound"]["sip_subdomain_receive_settings"], "from_anyone");
        assert!(j["inbound"].get("channel_limit").is_none(), "not nullable: left out");
        assert!(j["webhook_timeout_secs"].is_null());
        assert_eq!(a.routing().url.as_deref(), Some("https://e.x/h"));
        assert_eq!(a.routing().timeout_ms, None);
    }

    #[test]
    fn every_field_is_checked_and_points_at_itself() {
        let base = || json!({"application_name": "x", "webhook_event_url": "https://e.x/"});
        let with = |k: &str, v: Value| {
            let mut b = base();
            b[k] = v;
            create(b).unwrap_err()
        };
        let e = with("anchorsite_override", json!("Mars"));
        assert_eq!((e.code, e.pointer.as_deref()), (Code::InvalidEnum, Some("/anchorsite_override")));
        assert_eq!(with("dtmf_type", json!("tones")).code, Code::InvalidEnum);
        assert_eq!(with("webhook_api_version", json!("3")).code, Code::InvalidEnum);
        let e = with("webhook_timeout_secs", json!(31));
        assert_eq!((e.code, e.pointer.as_deref()), (Code::OutOfRange, Some("/webhook_timeout_secs")));
        assert_eq!(with("first_command_timeout_secs", json!(0)).code, Code::OutOfRange);
        assert_eq!(with("active", json!("yes")).code, Code::InvalidType);
        let e = with("inbound", json!({"sip_subdomain_receive_settings": "everyone"}));
        assert_eq!(e.pointer.as_deref(), Some("/inbound/sip_subdomain_receive_settings"));
        let e = with("inbound", json!({"channel_limit": 0}));
        assert_eq!(e.pointer.as_deref(), Some("/inbound/channel_limit"));
        let e = with("outbound", json!({"outbound_voice_profile_id": "abc"}));
        assert_eq!(e.pointer.as_deref(), Some("/outbound/outbound_voice_profile_id"));
        assert_eq!(
            with("webhook_event_failover_url", json!("nope")).pointer.as_deref(),
            Some("/webhook_event_failover_url")
        );
    }

    #[test]
    fn update_replaces_given_fields_and_leaves_nothing_half_done() {
        let mut a = create(json!({"application_name": "x", "webhook_event_url": "https://e.x/",
            "webhook_timeout_secs": 5, "inbound": {"channel_limit": 4, "sip_subdomain": "Acme"},
            "outbound": {"outbound_voice_profile_id": "123"}}))
        .unwrap();
        assert_eq!(a.inbound.sip_subdomain.as_deref(), Some("acme"));
        assert_eq!(a.routing().timeout_ms, Some(5000));
        let before = a.clone();
        let bad = body(json!({"application_name": "y", "webhook_event_url": "https://e.x/", "dtmf_type": "x"}));
        assert!(a.update(&bad, Utc::now()).is_err());
        assert_eq!(a, before, "a refused update changes nothing");
        let ok = body(json!({"application_name": "y", "webhook_event_url": "https://f.x/", "active": false,
            "webhook_timeout_secs": null, "inbound": {"channel_limit": null}, "tags": ["t"]}));
        a.update(&ok, Utc::now()).unwrap();
        assert_eq!((a.application_name.as_str(), a.active, a.webhook_timeout_secs), ("y", false, None));
        assert_eq!(a.inbound.channel_limit, None);
        assert_eq!(a.inbound.sip_subdomain.as_deref(), Some("acme"), "unnamed nested fields are kept");
        assert_eq!(a.tags, ["t"]);
        assert!(a.update(&body(json!({"active": true})), Utc::now()).is_err(), "the spec requires the name and URL");
    }

    #[test]
    fn connection_view_leaves_out_what_its_schema_cannot_hold() {
        let a = create(
            json!({"application_name": "x", "webhook_event_url": "https://e.x/", "anchorsite_override": "Chennai, IN"}),
        )
        .unwrap();
        let c = a.to_connection_json();
        assert_eq!(c["connection_name"], "x");
        assert!(c.get("anchorsite_override").is_none());
        assert!(c.get("outbound_voice_profile_id").is_none());
    }

    #[test]
    fn filters_and_sorts() {
        let q = |s: &str| Query::parse(Some(s));
        let mut a = create(json!({"application_name": "Alpha router", "webhook_event_url": "https://e.x/"})).unwrap();
        a.outbound.outbound_voice_profile_id = Some("9".into());
        assert!(ListFilter::parse(&q("filter[application_name][contains]=ROUT")).unwrap().matches(&a));
        assert!(ListFilter::parse(&q("filter[application_name][contains]=ro")).is_err());
        assert!(ListFilter::parse(&q("filter[outbound.outbound_voice_profile_id]=9")).unwrap().matches(&a));
        assert!(!ListFilter::parse(&q("filter[outbound.outbound_voice_profile_id]=8")).unwrap().matches(&a));
        assert!(!ConnectionFilter::parse(&q("filter[fqdn]=x.example")).unwrap().matches(&a));
        assert!(ConnectionFilter::parse(&q("filter[connection_name][contains]=alpha")).unwrap().matches(&a));
        let mut b = a.clone();
        b.application_name = "Beta".into();
        b.created_at = a.created_at + chrono::Duration::seconds(1);
        b.active = false;
        let names = |s: &str| {
            let mut v = vec![a.clone(), b.clone()];
            Sort::parse(&q(s)).unwrap().apply(&mut v);
            v.into_iter().map(|x| x.application_name).collect::<Vec<_>>()
        };
        assert_eq!(names(""), ["Beta", "Alpha router"], "newest first by default");
        assert_eq!(names("sort=created_at"), ["Alpha router", "Beta"]);
        assert_eq!(names("sort=-connection_name"), ["Beta", "Alpha router"]);
        assert_eq!(names("sort=active"), ["Beta", "Alpha router"]);
        assert!(Sort::parse(&q("sort=name")).is_err());
        assert_eq!(connections_page(&q("")).unwrap().size, 250);
        assert_eq!(connections_page(&q("page[size]=2")).unwrap().size, 2);
    }
}
