//! Video rooms: rooms and their join tokens, room sessions with their participants (the
//! session's state machine), per-track room recordings, and compositions of a finished
//! session. Transitions return the events to emit and the timers to set; the engine
//! persists them.

pub mod compositions;
pub mod layout;
pub mod recordings;
pub mod rooms;
pub mod sessions;
pub mod tokens;

use crate::error::{ApiError, Result};
use crate::query::Query;
use chrono::{DateTime, NaiveDate, Utc};

/// `filter[<name>][eq|gte|lte]` with ISO 8601 dates, as every video list takes them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DateFilter {
    eq: Option<NaiveDate>,
    gte: Option<NaiveDate>,
    lte: Option<NaiveDate>,
}

impl DateFilter {
    pub fn parse(q: &Query, name: &str) -> Result<DateFilter> {
        let read = |op: &str| -> Result<Option<NaiveDate>> {
            let param = format!("filter[{name}][{op}]");
            match q.str(&param) {
                None => Ok(None),
                Some(v) => {
                    // A date, or a date-time whose date part is taken.
                    let day = v.get(..10).unwrap_or(v);
                    NaiveDate::parse_from_str(day, "%Y-%m-%d").map(Some).map_err(|_| {
                        ApiError::invalid_param(&param, format!("'{param}' must be an ISO 8601 date, not '{v}'."))
                    })
                }
            }
        };
        Ok(DateFilter { eq: read("eq")?, gte: read("gte")?, lte: read("lte")? })
    }

    pub fn is_empty(&self) -> bool {
        self.eq.is_none() && self.gte.is_none() && self.lte.is_none()
    }

    /// Whether a time matches; a missing time matches only an empty filter.
    pub fn matches(&self, t: Option<DateTime<Utc>>) -> bool {
        if self.is_empty() {
            return true;
        }
        let Some(t) = t else {
            return false;
        };
        let d = t.date_naive();
        self.eq.is_none_or(|e| d == e) && self.gte.is_none_or(|g| d >= g) && self.lte.is_none_or(|l| d <= l)
    }
}

/// Reads `webhook_event_url`, `webhook_event_failover_url` and `webhook_timeout_secs`, the
/// webhook fields rooms and compositions share.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct WebhookFields {
    pub url: Option<String>,
    pub failover_url: Option<String>,
    pub timeout_secs: Option<i64>,
}

impl WebhookFields {
    pub fn apply(&mut self, body: &crate::body::Body) -> Result<()> {
        use crate::webhooks::check_url;
        if body.is_null("webhook_event_url") {
            self.url = None;
        } else if let Some(u) = body.opt_str("webhook_event_url")? {
            self.url = if u.is_empty() { None } else { Some(check_url("webhook_event_url", u)?) };
        }
        if body.is_null("webhook_event_failover_url") {
            self.failover_url = None;
        } else if let Some(u) = body.opt_str("webhook_event_failover_url")? {
            self.failover_url = if u.is_empty() { None } else { Some(check_url("webhook_event_failover_url", u)?) };
        }
        if body.is_null("webhook_timeout_secs") {
            self.timeout_secs = None;
        } else if let Some(t) = body.opt_int_in("webhook_timeout_secs", 0, 30)? {
            self.timeout_secs = Some(t);
        }
        Ok(())
    }

    pub fn routing(&self) -> crate::webhooks::Routing {
        crate::webhooks::Routing {
            url: self.url.clone(),
            failover_url: self.failover_url.clone(),
            timeout_ms: self.timeout_secs.filter(|s| *s > 0).map(|s| s as u64 * 1000),
            ..Default::default()
        }
    }

    /// Writes the three fields into a resource's JSON: the spec gives the failover URL a
    /// default of `""`; its timeout is an integer (no `null`), so an unset one is left out.
    pub fn write(&self, v: &mut serde_json::Value) {
        if let Some(u) = &self.url {
            v["webhook_event_url"] = serde_json::json!(u);
        }
        v["webhook_event_failover_url"] = serde_json::json!(self.failover_url.clone().unwrap_or_default());
        if let Some(t) = self.timeout_secs {
            v["webhook_timeout_secs"] = serde_json::json!(t);
        }
    }
}

/// A page of a list, newest first.
pub fn newest_first<T>(items: &mut [T], key: impl Fn(&T) -> DateTime<Utc>) {
    items.sort_by_key(|b| std::cmp::Reverse(key(b)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_filters_compare_days() {
        let q = Query::parse(Some("filter[date_created_at][gte]=2024-01-02&filter[date_created_at][lte]=2024-01-03"));
        let f = DateFilter::parse(&q, "date_created_at").unwrap();
        let t = |s: &str| Some(crate::query::parse_time(s).unwrap());
        assert!(!f.matches(t("2024-01-01T23:59:59Z")));
        assert!(f.matches(t("2024-01-02T00:00:00Z")));
        assert!(f.matches(t("2024-01-03T23:00:00Z")));
        assert!(!f.matches(None));
        let bad = DateFilter::parse(&Query::parse(Some("filter[date_created_at][eq]=yesterday")), "date_created_at");
        assert_eq!(bad.unwrap_err().parameter.as_deref(), Some("filter[date_created_at][eq]"));
    }
}
