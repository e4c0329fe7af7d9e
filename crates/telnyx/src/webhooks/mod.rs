//! Webhooks: verify Telnyx's Ed25519 signature over `"{timestamp}|{body}"` and parse the
//! event into [`Event`], whose [`EventKind`] has a variant per event type of voice,
//! messaging, numbers and video, each with its typed payload (and [`EventKind::Unknown`] for
//! any other type).
//!
//! Payloads follow the spec's `*Event` schemas; events whose payloads have the same shape
//! share a type (`call.bridged`, `call.hold` and `call.unhold` all carry a
//! [`CallLegPayload`]). Every field is optional, as a payload may leave any out; fields this
//! version does not know are kept in each payload's `extra`, and enum values it does not know
//! in their enum's `Unknown`, so a new field or value is never an error.
//!
//! ```
//! use telnyx::webhooks::{Event, EventKind, HangupCause};
//! let body = br#"{"data":{"event_type":"call.hangup","id":"0ccc7b54-4df3-4bca-a65a-3da1ecc777f0",
//!   "occurred_at":"2025-01-01T00:00:00Z","record_type":"event",
//!   "payload":{"call_control_id":"v3:abc","hangup_cause":"normal_clearing","hangup_source":"caller"}},
//!   "meta":{"attempt":1,"delivered_to":"https://example.com/hooks"}}"#;
//! // In a handler, `client.webhooks()?.unwrap(body, &headers)?` verifies the signature first.
//! let event = Event::parse(body).unwrap();
//! match event.kind {
//!     EventKind::CallHangup(p) => assert_eq!(p.hangup_cause, Some(HangupCause::NormalClearing)),
//!     other => println!("{}", other.event_type()),
//! }
//! ```

mod call;
mod message;
mod number_order;
mod video;

pub use call::*;
pub use message::*;
pub use number_order::*;
pub use video::*;

use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier, VerifyingKey};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The header carrying the base64 signature.
pub const SIGNATURE_HEADER: &str = "telnyx-signature-ed25519";
/// The header carrying the Unix time of signing.
pub const TIMESTAMP_HEADER: &str = "telnyx-timestamp";
/// How far a timestamp may be from now, either way (as the official SDKs).
pub const DEFAULT_TOLERANCE: Duration = Duration::from_secs(300);

/// Why a webhook was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WebhookError {
    #[error("the public key is not base64 of a 32-byte Ed25519 key")]
    BadKey,
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("the signature is not base64 of 64 bytes")]
    BadSignatureEncoding,
    #[error("the timestamp is not a Unix time")]
    BadTimestamp,
    #[error("the timestamp is more than the tolerance away from now")]
    Expired,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the body is not a webhook event: {0}")]
    BadBody(String),
}

/// Verifies webhooks with one account's public key.
#[derive(Clone)]
pub struct WebhookVerifier {
    key: VerifyingKey,
    tolerance: Duration,
}

impl std::fmt::Debug for WebhookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookVerifier").field("tolerance", &self.tolerance).finish()
    }
}

impl WebhookVerifier {
    /// From base64 of the raw 32-byte key (`TELNYX_PUBLIC_KEY`).
    pub fn new(public_key_base64: &str) -> Result<WebhookVerifier, WebhookError> {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(public_key_base64.trim())
            .map_err(|_| WebhookError::BadKey)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| WebhookError::BadKey)?;
        let key = VerifyingKey::from_bytes(&arr).map_err(|_| WebhookError::BadKey)?;
        Ok(WebhookVerifier { key, tolerance: DEFAULT_TOLERANCE })
    }

    /// How far the timestamp may be from now (300 s by default).
    pub fn tolerance(mut self, t: Duration) -> Self {
        self.tolerance = t;
        self
    }

    /// Checks the signature and the timestamp's freshness.
    pub fn verify(&self, body: &[u8], signature: &str, timestamp: &str) -> Result<(), WebhookError> {
        self.verify_at(body, signature, timestamp, SystemTime::now())
    }

    /// [`Self::verify`] as if it were `now`.
    pub fn verify_at(
        &self,
        body: &[u8],
        signature: &str,
        timestamp: &str,
        now: SystemTime,
    ) -> Result<(), WebhookError> {
        let ts: u64 = timestamp.trim().parse().map_err(|_| WebhookError::BadTimestamp)?;
        let now = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        if now.abs_diff(ts) > self.tolerance.as_secs() {
            return Err(WebhookError::Expired);
        }
        let sig = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| WebhookError::BadSignatureEncoding)?;
        let sig: [u8; 64] = sig.try_into().map_err(|_| WebhookError::BadSignatureEncoding)?;
        let mut signed = Vec::with_capacity(timestamp.len() + 1 + body.len());
        signed.extend_from_slice(timestamp.trim().as_bytes());
        signed.push(b'|');
        signed.extend_from_slice(body);
        self.key.verify(&signed, &Signature::from_bytes(&sig)).map_err(|_| WebhookError::BadSignature)
    }

    /// Verifies with the headers of the request and parses the event.
    pub fn unwrap(&self, body: &[u8], headers: &reqwest::header::HeaderMap) -> Result<Event, WebhookError> {
        let get = |name: &'static str| {
            headers.get(name).and_then(|v| v.to_str().ok()).ok_or(WebhookError::MissingHeader(name))
        };
        self.verify(body, get(SIGNATURE_HEADER)?, get(TIMESTAMP_HEADER)?)?;
        Event::parse(body)
    }
}

macro_rules! events {
    ( $( $variant:ident ( $payload:ident ) = $name:literal ),* $(,)? ) => {
        /// What happened, with its typed payload.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum EventKind {
            $( #[doc = $name] $variant($payload), )*
            /// An event type this version does not know, with its payload as sent.
            Unknown { event_type: String, payload: Value },
        }

        impl EventKind {
            /// Every event type with a variant of its own (`link_clicked` stands for link clicks).
            pub const KNOWN: &'static [&'static str] = &[ $( $name ),* ];

            fn parse(event_type: &str, payload: Value) -> Result<EventKind, serde_json::Error> {
                Ok(match event_type {
                    $( $name => EventKind::$variant(serde_json::from_value(payload)?), )*
                    _ => EventKind::Unknown { event_type: event_type.to_owned(), payload },
                })
            }

            /// The event type as sent (`call.initiated`, ...); for a link click, which has
            /// none, its `record_type` `link_clicked`.
            pub fn event_type(&self) -> &str {
                match self {
                    $( EventKind::$variant(_) => $name, )*
                    EventKind::Unknown { event_type, .. } => event_type,
                }
            }
        }
    };
}

events! {
    CallInitiated(CallInitiatedPayload) = "call.initiated",
    CallAnswered(CallAnsweredPayload) = "call.answered",
    CallHangup(CallHangupPayload) = "call.hangup",
    CallBridged(CallLegPayload) = "call.bridged",
    CallConversationEnded(CallConversationEndedPayload) = "call.conversation.ended",
    CallConversationInsightsGenerated(CallConversationInsightsGeneratedPayload) = "call.conversation_insights.generated",
    CallCost(CallCostPayload) = "call.cost",
    CallDeepfakeDetectionError(CallDeepfakeDetectionErrorPayload) = "call.deepfake_detection.error",
    CallDeepfakeDetectionResult(CallDeepfakeDetectionResultPayload) = "call.deepfake_detection.result",
    CallDequeued(CallDequeuedPayload) = "call.dequeued",
    CallDtmfReceived(CallDtmfReceivedPayload) = "call.dtmf.received",
    CallEnqueued(CallEnqueuedPayload) = "call.enqueued",
    CallForkStarted(CallForkPayload) = "call.fork.started",
    CallForkStopped(CallForkPayload) = "call.fork.stopped",
    CallGatherEnded(CallGatherEndedPayload) = "call.gather.ended",
    CallHold(CallLegPayload) = "call.hold",
    CallUnhold(CallLegPayload) = "call.unhold",
    CallMachineDetectionEnded(CallMachineDetectionEndedPayload) = "call.machine.detection.ended",
    CallMachineGreetingEnded(CallMachineGreetingEndedPayload) = "call.machine.greeting.ended",
    CallMachinePremiumDetectionEnded(CallMachinePremiumDetectionEndedPayload) = "call.machine.premium.detection.ended",
    CallMachinePremiumGreetingEnded(CallMachinePremiumGreetingEndedPayload) = "call.machine.premium.greeting.ended",
    CallPlaybackStarted(CallPlaybackStartedPayload) = "call.playback.started",
    CallPlaybackEnded(CallPlaybackEndedPayload) = "call.playback.ended",
    CallRecordingError(CallRecordingErrorPayload) = "call.recording.error",
    CallRecordingSaved(CallRecordingSavedPayload) = "call.recording.saved",
    CallRecordingTranscriptionSaved(CallRecordingTranscriptionSavedPayload) = "call.recording.transcription.saved",
    CallReferStarted(CallReferPayload) = "call.refer.started",
    CallReferCompleted(CallReferPayload) = "call.refer.completed",
    CallReferFailed(CallReferPayload) = "call.refer.failed",
    CallSpeakStarted(CallPayload) = "call.speak.started",
    CallSpeakEnded(CallSpeakEndedPayload) = "call.speak.ended",
    SiprecStarted(CallPayload) = "siprec.started",
    SiprecStopped(CallSiprecStoppedPayload) = "siprec.stopped",
    SiprecFailed(CallSiprecFailedPayload) = "siprec.failed",
    StreamingStarted(CallStreamingPayload) = "streaming.started",
    StreamingStopped(CallStreamingPayload) = "streaming.stopped",
    StreamingFailed(CallStreamingFailedPayload) = "streaming.failed",
    MessageSent(MessagePayload) = "message.sent",
    MessageFinalized(MessagePayload) = "message.finalized",
    MessageReceived(MessagePayload) = "message.received",
    LinkClicked(LinkClickPayload) = "link_clicked",
    NumberOrderComplete(NumberOrderPayload) = "number_order.complete",
    VideoRoomSessionStarted(RoomSessionStartedPayload) = "video.room.session.started",
    VideoRoomSessionEnded(RoomSessionEndedPayload) = "video.room.session.ended",
    VideoRoomParticipantJoined(RoomParticipantJoinedPayload) = "video.room.participant.joined",
    VideoRoomParticipantLeft(RoomParticipantLeftPayload) = "video.room.participant.left",
    VideoRoomRecordingStarted(RoomRecordingStartedPayload) = "video.room.recording.started",
    VideoRoomRecordingCompleted(RoomRecordingCompletedPayload) = "video.room.recording.completed",
    VideoRoomCompositionCompleted(RoomCompositionCompletedPayload) = "video.room.composition.completed",
}

/// A webhook event: `data` of the envelope, typed, with the delivery's `meta`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The event's id: receivers dedupe on it (an event may arrive more than once). Empty
    /// for a link click, which carries none.
    pub id: String,
    /// When it happened (`data.occurred_at`; a link click has `time_clicked` instead).
    pub occurred_at: Option<String>,
    pub kind: EventKind,
    /// `meta.attempt`: which attempt delivered it.
    pub attempt: Option<u32>,
    /// `meta.delivered_to`.
    pub delivered_to: Option<String>,
    /// The whole envelope as received.
    pub raw: Value,
}

impl Event {
    /// Parses a body (without verifying it: see [`WebhookVerifier::unwrap`]).
    pub fn parse(body: &[u8]) -> Result<Event, WebhookError> {
        let raw: Value = serde_json::from_slice(body).map_err(|e| WebhookError::BadBody(e.to_string()))?;
        let data = raw.get("data").ok_or_else(|| WebhookError::BadBody("no `data`".into()))?;
        let kind = match data.get("event_type").and_then(Value::as_str) {
            Some(event_type) => {
                let payload = data.get("payload").cloned().unwrap_or(Value::Object(Default::default()));
                EventKind::parse(event_type, payload)
            }
            // A link click is the one event without a type: `data` is the click itself.
            None if data.get("record_type").and_then(Value::as_str) == Some(LINK_CLICKED) => {
                EventKind::parse(LINK_CLICKED, data.clone())
            }
            None => return Err(WebhookError::BadBody("no `data.event_type`".into())),
        }
        .map_err(|e| WebhookError::BadBody(e.to_string()))?;
        let meta = raw.get("meta");
        Ok(Event {
            id: data.get("id").and_then(Value::as_str).unwrap_or_default().to_owned(),
            occurred_at: data.get("occurred_at").and_then(Value::as_str).map(str::to_owned),
            kind,
            attempt: meta.and_then(|m| m.get("attempt")).and_then(Value::as_u64).map(|a| a as u32),
            delivered_to: meta.and_then(|m| m.get("delivered_to")).and_then(Value::as_str).map(str::to_owned),
            raw,
        })
    }

    /// The event type (`call.initiated`, ...; `link_clicked` for a link click).
    pub fn event_type(&self) -> &str {
        self.kind.event_type()
    }
}

/// The `record_type` of a link click, which stands for its missing `event_type`.
const LINK_CLICKED: &str = "link_clicked";

impl crate::Client {
    /// A verifier for the client's public key (`TELNYX_PUBLIC_KEY`).
    pub fn webhooks(&self) -> crate::Result<WebhookVerifier> {
        let key = self.public_key().ok_or_else(|| crate::Error::Config("no public key".into()))?;
        Ok(WebhookVerifier::new(key)?)
    }
}

/// An axum extractor: the request's body verified with the [`WebhookVerifier`] found in the
/// state (`FromRef`), parsed into an [`Event`]; a refused webhook answers 400.
#[cfg(feature = "axum")]
pub struct Verified(pub Event);

#[cfg(feature = "axum")]
impl<S> axum::extract::FromRequest<S> for Verified
where
    S: Send + Sync,
    WebhookVerifier: axum::extract::FromRef<S>,
{
    type Rejection = (axum::http::StatusCode, String);

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::FromRef;
        let verifier = WebhookVerifier::from_ref(state);
        let (parts, body) = req.into_parts();
        let bad = |e: String| (axum::http::StatusCode::BAD_REQUEST, e);
        let bytes = axum::body::to_bytes(body, 1 << 20).await.map_err(|e| bad(e.to_string()))?;
        let get = |name: &'static str| {
            parts.headers.get(name).and_then(|v| v.to_str().ok()).ok_or(WebhookError::MissingHeader(name))
        };
        let check = || -> Result<Event, WebhookError> {
            verifier.verify(&bytes, get(SIGNATURE_HEADER)?, get(TIMESTAMP_HEADER)?)?;
            Event::parse(&bytes)
        };
        check().map(Verified).map_err(|e| bad(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn sign(key: &SigningKey, ts: &str, body: &[u8]) -> String {
        let mut m = format!("{ts}|").into_bytes();
        m.extend_from_slice(body);
        base64::engine::general_purpose::STANDARD.encode(key.sign(&m).to_bytes())
    }

    #[test]
    fn signature_timestamp_and_body_are_all_checked() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let public = base64::engine::general_purpose::STANDARD.encode(key.verifying_key().to_bytes());
        let v = WebhookVerifier::new(&public).unwrap();
        let body = br#"{"data":{"event_type":"call.hangup","id":"e1","payload":{"hangup_cause":"normal_clearing"}}}"#;
        let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ts = "1700000000";
        let sig = sign(&key, ts, body);
        v.verify_at(body, &sig, ts, now).unwrap();
        // Tampered body, other timestamp, stale, other key.
        assert_eq!(v.verify_at(b"{}", &sig, ts, now), Err(WebhookError::BadSignature));
        assert_eq!(v.verify_at(body, &sig, "1700000001", now), Err(WebhookError::BadSignature));
        assert_eq!(v.verify_at(body, &sig, ts, now + Duration::from_secs(301)), Err(WebhookError::Expired));
        v.verify_at(body, &sig, ts, now + Duration::from_secs(300)).unwrap();
        let other = SigningKey::from_bytes(&[8; 32]);
        assert_eq!(v.verify_at(body, &sign(&other, ts, body), ts, now), Err(WebhookError::BadSignature));
        assert_eq!(v.verify_at(body, "not base64!", ts, now), Err(WebhookError::BadSignatureEncoding));
        assert_eq!(v.verify_at(body, &sig, "yesterday", now), Err(WebhookError::BadTimestamp));
        assert_eq!(WebhookVerifier::new("short").unwrap_err(), WebhookError::BadKey);
        let ev = Event::parse(body).unwrap();
        match &ev.kind {
            EventKind::CallHangup(p) => assert_eq!(p.hangup_cause, Some(HangupCause::NormalClearing)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unknown_event_types_are_kept() {
        let ev = Event::parse(br#"{"data":{"event_type":"fax.received","id":"x","payload":{"a":1}}}"#).unwrap();
        assert_eq!(
            ev.kind,
            EventKind::Unknown { event_type: "fax.received".into(), payload: serde_json::json!({"a": 1}) }
        );
        assert_eq!(ev.event_type(), "fax.received");
    }

    #[test]
    fn a_link_click_is_its_data_without_an_event_type() {
        // The spec's example of `ReplacedLinkClickEvent`.
        let body = br#"{"data":{"record_type":"link_clicked","url":"https://telnyx.com","to":"18445550001",
            "message_id":"7ee4241c-f127-47e5-9c34-3aac291f8058","time_clicked":"2019-04-01T14:45:45.450Z"}}"#;
        let ev = Event::parse(body).unwrap();
        assert_eq!(ev.event_type(), "link_clicked");
        assert_eq!(ev.id, "");
        let EventKind::LinkClicked(click) = &ev.kind else { panic!("{:?}", ev.kind) };
        assert_eq!(click.message_id.as_deref(), Some("7ee4241c-f127-47e5-9c34-3aac291f8058"));
        assert_eq!(click.url.as_deref(), Some("https://telnyx.com"));
        assert_eq!(click.time_clicked.as_deref(), Some("2019-04-01T14:45:45.450Z"));
        assert!(click.extra.is_empty());
        // The name some docs use is not an event Telnyx sends: it is not a link click.
        let other = Event::parse(br#"{"data":{"event_type":"message.link_click","id":"x","payload":{}}}"#).unwrap();
        assert!(matches!(other.kind, EventKind::Unknown { .. }));
        // Without an event type and not a link click, the body is refused.
        assert!(matches!(Event::parse(br#"{"data":{"record_type":"event"}}"#), Err(WebhookError::BadBody(_))));
    }

    #[test]
    fn unknown_values_and_fields_in_a_payload_are_kept() {
        let body = br#"{"data":{"event_type":"call.gather.ended","id":"e","payload":{"digits":"12#",
            "status":"brand_new_status","future_field":{"a":1},"call_control_id":"v3:x"}}}"#;
        let EventKind::CallGatherEnded(p) = Event::parse(body).unwrap().kind else { panic!() };
        assert_eq!(p.status, Some(GatherStatus::Unknown("brand_new_status".into())));
        assert_eq!(p.digits.as_deref(), Some("12#"));
        assert_eq!(p.extra["future_field"], serde_json::json!({"a": 1}));
        // A field of the wrong type is an error, not a silent `None`.
        let bad = br#"{"data":{"event_type":"call.enqueued","id":"e","payload":{"current_position":"first"}}}"#;
        assert!(matches!(Event::parse(bad), Err(WebhookError::BadBody(_))));
    }
}
