//! Webhook events and the delivery state machine.
//!
//! An event goes to one destination (a URL, maybe a failover URL) as one delivery. Each
//! attempt's outcome is recorded, and [`Delivery::record`] decides what comes next: done,
//! or another attempt after a delay. The schedule, per URL: the first attempt at once, then
//! retries after 1 s and 2 s (+ up to 25 % jitter) — three attempts, as Telnyx makes for
//! messaging — or the command's own `retries_ms`; when the primary URL is exhausted the
//! failover URL gets the same treatment at once.

use crate::body::Body;
use crate::error::{ApiError, Result};
use crate::fmt_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::collections::BTreeMap;

pub const KIND: &str = "webhook_delivery";
/// The job that makes one attempt of a delivery.
pub const ATTEMPT_JOB: &str = "webhook.attempt";

/// The id of the job that makes attempt `n` of delivery `id`.
pub fn attempt_job_id(delivery_id: &str, n: u32) -> String {
    format!("wh:{delivery_id}:{n}")
}

/// The payload of an [`ATTEMPT_JOB`]. The first attempt's job carries the delivery itself:
/// its record is written once, with that attempt, not once when the event is emitted and
/// again when the attempt is recorded (which also meant reading it back in between). A
/// retry's job names a delivery already recorded.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AttemptArgs {
    pub delivery_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

/// Per-attempt timeout when the resource has no `webhook_timeout_secs` (Telnyx expects an
/// answer within about 2 s).
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;
/// The longest per-attempt timeout accepted.
pub const MAX_TIMEOUT_MS: u64 = 30_000;
/// Delays before the 2nd and 3rd attempt on a URL.
pub const DEFAULT_RETRIES_MS: [u64; 2] = [1_000, 2_000];
/// The response body kept per attempt (the spec's limit).
pub const BODY_EXCERPT: usize = 10 * 1024;

/// Delivery error codes recorded in `attempts[].errors`.
pub mod errors {
    /// The URL's host name could not be resolved.
    pub const UNRESOLVED: i64 = 75001;
    /// The connection was refused or broke before an answer.
    pub const CONNECTION: i64 = 75002;
    /// No answer within the timeout.
    pub const TIMEOUT: i64 = 75003;
    /// The URL is not a valid http(s) URL.
    pub const BAD_URL: i64 = 75004;
    /// The endpoint answered with a status other than 2xx.
    pub const NON_2XX: i64 = 75499;
}

/// One event. Its payload is kept as JSON text: a delivery is read and written at each
/// attempt, and its payload is only ever copied into the body sent, never looked into.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    pub event_type: String,
    #[serde(with = "crate::time::auto")]
    pub occurred_at: DateTime<Utc>,
    pub payload: Box<RawValue>,
}

impl PartialEq for Event {
    fn eq(&self, other: &Event) -> bool {
        (&self.id, &self.event_type, self.occurred_at, self.payload.get())
            == (&other.id, &other.event_type, other.occurred_at, other.payload.get())
    }
}

/// The `data` part of the envelope, field for field in the order a `Value` map prints.
#[derive(Serialize)]
struct EventData<'a> {
    event_type: &'a str,
    id: &'a str,
    occurred_at: String,
    payload: &'a RawValue,
    record_type: &'static str,
}

#[derive(Serialize)]
struct Envelope<'a> {
    data: EventData<'a>,
    meta: Meta<'a>,
}

#[derive(Serialize)]
struct Meta<'a> {
    attempt: u32,
    delivered_to: &'a str,
}

impl Event {
    /// An event whose payload is `payload`.
    pub fn new<T: Serialize + ?Sized>(id: String, event_type: &str, occurred_at: DateTime<Utc>, payload: &T) -> Event {
        // The payloads are `Value`s and plain structs, whose serializing cannot fail.
        let payload = serde_json::value::to_raw_value(payload).unwrap_or_else(|_| RawValue::NULL.to_owned());
        Event { id, event_type: event_type.to_owned(), occurred_at, payload }
    }

    fn data_parts(&self) -> EventData<'_> {
        EventData {
            event_type: &self.event_type,
            id: &self.id,
            occurred_at: fmt_time(self.occurred_at),
            payload: &self.payload,
            record_type: "event",
        }
    }

    /// The `data` part of the envelope (also the delivery record's `webhook`).
    pub fn data(&self) -> Value {
        serde_json::to_value(self.data_parts()).unwrap_or(Value::Null)
    }

    /// The body sent for one attempt: `{"data": ..., "meta": {"attempt", "delivered_to"}}`.
    pub fn envelope(&self, attempt: u32, delivered_to: &str) -> String {
        let envelope = Envelope { data: self.data_parts(), meta: Meta { attempt, delivered_to } };
        serde_json::to_string(&envelope).unwrap_or_default()
    }
}

/// Where one event goes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Destination {
    pub url: String,
    pub failover_url: Option<String>,
    pub timeout_ms: u64,
    /// Delays between attempts on one URL; `None` for the default schedule.
    pub retries_ms: Option<Vec<u64>>,
    /// `POST` (default) or `GET`.
    pub method: String,
}

impl Destination {
    pub fn new(url: impl Into<String>) -> Destination {
        Destination {
            url: url.into(),
            failover_url: None,
            timeout_ms: DEFAULT_TIMEOUT_MS,
            retries_ms: None,
            method: "POST".into(),
        }
    }
}

/// A resource's webhook settings plus a command's overrides, resolved per event type.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Routing {
    pub url: Option<String>,
    pub failover_url: Option<String>,
    pub timeout_ms: Option<u64>,
    pub method: Option<String>,
    /// `webhook_urls`: event type → URL used instead of `url`.
    pub urls_by_event: BTreeMap<String, String>,
    pub urls_method: Option<String>,
    /// `webhook_retries_policies`: event type → delays between attempts.
    pub retries_by_event: BTreeMap<String, Vec<u64>>,
}

impl Routing {
    /// Reads the per-command overrides (`webhook_url`, `webhook_url_method`,
    /// `webhook_failover_url`, `webhook_urls`, `webhook_urls_method`,
    /// `webhook_retries_policies`) on top of `self`.
    pub fn with_overrides(mut self, body: &Body) -> Result<Routing> {
        if let Some(u) = body.opt_str("webhook_url")? {
            self.url = Some(check_url("webhook_url", u)?);
        }
        if let Some(u) = body.opt_str("webhook_failover_url")? {
            self.failover_url = Some(check_url("webhook_failover_url", u)?);
        }
        if let Some(m) = body.opt_str("webhook_url_method")? {
            self.method = Some(check_method("webhook_url_method", m)?);
        }
        if let Some(m) = body.opt_str("webhook_urls_method")? {
            self.urls_method = Some(check_method("webhook_urls_method", m)?);
        }
        if let Some(v) = body.raw("webhook_urls") {
            let map = v.as_object().ok_or_else(|| {
                ApiError::invalid("webhook_urls", "webhook_urls must be an object of event type to URL.")
            })?;
            for (event, url) in map {
                let url = url.as_str().ok_or_else(|| {
                    ApiError::invalid(&format!("webhook_urls/{event}"), "Each webhook_urls value must be a URL string.")
                })?;
                let url = check_url(&format!("webhook_urls/{event}"), url)?;
                self.urls_by_event.insert(event.clone(), url);
            }
        }
        if let Some(v) = body.raw("webhook_retries_policies") {
            let map = v.as_object().ok_or_else(|| {
                ApiError::invalid(
                    "webhook_retries_policies",
                    "webhook_retries_policies must be an object of event type to policy.",
                )
            })?;
            for (event, policy) in map {
                let field = format!("webhook_retries_policies/{event}/retries_ms");
                let list = policy["retries_ms"]
                    .as_array()
                    .ok_or_else(|| ApiError::invalid(&field, "retries_ms must be an array of milliseconds."))?;
                let delays: Vec<u64> = list
                    .iter()
                    .map(|d| {
                        d.as_u64()
                            .ok_or_else(|| ApiError::invalid(&field, "retries_ms must hold non-negative integers."))
                    })
                    .collect::<Result<_>>()?;
                if delays.len() > 5 {
                    return Err(ApiError::invalid(&field, "At most 5 retries."));
                }
                if delays.iter().sum::<u64>() > 60_000 {
                    return Err(ApiError::invalid(&field, "The retry delays may add up to 60000 ms at most."));
                }
                self.retries_by_event.insert(event.clone(), delays);
            }
        }
        Ok(self)
    }

    /// Where an event of this type goes; `None` when there is no URL (no URL, no webhook).
    pub fn destination(&self, event_type: &str) -> Option<Destination> {
        let (url, method) = match self.urls_by_event.get(event_type) {
            Some(u) => (u.clone(), self.urls_method.clone()),
            None => (self.url.clone()?, self.method.clone()),
        };
        Some(Destination {
            url,
            failover_url: self.failover_url.clone(),
            timeout_ms: self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS).min(MAX_TIMEOUT_MS),
            retries_ms: self.retries_by_event.get(event_type).cloned(),
            method: method.unwrap_or_else(|| "POST".into()),
        })
    }
}

/// Accepts an absolute http(s) URL of at most 2000 characters.
pub fn check_url(field: &str, url: &str) -> Result<String> {
    let ok = (url.starts_with("http://") || url.starts_with("https://"))
        && url.len() <= 2000
        && url.split("://").nth(1).is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if ok {
        Ok(url.to_owned())
    } else {
        Err(ApiError::new(crate::error::Code::InvalidValue)
            .detail(format!("'{field}' must be an http or https URL of at most 2000 characters."))
            .pointer(format!("/{field}")))
    }
}

fn check_method(field: &str, m: &str) -> Result<String> {
    match m.to_ascii_uppercase().as_str() {
        "POST" => Ok("POST".into()),
        "GET" => Ok("GET".into()),
        _ => Err(ApiError::invalid(field, format!("'{field}' must be POST or GET."))),
    }
}

/// What one attempt got.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// An HTTP answer (any status).
    Response { status: u16, headers: Vec<(String, String)>, body: String },
    /// No HTTP answer: one of [`errors`] and a description.
    Failed { code: i64, detail: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    pub number: u32,
    pub url: String,
    pub request_headers: Vec<(String, String)>,
    #[serde(with = "crate::time::auto")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "crate::time::auto")]
    pub finished_at: DateTime<Utc>,
    pub delivered: bool,
    pub status: Option<u16>,
    pub response_headers: Vec<(String, String)>,
    pub response_body: Option<String>,
    pub errors: Vec<i64>,
    pub error_detail: Option<String>,
}

impl Attempt {
    pub fn to_json(&self) -> Value {
        let pairs = |h: &[(String, String)]| -> Value { h.iter().map(|(k, v)| json!([k, v])).collect() };
        let mut http = json!({ "request": { "url": self.url, "headers": pairs(&self.request_headers) } });
        if let Some(status) = self.status {
            http["response"] = json!({
                "status": status,
                "headers": pairs(&self.response_headers),
                "body": self.response_body.clone().unwrap_or_default(),
            });
        }
        let mut v = json!({
            "started_at": fmt_time(self.started_at),
            "finished_at": fmt_time(self.finished_at),
            "status": if self.delivered { "delivered" } else { "failed" },
            "http": http,
        });
        if !self.errors.is_empty() {
            v["errors"] = json!(self.errors);
        }
        v
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Delivered,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    pub account_id: String,
    pub event: Event,
    pub destination: Destination,
    pub status: Status,
    /// Oldest first (rendered newest first, as the spec orders them).
    pub attempts: Vec<Attempt>,
    /// 0 while on the primary URL, 1 on the failover URL.
    pub url_index: usize,
    /// Attempts made on the current URL.
    pub tries_on_url: usize,
    #[serde(with = "crate::time::auto")]
    pub created_at: DateTime<Utc>,
}

/// What the delivery needs next.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Next {
    Done,
    RetryIn(Duration),
}

impl Delivery {
    pub fn new(id: String, account_id: String, event: Event, destination: Destination, now: DateTime<Utc>) -> Delivery {
        Delivery {
            id,
            account_id,
            event,
            destination,
            status: Status::Pending,
            attempts: Vec::new(),
            url_index: 0,
            tries_on_url: 0,
            created_at: now,
        }
    }

    /// The URL the next attempt goes to.
    pub fn current_url(&self) -> &str {
        match (self.url_index, &self.destination.failover_url) {
            (1, Some(f)) => f,
            _ => &self.destination.url,
        }
    }

    pub fn next_attempt_number(&self) -> u32 {
        self.attempts.len() as u32 + 1
    }

    fn schedule(&self) -> Vec<u64> {
        self.destination.retries_ms.clone().unwrap_or_else(|| DEFAULT_RETRIES_MS.to_vec())
    }

    /// Records an attempt and answers what comes next. `jitter` in `[0, 1)` stretches a
    /// default delay by up to 25 %; a command's own `retries_ms` is kept exactly.
    pub fn record(&mut self, attempt: Attempt, jitter: f64) -> Next {
        let delivered = attempt.delivered;
        self.attempts.push(attempt);
        if delivered {
            self.status = Status::Delivered;
            return Next::Done;
        }
        self.tries_on_url += 1;
        let schedule = self.schedule();
        if self.tries_on_url <= schedule.len() {
            let base = schedule[self.tries_on_url - 1] as f64;
            let ms =
                if self.destination.retries_ms.is_some() { base } else { base * (1.0 + 0.25 * jitter.clamp(0.0, 1.0)) };
            return Next::RetryIn(Duration::milliseconds(ms as i64));
        }
        if self.url_index == 0 && self.destination.failover_url.is_some() {
            self.url_index = 1;
            self.tries_on_url = 0;
            return Next::RetryIn(Duration::zero());
        }
        self.status = Status::Failed;
        Next::Done
    }

    /// The spec's `webhook_delivery`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "id": self.id,
            "record_type": "webhook_delivery",
            "user_id": self.account_id,
            "webhook": self.event.data(),
            "attempts": self.attempts.iter().rev().map(Attempt::to_json).collect::<Vec<_>>(),
        });
        if let Some(first) = self.attempts.first() {
            v["started_at"] = json!(fmt_time(first.started_at));
        }
        if self.status != Status::Pending {
            v["status"] = json!(if self.status == Status::Delivered { "delivered" } else { "failed" });
            if let Some(last) = self.attempts.last() {
                v["finished_at"] = json!(fmt_time(last.finished_at));
            }
        }
        v
    }

    pub fn from_value(v: &Value) -> Option<Delivery> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

/// `GET /webhook_deliveries` filters.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    status: Option<String>,
    event_types: Option<Vec<String>>,
    webhook_contains: Option<String>,
    attempts_contains: Option<String>,
    started_gte: Option<DateTime<Utc>>,
    started_lte: Option<DateTime<Utc>>,
    finished_gte: Option<DateTime<Utc>>,
    finished_lte: Option<DateTime<Utc>>,
}

pub use crate::query::parse_time;

impl ListFilter {
    pub fn parse(q: &crate::query::Query) -> Result<ListFilter> {
        Ok(ListFilter {
            status: q.one_of("filter[status][eq]", &["delivered", "failed"])?.map(str::to_owned),
            event_types: q.list("filter[event_type]").map(|l| l.into_iter().map(str::to_owned).collect()),
            webhook_contains: q.str("filter[webhook][contains]").map(str::to_owned),
            attempts_contains: q.str("filter[attempts][contains]").map(str::to_owned),
            started_gte: q.time("filter[started_at][gte]")?,
            started_lte: q.time("filter[started_at][lte]")?,
            finished_gte: q.time("filter[finished_at][gte]")?,
            finished_lte: q.time("filter[finished_at][lte]")?,
        })
    }

    pub fn matches(&self, d: &Delivery) -> bool {
        let status_ok = match self.status.as_deref() {
            None => true,
            Some("delivered") => d.status == Status::Delivered,
            Some(_) => d.status == Status::Failed,
        };
        let started = d.attempts.first().map(|a| a.started_at);
        let finished = if d.status == Status::Pending { None } else { d.attempts.last().map(|a| a.finished_at) };
        let in_range = |t: Option<DateTime<Utc>>, gte: Option<DateTime<Utc>>, lte: Option<DateTime<Utc>>| {
            (gte.is_none() && lte.is_none())
                || t.is_some_and(|t| gte.is_none_or(|g| t >= g) && lte.is_none_or(|l| t <= l))
        };
        status_ok
            && self.event_types.as_ref().is_none_or(|ts| ts.contains(&d.event.event_type))
            && self.webhook_contains.as_ref().is_none_or(|c| d.event.data().to_string().contains(c.as_str()))
            && self.attempts_contains.as_ref().is_none_or(|c| {
                Value::Array(d.attempts.iter().map(Attempt::to_json).collect()).to_string().contains(c.as_str())
            })
            && in_range(started, self.started_gte, self.started_lte)
            && in_range(finished, self.finished_gte, self.finished_lte)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event() -> Event {
        let at = DateTime::parse_from_rfc3339("2026-12-05T01:02:03.456Z").unwrap().with_timezone(&Utc);
        Event::new("e1".into(), "call.initiated", at, &json!({"a": 1}))
    }

    fn attempt(n: u32, url: &str, ok: bool) -> Attempt {
        let now = Utc::now();
        Attempt {
            number: n,
            url: url.into(),
            request_headers: vec![],
            started_at: now,
            finished_at: now,
            delivered: ok,
            status: Some(if ok { 200 } else { 500 }),
            response_headers: vec![],
            response_body: Some(String::new()),
            errors: if ok { vec![] } else { vec![errors::NON_2XX] },
            error_detail: None,
        }
    }

    #[test]
    fn envelope_has_the_documented_shape() {
        let text = event().envelope(2, "http://x/");
        let e: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(e["data"]["payload"], json!({"a": 1}));
        assert_eq!(e["data"], event().data());
        assert_eq!(e["data"]["record_type"], "event");
        assert_eq!(e["data"]["event_type"], "call.initiated");
        assert_eq!(e["meta"], json!({"attempt": 2, "delivered_to": "http://x/"}));
    }

    #[test]
    fn three_attempts_per_url_then_failover_then_failed() {
        let mut dest = Destination::new("http://p/");
        dest.failover_url = Some("http://f/".into());
        let mut d = Delivery::new("d".into(), "a".into(), event(), dest, Utc::now());
        assert_eq!(d.record(attempt(1, "http://p/", false), 0.0), Next::RetryIn(Duration::seconds(1)));
        assert_eq!(d.record(attempt(2, "http://p/", false), 1.0), Next::RetryIn(Duration::milliseconds(2500)));
        assert_eq!(d.current_url(), "http://p/");
        assert_eq!(d.record(attempt(3, "http://p/", false), 0.0), Next::RetryIn(Duration::zero()));
        assert_eq!(d.current_url(), "http://f/");
        d.record(attempt(4, "http://f/", false), 0.0);
        d.record(attempt(5, "http://f/", false), 0.0);
        assert_eq!(d.record(attempt(6, "http://f/", false), 0.0), Next::Done);
        assert_eq!(d.status, Status::Failed);
        let j = d.to_json();
        assert_eq!(j["status"], "failed");
        assert_eq!(j["attempts"].as_array().unwrap().len(), 6);
        assert_eq!(j["attempts"][0]["http"]["request"]["url"], "http://f/", "newest first");
    }

    #[test]
    fn success_ends_it_and_custom_retries_are_exact() {
        let mut dest = Destination::new("http://p/");
        dest.retries_ms = Some(vec![100, 300]);
        let mut d = Delivery::new("d".into(), "a".into(), event(), dest, Utc::now());
        assert_eq!(d.record(attempt(1, "http://p/", false), 0.9), Next::RetryIn(Duration::milliseconds(100)));
        assert_eq!(d.record(attempt(2, "http://p/", true), 0.9), Next::Done);
        assert_eq!(d.status, Status::Delivered);
        assert!(d.to_json().get("finished_at").is_some());
    }

    #[test]
    fn routing_resolves_overrides_per_event_type() {
        let body = Body::from_value(json!({
            "webhook_url": "https://a.example/",
            "webhook_failover_url": "https://b.example/",
            "webhook_urls": {"call.hangup": "https://h.example/"},
            "webhook_retries_policies": {"call.hangup": {"retries_ms": [1000, 2000]}},
        }))
        .unwrap();
        let r = Routing { timeout_ms: Some(5000), ..Routing::default() }.with_overrides(&body).unwrap();
        let d = r.destination("call.answered").unwrap();
        assert_eq!(d.url, "https://a.example/");
        assert_eq!(d.retries_ms, None);
        let h = r.destination("call.hangup").unwrap();
        assert_eq!(h.url, "https://h.example/");
        assert_eq!(h.failover_url.as_deref(), Some("https://b.example/"));
        assert_eq!(h.retries_ms, Some(vec![1000, 2000]));
        assert_eq!(h.timeout_ms, 5000);
        assert!(Routing::default().destination("x").is_none(), "no URL, no webhook");
    }

    #[test]
    fn routing_refuses_bad_overrides() {
        let bad = |v: Value| Routing::default().with_overrides(&Body::from_value(v).unwrap()).is_err();
        assert!(bad(json!({"webhook_url": "ftp://x"})));
        assert!(bad(json!({"webhook_url_method": "PUT"})));
        assert!(bad(json!({"webhook_retries_policies": {"x": {"retries_ms": [1, 2, 3, 4, 5, 6]}}})));
        assert!(bad(json!({"webhook_retries_policies": {"x": {"retries_ms": [40000, 30000]}}})));
        assert!(bad(json!({"webhook_urls": {"x": 5}})));
    }

    #[test]
    fn filters() {
        let mut d = Delivery::new("d".into(), "a".into(), event(), Destination::new("http://p/"), Utc::now());
        d.record(attempt(1, "http://p/", true), 0.0);
        let q = |s: &str| ListFilter::parse(&crate::query::Query::parse(Some(s))).unwrap();
        assert!(q("filter[status][eq]=delivered").matches(&d));
        assert!(!q("filter[status][eq]=failed").matches(&d));
        assert!(q("filter[event_type]=x,call.initiated").matches(&d));
        assert!(q("filter[webhook][contains]=initiated").matches(&d));
        assert!(q("filter[attempts][contains]=http://p/").matches(&d));
        assert!(q("filter[started_at][gte]=2000-01-01").matches(&d));
        assert!(!q("filter[finished_at][lte]=2000-01-01T00:00:00Z").matches(&d));
        assert!(ListFilter::parse(&crate::query::Query::parse(Some("filter[started_at][gte]=yesterday"))).is_err());
    }
}
