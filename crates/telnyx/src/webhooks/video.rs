//! The payloads of video room events. The spec subset documents none: these follow the
//! events Telnyx names and the fields Dialtone sends (docs/compatibility.md, Video); any
//! other field is kept in `extra`.

use crate::model::model;

model! {
    /// `video.room.session.started`.
    pub struct RoomSessionStartedPayload {
        room_id: String,
        session_id: String,
    }
}

model! {
    /// `video.room.session.ended`.
    pub struct RoomSessionEndedPayload {
        room_id: String,
        session_id: String,
        duration_secs: i64,
        /// Why it ended (Dialtone sends `empty` or `ended`).
        ended_reason: String,
    }
}

model! {
    /// `video.room.participant.joined`.
    pub struct RoomParticipantJoinedPayload {
        room_id: String,
        session_id: String,
        participant_id: String,
        /// What the participant's join token carried.
        context: String,
    }
}

model! {
    /// `video.room.participant.left`.
    pub struct RoomParticipantLeftPayload {
        room_id: String,
        session_id: String,
        participant_id: String,
        context: String,
        duration_secs: i64,
        /// Why it left (Dialtone sends `left` or `kicked`).
        left_reason: String,
    }
}

model! {
    /// `video.room.recording.started`.
    pub struct RoomRecordingStartedPayload {
        room_id: String,
        session_id: String,
        participant_id: String,
        recording_id: String,
        /// `audio` or `video`.
        #[serde(rename = "type")]
        kind: String,
    }
}

model! {
    /// `video.room.recording.completed`.
    pub struct RoomRecordingCompletedPayload {
        room_id: String,
        session_id: String,
        participant_id: String,
        recording_id: String,
        /// `audio` or `video`.
        #[serde(rename = "type")]
        kind: String,
        codec: String,
        duration_secs: i64,
        size_mb: f64,
        download_url: String,
    }
}

model! {
    /// `video.room.composition.completed`.
    pub struct RoomCompositionCompletedPayload {
        composition_id: String,
        room_id: String,
        session_id: String,
        format: String,
        resolution: String,
        duration_secs: i64,
        size_mb: f64,
        download_url: String,
        status: String,
    }
}
