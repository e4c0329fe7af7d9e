//! The payloads of voice (call control) events, typed after the spec's `*Event` schemas.
//! Events whose payloads have the same shape share a type.

use crate::model::{model, string_enum};
use serde_json::Value;

/// Declares a call event payload: the five fields every call event carries, then its own.
macro_rules! call_payload {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $fty:ty ),* $(,)?
        }
    ) => {
        model! {
            $(#[$meta])*
            pub struct $name {
                /// The id commands on this call use.
                call_control_id: String,
                /// The id of this leg of the call.
                call_leg_id: String,
                /// The id of the session the leg belongs to (shared by bridged legs).
                call_session_id: String,
                /// The state the last command set, as given (base64).
                client_state: String,
                /// The call control application (connection) the call belongs to.
                connection_id: String,
                $( $(#[$fmeta])* $field: $fty, )*
            }
        }
    };
}

string_enum! {
    /// Where a call stands (`state` of `call.initiated`, `call.answered`, `call.hangup`).
    pub enum CallState {
        Parked = "parked",
        Bridging = "bridging",
        Answered = "answered",
        Hangup = "hangup",
    }
}

string_enum! {
    /// Which way a call goes, seen from Telnyx.
    pub enum CallDirection {
        Incoming = "incoming",
        Outgoing = "outgoing",
    }
}

string_enum! {
    /// Why a call ended.
    pub enum HangupCause {
        CallRejected = "call_rejected",
        NormalClearing = "normal_clearing",
        OriginatorCancel = "originator_cancel",
        Timeout = "timeout",
        TimeLimit = "time_limit",
        UserBusy = "user_busy",
        NotFound = "not_found",
        NoAnswer = "no_answer",
        Unspecified = "unspecified",
    }
}

string_enum! {
    /// Which party ended a call.
    pub enum HangupSource {
        Caller = "caller",
        Callee = "callee",
        /// `"unknown"` on the wire (`Unknown` is kept for values this version does not know).
        Undetermined = "unknown",
    }
}

string_enum! {
    /// The name of a SIP header Telnyx reports.
    pub enum SipHeaderName {
        UserToUser = "User-to-User",
    }
}

string_enum! {
    /// The kind of party of an AI conversation or transcription.
    pub enum CallingPartyType {
        Pstn = "pstn",
        Sip = "sip",
    }
}

string_enum! {
    /// Whether a call's cost could be computed.
    pub enum CallCostStatus {
        Success = "success",
        Error = "error",
    }
}

string_enum! {
    /// Why deepfake detection failed.
    pub enum DeepfakeDetectionError {
        DetectionTimeout = "detection_timeout",
        RtpTimeout = "rtp_timeout",
        DfdConnectionError = "dfd_connection_error",
        DfdStreamError = "dfd_stream_error",
    }
}

string_enum! {
    /// What deepfake detection found.
    pub enum DeepfakeDetectionResult {
        Real = "real",
        Fake = "fake",
        SilenceTimeout = "silence_timeout",
    }
}

string_enum! {
    /// Why a call left its queue.
    pub enum QueueLeaveReason {
        Bridged = "bridged",
        BridgingInProcess = "bridging-in-process",
        Hangup = "hangup",
        Leave = "leave",
        Timeout = "timeout",
    }
}

string_enum! {
    /// What a fork streams.
    pub enum ForkStreamType {
        Decrypted = "decrypted",
    }
}

string_enum! {
    /// How a gather ended.
    pub enum GatherStatus {
        Valid = "valid",
        Invalid = "invalid",
        CallHangup = "call_hangup",
        Cancelled = "cancelled",
        CancelledAmd = "cancelled_amd",
        Timeout = "timeout",
    }
}

string_enum! {
    /// What answering machine detection decided.
    pub enum MachineDetectionResult {
        Human = "human",
        Machine = "machine",
        NotSure = "not_sure",
    }
}

string_enum! {
    /// How a machine's greeting ended.
    pub enum MachineGreetingResult {
        BeepDetected = "beep_detected",
        Ended = "ended",
        NotSure = "not_sure",
    }
}

string_enum! {
    /// What premium answering machine detection decided.
    pub enum PremiumDetectionResult {
        HumanResidence = "human_residence",
        HumanBusiness = "human_business",
        Machine = "machine",
        Silence = "silence",
        FaxDetected = "fax_detected",
        NotSure = "not_sure",
    }
}

string_enum! {
    /// How a machine's greeting ended, by premium detection.
    pub enum PremiumGreetingResult {
        BeepDetected = "beep_detected",
        NoBeepDetected = "no_beep_detected",
    }
}

string_enum! {
    /// How a playback ended.
    pub enum PlaybackStatus {
        FileNotFound = "file_not_found",
        CallHangup = "call_hangup",
        /// `"unknown"` on the wire (`Unknown` is kept for values this version does not know).
        Undetermined = "unknown",
        Cancelled = "cancelled",
        CancelledAmd = "cancelled_amd",
        Completed = "completed",
        Failed = "failed",
    }
}

string_enum! {
    /// Why a recording could not be saved.
    pub enum RecordingErrorReason {
        AuthorizationFailed = "Failed to authorize with storage using custom credentials",
        InvalidCredentials = "Invalid credentials json",
        UnsupportedBackend = "Unsupported backend",
        InternalServerError = "Internal server error",
    }
}

string_enum! {
    /// Whether a recording mixes both parties in one channel or keeps one each.
    pub enum RecordingChannels {
        Single = "single",
        Dual = "dual",
    }
}

string_enum! {
    /// Where a recording's transcription stands.
    pub enum TranscriptionStatus {
        Completed = "completed",
    }
}

string_enum! {
    /// How a speech ended.
    pub enum SpeakStatus {
        Completed = "completed",
        CallHangup = "call_hangup",
        CancelledAmd = "cancelled_amd",
    }
}

string_enum! {
    /// Which audio a media stream carries.
    pub enum StreamTrack {
        InboundTrack = "inbound_track",
        OutboundTrack = "outbound_track",
        BothTracks = "both_tracks",
    }
}

string_enum! {
    /// Where a media stream goes.
    pub enum StreamingType {
        Websocket = "websocket",
        Dialogflow = "dialogflow",
    }
}

model! {
    /// A custom SIP header of the call (`X-` headers).
    pub struct CustomSipHeader {
        name: String,
        value: String,
    }
}

model! {
    /// A standard SIP header Telnyx reports.
    pub struct SipHeader {
        name: SipHeaderName,
        value: String,
    }
}

model! {
    /// Inbound quality statistics of a call.
    pub struct InboundCallQuality {
        jitter_max_variance: String,
        jitter_packet_count: String,
        mos: String,
        packet_count: String,
        skip_packet_count: String,
    }
}

model! {
    /// Outbound quality statistics of a call.
    pub struct OutboundCallQuality {
        packet_count: String,
        skip_packet_count: String,
    }
}

model! {
    /// `call_quality_stats` of `call.hangup` (often `null`).
    pub struct CallQualityStats {
        inbound: InboundCallQuality,
        outbound: OutboundCallQuality,
    }
}

model! {
    /// One insight of `call.conversation_insights.generated`.
    pub struct ConversationInsight {
        insight_id: String,
        /// An object or a string, as the insight defines.
        result: Value,
    }
}

model! {
    /// One part of a call's cost.
    pub struct CallCostPart {
        billed_duration_secs: i64,
        call_part: String,
        cost: String,
        currency: String,
        rate: String,
    }
}

model! {
    /// Where a saved recording can be fetched, per format.
    pub struct RecordingUrls {
        mp3: String,
        wav: String,
    }
}

model! {
    /// The stream a failed streaming was asked for.
    pub struct StreamParams {
        stream_url: String,
        track: StreamTrack,
    }
}

call_payload! {
    /// Events that carry only the call's ids: `call.speak.started`, `siprec.started`.
    pub struct CallPayload {}
}

call_payload! {
    /// Events that carry the call's ids and its parties: `call.bridged`, `call.hold`,
    /// `call.unhold`.
    pub struct CallLegPayload {
        from: String,
        to: String,
    }
}

call_payload! {
    /// `call.initiated`: a call was dialled or is coming in.
    pub struct CallInitiatedPayload {
        call_screening_result: String,
        caller_id_name: String,
        connection_codecs: String,
        custom_headers: Vec<CustomSipHeader>,
        direction: CallDirection,
        from: String,
        offered_codecs: String,
        shaken_stir_attestation: String,
        shaken_stir_validated: bool,
        sip_headers: Vec<SipHeader>,
        start_time: String,
        /// `bridging` on outgoing calls, `parked` on incoming ones.
        state: CallState,
        tags: Vec<String>,
        to: String,
    }
}

call_payload! {
    /// `call.answered`.
    pub struct CallAnsweredPayload {
        custom_headers: Vec<CustomSipHeader>,
        from: String,
        sip_headers: Vec<SipHeader>,
        start_time: String,
        state: CallState,
        tags: Vec<String>,
        to: String,
    }
}

call_payload! {
    /// `call.hangup`.
    pub struct CallHangupPayload {
        call_quality_stats: CallQualityStats,
        custom_headers: Vec<CustomSipHeader>,
        from: String,
        hangup_cause: HangupCause,
        hangup_source: HangupSource,
        sip_hangup_cause: String,
        sip_headers: Vec<SipHeader>,
        start_time: String,
        state: CallState,
        tags: Vec<String>,
        to: String,
    }
}

call_payload! {
    /// `call.conversation.ended`: an AI assistant's conversation ended.
    pub struct CallConversationEndedPayload {
        assistant_id: String,
        calling_party_type: CallingPartyType,
        conversation_id: String,
        duration_sec: i64,
        from: String,
        llm_model: String,
        reason: String,
        stt_model: String,
        to: String,
        tts_model_id: String,
        tts_provider: String,
        tts_voice_id: String,
    }
}

call_payload! {
    /// `call.conversation_insights.generated`.
    pub struct CallConversationInsightsGeneratedPayload {
        calling_party_type: CallingPartyType,
        insight_group_id: String,
        results: Vec<ConversationInsight>,
    }
}

call_payload! {
    /// `call.cost`.
    pub struct CallCostPayload {
        billed_duration_secs: i64,
        billing_group_id: String,
        cost_parts: Vec<CallCostPart>,
        occurred_at: String,
        status: CallCostStatus,
        total_cost: String,
    }
}

call_payload! {
    /// `call.deepfake_detection.error`.
    pub struct CallDeepfakeDetectionErrorPayload {
        error_message: DeepfakeDetectionError,
    }
}

call_payload! {
    /// `call.deepfake_detection.result`.
    pub struct CallDeepfakeDetectionResultPayload {
        consistency: f64,
        result: DeepfakeDetectionResult,
        score: f64,
    }
}

call_payload! {
    /// `call.dtmf.received`: one digit pressed.
    pub struct CallDtmfReceivedPayload {
        digit: String,
        from: String,
        to: String,
    }
}

call_payload! {
    /// `call.enqueued`.
    pub struct CallEnqueuedPayload {
        current_position: i64,
        queue: String,
        queue_avg_wait_time_secs: i64,
    }
}

call_payload! {
    /// `call.dequeued` (the spec's `CallLeftQueueEvent`).
    pub struct CallDequeuedPayload {
        queue: String,
        queue_position: i64,
        reason: QueueLeaveReason,
        wait_time_secs: i64,
    }
}

call_payload! {
    /// `call.fork.started`, `call.fork.stopped`.
    pub struct CallForkPayload {
        stream_type: ForkStreamType,
    }
}

call_payload! {
    /// `call.gather.ended`.
    pub struct CallGatherEndedPayload {
        digits: String,
        from: String,
        status: GatherStatus,
        to: String,
    }
}

call_payload! {
    /// `call.machine.detection.ended`.
    pub struct CallMachineDetectionEndedPayload {
        from: String,
        result: MachineDetectionResult,
        to: String,
    }
}

call_payload! {
    /// `call.machine.greeting.ended`.
    pub struct CallMachineGreetingEndedPayload {
        from: String,
        result: MachineGreetingResult,
        to: String,
    }
}

call_payload! {
    /// `call.machine.premium.detection.ended`.
    pub struct CallMachinePremiumDetectionEndedPayload {
        from: String,
        result: PremiumDetectionResult,
        to: String,
    }
}

call_payload! {
    /// `call.machine.premium.greeting.ended`.
    pub struct CallMachinePremiumGreetingEndedPayload {
        from: String,
        result: PremiumGreetingResult,
        to: String,
    }
}

call_payload! {
    /// `call.playback.started`.
    pub struct CallPlaybackStartedPayload {
        media_name: String,
        media_url: String,
        overlay: bool,
    }
}

call_payload! {
    /// `call.playback.ended`.
    pub struct CallPlaybackEndedPayload {
        media_name: String,
        media_url: String,
        overlay: bool,
        status: PlaybackStatus,
        status_detail: String,
    }
}

call_payload! {
    /// `call.recording.error`.
    pub struct CallRecordingErrorPayload {
        reason: RecordingErrorReason,
    }
}

call_payload! {
    /// `call.recording.saved`.
    pub struct CallRecordingSavedPayload {
        channels: RecordingChannels,
        public_recording_urls: RecordingUrls,
        recording_ended_at: String,
        recording_started_at: String,
        recording_urls: RecordingUrls,
    }
}

call_payload! {
    /// `call.recording.transcription.saved`.
    pub struct CallRecordingTranscriptionSavedPayload {
        calling_party_type: CallingPartyType,
        recording_id: String,
        recording_transcription_id: String,
        status: TranscriptionStatus,
        transcription_text: String,
    }
}

call_payload! {
    /// `call.refer.started`, `call.refer.completed`, `call.refer.failed`.
    pub struct CallReferPayload {
        from: String,
        sip_notify_response: i64,
        to: String,
    }
}

call_payload! {
    /// `siprec.failed`.
    pub struct CallSiprecFailedPayload {
        failure_cause: String,
    }
}

call_payload! {
    /// `siprec.stopped`.
    pub struct CallSiprecStoppedPayload {
        hangup_cause: String,
    }
}

call_payload! {
    /// `call.speak.ended`.
    pub struct CallSpeakEndedPayload {
        status: SpeakStatus,
    }
}

call_payload! {
    /// `streaming.started`, `streaming.stopped`.
    pub struct CallStreamingPayload {
        stream_url: String,
    }
}

call_payload! {
    /// `streaming.failed`.
    pub struct CallStreamingFailedPayload {
        failure_reason: String,
        stream_id: String,
        stream_params: StreamParams,
        stream_type: StreamingType,
    }
}
