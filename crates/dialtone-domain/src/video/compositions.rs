//! Room compositions: one MP4 of a finished session. Accepted `enqueued`; the scheduler
//! moves it to `processing` after [`ENQUEUED_SECS`] and to `completed` after
//! [`PROCESSING_SECS`] more, when `video.room.composition.completed` is sent and its
//! download URL serves the file (a test pattern of the session's length in the requested
//! resolution): each participant's video track a tile of one colour, placed by the
//! composition's `video_layout` (see [`super::layout`]) while the participant is in the
//! session, on black.

use super::layout::{self, Layout, Source};
use super::sessions::Session;
use super::{DateFilter, WebhookFields};
use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::media::mp4::{BLACK, Frame};
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "video_room_composition";
/// The job moving a composition one step on (`{"composition_id"}`).
pub const STEP_JOB: &str = "video.composition.step";
pub const ENQUEUED_SECS: i64 = 1;
pub const PROCESSING_SECS: i64 = 3;
pub const EVENT_COMPLETED: &str = "video.room.composition.completed";
pub const DEFAULT_RESOLUTION: &str = "1280x720";
/// The spec allows at most this many pixels (1280 × 720), each side within 16..=1280.
const MAX_PIXELS: u32 = 1280 * 720;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Composition {
    pub id: String,
    pub account_id: String,
    pub room_id: String,
    pub session_id: String,
    /// `enqueued`, `processing` or `completed`.
    pub status: String,
    pub format: String,
    pub width: u32,
    pub height: u32,
    /// As given (the API echoes it).
    pub video_layout: Value,
    /// As read: what the file shows.
    #[serde(default)]
    pub layout: Layout,
    /// The session's video tracks, in the order participants joined. `None` in a
    /// composition stored before layouts were applied: its file stays the test pattern it
    /// was made as (and its recorded `size_bytes` stays true).
    #[serde(default)]
    pub sources: Option<Vec<Source>>,
    pub webhooks: WebhookFields,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub size_bytes: Option<u64>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub base_url: String,
}

/// `"WxH"`, each side 16..=1280 and at most 1280 × 720 pixels.
pub fn parse_resolution(s: &str) -> Result<(u32, u32)> {
    let bad = || {
        ApiError::invalid(
            "resolution",
            "'resolution' is WIDTHxHEIGHT, each even and between 16 and 1280, at most 1280 * 720 pixels.",
        )
    };
    let (w, h) = s.split_once('x').ok_or_else(bad)?;
    let (w, h): (u32, u32) = (w.parse().map_err(|_| bad())?, h.parse().map_err(|_| bad())?);
    if !(16..=1280).contains(&w) || !(16..=1280).contains(&h) || w * h > MAX_PIXELS || w % 2 == 1 || h % 2 == 1 {
        return Err(bad());
    }
    Ok((w, h))
}

impl Composition {
    /// `POST /room_compositions` for `session`, which must have ended.
    pub fn create(
        body: &Body,
        session: &Session,
        id: String,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Composition> {
        let Some(ended_at) = session.ended_at.filter(|_| !session.active) else {
            return Err(ApiError::new(Code::RoomSessionState)
                .detail("A composition needs a session that has ended.")
                .pointer("/session_id"));
        };
        let format = body.opt_str("format")?.unwrap_or("mp4");
        if format != "mp4" {
            return Err(ApiError::not_one_of("format", &["mp4"]));
        }
        let (width, height) = parse_resolution(body.opt_str("resolution")?.unwrap_or(DEFAULT_RESOLUTION))?;
        let sources = video_sources(session, ended_at);
        let layout = Layout::parse(body.raw("video_layout"), &sources)?;
        let video_layout = body.raw("video_layout").cloned().unwrap_or_else(|| json!({}));
        let mut webhooks = WebhookFields::default();
        webhooks.apply(body)?;
        Ok(Composition {
            id,
            account_id: session.account_id.clone(),
            room_id: session.room_id.clone(),
            session_id: session.id.clone(),
            status: "enqueued".into(),
            format: format.to_owned(),
            width,
            height,
            video_layout,
            layout,
            sources: Some(sources),
            webhooks,
            started_at: session.created_at,
            ended_at,
            duration_ms: session.duration_ms(ended_at),
            size_bytes: None,
            completed_at: None,
            created_at: now,
            updated_at: now,
            base_url: base_url.trim_end_matches('/').to_owned(),
        })
    }

    /// The pictures of the file, each from its start in milliseconds: the tiles of the
    /// layout at that moment, each source in its own colour, over black.
    pub fn pictures(&self) -> impl Iterator<Item = (u64, Frame)> + '_ {
        let sources = self.sources.as_deref().unwrap_or_default();
        layout::scenes(&self.layout, sources, self.duration_ms, self.width, self.height).into_iter().map(|scene| {
            let mut f = Frame::new(self.width, self.height, BLACK);
            for t in &scene.tiles {
                f.fill(t.x, t.y, t.width, t.height, source_colour(t.source));
            }
            (scene.start_ms, f)
        })
    }

    /// The MP4 file.
    pub fn file(&self) -> Vec<u8> {
        if self.sources.is_none() {
            return crate::media::mp4::test_pattern(self.width, self.height, self.duration_ms.max(1))
                .unwrap_or_default();
        }
        crate::media::mp4::slideshow(self.width, self.height, self.duration_ms.max(1), self.pictures())
            .unwrap_or_default()
    }

    pub fn download_url(&self) -> String {
        format!("{}/_dialtone/video/compositions/{}.mp4", self.base_url, self.id)
    }

    pub fn duration_secs(&self) -> i64 {
        (self.duration_ms as i64 + 500) / 1000
    }

    /// One step on: `enqueued` → `processing` (answers `Step::Again`), `processing` →
    /// `completed` with the file's size (answers the event payload).
    pub fn step(&mut self, size_bytes: impl FnOnce(&Composition) -> u64, now: DateTime<Utc>) -> Step {
        match self.status.as_str() {
            "enqueued" => {
                self.status = "processing".into();
                self.updated_at = now;
                Step::Again(now + chrono::Duration::seconds(PROCESSING_SECS))
            }
            "processing" => {
                self.size_bytes = Some(size_bytes(self));
                self.status = "completed".into();
                self.completed_at = Some(now);
                self.updated_at = now;
                let mut payload = json!({
                    "composition_id": self.id,
                    "room_id": self.room_id,
                    "session_id": self.session_id,
                    "format": self.format,
                    "resolution": self.resolution(),
                    "duration_secs": self.duration_secs(),
                    "size_mb": self.size_mb(),
                    "download_url": self.download_url(),
                });
                payload["status"] = json!("completed");
                Step::Completed(payload)
            }
            _ => Step::Done,
        }
    }

    pub fn resolution(&self) -> String {
        format!("{}x{}", self.width, self.height)
    }

    fn size_mb(&self) -> f64 {
        self.size_bytes.map_or(0.0, |b| (b as f64 / 1_048_576.0 * 1000.0).round() / 1000.0)
    }

    pub fn is_completed(&self) -> bool {
        self.status == "completed"
    }

    /// The spec's `RoomComposition`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "record_type": "composition",
            "id": self.id,
            "room_id": self.room_id,
            "session_id": self.session_id,
            "user_id": self.account_id,
            "status": self.status,
            "format": self.format,
            "resolution": self.resolution(),
            "video_layout": self.video_layout,
            "duration_secs": self.duration_secs(),
            "started_at": fmt_time(self.started_at),
            "ended_at": fmt_time(self.ended_at),
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        self.webhooks.write(&mut v);
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

    pub fn from_value(v: &Value) -> Option<Composition> {
        <Self as Deserialize>::deserialize(v).ok()
    }
}

/// The colour of the `i`th video source: the 75 % colour bars but black, in turn.
pub fn source_colour(i: usize) -> (u8, u8, u8) {
    crate::media::mp4::bar((i % 7) as u32)
}

/// The session's video tracks (one per participant of a recording room), in milliseconds
/// from its start to `ended_at`.
fn video_sources(session: &Session, ended_at: DateTime<Utc>) -> Vec<Source> {
    let ms = |t: DateTime<Utc>| (t - session.created_at).num_milliseconds().max(0) as u64;
    session
        .participants
        .iter()
        .flat_map(|p| {
            p.recordings.iter().filter(|(kind, _)| kind == "video").map(move |(_, id)| Source {
                id: id.clone(),
                start_ms: ms(p.joined_at),
                end_ms: ms(p.left_at.unwrap_or(ended_at)),
            })
        })
        .collect()
}

#[derive(Debug, PartialEq)]
pub enum Step {
    /// Step again at this time.
    Again(DateTime<Utc>),
    /// Completed now: send this payload.
    Completed(Value),
    /// Nothing left to do.
    Done,
}

/// `GET /room_compositions` filters.
#[derive(Clone, Debug, Default)]
pub struct CompositionFilter {
    created: DateFilter,
    session_id: Option<String>,
    status: Option<String>,
}

impl CompositionFilter {
    pub fn parse(q: &Query) -> Result<CompositionFilter> {
        Ok(CompositionFilter {
            created: DateFilter::parse(q, "date_created_at")?,
            session_id: q.str("filter[session_id]").map(str::to_owned),
            status: q.one_of("filter[status]", &["completed", "processing", "enqueued"])?.map(str::to_owned),
        })
    }

    pub fn matches(&self, c: &Composition) -> bool {
        self.created.matches(Some(c.created_at))
            && self.session_id.as_ref().is_none_or(|s| &c.session_id == s)
            && self.status.as_ref().is_none_or(|s| &c.status == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_an_ended_session_and_a_valid_resolution() {
        let t = crate::query::parse_time("2024-05-01T10:00:00Z").unwrap();
        let (mut s, _) = Session::start("s".into(), "r", "a", "http://h", t);
        let body = |v: Value| Body::from_value(v).unwrap();
        let e = Composition::create(&body(json!({})), &s, "c".into(), "http://h", t).unwrap_err();
        assert_eq!((e.code, e.pointer.as_deref()), (Code::RoomSessionState, Some("/session_id")));
        s.end(t + chrono::Duration::seconds(7)).unwrap();
        for bad in ["1280", "8x8", "1281x10", "1280x721", "axb", "641x360"] {
            let e = Composition::create(&body(json!({"resolution": bad})), &s, "c".into(), "h", t).unwrap_err();
            assert_eq!(e.pointer.as_deref(), Some("/resolution"), "{bad}");
        }
        assert!(Composition::create(&body(json!({"format": "webm"})), &s, "c".into(), "h", t).is_err());
        let mut c =
            Composition::create(&body(json!({"resolution": "640x360"})), &s, "c".into(), "http://h", t).unwrap();
        assert_eq!((c.width, c.height, c.duration_secs(), c.status.as_str()), (640, 360, 7, "enqueued"));
        assert!(matches!(c.step(|_| 10, t), Step::Again(_)));
        assert_eq!(c.status, "processing");
        let Step::Completed(p) = c.step(|c| c.duration_ms, t) else { panic!() };
        assert_eq!(p["download_url"], "http://h/_dialtone/video/compositions/c.mp4");
        assert_eq!(c.size_bytes, Some(7000));
        assert_eq!(c.step(|_| 1, t), Step::Done);
    }

    #[test]
    fn a_composition_stored_before_layouts_keeps_its_test_pattern() {
        let t = crate::query::parse_time("2024-05-01T10:00:00Z").unwrap();
        let (mut s, _) = Session::start("s".into(), "r", "a", "http://h", t);
        s.end(t + chrono::Duration::seconds(2)).unwrap();
        let body = Body::from_value(json!({"resolution": "320x180"})).unwrap();
        let c = Composition::create(&body, &s, "c".into(), "http://h", t).unwrap();
        let mut stored = c.to_value();
        stored.as_object_mut().unwrap().remove("sources");
        let old = Composition::from_value(&stored).unwrap();
        assert_eq!(old.sources, None);
        assert_eq!(old.file(), crate::media::mp4::test_pattern(320, 180, 2000).unwrap());
        // A new composition with no video track is black, not the test pattern.
        assert_eq!(c.sources, Some(vec![]));
        assert_ne!(c.file(), old.file());
    }

    #[test]
    fn the_picture_follows_the_layout_and_the_participants() {
        let t = crate::query::parse_time("2024-05-01T10:00:00Z").unwrap();
        let secs = |n: i64| t + chrono::Duration::seconds(n);
        let (mut s, _) = Session::start("s".into(), "r", "a", "http://h", t);
        s.join("pa".into(), "a".into(), 10, Some(("aa".into(), "va".into())), t).unwrap();
        s.join("pb".into(), "b".into(), 10, Some(("ab".into(), "vb".into())), secs(2)).unwrap();
        s.leave("pa", super::super::sessions::LEFT, secs(6)).unwrap();
        s.end(secs(8)).unwrap();
        let body = Body::from_value(json!({
            "resolution": "320x180",
            "video_layout": {
                "grid": {"video_sources": ["*"]},
                "inset": {"x_pos": 240, "y_pos": 120, "width": 64, "height": 48, "z_pos": 1, "video_sources": ["vb"]},
            },
        }))
        .unwrap();
        let c = Composition::create(&body, &s, "c".into(), "http://h", t).unwrap();
        let pics: Vec<(u64, Frame)> = c.pictures().collect();
        assert_eq!(pics.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 2_000, 6_000]);
        let (a, b) = (source_colour(0), source_colour(1));
        // 0-2 s: "a" alone fills the viewport.
        let f = &pics[0].1;
        assert_eq!((f.get(0, 0), f.get(319, 179), f.get(250, 130)), (a, a, a));
        // 2-6 s: two columns, "a" left and "b" right, "b" again in the inset on top.
        let f = &pics[1].1;
        assert_eq!((f.get(159, 90), f.get(160, 90), f.get(239, 179)), (a, b, b));
        assert_eq!((f.get(240, 120), f.get(303, 167), f.get(304, 168)), (b, b, b));
        assert_eq!(f.get(100, 150), a);
        // 6-8 s: "b" alone.
        let f = &pics[2].1;
        assert_eq!((f.get(0, 0), f.get(319, 0)), (b, b));
        // The file has a keyframe per picture.
        let file = c.file();
        assert_eq!(&file[4..8], b"ftyp");
        // A lone region of "b": black until "b" joins, then "b" in the region only.
        let region = json!({"x_pos": 10, "y_pos": 10, "width": 16, "height": 16, "video_sources": ["vb"]});
        let body = Body::from_value(json!({"resolution": "320x180", "video_layout": {"i": region}})).unwrap();
        let c = Composition::create(&body, &s, "c".into(), "http://h", t).unwrap();
        let pics: Vec<(u64, Frame)> = c.pictures().collect();
        assert_eq!(pics.iter().map(|p| p.0).collect::<Vec<_>>(), [0, 2_000]);
        assert_eq!((pics[0].1.get(12, 12), pics[1].1.get(12, 12), pics[1].1.get(9, 9)), (BLACK, b, BLACK));
        // A region naming a recording the session does not have is refused.
        let body = Body::from_value(json!({"video_layout": {"i": {"video_sources": ["aa"]}}})).unwrap();
        let e = Composition::create(&body, &s, "c".into(), "http://h", t).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/video_layout/i/video_sources/0"));
    }
}
