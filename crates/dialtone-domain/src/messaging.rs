//! Messages: what a send request must satisfy, the message record, and its life on the
//! simulated carrier.
//!
//! A message to one recipient goes `queued → sending → sent → delivered` (or ends
//! `sending_failed`, `delivery_failed`, `delivery_unconfirmed`); a scheduled one waits as
//! `scheduled` until its `send_at`, and can be cancelled until then. Each step that Telnyx
//! reports sends a webhook: `message.sent` when the carrier takes the message, and
//! `message.finalized` when its outcome is known. What the carrier does with a destination
//! is decided by [`carrier::behaviour`]: magic numbers, a per-number setting made through
//! the simulation API, or delivery after a short delay.

use crate::body::Body;
use crate::encoding::{self, Analysis, Requested};
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "message";
pub const OPTOUT_KIND: &str = "messaging_optout";
/// Moves a message one step along on the carrier.
pub const STEP_JOB: &str = "message.step";

/// Scheduled sends: at least this far ahead ...
pub const SCHEDULE_MIN: Duration = Duration::minutes(5);
/// ... and at most this far.
pub const SCHEDULE_MAX: Duration = Duration::days(5);
/// Recipients of a group MMS, the sender aside.
pub const GROUP_MAX_RECIPIENTS: usize = 8;
pub const MAX_MEDIA: usize = 10;
/// The longest subject of an MMS.
pub const MAX_SUBJECT: usize = 40;

/// Messaging errors with Telnyx's codes.
pub mod codes {
    /// The recipient has opted out (STOP): the send is refused.
    pub const BLOCKED_STOP: &str = "40300";
    /// `from` is not an address the account may send from.
    pub const INVALID_FROM: &str = "40305";
    /// `to` is not a valid destination.
    pub const INVALID_TO: &str = "40310";
    // Delivery errors, reported in `errors` of the message and its webhooks.
    pub const NOT_ROUTABLE: &str = "40001";
    pub const REJECTED: &str = "40004";
    pub const UNAVAILABLE: &str = "40006";
    pub const UNDELIVERABLE: &str = "40008";
}

/// A messaging error in the Telnyx envelope with a messaging code.
pub fn error(
    status: u16,
    code: &'static str,
    title: &str,
    detail: impl Into<String>,
    pointer: Option<&str>,
) -> ApiError {
    let mut e = ApiError::new(Code::InvalidValue).with_status(status).detail(detail);
    e.pointer = pointer.map(str::to_owned);
    e.code_override = Some(Box::new((code, title.to_owned())));
    e
}

/// Which endpoint a send came through; each has its own required fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Channel {
    /// `POST /messages`: from a number, short code or alphanumeric sender, or a pool.
    Any,
    LongCode,
    ShortCode,
    NumberPool,
    GroupMms,
    /// `POST /messages/schedule`: `send_at` required.
    Schedule,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageType {
    #[serde(rename = "SMS")]
    Sms,
    #[serde(rename = "MMS")]
    Mms,
}

/// A validated send request (ownership of `from` is checked by the engine).
#[derive(Clone, Debug, PartialEq)]
pub struct SendRequest {
    pub from: Option<String>,
    pub to: Vec<String>,
    pub text: Option<String>,
    pub subject: Option<String>,
    pub media_urls: Vec<String>,
    pub kind: MessageType,
    pub messaging_profile_id: Option<String>,
    pub webhook_url: Option<String>,
    pub webhook_failover_url: Option<String>,
    pub use_profile_webhooks: bool,
    pub auto_detect: bool,
    pub encoding: Requested,
    pub send_at: Option<DateTime<Utc>>,
}

/// `+` and 1–15 digits, not starting with 0.
pub fn is_e164(s: &str) -> bool {
    let Some(d) = s.strip_prefix('+') else { return false };
    (2..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
}

/// A short code: 3 to 8 digits.
pub fn is_short_code(s: &str) -> bool {
    (3..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

/// An alphanumeric sender ID: 1–11 letters, digits, spaces, with at least one letter.
pub fn is_alphanumeric_sender(s: &str) -> bool {
    (1..=11).contains(&s.len())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ')
        && s.chars().any(|c| c.is_ascii_alphabetic())
}

fn check_to(field: &str, to: &str) -> Result<()> {
    if is_e164(to) || is_short_code(to) {
        Ok(())
    } else {
        Err(error(
            400,
            codes::INVALID_TO,
            "Invalid 'to' address",
            format!("'{to}' is not a valid destination: use +E.164 or a short code."),
            Some(field),
        ))
    }
}

impl SendRequest {
    pub fn parse(body: &Body, channel: Channel, now: DateTime<Utc>) -> Result<SendRequest> {
        let to: Vec<String> = match body.raw("to") {
            None => return Err(ApiError::missing("to")),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) if channel == Channel::GroupMms => items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| ApiError::invalid("to", "'to' must be a list of numbers."))
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(ApiError::new(Code::InvalidType)
                    .detail("The 'to' parameter must be of type 'string'.")
                    .pointer("/to"));
            }
        };
        if to.is_empty() {
            return Err(ApiError::missing("to"));
        }
        for (i, t) in to.iter().enumerate() {
            let field = if to.len() > 1 || channel == Channel::GroupMms { format!("/to/{i}") } else { "/to".into() };
            check_to(&field, t)?;
        }
        if channel == Channel::GroupMms {
            if to.len() > GROUP_MAX_RECIPIENTS {
                return Err(ApiError::invalid(
                    "to",
                    format!("A group MMS goes to at most {GROUP_MAX_RECIPIENTS} recipients."),
                ));
            }
            let mut seen = std::collections::HashSet::new();
            if !to.iter().all(|t| seen.insert(t)) {
                return Err(ApiError::invalid("to", "Each recipient of a group MMS appears once."));
            }
        }
        let from = body.opt_str("from")?.map(str::to_owned);
        let messaging_profile_id = body.opt_str("messaging_profile_id")?.map(str::to_owned);
        match channel {
            Channel::LongCode | Channel::ShortCode | Channel::GroupMms if from.is_none() => {
                return Err(ApiError::missing("from"));
            }
            Channel::NumberPool if messaging_profile_id.is_none() => {
                return Err(ApiError::missing("messaging_profile_id"));
            }
            Channel::Any | Channel::Schedule if from.is_none() && messaging_profile_id.is_none() => {
                return Err(ApiError::missing("from")
                    .detail("Give 'from', or a 'messaging_profile_id' to send from its number pool."));
            }
            _ => {}
        }
        if let Some(f) = &from {
            let ok = match channel {
                Channel::LongCode | Channel::GroupMms => is_e164(f),
                Channel::ShortCode => is_short_code(f),
                _ => is_e164(f) || is_short_code(f) || is_alphanumeric_sender(f),
            };
            if !ok {
                return Err(error(
                    400,
                    codes::INVALID_FROM,
                    "Invalid 'from' address",
                    format!("'{f}' is not a valid sending address for this endpoint."),
                    Some("/from"),
                ));
            }
        }
        let text = body.opt_str("text")?.map(str::to_owned).filter(|t| !t.is_empty());
        let subject = body.opt_str("subject")?.map(str::to_owned);
        if subject.as_ref().is_some_and(|s| s.chars().count() > MAX_SUBJECT) {
            return Err(ApiError::invalid("subject", format!("The subject may be at most {MAX_SUBJECT} characters.")));
        }
        let media_urls: Vec<String> = match body.raw("media_urls") {
            None => vec![],
            Some(Value::Array(items)) => items
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    let u = v
                        .as_str()
                        .ok_or_else(|| ApiError::invalid(&format!("media_urls/{i}"), "Media URLs are strings."))?;
                    crate::webhooks::check_url(&format!("media_urls/{i}"), u)
                })
                .collect::<Result<_>>()?,
            Some(_) => {
                return Err(ApiError::new(Code::InvalidType)
                    .detail("The 'media_urls' parameter must be of type 'array'.")
                    .pointer("/media_urls"));
            }
        };
        if media_urls.len() > MAX_MEDIA {
            return Err(ApiError::invalid("media_urls", format!("At most {MAX_MEDIA} media URLs.")));
        }
        let requested_type = body.opt_str("type")?;
        let kind = match requested_type {
            None if !media_urls.is_empty() || channel == Channel::GroupMms => MessageType::Mms,
            None => MessageType::Sms,
            Some("SMS") => MessageType::Sms,
            Some("MMS") => MessageType::Mms,
            Some(other) => return Err(ApiError::invalid("type", format!("'type' must be SMS or MMS, not '{other}'."))),
        };
        if kind == MessageType::Sms && !media_urls.is_empty() {
            return Err(ApiError::invalid("type", "An SMS carries no media: send it as MMS."));
        }
        if kind == MessageType::Mms && media_urls.is_empty() && text.is_none() {
            return Err(ApiError::missing("media_urls").detail("An MMS needs media_urls or text."));
        }
        if kind == MessageType::Sms && text.is_none() {
            return Err(ApiError::missing("text"));
        }
        let encoding = match body.opt_str("encoding")? {
            None | Some("auto") => Requested::Auto,
            Some("gsm7") => Requested::Gsm7,
            Some("ucs2") => Requested::Ucs2,
            Some(other) => {
                return Err(ApiError::invalid(
                    "encoding",
                    format!("'encoding' must be auto, gsm7 or ucs2, not '{other}'."),
                ));
            }
        };
        let send_at = match body.opt_str("send_at")? {
            None => None,
            Some(s) => Some(crate::webhooks::parse_time(s).ok_or_else(|| {
                ApiError::invalid("send_at", format!("'send_at' must be an ISO 8601 date-time, not '{s}'."))
            })?),
        };
        if channel == Channel::Schedule && send_at.is_none() {
            return Err(ApiError::missing("send_at"));
        }
        if let Some(at) = send_at
            && (at < now + SCHEDULE_MIN || at > now + SCHEDULE_MAX)
        {
            return Err(ApiError::invalid("send_at", "'send_at' must be between 5 minutes and 5 days from now."));
        }
        let webhook_url =
            body.opt_str("webhook_url")?.map(|u| crate::webhooks::check_url("webhook_url", u)).transpose()?;
        let webhook_failover_url = body
            .opt_str("webhook_failover_url")?
            .map(|u| crate::webhooks::check_url("webhook_failover_url", u))
            .transpose()?;
        Ok(SendRequest {
            from,
            to,
            text,
            subject,
            media_urls,
            kind,
            messaging_profile_id,
            webhook_url,
            webhook_failover_url,
            use_profile_webhooks: body.opt_bool("use_profile_webhooks")?.unwrap_or(true),
            auto_detect: body.opt_bool("auto_detect")?.unwrap_or(false),
            encoding,
            send_at,
        })
    }

    /// Encodes the text and checks its length: at most 10 parts; with `auto_detect`,
    /// a text over the recommended length (6 parts) is refused too.
    pub fn analyze(&self, smart_encoding: bool) -> Result<Analysis> {
        let text = self.text.as_deref().unwrap_or_default();
        let a = encoding::analyze(text, self.encoding, smart_encoding && self.encoding != Requested::Ucs2)
            .map_err(|why| ApiError::invalid("text", why.to_string()).with_status(400))?;
        encoding::check_length(&a).map_err(|why| ApiError::invalid("text", why))?;
        if self.auto_detect && a.parts > RECOMMENDED_PARTS {
            return Err(ApiError::invalid(
                "text",
                format!("The text needs {} parts, over the recommended {RECOMMENDED_PARTS} (auto_detect).", a.parts),
            ));
        }
        Ok(a)
    }
}

/// The longest message `auto_detect` lets through.
pub const RECOMMENDED_PARTS: u32 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Scheduled,
    Cancelled,
    Queued,
    Sending,
    Sent,
    Delivered,
    SendingFailed,
    DeliveryFailed,
    DeliveryUnconfirmed,
    /// Inbound messages.
    Received,
}

impl Status {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::Cancelled
                | Status::Delivered
                | Status::SendingFailed
                | Status::DeliveryFailed
                | Status::DeliveryUnconfirmed
                | Status::Received
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Scheduled => "scheduled",
            Status::Cancelled => "cancelled",
            Status::Queued => "queued",
            Status::Sending => "sending",
            Status::Sent => "sent",
            Status::Delivered => "delivered",
            Status::SendingFailed => "sending_failed",
            Status::DeliveryFailed => "delivery_failed",
            Status::DeliveryUnconfirmed => "delivery_unconfirmed",
            Status::Received => "webhook_delivered",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub phone_number: String,
    pub carrier: String,
    pub line_type: String,
}

impl Party {
    /// Carrier and line type for an address: Dialtone's own numbers are Telnyx VoIP;
    /// others a wireless carrier.
    pub fn new(address: &str, ours: bool) -> Party {
        let (carrier, line_type) =
            if ours { ("TELNYX LLC", "VoIP") } else { ("DIALTONE SIMULATED WIRELESS", "Wireless") };
        Party { phone_number: address.to_owned(), carrier: carrier.into(), line_type: line_type.into() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeliveryError {
    pub code: String,
    pub title: String,
    pub detail: String,
}

/// A message as stored. Empty lists and absent values are left out of the stored JSON
/// (and read back as empty and absent): a scheduled message's document is about a fifth
/// smaller, and each carrier step reads, parses, prints and writes it once more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub account_id: String,
    /// `outbound` or `inbound`.
    pub direction: String,
    pub kind: MessageType,
    pub from: Party,
    pub to: Party,
    pub status: Status,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<String>,
    pub encoding: String,
    pub parts: u32,
    pub num_chars: u32,
    pub smart_encoding_applied: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_profile_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_failover_url: Option<String>,
    pub use_profile_webhooks: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<DeliveryError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_message_id: Option<String>,
    #[serde(with = "crate::time::auto")]
    pub received_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::auto_opt")]
    pub send_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::auto_opt")]
    pub sent_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::auto_opt")]
    pub completed_at: Option<DateTime<Utc>>,
    /// What the carrier will do (decided when the message is queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<carrier::Behaviour>,
}

/// Prices in ten-thousandths of a US dollar: an SMS part, an MMS, the carrier's fee.
const RATE_SMS: u32 = 40;
const RATE_MMS: u32 = 150;
const CARRIER_FEE: u32 = 30;

/// Ten-thousandths of a dollar as the API shows an amount (`"0.0070"`).
fn usd(ten_thousandths: u32) -> String {
    format!("{}.{:04}", ten_thousandths / 10_000, ten_thousandths % 10_000)
}

/// A message as the spec's `OutboundMessagePayload` (see [`Message::payload`]). Its fields
/// are in the order a `Value` map prints them, so the text is what `to_json` gave before.
#[derive(Serialize)]
pub struct MessagePayload<'a> {
    cc: [(); 0],
    completed_at: Option<String>,
    cost: Amount,
    cost_breakdown: CostBreakdown,
    direction: &'a str,
    encoding: &'a str,
    errors: Vec<ErrorPayload<'a>>,
    from: PartyPayload<'a>,
    id: &'a str,
    media: Vec<MediaPayload<'a>>,
    messaging_profile_id: &'a str,
    num_chars: u32,
    organization_id: &'a str,
    parts: u32,
    received_at: String,
    record_type: &'static str,
    /// Only while scheduled.
    #[serde(skip_serializing_if = "Option::is_none")]
    send_at: Option<Option<String>>,
    sent_at: Option<String>,
    smart_encoding_applied: bool,
    /// Only once cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    subject: Option<&'a str>,
    tags: [(); 0],
    tcr_campaign_billable: bool,
    tcr_campaign_id: Option<()>,
    tcr_campaign_registered: Option<()>,
    text: &'a str,
    to: [PartyPayload<'a>; 1],
    #[serde(rename = "type")]
    kind: MessageType,
    valid_until: Option<()>,
    wait_seconds: f64,
    webhook_failover_url: Option<&'a str>,
    webhook_url: Option<&'a str>,
}

#[derive(Serialize)]
struct Amount {
    amount: String,
    currency: &'static str,
}

impl Amount {
    fn usd(amount: String) -> Amount {
        Amount { amount, currency: "USD" }
    }
}

#[derive(Serialize)]
struct CostBreakdown {
    carrier_fee: Amount,
    rate: Amount,
}

#[derive(Serialize)]
struct ErrorPayload<'a> {
    code: &'a str,
    detail: &'a str,
    title: &'a str,
}

#[derive(Serialize)]
struct MediaPayload<'a> {
    content_type: Option<()>,
    sha256: Option<()>,
    size: Option<()>,
    url: &'a str,
}

/// A sender or recipient; a recipient has its delivery status.
#[derive(Serialize)]
struct PartyPayload<'a> {
    carrier: &'a str,
    line_type: &'a str,
    phone_number: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
}

impl<'a> PartyPayload<'a> {
    fn of(p: &'a Party, status: Option<&'static str>) -> PartyPayload<'a> {
        PartyPayload { carrier: &p.carrier, line_type: &p.line_type, phone_number: &p.phone_number, status }
    }
}

impl Message {
    pub fn cost(&self) -> (String, String, String) {
        let rate = match self.kind {
            MessageType::Sms => RATE_SMS * self.parts,
            MessageType::Mms => RATE_MMS,
        };
        let fee = if self.direction == "outbound" { CARRIER_FEE } else { 0 };
        (usd(rate + fee), usd(rate), usd(fee))
    }

    /// The answer to a cancel (`OutboundMessagePayloadCancelled`): as [`Message::to_json`],
    /// with the recipient's status `cancelled`, which only this schema's enum has.
    pub fn to_cancelled_json(&self) -> Value {
        let mut v = self.to_json();
        if let Some(to) = v["to"].as_array_mut() {
            for r in to {
                r["status"] = json!(self.status.as_str());
            }
        }
        v
    }

    /// The spec's `OutboundMessagePayload` (also the `payload` of message webhooks). Its
    /// recipient status has no `scheduled` or `cancelled`: such messages show `queued`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.payload()).unwrap_or(Value::Null)
    }

    /// [`Message::to_json`] as a type to serialize straight to text: what a send answers and
    /// what every message webhook carries, built without a `Value` tree.
    pub fn payload(&self) -> MessagePayload<'_> {
        let (total, rate, fee) = self.cost();
        let status = match (self.direction.as_str(), self.status) {
            ("inbound", _) => "webhook_delivered",
            (_, Status::Scheduled | Status::Cancelled) => "queued",
            (_, s) => s.as_str(),
        };
        MessagePayload {
            cc: [],
            completed_at: self.completed_at.map(fmt_time),
            cost: Amount::usd(total),
            cost_breakdown: CostBreakdown { carrier_fee: Amount::usd(fee), rate: Amount::usd(rate) },
            direction: &self.direction,
            encoding: &self.encoding,
            errors: self
                .errors
                .iter()
                .map(|e| ErrorPayload { code: &e.code, detail: &e.detail, title: &e.title })
                .collect(),
            from: PartyPayload::of(&self.from, None),
            id: &self.id,
            media: self
                .media
                .iter()
                .map(|url| MediaPayload { content_type: None, sha256: None, size: None, url })
                .collect(),
            messaging_profile_id: self.messaging_profile_id.as_deref().unwrap_or_default(),
            num_chars: self.num_chars,
            organization_id: &self.account_id,
            parts: self.parts.clamp(1, 10),
            received_at: fmt_time(self.received_at),
            record_type: "message",
            send_at: (self.status == Status::Scheduled).then(|| self.send_at.map(fmt_time)),
            sent_at: self.sent_at.map(fmt_time),
            smart_encoding_applied: self.smart_encoding_applied,
            status: (self.status == Status::Cancelled).then_some("cancelled"),
            subject: self.subject.as_deref(),
            tags: [],
            tcr_campaign_billable: false,
            tcr_campaign_id: None,
            tcr_campaign_registered: None,
            text: self.text.as_deref().unwrap_or_default(),
            to: [PartyPayload::of(&self.to, Some(status))],
            kind: self.kind,
            valid_until: None,
            wait_seconds: 0.0,
            webhook_failover_url: self.webhook_failover_url.as_deref(),
            webhook_url: self.webhook_url.as_deref(),
        }
    }

    pub fn from_value(v: &Value) -> Option<Message> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }

    /// Moves the message one step on the carrier. Answers the event to send, if any, and
    /// the delay until the next step (`None` when the message is final).
    pub fn step(&mut self, now: DateTime<Utc>) -> (Option<&'static str>, Option<Duration>) {
        let outcome =
            self.outcome.clone().unwrap_or(carrier::Behaviour::Deliver { after_ms: carrier::DEFAULT_DELAY_MS });
        match self.status {
            // At its `send_at` a scheduled message goes to the carrier at once, as a queued
            // one does: one step, not a step to `queued` and another to `sent`, so a burst
            // of scheduled messages takes half the jobs. `sending` lasts while the carrier
            // takes the message: within this one step.
            Status::Scheduled | Status::Queued | Status::Sending => {
                if let carrier::Behaviour::RejectSend { code } = &outcome {
                    self.status = Status::SendingFailed;
                    self.completed_at = Some(now);
                    self.errors.push(carrier::error_for(code));
                    return (Some("message.finalized"), None);
                }
                self.status = Status::Sent;
                self.sent_at = Some(now);
                (Some("message.sent"), Some(Duration::milliseconds(outcome.delay_ms() as i64)))
            }
            Status::Sent => {
                match &outcome {
                    carrier::Behaviour::Deliver { .. } => self.status = Status::Delivered,
                    carrier::Behaviour::Fail { code, .. } => {
                        self.status = Status::DeliveryFailed;
                        self.errors.push(carrier::error_for(code));
                    }
                    carrier::Behaviour::Unconfirmed { .. } => self.status = Status::DeliveryUnconfirmed,
                    carrier::Behaviour::RejectSend { .. } => self.status = Status::SendingFailed,
                }
                self.completed_at = Some(now);
                (Some("message.finalized"), None)
            }
            _ => (None, None),
        }
    }
}

/// The simulated carrier: what happens to a message sent to a destination.
pub mod carrier {
    use super::DeliveryError;
    use serde::{Deserialize, Serialize};

    /// Delay between `sent` and the final status when nothing else is said.
    pub const DEFAULT_DELAY_MS: u64 = 1_000;
    /// The `slow delivery` magic number's delay.
    pub const SLOW_DELAY_MS: u64 = 60_000;

    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    #[serde(tag = "outcome", rename_all = "snake_case")]
    pub enum Behaviour {
        /// Delivered this long after it was sent.
        Deliver { after_ms: u64 },
        /// The carrier reports failure (`delivery_failed`) with a delivery error code.
        Fail { code: String, after_ms: u64 },
        /// The carrier never confirms (`delivery_unconfirmed`).
        Unconfirmed { after_ms: u64 },
        /// The carrier refuses to take it (`sending_failed`).
        RejectSend { code: String },
    }

    impl Behaviour {
        pub fn delay_ms(&self) -> u64 {
            match self {
                Behaviour::Deliver { after_ms }
                | Behaviour::Fail { after_ms, .. }
                | Behaviour::Unconfirmed { after_ms } => *after_ms,
                Behaviour::RejectSend { .. } => 0,
            }
        }
    }

    /// The documented magic numbers (docs/simulation.md).
    pub fn magic(number: &str) -> Option<Behaviour> {
        Some(match number {
            "+15550100001" => Behaviour::Deliver { after_ms: DEFAULT_DELAY_MS },
            "+15550100002" => Behaviour::Fail { code: super::codes::UNDELIVERABLE.into(), after_ms: DEFAULT_DELAY_MS },
            "+15550100003" => Behaviour::RejectSend { code: super::codes::NOT_ROUTABLE.into() },
            "+15550100004" => Behaviour::Unconfirmed { after_ms: DEFAULT_DELAY_MS },
            "+15550100005" => Behaviour::Deliver { after_ms: SLOW_DELAY_MS },
            "+15550100006" => Behaviour::Fail { code: super::codes::REJECTED.into(), after_ms: DEFAULT_DELAY_MS },
            "+15550100007" => Behaviour::Fail { code: super::codes::UNAVAILABLE.into(), after_ms: DEFAULT_DELAY_MS },
            _ => return None,
        })
    }

    /// Title of a delivery error code (Telnyx's messaging error table).
    pub fn error_for(code: &str) -> DeliveryError {
        let (title, detail) = match code {
            "40001" => {
                ("Not routable", "The destination number is either a landline or a non-routable wireless number.")
            }
            "40002" => {
                ("Blocked as spam - temporary", "The message was flagged by a spam filter and was not delivered.")
            }
            "40003" => ("Blocked as spam - permanent", "The originating number is permanently blocked."),
            "40004" => {
                ("Rejected by destination", "The recipient server is rejecting the message for an unknown reason.")
            }
            "40005" => ("Message expired during transmission", "The message expired before it could be delivered."),
            "40006" => ("Recipient server unavailable", "The recipient server is unavailable or not responding."),
            "40008" => ("Undeliverable", "The recipient carrier did not accept the message."),
            "40009" => ("Invalid message body", "The message body was invalid."),
            "40012" => ("Invalid destination number", "The carrier rejected the destination number."),
            _ => ("Undeliverable", "The recipient carrier did not accept the message."),
        };
        DeliveryError { code: code.to_owned(), title: title.into(), detail: detail.into() }
    }

    /// Delivery error codes a simulation setting may name.
    pub const KNOWN_CODES: &[&str] = &["40001", "40002", "40003", "40004", "40005", "40006", "40008", "40009", "40012"];
}

/// Inbound keywords (case-insensitive, the whole message trimmed), as Telnyx handles them.
pub mod keywords {
    pub const OPT_OUT: &[&str] =
        &["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "STOP ALL", "OPTOUT", "REVOKE"];
    pub const OPT_IN: &[&str] = &["START", "UNSTOP", "YES", "SUBSCRIBE"];
    pub const HELP: &[&str] = &["HELP", "INFO"];

    pub const OPT_OUT_REPLY: &str = "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
    pub const OPT_IN_REPLY: &str = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe.";
    pub const HELP_REPLY: &str = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum Keyword {
        OptOut,
        OptIn,
        Help,
    }

    pub fn classify(text: &str) -> Option<Keyword> {
        let t = text.trim().to_ascii_uppercase();
        if OPT_OUT.contains(&t.as_str()) {
            Some(Keyword::OptOut)
        } else if OPT_IN.contains(&t.as_str()) {
            Some(Keyword::OptIn)
        } else if HELP.contains(&t.as_str()) {
            Some(Keyword::Help)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inbound_keywords_are_the_whole_message_in_any_case() {
        use keywords::{Keyword, classify};
        for k in keywords::OPT_OUT {
            assert_eq!(classify(k), Some(Keyword::OptOut), "{k}");
            assert_eq!(classify(&format!("  {}\n", k.to_lowercase())), Some(Keyword::OptOut), "{k}");
        }
        for k in keywords::OPT_IN {
            assert_eq!(classify(k), Some(Keyword::OptIn), "{k}");
        }
        for k in keywords::HELP {
            assert_eq!(classify(&k.to_lowercase()), Some(Keyword::Help), "{k}");
        }
        assert_eq!(classify("UnStop"), Some(Keyword::OptIn));
        for not in ["stop please", "STOPS", "don't stop", "", "START NOW", "helping"] {
            assert_eq!(classify(not), None, "{not}");
        }
    }

    fn scheduled(outcome: carrier::Behaviour) -> Message {
        let t = DateTime::parse_from_rfc3339("2026-12-03T12:00:00Z").unwrap().with_timezone(&Utc);
        Message {
            id: "m".into(),
            account_id: "a".into(),
            direction: "outbound".into(),
            kind: MessageType::Sms,
            from: Party::new("+15550000001", true),
            to: Party::new("+15550100001", false),
            status: Status::Scheduled,
            text: Some("hi".into()),
            subject: None,
            media: vec![],
            encoding: "GSM-7".into(),
            parts: 1,
            num_chars: 2,
            smart_encoding_applied: false,
            messaging_profile_id: None,
            webhook_url: None,
            webhook_failover_url: None,
            use_profile_webhooks: true,
            errors: vec![],
            group_message_id: None,
            received_at: t,
            send_at: Some(t + Duration::minutes(30)),
            sent_at: None,
            completed_at: None,
            outcome: Some(outcome),
        }
    }

    /// At its time a scheduled message is sent in one step, with `message.sent`, and
    /// finalized after the carrier's delay.
    #[test]
    fn a_scheduled_message_is_sent_in_one_step() {
        let mut m = scheduled(carrier::Behaviour::Deliver { after_ms: 1_000 });
        let at = m.send_at.unwrap();
        assert_eq!(m.step(at), (Some("message.sent"), Some(Duration::milliseconds(1_000))));
        assert_eq!((m.status, m.sent_at), (Status::Sent, Some(at)));
        let later = at + Duration::seconds(1);
        assert_eq!(m.step(later), (Some("message.finalized"), None));
        assert_eq!((m.status, m.completed_at), (Status::Delivered, Some(later)));
        assert_eq!(m.step(later), (None, None), "a final message does not move");
    }

    /// A destination that refuses the send fails a scheduled message at its first step.
    #[test]
    fn a_scheduled_message_the_carrier_refuses_fails_at_once() {
        let mut m = scheduled(carrier::Behaviour::RejectSend { code: "40001".into() });
        let at = m.send_at.unwrap();
        assert_eq!(m.step(at), (Some("message.finalized"), None));
        assert_eq!(m.status, Status::SendingFailed);
        assert_eq!(m.errors[0].code, "40001");
    }

    /// A stored message leaves out what is empty or absent, reads back the same, and a
    /// document written with every key (nulls and empty lists) still reads.
    #[test]
    fn a_stored_message_leaves_out_what_is_empty_and_reads_back() {
        let m = scheduled(carrier::Behaviour::Deliver { after_ms: 1_000 });
        let text = serde_json::to_string(&m).unwrap();
        for key in ["\"subject\"", "\"media\"", "\"errors\"", "\"sent_at\"", "\"completed_at\"", "\"webhook_url\""] {
            assert!(!text.contains(key), "{key} in {text}");
        }
        assert_eq!(serde_json::from_str::<Message>(&text).unwrap(), m);
        let mut full = serde_json::to_value(&m).unwrap();
        for key in ["subject", "webhook_url", "webhook_failover_url", "group_message_id", "sent_at", "completed_at"] {
            full[key] = Value::Null;
        }
        full["media"] = json!([]);
        full["errors"] = json!([]);
        assert_eq!(Message::from_value(&full), Some(m.clone()));
        let mut sent = m;
        sent.step(sent.send_at.unwrap());
        sent.errors.push(DeliveryError { code: "40002".into(), title: "t".into(), detail: "d".into() });
        let back: Message = serde_json::from_str(&serde_json::to_string(&sent).unwrap()).unwrap();
        assert_eq!(back, sent);
    }

    /// The payload a send answers and a webhook carries, every field of the spec's
    /// `OutboundMessagePayload`, for a scheduled message and the same one failed, and for
    /// an inbound MMS.
    #[test]
    fn the_message_payload_has_every_field_of_the_spec() {
        let m = scheduled(carrier::Behaviour::Deliver { after_ms: 1_000 });
        let text = serde_json::to_string(&m.payload()).unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&text).unwrap(),
            json!({
                "cc": [],
                "completed_at": null,
                "cost": {"amount": "0.0070", "currency": "USD"},
                "cost_breakdown": {
                    "carrier_fee": {"amount": "0.0030", "currency": "USD"},
                    "rate": {"amount": "0.0040", "currency": "USD"},
                },
                "direction": "outbound",
                "encoding": "GSM-7",
                "errors": [],
                "from": {"carrier": "TELNYX LLC", "line_type": "VoIP", "phone_number": "+15550000001"},
                "id": "m",
                "media": [],
                "messaging_profile_id": "",
                "num_chars": 2,
                "organization_id": "a",
                "parts": 1,
                "received_at": "2026-12-03T12:00:00.000Z",
                "record_type": "message",
                "send_at": "2026-12-03T12:30:00.000Z",
                "sent_at": null,
                "smart_encoding_applied": false,
                "subject": null,
                "tags": [],
                "tcr_campaign_billable": false,
                "tcr_campaign_id": null,
                "tcr_campaign_registered": null,
                "text": "hi",
                "to": [{
                    "carrier": "DIALTONE SIMULATED WIRELESS",
                    "line_type": "Wireless",
                    "phone_number": "+15550100001",
                    "status": "queued",
                }],
                "type": "SMS",
                "valid_until": null,
                "wait_seconds": 0.0,
                "webhook_failover_url": null,
                "webhook_url": null,
            })
        );
        // The same text as a `Value` prints: keys in order.
        assert_eq!(text, m.to_json().to_string());

        let mut failed = scheduled(carrier::Behaviour::Fail { code: "40002".into(), after_ms: 0 });
        failed.parts = 3;
        failed.step(failed.send_at.unwrap());
        failed.step(failed.send_at.unwrap());
        let v = failed.to_json();
        assert_eq!(v.get("send_at"), None, "send_at only while scheduled");
        assert_eq!(v["to"][0]["status"], "delivery_failed");
        assert_eq!(v["errors"][0]["code"], "40002");
        assert_eq!(v["errors"][0].as_object().unwrap().len(), 3);
        assert_eq!(v["cost"]["amount"], "0.0150");
        assert_eq!(v["cost_breakdown"]["rate"]["amount"], "0.0120");
        assert!(v["sent_at"].is_string() && v["completed_at"].is_string());

        let mut inbound = scheduled(carrier::Behaviour::Deliver { after_ms: 0 });
        inbound.direction = "inbound".into();
        inbound.kind = MessageType::Mms;
        inbound.status = Status::Received;
        inbound.media = vec!["https://example.com/a.png".into()];
        let v = inbound.to_json();
        assert_eq!(v["to"][0]["status"], "webhook_delivered");
        assert_eq!(v["type"], "MMS");
        assert_eq!(v["cost"]["amount"], "0.0150");
        assert_eq!(v["cost_breakdown"]["carrier_fee"]["amount"], "0.0000");
        assert_eq!(
            v["media"],
            json!([{"content_type": null, "sha256": null, "size": null, "url": "https://example.com/a.png"}])
        );

        let mut cancelled = scheduled(carrier::Behaviour::Deliver { after_ms: 0 });
        cancelled.status = Status::Cancelled;
        let v = cancelled.to_json();
        assert_eq!((v["status"].as_str(), v["to"][0]["status"].as_str()), (Some("cancelled"), Some("queued")));
        assert_eq!(cancelled.to_cancelled_json()["to"][0]["status"], "cancelled");
    }
}
