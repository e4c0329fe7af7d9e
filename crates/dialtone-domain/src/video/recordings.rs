//! Room recordings: one per track (audio, video) of each participant of a recording room,
//! `processing` from the moment the participant leaves until the processing timer
//! completes it ([`PROCESSING_SECS`] later), then `completed` with its size and a
//! download URL that Dialtone serves (audio as Ogg Opus, video as MP4).

use super::DateFilter;
use crate::error::Result;
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "video_room_recording";
/// The job completing a recording (`{"recording_id"}`).
pub const COMPLETE_JOB: &str = "video.recording.complete";
/// How long a recording is `processing`.
pub const PROCESSING_SECS: i64 = 5;
pub const EVENT_COMPLETED: &str = "video.room.recording.completed";
pub const AUDIO_CODEC: &str = "opus";
pub const VIDEO_CODEC: &str = "h264";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub id: String,
    pub account_id: String,
    pub room_id: String,
    pub session_id: String,
    pub participant_id: String,
    /// `audio` or `video`.
    pub kind: String,
    pub codec: String,
    /// `processing` or `completed`.
    pub status: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub size_bytes: Option<u64>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub base_url: String,
}

impl Recording {
    /// A track that ended now: `processing`.
    #[allow(clippy::too_many_arguments)]
    pub fn finished(
        id: String,
        account_id: &str,
        room_id: &str,
        session_id: &str,
        participant_id: &str,
        kind: &str,
        started_at: DateTime<Utc>,
        now: DateTime<Utc>,
        base_url: &str,
    ) -> Recording {
        Recording {
            id,
            account_id: account_id.to_owned(),
            room_id: room_id.to_owned(),
            session_id: session_id.to_owned(),
            participant_id: participant_id.to_owned(),
            kind: kind.to_owned(),
            codec: if kind == "audio" { AUDIO_CODEC } else { VIDEO_CODEC }.to_owned(),
            status: "processing".into(),
            started_at,
            ended_at: now,
            duration_ms: (now - started_at).num_milliseconds().max(0) as u64,
            size_bytes: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// The file's extension: audio is Ogg Opus, video MP4.
    pub fn extension(&self) -> &'static str {
        if self.kind == "audio" { "ogg" } else { "mp4" }
    }

    pub fn download_url(&self) -> String {
        format!("{}/_dialtone/video/recordings/{}.{}", self.base_url, self.id, self.extension())
    }

    pub fn duration_secs(&self) -> i64 {
        (self.duration_ms as i64 + 500) / 1000
    }

    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }

    /// Processing done: `completed` with the size of its file. Answers the event payload,
    /// or `None` when it was completed already.
    pub fn complete(&mut self, size_bytes: u64, now: DateTime<Utc>) -> Option<Value> {
        if self.is_completed() {
            return None;
        }
        self.status = "completed".into();
        self.size_bytes = Some(size_bytes);
        self.completed_at = Some(now);
        self.updated_at = now;
        Some(json!({
            "session_id": self.session_id,
            "room_id": self.room_id,
            "participant_id": self.participant_id,
            "recording_id": self.id,
            "type": self.kind,
            "size_mb": self.size_mb(),
            "download_url": self.download_url(),
            "codec": self.codec,
            "duration_secs": self.duration_secs(),
        }))
    }

    fn size_mb(&self) -> f64 {
        self.size_bytes.map_or(0.0, |b| (b as f64 / 1_048_576.0 * 1000.0).round() / 1000.0)
    }

    /// The spec's `RoomRecording`. Size, URL and completion time once completed.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "record_type": "room_recording",
            "id": self.id,
            "room_id": self.room_id,
            "session_id": self.session_id,
            "participant_id": self.participant_id,
            "type": self.kind,
            "codec": self.codec,
            "status": self.status,
            "duration_secs": self.duration_secs(),
            "started_at": fmt_time(self.started_at),
            "ended_at": fmt_time(self.ended_at),
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if self.is_completed() {
            v["size_mb"] = json!(self.size_mb());
            v["download_url"] = json!(self.download_url());
        }
        if let Some(t) = self.completed_at {
            v["completed_at"] = json!(fmt_time(t));
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Recording> {
        <Self as Deserialize>::deserialize(v).ok()
    }
}

/// `GET` and bulk `DELETE /room_recordings` filters.
#[derive(Clone, Debug, Default)]
pub struct RecordingFilter {
    started: DateFilter,
    ended: DateFilter,
    duration_secs: Option<i64>,
    participant_id: Option<String>,
    room_id: Option<String>,
    session_id: Option<String>,
    status: Option<String>,
    kind: Option<String>,
}

impl RecordingFilter {
    pub fn parse(q: &Query) -> Result<RecordingFilter> {
        let s = |name: &str| q.str(name).map(str::to_owned);
        Ok(RecordingFilter {
            started: DateFilter::parse(q, "date_started_at")?,
            ended: DateFilter::parse(q, "date_ended_at")?,
            duration_secs: q.int("filter[duration_secs]", 0, i64::MAX)?,
            participant_id: s("filter[participant_id]"),
            room_id: s("filter[room_id]"),
            session_id: s("filter[session_id]"),
            status: q.one_of("filter[status]", &["completed", "processing"])?.map(str::to_owned),
            kind: q.one_of("filter[type]", &["audio", "video"])?.map(str::to_owned),
        })
    }

    pub fn matches(&self, r: &Recording) -> bool {
        let eq = |f: &Option<String>, v: &str| f.as_deref().is_none_or(|f| f == v);
        self.started.matches(Some(r.started_at))
            && self.ended.matches(Some(r.ended_at))
            && self.duration_secs.is_none_or(|d| r.duration_secs() == d)
            && eq(&self.participant_id, &r.participant_id)
            && eq(&self.room_id, &r.room_id)
            && eq(&self.session_id, &r.session_id)
            && eq(&self.status, &r.status)
            && eq(&self.kind, &r.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completes_once_with_size_and_url() {
        let t = crate::query::parse_time("2024-05-01T10:00:00Z").unwrap();
        let mut r = Recording::finished(
            "x".into(),
            "a",
            "r",
            "s",
            "p",
            "audio",
            t,
            t + chrono::Duration::seconds(3),
            "http://h/",
        );
        assert_eq!(r.to_json()["status"], "processing");
        assert!(r.to_json().get("download_url").is_none());
        let ev = r.complete(2_097_152, t).unwrap();
        assert_eq!(ev["size_mb"], 2.0);
        assert_eq!(ev["download_url"], "http://h/_dialtone/video/recordings/x.ogg");
        assert_eq!(ev["duration_secs"], 3);
        assert!(r.complete(1, t).is_none());
        let q = Query::parse(Some("filter[type]=video"));
        assert!(!RecordingFilter::parse(&q).unwrap().matches(&r));
        assert!(RecordingFilter::parse(&Query::parse(Some("filter[status]=done"))).is_err());
    }
}
