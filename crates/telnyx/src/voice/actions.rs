//! Every call command (`/calls/{call_control_id}/actions/...`), one typed request each,
//! written out from the spec's request schemas: required fields in `new`, the rest setters.

use super::{CallCommand, Calls};
use crate::error::Result;
use crate::model::request;
use serde_json::Value;

request! {
    /// `POST /calls/{call_control_id}/actions/ai_assistant_add_messages`: Add messages to AI Assistant.
    pub struct AiAssistantAddMessages {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            messages: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/ai_assistant_join`: Join AI Assistant Conversation.
    pub struct AiAssistantJoin {
        required { conversation_id: String, participant: Value }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/ai_assistant_start`: Start AI Assistant.
    pub struct AiAssistantStart {
        required {  }
        optional {
            assistant: Value,
            client_state: String,
            command_id: String,
            greeting: String,
            interruption_settings: Value,
            message_history: Value,
            participants: Value,
            send_message_history_updates: bool,
            transcription: Value,
            voice: Value,
            voice_settings: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/ai_assistant_stop`: Stop AI Assistant.
    pub struct AiAssistantStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/answer`: Answer call.
    pub struct Answer {
        required {  }
        optional {
            assistant: Value,
            billing_group_id: String,
            client_state: String,
            command_id: String,
            conversation_relay_config: Value,
            custom_headers: Value,
            deepfake_detection: Value,
            preferred_codecs: String,
            record: String,
            record_channels: String,
            record_custom_file_name: String,
            record_format: String,
            record_max_length: i64,
            record_timeout_secs: i64,
            record_track: String,
            record_trim: String,
            send_silence_when_idle: bool,
            sip_headers: Value,
            sound_modifications: Value,
            stream_bidirectional_codec: Value,
            stream_bidirectional_mode: Value,
            stream_bidirectional_target_legs: Value,
            stream_codec: Value,
            stream_track: String,
            stream_url: String,
            transcription: bool,
            transcription_config: Value,
            webhook_retries_policies: Value,
            webhook_url: String,
            webhook_url_method: String,
            webhook_urls: Value,
            webhook_urls_method: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/bridge`: Bridge calls.
    pub struct Bridge {
        required { call_control_id: String }
        optional {
            client_state: String,
            command_id: String,
            hold_after_unbridge: bool,
            mute_dtmf: String,
            park_after_unbridge: String,
            play_ringtone: bool,
            prevent_double_bridge: bool,
            queue: String,
            record: String,
            record_channels: String,
            record_custom_file_name: String,
            record_format: String,
            record_max_length: i64,
            record_timeout_secs: i64,
            record_track: String,
            record_trim: String,
            ringtone: String,
            video_room_context: String,
            video_room_id: String,
        }
    }
}

request! {
    /// `PUT /calls/{call_control_id}/actions/client_state_update`: Update client state.
    pub struct ClientStateUpdate {
        required { client_state: String }
        optional {
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/conversation_relay_start`: Start Conversation Relay.
    pub struct ConversationRelayStart {
        required {  }
        optional {
            assistant: Value,
            client_state: String,
            command_id: String,
            conversation_relay_dtmf_detection: bool,
            conversation_relay_settings: Value,
            conversation_relay_url: String,
            custom_parameters: Value,
            dtmf_detection: bool,
            greeting: String,
            interruptible: Value,
            interruptible_greeting: Value,
            interruption_settings: Value,
            language: String,
            languages: Value,
            provider: String,
            structured_provider: Value,
            transcription: Value,
            transcription_engine: String,
            transcription_engine_config: Value,
            tts_provider: String,
            url: String,
            voice: Value,
            voice_settings: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/conversation_relay_stop`: Stop Conversation Relay.
    pub struct ConversationRelayStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/enqueue`: Enqueue call.
    pub struct Enqueue {
        required { queue_name: String }
        optional {
            client_state: String,
            command_id: String,
            keep_after_hangup: bool,
            max_size: i64,
            max_wait_time_secs: i64,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/fork_start`: Forking start.
    pub struct ForkStart {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            rx: String,
            stream_type: String,
            tx: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/fork_stop`: Forking stop.
    pub struct ForkStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            stream_type: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/gather`: Gather.
    pub struct Gather {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            gather_id: String,
            initial_timeout_millis: i64,
            inter_digit_timeout_millis: i64,
            maximum_digits: i64,
            minimum_digits: i64,
            terminating_digit: String,
            timeout_millis: i64,
            valid_digits: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/gather_stop`: Gather stop.
    pub struct GatherStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/gather_using_ai`: Gather using AI.
    pub struct GatherUsingAi {
        required { parameters: Value }
        optional {
            assistant: Value,
            client_state: String,
            command_id: String,
            gather_ended_speech: String,
            greeting: String,
            interruption_settings: Value,
            language: Value,
            message_history: Value,
            send_message_history_updates: bool,
            send_partial_results: bool,
            transcription: Value,
            user_response_timeout_ms: i64,
            voice: Value,
            voice_settings: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/gather_using_audio`: Gather using audio.
    pub struct GatherUsingAudio {
        required {  }
        optional {
            audio_url: String,
            client_state: String,
            command_id: String,
            inter_digit_timeout_millis: i64,
            invalid_audio_url: String,
            invalid_media_name: String,
            maximum_digits: i64,
            maximum_tries: i64,
            media_name: String,
            minimum_digits: i64,
            terminating_digit: String,
            timeout_millis: i64,
            valid_digits: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/gather_using_speak`: Gather using speak.
    pub struct GatherUsingSpeak {
        required { voice: String, payload: String }
        optional {
            client_state: String,
            command_id: String,
            inter_digit_timeout_millis: i64,
            invalid_payload: String,
            language: String,
            maximum_digits: i64,
            maximum_tries: i64,
            minimum_digits: i64,
            payload_type: String,
            service_level: String,
            terminating_digit: String,
            timeout_millis: i64,
            valid_digits: String,
            voice_settings: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/hangup`: Hangup call.
    pub struct Hangup {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            custom_headers: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/leave_queue`: Remove call from a queue.
    pub struct LeaveQueue {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/playback_start`: Play audio URL.
    pub struct PlaybackStart {
        required {  }
        optional {
            audio_type: String,
            audio_url: String,
            cache_audio: bool,
            client_state: String,
            command_id: String,
            r#loop: Value,
            media_name: String,
            overlay: bool,
            playback_content: String,
            stop: String,
            target_legs: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/playback_stop`: Stop audio playback.
    pub struct PlaybackStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            overlay: bool,
            stop: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/record_pause`: Record pause.
    pub struct RecordPause {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            recording_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/record_resume`: Record resume.
    pub struct RecordResume {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            recording_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/record_start`: Recording start.
    pub struct RecordStart {
        required { format: String, channels: String }
        optional {
            client_state: String,
            command_id: String,
            custom_file_name: String,
            max_length: i64,
            play_beep: bool,
            recording_track: String,
            timeout_secs: i64,
            transcription: bool,
            transcription_engine: String,
            transcription_language: Value,
            transcription_max_speaker_count: i64,
            transcription_min_speaker_count: i64,
            transcription_profanity_filter: bool,
            transcription_speaker_diarization: bool,
            trim: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/record_stop`: Recording stop.
    pub struct RecordStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            recording_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/refer`: SIP Refer a call.
    pub struct Refer {
        required { sip_address: String }
        optional {
            client_state: String,
            command_id: String,
            custom_headers: Value,
            sip_auth_password: String,
            sip_auth_username: String,
            sip_headers: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/reject`: Reject a call.
    pub struct Reject {
        required { cause: String }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/send_dtmf`: Send DTMF.
    pub struct SendDtmf {
        required { digits: String }
        optional {
            client_state: String,
            command_id: String,
            duration_millis: i64,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/send_sip_info`: Send SIP info.
    pub struct SendSipInfo {
        required { content_type: String, body: String }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/siprec_start`: SIPREC start.
    pub struct SiprecStart {
        required {  }
        optional {
            client_state: String,
            connector_name: String,
            include_metadata_custom_headers: bool,
            secure: bool,
            session_timeout_secs: i64,
            sip_transport: String,
            siprec_track: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/siprec_stop`: SIPREC stop.
    pub struct SiprecStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/speak`: Speak text.
    pub struct Speak {
        required { payload: String, voice: String }
        optional {
            client_state: String,
            command_id: String,
            language: String,
            r#loop: Value,
            payload_type: String,
            service_level: String,
            stop: String,
            target_legs: String,
            voice_settings: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/streaming_start`: Streaming start.
    pub struct StreamingStart {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            custom_parameters: Value,
            dialogflow_config: Value,
            enable_dialogflow: bool,
            stream_auth_token: String,
            stream_bidirectional_codec: Value,
            stream_bidirectional_mode: Value,
            stream_bidirectional_sampling_rate: Value,
            stream_bidirectional_target_legs: Value,
            stream_codec: Value,
            stream_track: String,
            stream_url: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/streaming_stop`: Streaming stop.
    pub struct StreamingStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            stream_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/suppression_start`: Noise Suppression Start (BETA).
    pub struct SuppressionStart {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            direction: Value,
            noise_suppression_engine: Value,
            noise_suppression_engine_config: Value,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/suppression_stop`: Noise Suppression Stop (BETA).
    pub struct SuppressionStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/switch_supervisor_role`: Switch supervisor role.
    pub struct SwitchSupervisorRole {
        required { role: String }
        optional {
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/transcription_start`: Transcription start.
    pub struct TranscriptionStart {
        required {  }
        optional {
            client_state: String,
            command_id: String,
            transcription_engine: String,
            transcription_engine_config: Value,
            transcription_tracks: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/transcription_stop`: Transcription stop.
    pub struct TranscriptionStop {
        required {  }
        optional {
            client_state: String,
            command_id: String,
        }
    }
}

request! {
    /// `POST /calls/{call_control_id}/actions/transfer`: Transfer call.
    pub struct Transfer {
        required { to: String }
        optional {
            answering_machine_detection: String,
            answering_machine_detection_config: Value,
            audio_url: String,
            client_state: String,
            command_id: String,
            custom_headers: Value,
            early_media: bool,
            from: String,
            from_display_name: String,
            media_encryption: String,
            media_name: String,
            mute_dtmf: String,
            park_after_unbridge: String,
            preferred_codecs: String,
            privacy: String,
            record: String,
            record_channels: String,
            record_custom_file_name: String,
            record_format: String,
            record_max_length: i64,
            record_timeout_secs: i64,
            record_track: String,
            record_trim: String,
            send_digits_on_answer: String,
            sip_auth_password: String,
            sip_auth_username: String,
            sip_headers: Value,
            sip_region: String,
            sip_transport_protocol: String,
            sound_modifications: Value,
            target_leg_client_state: String,
            time_limit_secs: i64,
            timeout_secs: i64,
            webhook_retries_policies: Value,
            webhook_url: String,
            webhook_url_method: String,
            webhook_urls: Value,
            webhook_urls_method: String,
        }
    }
}

impl Calls<'_> {
    /// Add messages to AI Assistant.
    pub async fn ai_assistant_add_messages(
        &self,
        call_control_id: &str,
        req: AiAssistantAddMessages,
    ) -> Result<CallCommand> {
        self.command(call_control_id, "ai_assistant_add_messages", reqwest::Method::POST, &req, true).await
    }
    /// Join AI Assistant Conversation.
    pub async fn ai_assistant_join(&self, call_control_id: &str, req: AiAssistantJoin) -> Result<CallCommand> {
        self.command(call_control_id, "ai_assistant_join", reqwest::Method::POST, &req, true).await
    }
    /// Start AI Assistant.
    pub async fn ai_assistant_start(&self, call_control_id: &str, req: AiAssistantStart) -> Result<CallCommand> {
        self.command(call_control_id, "ai_assistant_start", reqwest::Method::POST, &req, true).await
    }
    /// Stop AI Assistant.
    pub async fn ai_assistant_stop(&self, call_control_id: &str, req: AiAssistantStop) -> Result<CallCommand> {
        self.command(call_control_id, "ai_assistant_stop", reqwest::Method::POST, &req, true).await
    }
    /// Answer call.
    pub async fn answer(&self, call_control_id: &str, req: Answer) -> Result<CallCommand> {
        self.command(call_control_id, "answer", reqwest::Method::POST, &req, true).await
    }
    /// Bridge calls.
    pub async fn bridge(&self, call_control_id: &str, req: Bridge) -> Result<CallCommand> {
        self.command(call_control_id, "bridge", reqwest::Method::POST, &req, true).await
    }
    /// Update client state.
    pub async fn client_state_update(&self, call_control_id: &str, req: ClientStateUpdate) -> Result<CallCommand> {
        self.command(call_control_id, "client_state_update", reqwest::Method::PUT, &req, false).await
    }
    /// Start Conversation Relay.
    pub async fn conversation_relay_start(
        &self,
        call_control_id: &str,
        req: ConversationRelayStart,
    ) -> Result<CallCommand> {
        self.command(call_control_id, "conversation_relay_start", reqwest::Method::POST, &req, true).await
    }
    /// Stop Conversation Relay.
    pub async fn conversation_relay_stop(
        &self,
        call_control_id: &str,
        req: ConversationRelayStop,
    ) -> Result<CallCommand> {
        self.command(call_control_id, "conversation_relay_stop", reqwest::Method::POST, &req, true).await
    }
    /// Enqueue call.
    pub async fn enqueue(&self, call_control_id: &str, req: Enqueue) -> Result<CallCommand> {
        self.command(call_control_id, "enqueue", reqwest::Method::POST, &req, true).await
    }
    /// Forking start.
    pub async fn fork_start(&self, call_control_id: &str, req: ForkStart) -> Result<CallCommand> {
        self.command(call_control_id, "fork_start", reqwest::Method::POST, &req, true).await
    }
    /// Forking stop.
    pub async fn fork_stop(&self, call_control_id: &str, req: ForkStop) -> Result<CallCommand> {
        self.command(call_control_id, "fork_stop", reqwest::Method::POST, &req, true).await
    }
    /// Gather.
    pub async fn gather(&self, call_control_id: &str, req: Gather) -> Result<CallCommand> {
        self.command(call_control_id, "gather", reqwest::Method::POST, &req, true).await
    }
    /// Gather stop.
    pub async fn gather_stop(&self, call_control_id: &str, req: GatherStop) -> Result<CallCommand> {
        self.command(call_control_id, "gather_stop", reqwest::Method::POST, &req, true).await
    }
    /// Gather using AI.
    pub async fn gather_using_ai(&self, call_control_id: &str, req: GatherUsingAi) -> Result<CallCommand> {
        self.command(call_control_id, "gather_using_ai", reqwest::Method::POST, &req, true).await
    }
    /// Gather using audio.
    pub async fn gather_using_audio(&self, call_control_id: &str, req: GatherUsingAudio) -> Result<CallCommand> {
        self.command(call_control_id, "gather_using_audio", reqwest::Method::POST, &req, true).await
    }
    /// Gather using speak.
    pub async fn gather_using_speak(&self, call_control_id: &str, req: GatherUsingSpeak) -> Result<CallCommand> {
        self.command(call_control_id, "gather_using_speak", reqwest::Method::POST, &req, true).await
    }
    /// Hangup call.
    pub async fn hangup(&self, call_control_id: &str, req: Hangup) -> Result<CallCommand> {
        self.command(call_control_id, "hangup", reqwest::Method::POST, &req, true).await
    }
    /// Remove call from a queue.
    pub async fn leave_queue(&self, call_control_id: &str, req: LeaveQueue) -> Result<CallCommand> {
        self.command(call_control_id, "leave_queue", reqwest::Method::POST, &req, true).await
    }
    /// Play audio URL.
    pub async fn playback_start(&self, call_control_id: &str, req: PlaybackStart) -> Result<CallCommand> {
        self.command(call_control_id, "playback_start", reqwest::Method::POST, &req, true).await
    }
    /// Stop audio playback.
    pub async fn playback_stop(&self, call_control_id: &str, req: PlaybackStop) -> Result<CallCommand> {
        self.command(call_control_id, "playback_stop", reqwest::Method::POST, &req, true).await
    }
    /// Record pause.
    pub async fn record_pause(&self, call_control_id: &str, req: RecordPause) -> Result<CallCommand> {
        self.command(call_control_id, "record_pause", reqwest::Method::POST, &req, true).await
    }
    /// Record resume.
    pub async fn record_resume(&self, call_control_id: &str, req: RecordResume) -> Result<CallCommand> {
        self.command(call_control_id, "record_resume", reqwest::Method::POST, &req, true).await
    }
    /// Recording start.
    pub async fn record_start(&self, call_control_id: &str, req: RecordStart) -> Result<CallCommand> {
        self.command(call_control_id, "record_start", reqwest::Method::POST, &req, true).await
    }
    /// Recording stop.
    pub async fn record_stop(&self, call_control_id: &str, req: RecordStop) -> Result<CallCommand> {
        self.command(call_control_id, "record_stop", reqwest::Method::POST, &req, true).await
    }
    /// SIP Refer a call.
    pub async fn refer(&self, call_control_id: &str, req: Refer) -> Result<CallCommand> {
        self.command(call_control_id, "refer", reqwest::Method::POST, &req, true).await
    }
    /// Reject a call.
    pub async fn reject(&self, call_control_id: &str, req: Reject) -> Result<CallCommand> {
        self.command(call_control_id, "reject", reqwest::Method::POST, &req, true).await
    }
    /// Send DTMF.
    pub async fn send_dtmf(&self, call_control_id: &str, req: SendDtmf) -> Result<CallCommand> {
        self.command(call_control_id, "send_dtmf", reqwest::Method::POST, &req, true).await
    }
    /// Send SIP info.
    pub async fn send_sip_info(&self, call_control_id: &str, req: SendSipInfo) -> Result<CallCommand> {
        self.command(call_control_id, "send_sip_info", reqwest::Method::POST, &req, true).await
    }
    /// SIPREC start.
    pub async fn siprec_start(&self, call_control_id: &str, req: SiprecStart) -> Result<CallCommand> {
        self.command(call_control_id, "siprec_start", reqwest::Method::POST, &req, false).await
    }
    /// SIPREC stop.
    pub async fn siprec_stop(&self, call_control_id: &str, req: SiprecStop) -> Result<CallCommand> {
        self.command(call_control_id, "siprec_stop", reqwest::Method::POST, &req, true).await
    }
    /// Speak text.
    pub async fn speak(&self, call_control_id: &str, req: Speak) -> Result<CallCommand> {
        self.command(call_control_id, "speak", reqwest::Method::POST, &req, true).await
    }
    /// Streaming start.
    pub async fn streaming_start(&self, call_control_id: &str, req: StreamingStart) -> Result<CallCommand> {
        self.command(call_control_id, "streaming_start", reqwest::Method::POST, &req, true).await
    }
    /// Streaming stop.
    pub async fn streaming_stop(&self, call_control_id: &str, req: StreamingStop) -> Result<CallCommand> {
        self.command(call_control_id, "streaming_stop", reqwest::Method::POST, &req, true).await
    }
    /// Noise Suppression Start (BETA).
    pub async fn suppression_start(&self, call_control_id: &str, req: SuppressionStart) -> Result<CallCommand> {
        self.command(call_control_id, "suppression_start", reqwest::Method::POST, &req, true).await
    }
    /// Noise Suppression Stop (BETA).
    pub async fn suppression_stop(&self, call_control_id: &str, req: SuppressionStop) -> Result<CallCommand> {
        self.command(call_control_id, "suppression_stop", reqwest::Method::POST, &req, true).await
    }
    /// Switch supervisor role.
    pub async fn switch_supervisor_role(
        &self,
        call_control_id: &str,
        req: SwitchSupervisorRole,
    ) -> Result<CallCommand> {
        self.command(call_control_id, "switch_supervisor_role", reqwest::Method::POST, &req, false).await
    }
    /// Transcription start.
    pub async fn transcription_start(&self, call_control_id: &str, req: TranscriptionStart) -> Result<CallCommand> {
        self.command(call_control_id, "transcription_start", reqwest::Method::POST, &req, true).await
    }
    /// Transcription stop.
    pub async fn transcription_stop(&self, call_control_id: &str, req: TranscriptionStop) -> Result<CallCommand> {
        self.command(call_control_id, "transcription_stop", reqwest::Method::POST, &req, true).await
    }
    /// Transfer call.
    pub async fn transfer(&self, call_control_id: &str, req: Transfer) -> Result<CallCommand> {
        self.command(call_control_id, "transfer", reqwest::Method::POST, &req, true).await
    }
}
