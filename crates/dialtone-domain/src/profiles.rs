//! Messaging profiles: the settings a group of phone numbers sends and receives messages
//! with (where webhooks go, which countries may be messaged, how a number pool picks a
//! sender). Phone numbers name their profile with `messaging_profile_id`.

use crate::body::Body;
use crate::error::{ApiError, Result};
use crate::fmt_time;
use crate::query::Query;
use crate::webhooks::{Routing, check_url};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "messaging_profile";

/// Every ISO 3166-1 alpha-2 code: what `["*"]` (all destinations) is shown as, since the
/// spec's schema admits only two-letter codes in `whitelisted_destinations`.
pub const ALL_COUNTRIES: &[&str] = &[
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ", "BA", "BB", "BD",
    "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS", "BT", "BV", "BW", "BY", "BZ", "CA",
    "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN", "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE",
    "DJ", "DK", "DM", "DO", "DZ", "EC", "EE", "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA",
    "GB", "GD", "GE", "GF", "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK",
    "HM", "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM", "JO", "JP",
    "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC", "LI", "LK", "LR", "LS", "LT",
    "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK", "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS",
    "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA", "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ",
    "OM", "PA", "PE", "PF", "PG", "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS",
    "RU", "RW", "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS", "ST",
    "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO", "TR", "TT", "TV", "TW",
    "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI", "VN", "VU", "WF", "WS", "YE", "YT", "ZA",
    "ZM", "ZW",
];

pub const WEBHOOK_API_VERSIONS: &[&str] = &["1", "2", "2010-04-01"];
/// `redaction_level` values accepted (Telnyx's default is 2).
pub const MAX_REDACTION_LEVEL: i64 = 2;

/// How a number pool chooses the sending number among the profile's long codes and toll-free
/// numbers. `null` on the profile turns the pool off.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NumberPoolSettings {
    pub long_code_weight: f64,
    pub toll_free_weight: f64,
    pub skip_unhealthy: bool,
    pub sticky_sender: bool,
    pub geomatch: bool,
}

impl NumberPoolSettings {
    fn parse(b: &Body) -> Result<NumberPoolSettings> {
        let weight = |field: &str| -> Result<f64> {
            let w = b.opt_number(field)?.ok_or_else(|| ApiError::missing(field))?;
            if w < 0.0 {
                return Err(ApiError::invalid(field, format!("'{field}' must be a non-negative number.")));
            }
            Ok(w)
        };
        Ok(NumberPoolSettings {
            long_code_weight: weight("long_code_weight")?,
            toll_free_weight: weight("toll_free_weight")?,
            skip_unhealthy: b.opt_bool("skip_unhealthy")?.ok_or_else(|| ApiError::missing("skip_unhealthy"))?,
            sticky_sender: b.opt_bool("sticky_sender")?.unwrap_or(false),
            geomatch: b.opt_bool("geomatch")?.unwrap_or(false),
        })
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UrlShortenerSettings {
    pub domain: String,
    pub prefix: Option<String>,
    pub replace_blacklist_only: Option<bool>,
    pub send_webhooks: Option<bool>,
}

impl UrlShortenerSettings {
    fn parse(b: &Body) -> Result<UrlShortenerSettings> {
        Ok(UrlShortenerSettings {
            domain: b.req_str("domain")?.to_owned(),
            prefix: b.opt_str("prefix")?.map(str::to_owned),
            replace_blacklist_only: b.opt_bool("replace_blacklist_only")?,
            send_webhooks: b.opt_bool("send_webhooks")?,
        })
    }

    fn to_json(&self) -> Value {
        let mut v = json!({ "domain": self.domain });
        if let Some(p) = &self.prefix {
            v["prefix"] = json!(p);
        }
        if let Some(r) = self.replace_blacklist_only {
            v["replace_blacklist_only"] = json!(r);
        }
        if let Some(s) = self.send_webhooks {
            v["send_webhooks"] = json!(s);
        }
        v
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MessagingProfile {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub enabled: bool,
    /// ISO 3166-1 alpha-2 codes the profile may send to; `["*"]` allows every country.
    pub whitelisted_destinations: Vec<String>,
    pub webhook_url: Option<String>,
    pub webhook_failover_url: Option<String>,
    pub webhook_api_version: String,
    pub number_pool_settings: Option<NumberPoolSettings>,
    pub url_shortener_settings: Option<UrlShortenerSettings>,
    pub alpha_sender: Option<String>,
    pub smart_encoding: bool,
    pub mms_fall_back_to_sms: bool,
    pub mms_transcoding: bool,
    pub mobile_only: bool,
    pub daily_spend_limit: Option<String>,
    pub daily_spend_limit_enabled: bool,
    pub redaction_enabled: bool,
    pub redaction_level: i64,
    pub health_webhook_url: Option<String>,
    pub ai_assistant_id: Option<String>,
    pub resource_group_id: Option<String>,
    pub v1_secret: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MessagingProfile {
    /// `POST /messaging_profiles`: `name` and `whitelisted_destinations` are required.
    pub fn create(body: &Body, id: String, account_id: String, now: DateTime<Utc>) -> Result<MessagingProfile> {
        let name = body.req_str("name")?.to_owned();
        if body.opt_array("whitelisted_destinations")?.is_none() {
            return Err(ApiError::missing("whitelisted_destinations"));
        }
        let mut p = MessagingProfile {
            id,
            account_id,
            name,
            enabled: true,
            whitelisted_destinations: Vec::new(),
            webhook_url: None,
            webhook_failover_url: None,
            webhook_api_version: "2".into(),
            number_pool_settings: None,
            url_shortener_settings: None,
            alpha_sender: None,
            smart_encoding: false,
            mms_fall_back_to_sms: false,
            mms_transcoding: false,
            mobile_only: false,
            daily_spend_limit: None,
            daily_spend_limit_enabled: false,
            redaction_enabled: false,
            redaction_level: 2,
            health_webhook_url: None,
            ai_assistant_id: None,
            resource_group_id: None,
            v1_secret: v1_secret(),
            created_at: now,
            updated_at: now,
        };
        p.apply(body, now)?;
        Ok(p)
    }

    /// `PATCH /messaging_profiles/{id}`: fields given replace the profile's; `null` clears a
    /// nullable field (`number_pool_settings: null` turns the number pool off).
    pub fn update(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        if body.is_null("name") {
            return Err(ApiError::invalid("name", "'name' cannot be null."));
        }
        if let Some(name) = body.opt_str("name")? {
            if name.trim().is_empty() {
                return Err(ApiError::invalid("name", "'name' cannot be blank."));
            }
            self.name = name.to_owned();
        }
        self.apply(body, now)
    }

    fn apply(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        if let Some(list) = body.opt_str_array("whitelisted_destinations")? {
            for (i, c) in list.iter().enumerate() {
                let ok = c == "*" || (c.len() == 2 && c.chars().all(|ch| ch.is_ascii_uppercase()));
                if !ok {
                    return Err(ApiError::invalid(
                        &format!("whitelisted_destinations/{i}"),
                        format!("'{c}' is not an ISO 3166-1 alpha-2 country code (or \"*\")."),
                    ));
                }
            }
            self.whitelisted_destinations = list;
        }
        if let Some(v) = body.opt_bool("enabled")? {
            self.enabled = v;
        }
        url_field(body, "webhook_url", &mut self.webhook_url)?;
        url_field(body, "webhook_failover_url", &mut self.webhook_failover_url)?;
        url_field(body, "health_webhook_url", &mut self.health_webhook_url)?;
        if let Some(v) = body.opt_str("webhook_api_version")? {
            if !WEBHOOK_API_VERSIONS.contains(&v) {
                return Err(ApiError::invalid(
                    "webhook_api_version",
                    format!("'webhook_api_version' must be one of {}.", WEBHOOK_API_VERSIONS.join(", ")),
                ));
            }
            self.webhook_api_version = v.to_owned();
        }
        if body.is_null("number_pool_settings") {
            self.number_pool_settings = None;
        } else if let Some(b) = body.opt_object("number_pool_settings")? {
            self.number_pool_settings =
                Some(NumberPoolSettings::parse(&b).map_err(|e| e.within("/number_pool_settings"))?);
        }
        if body.is_null("url_shortener_settings") {
            self.url_shortener_settings = None;
        } else if let Some(b) = body.opt_object("url_shortener_settings")? {
            self.url_shortener_settings =
                Some(UrlShortenerSettings::parse(&b).map_err(|e| e.within("/url_shortener_settings"))?);
        }
        if body.is_null("alpha_sender") {
            self.alpha_sender = None;
        } else if let Some(a) = body.opt_str("alpha_sender")? {
            let ok = (1..=11).contains(&a.len()) && a.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ');
            if !ok {
                return Err(ApiError::invalid(
                    "alpha_sender",
                    "'alpha_sender' must be 1 to 11 letters, digits or spaces.",
                ));
            }
            self.alpha_sender = Some(a.to_owned());
        }
        for (field, slot) in [
            ("smart_encoding", &mut self.smart_encoding),
            ("mms_fall_back_to_sms", &mut self.mms_fall_back_to_sms),
            ("mms_transcoding", &mut self.mms_transcoding),
            ("mobile_only", &mut self.mobile_only),
            ("daily_spend_limit_enabled", &mut self.daily_spend_limit_enabled),
            ("redaction_enabled", &mut self.redaction_enabled),
        ] {
            if let Some(v) = body.opt_bool(field)? {
                *slot = v;
            }
        }
        if let Some(limit) = body.opt_str("daily_spend_limit")? {
            if !is_amount(limit) {
                return Err(ApiError::invalid(
                    "daily_spend_limit",
                    "'daily_spend_limit' must be an amount of USD such as \"100.00\".",
                ));
            }
            self.daily_spend_limit = Some(limit.to_owned());
        }
        if let Some(level) = body.opt_int("redaction_level")? {
            if !(0..=MAX_REDACTION_LEVEL).contains(&level) {
                return Err(ApiError::invalid(
                    "redaction_level",
                    format!("'redaction_level' must be between 0 and {MAX_REDACTION_LEVEL}."),
                ));
            }
            self.redaction_level = level;
        }
        for (field, slot) in
            [("ai_assistant_id", &mut self.ai_assistant_id), ("resource_group_id", &mut self.resource_group_id)]
        {
            if body.is_null(field) {
                *slot = None;
            } else if let Some(v) = body.opt_str(field)? {
                if v.len() > 64 {
                    return Err(ApiError::invalid(field, format!("'{field}' is at most 64 characters.")));
                }
                *slot = Some(v.to_owned()).filter(|v| !v.is_empty());
            }
        }
        if let Some(secret) = body.opt_str("v1_secret")? {
            self.v1_secret = secret.to_owned();
        }
        self.updated_at = now;
        Ok(())
    }

    /// Where the profile's webhooks go (messages' events, number orders naming the profile).
    pub fn routing(&self) -> Routing {
        Routing { url: self.webhook_url.clone(), failover_url: self.webhook_failover_url.clone(), ..Routing::default() }
    }

    /// Whether the profile may send to a country (ISO 3166-1 alpha-2).
    pub fn allows_destination(&self, country_iso_alpha2: &str) -> bool {
        self.whitelisted_destinations.iter().any(|c| c == "*" || c.eq_ignore_ascii_case(country_iso_alpha2))
    }

    /// The destinations as shown: `*` becomes every country code.
    pub fn shown_destinations(&self) -> Vec<&str> {
        if self.whitelisted_destinations.iter().any(|c| c == "*") {
            ALL_COUNTRIES.to_vec()
        } else {
            self.whitelisted_destinations.iter().map(String::as_str).collect()
        }
    }

    /// The spec's `MessagingProfile`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "record_type": "messaging_profile",
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "organization_id": self.account_id,
            "whitelisted_destinations": self.shown_destinations(),
            "webhook_url": self.webhook_url,
            "webhook_failover_url": self.webhook_failover_url,
            "webhook_api_version": self.webhook_api_version,
            "number_pool_settings": self.number_pool_settings,
            "url_shortener_settings": self.url_shortener_settings.as_ref().map(UrlShortenerSettings::to_json),
            "alpha_sender": self.alpha_sender,
            "smart_encoding": self.smart_encoding,
            "mms_fall_back_to_sms": self.mms_fall_back_to_sms,
            "mms_transcoding": self.mms_transcoding,
            "mobile_only": self.mobile_only,
            "daily_spend_limit_enabled": self.daily_spend_limit_enabled,
            "redaction_enabled": self.redaction_enabled,
            "redaction_level": self.redaction_level,
            "health_webhook_url": self.health_webhook_url,
            "ai_assistant_id": self.ai_assistant_id,
            "resource_group_id": self.resource_group_id,
            "v1_secret": self.v1_secret,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if let Some(limit) = &self.daily_spend_limit {
            v["daily_spend_limit"] = json!(limit);
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<MessagingProfile> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

/// A URL field: a URL sets it, `""` or `null` clears it.
fn url_field(body: &Body, field: &str, slot: &mut Option<String>) -> Result<()> {
    if body.is_null(field) {
        *slot = None;
    } else if let Some(u) = body.opt_str(field)? {
        *slot = if u.is_empty() { None } else { Some(check_url(field, u)?) };
    }
    Ok(())
}

fn is_amount(s: &str) -> bool {
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    !whole.is_empty()
        && !frac.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && frac.chars().all(|c| c.is_ascii_digit())
}

fn v1_secret() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..24).map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char).collect()
}

/// `GET /messaging_profiles` filters: `filter[name]` / `filter[name][eq]` (exact) and
/// `filter[name][contains]` (case-insensitive).
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    name_eq: Option<String>,
    name_contains: Option<String>,
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<ListFilter> {
        Ok(ListFilter {
            name_eq: q.str("filter[name][eq]").or_else(|| q.str("filter[name]")).map(str::to_owned),
            name_contains: q.str("filter[name][contains]").map(str::to_lowercase),
        })
    }

    pub fn matches(&self, p: &MessagingProfile) -> bool {
        self.name_eq.as_ref().is_none_or(|n| &p.name == n)
            && self.name_contains.as_ref().is_none_or(|c| p.name.to_lowercase().contains(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    fn create(v: Value) -> Result<MessagingProfile> {
        MessagingProfile::create(&body(v), "p1".into(), "a1".into(), Utc::now())
    }

    #[test]
    fn create_requires_name_and_destinations() {
        assert_eq!(create(json!({"whitelisted_destinations": ["US"]})).unwrap_err().pointer.as_deref(), Some("/name"));
        let e = create(json!({"name": "x"})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/whitelisted_destinations"));
        let e = create(json!({"name": "x", "whitelisted_destinations": ["US", "usa"]})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/whitelisted_destinations/1"));
        let p = create(json!({"name": "x", "whitelisted_destinations": ["*"]})).unwrap();
        assert!(p.enabled && p.allows_destination("DE"));
        assert_eq!(p.to_json()["whitelisted_destinations"].as_array().unwrap().len(), ALL_COUNTRIES.len());
        assert_eq!(p.webhook_api_version, "2");
        assert!(p.number_pool_settings.is_none() && p.routing().url.is_none());
    }

    #[test]
    fn nested_settings_point_inside_the_object() {
        let e = create(json!({"name": "x", "whitelisted_destinations": [], "number_pool_settings": {"toll_free_weight": 1, "skip_unhealthy": true}}))
            .unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/number_pool_settings/long_code_weight"));
        let e = create(json!({"name": "x", "whitelisted_destinations": [], "url_shortener_settings": {}})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/url_shortener_settings/domain"));
        let e =
            create(json!({"name": "x", "whitelisted_destinations": [], "alpha_sender": "TOO LONG NAME"})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/alpha_sender"));
        let e = create(json!({"name": "x", "whitelisted_destinations": [], "daily_spend_limit": "1e5"})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/daily_spend_limit"));
    }

    #[test]
    fn update_clears_nullable_fields_and_routes_webhooks() {
        let mut p = create(json!({"name": "x", "whitelisted_destinations": ["US"], "webhook_url": "https://a.example/h",
            "webhook_failover_url": "https://b.example/h",
            "number_pool_settings": {"long_code_weight": 1, "toll_free_weight": 2.5, "skip_unhealthy": false, "geomatch": true}}))
        .unwrap();
        let r = p.routing();
        assert_eq!(r.url.as_deref(), Some("https://a.example/h"));
        assert_eq!(r.failover_url.as_deref(), Some("https://b.example/h"));
        assert!(p.number_pool_settings.as_ref().unwrap().geomatch);
        assert!(!p.allows_destination("CA"));
        p.update(&body(json!({"number_pool_settings": null, "webhook_url": "", "name": "y"})), Utc::now()).unwrap();
        assert!(p.number_pool_settings.is_none() && p.webhook_url.is_none());
        assert_eq!(p.name, "y");
        assert!(p.update(&body(json!({"name": null})), Utc::now()).is_err());
    }

    #[test]
    fn list_filter_by_name() {
        let p = create(json!({"name": "Alerts EU", "whitelisted_destinations": []})).unwrap();
        assert!(ListFilter::parse(&Query::parse(Some("filter[name][contains]=alerts"))).unwrap().matches(&p));
        assert!(ListFilter::parse(&Query::parse(Some("filter[name]=Alerts%20EU"))).unwrap().matches(&p));
        assert!(!ListFilter::parse(&Query::parse(Some("filter[name][eq]=Alerts"))).unwrap().matches(&p));
    }
}
