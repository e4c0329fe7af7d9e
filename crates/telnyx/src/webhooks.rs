//! Webhooks: verify Telnyx's Ed25519 signature over `"{timestamp}|{body}"` and parse the
//! event into [`Event`], with a variant per event type of messaging, voice, video and
//! numbers (and [`EventKind::Unknown`] for any other).

use crate::model::model;
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

model! {
    /// The fields every call event carries (and those of its kind, in `extra`).
    pub struct CallEventPayload {
        call_control_id: String,
        call_leg_id: String,
        call_session_id: String,
        connection_id: String,
        client_state: String,
        from: String,
        to: String,
        direction: String,
        state: String,
        start_time: String,
        end_time: String,
        hangup_cause: String,
        hangup_source: String,
        sip_hangup_cause: String,
        digit: String,
        digits: String,
        status: String,
        result: String,
        recording_urls: Value,
        public_recording_urls: Value,
    }
}

model! {
    /// A message event's payload: the message as `GET /messages/{id}` shows it.
    pub struct MessageEventPayload {
        id: String,
        record_type: String,
        direction: String,
        #[serde(rename = "type")]
        kind: String,
        messaging_profile_id: String,
        from: Value,
        to: Value,
        text: String,
        media: Value,
        parts: u32,
        encoding: String,
        errors: Value,
        cost: Value,
        sent_at: String,
        completed_at: String,
        received_at: String,
    }
}

model! {
    /// A video event's payload (room, session, participant, recording or composition ids).
    pub struct VideoEventPayload {
        room_id: String,
        session_id: String,
        participant_id: String,
        recording_id: String,
        composition_id: String,
        context: String,
        duration_secs: u64,
        download_url: String,
    }
}

model! {
    /// A number order event's payload: the order.
    pub struct NumberOrderEventPayload {
        id: String,
        status: String,
        phone_numbers: Value,
        phone_numbers_count: u32,
        messaging_profile_id: String,
        connection_id: String,
        customer_reference: String,
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
            /// Every event type with a variant of its own.
            pub const KNOWN: &'static [&'static str] = &[ $( $name ),* ];

            fn parse(event_type: &str, payload: Value) -> Result<EventKind, serde_json::Error> {
                Ok(match event_type {
                    $( $name => EventKind::$variant(serde_json::from_value(payload)?), )*
                    _ => EventKind::Unknown { event_type: event_type.to_owned(), payload },
                })
            }

            /// The event type as sent (`call.initiated`, ...).
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
    CallInitiated(CallEventPayload) = "call.initiated",
    CallAnswered(CallEventPayload) = "call.answered",
    CallHangup(CallEventPayload) = "call.hangup",
    CallBridged(CallEventPayload) = "call.bridged",
    CallConversationEnded(CallEventPayload) = "call.conversation.ended",
    CallConversationInsightsGenerated(CallEventPayload) = "call.conversation_insights.generated",
    CallCost(CallEventPayload) = "call.cost",
    CallDeepfakeDetectionError(CallEventPayload) = "call.deepfake_detection.error",
    CallDeepfakeDetectionResult(CallEventPayload) = "call.deepfake_detection.result",
    CallDequeued(CallEventPayload) = "call.dequeued",
    CallDtmfReceived(CallEventPayload) = "call.dtmf.received",
    CallEnqueued(CallEventPayload) = "call.enqueued",
    CallForkStarted(CallEventPayload) = "call.fork.started",
    CallForkStopped(CallEventPayload) = "call.fork.stopped",
    CallGatherEnded(CallEventPayload) = "call.gather.ended",
    CallHold(CallEventPayload) = "call.hold",
    CallUnhold(CallEventPayload) = "call.unhold",
    CallMachineDetectionEnded(CallEventPayload) = "call.machine.detection.ended",
    CallMachineGreetingEnded(CallEventPayload) = "call.machine.greeting.ended",
    CallMachinePremiumDetectionEnded(CallEventPayload) = "call.machine.premium.detection.ended",
    CallMachinePremiumGreetingEnded(CallEventPayload) = "call.machine.premium.greeting.ended",
    CallPlaybackStarted(CallEventPayload) = "call.playback.started",
    CallPlaybackEnded(CallEventPayload) = "call.playback.ended",
    CallRecordingError(CallEventPayload) = "call.recording.error",
    CallRecordingSaved(CallEventPayload) = "call.recording.saved",
    CallRecordingTranscriptionSaved(CallEventPayload) = "call.recording.transcription.saved",
    CallReferStarted(CallEventPayload) = "call.refer.started",
    CallReferCompleted(CallEventPayload) = "call.refer.completed",
    CallReferFailed(CallEventPayload) = "call.refer.failed",
    CallSpeakStarted(CallEventPayload) = "call.speak.started",
    CallSpeakEnded(CallEventPayload) = "call.speak.ended",
    SiprecStarted(CallEventPayload) = "siprec.started",
    SiprecStopped(CallEventPayload) = "siprec.stopped",
    SiprecFailed(CallEventPayload) = "siprec.failed",
    StreamingStarted(CallEventPayload) = "streaming.started",
    StreamingStopped(CallEventPayload) = "streaming.stopped",
    StreamingFailed(CallEventPayload) = "streaming.failed",
    MessageSent(MessageEventPayload) = "message.sent",
    MessageFinalized(MessageEventPayload) = "message.finalized",
    MessageReceived(MessageEventPayload) = "message.received",
    MessageLinkClick(MessageEventPayload) = "message.link_click",
    NumberOrderComplete(NumberOrderEventPayload) = "number_order.complete",
    VideoRoomSessionStarted(VideoEventPayload) = "video.room.session.started",
    VideoRoomSessionEnded(VideoEventPayload) = "video.room.session.ended",
    VideoRoomParticipantJoined(VideoEventPayload) = "video.room.participant.joined",
    VideoRoomParticipantLeft(VideoEventPayload) = "video.room.participant.left",
    VideoRoomRecordingStarted(VideoEventPayload) = "video.room.recording.started",
    VideoRoomRecordingCompleted(VideoEventPayload) = "video.room.recording.completed",
    VideoRoomCompositionCompleted(VideoEventPayload) = "video.room.composition.completed",
}

/// A webhook event: `data` of the envelope, typed, with the delivery's `meta`.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The event's id: receivers dedupe on it (an event may arrive more than once).
    pub id: String,
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
        let event_type = data
            .get("event_type")
            .and_then(Value::as_str)
            .ok_or_else(|| WebhookError::BadBody("no `data.event_type`".into()))?;
        let payload = data.get("payload").cloned().unwrap_or(Value::Object(Default::default()));
        let kind = EventKind::parse(event_type, payload).map_err(|e| WebhookError::BadBody(e.to_string()))?;
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

    pub fn event_type(&self) -> &str {
        self.kind.event_type()
    }
}

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
            EventKind::CallHangup(p) => assert_eq!(p.hangup_cause.as_deref(), Some("normal_clearing")),
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
}
