//! Room sessions and their participants: the session's state machine.
//!
//! The first participant to join a room starts a session (the room's `active_session_id`);
//! participants join (up to the room's `max_participants` present at once), leave, are
//! kicked, muted and unmuted. When the last one leaves, the session ends after
//! [`GRACE_SECS`] unless someone joins again first (a timer on the scheduler). Ending the
//! session through the API kicks everyone and ends it at once. Every transition answers
//! the events to send, the recordings it finished and the timer to set.

use super::DateFilter;
use super::recordings::Recording;
use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "video_room_session";
/// A participant's session (`{"session_id"}`, the session as parent), written with the
/// join, so `GET /room_participants/{id}` reads two documents by id.
pub const PARTICIPANT_KIND: &str = "video_room_participant";
/// The job ending a session its last participant left (`{"session_id", "due"}`).
pub const END_JOB: &str = "video.session.end";
/// How long an empty session waits for someone to join again before it ends.
pub const GRACE_SECS: i64 = 30;

pub const EVENT_SESSION_STARTED: &str = "video.room.session.started";
pub const EVENT_SESSION_ENDED: &str = "video.room.session.ended";
pub const EVENT_JOINED: &str = "video.room.participant.joined";
pub const EVENT_LEFT: &str = "video.room.participant.left";
pub const EVENT_RECORDING_STARTED: &str = "video.room.recording.started";

/// Why a participant left (`left_reason`).
pub const LEFT: &str = "left";
pub const KICKED: &str = "kicked";
/// Why a session ended (`ended_reason`).
pub const ENDED_EMPTY: &str = "empty";
pub const ENDED_BY_API: &str = "ended";
pub const ENDED_ROOM_DELETED: &str = "room_deleted";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Participant {
    pub id: String,
    pub session_id: String,
    pub context: String,
    pub joined_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    pub muted: bool,
    pub left_reason: Option<String>,
    /// `(type, recording id)` of its tracks when the room records.
    pub recordings: Vec<(String, String)>,
}

impl Participant {
    pub fn is_present(&self) -> bool {
        self.left_at.is_none()
    }

    /// The spec's `RoomParticipant`.
    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "record_type": "room_participant",
            "id": self.id,
            "session_id": self.session_id,
            "context": self.context,
            "joined_at": fmt_time(self.joined_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if let Some(t) = self.left_at {
            v["left_at"] = json!(fmt_time(t));
        }
        v
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: String,
    pub room_id: String,
    pub account_id: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_reason: Option<String>,
    pub participants: Vec<Participant>,
    /// When the empty session ends, if nobody joins before.
    pub end_due: Option<DateTime<Utc>>,
    /// Where the server was reached when the session started (recording URLs start here).
    pub base_url: String,
}

/// What a transition asks the engine to do.
#[derive(Debug, Default)]
pub struct Outcome {
    /// `(event type, payload)`, in order.
    pub events: Vec<(String, Value)>,
    /// Recordings finished by participants leaving (status `processing`).
    pub recordings: Vec<Recording>,
    /// A timer ending the empty session at this time.
    pub end_timer: Option<DateTime<Utc>>,
    /// The session ended: the room has no active session any more.
    pub ended: bool,
}

impl Outcome {
    fn event(&mut self, t: &str, payload: Value) {
        self.events.push((t.to_owned(), payload));
    }
}

/// Which participants an action applies to: `participants` (`"all"` or ids) minus `exclude`.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    all: bool,
    ids: Vec<String>,
    exclude: Vec<String>,
}

impl Selection {
    pub fn parse(body: &Body) -> Result<Selection> {
        let (all, ids) = match body.raw("participants") {
            None => return Err(ApiError::missing("participants")),
            Some(Value::String(s)) if s == "all" => (true, Vec::new()),
            Some(Value::Array(_)) => (false, body.opt_str_array("participants")?.unwrap_or_default()),
            Some(_) => {
                return Err(ApiError::invalid(
                    "participants",
                    "'participants' is \"all\" or a list of participant ids.",
                ));
            }
        };
        let exclude = body.opt_str_array("exclude")?.unwrap_or_default();
        Ok(Selection { all, ids, exclude })
    }

    /// Everyone.
    pub fn all() -> Selection {
        Selection { all: true, ids: Vec::new(), exclude: Vec::new() }
    }

    fn picks(&self, id: &str) -> bool {
        (self.all || self.ids.iter().any(|i| i == id)) && !self.exclude.iter().any(|e| e == id)
    }
}

fn secs(from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
    ((to - from).num_milliseconds().max(0) + 500) / 1000
}

impl Session {
    /// A new session of `room_id`, started now (`video.room.session.started`).
    pub fn start(
        id: String,
        room_id: &str,
        account_id: &str,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> (Session, Outcome) {
        let s = Session {
            id,
            room_id: room_id.to_owned(),
            account_id: account_id.to_owned(),
            active: true,
            created_at: now,
            updated_at: now,
            ended_at: None,
            ended_reason: None,
            participants: Vec::new(),
            end_due: None,
            base_url: base_url.to_owned(),
        };
        let mut out = Outcome::default();
        out.event(EVENT_SESSION_STARTED, json!({"session_id": s.id, "room_id": s.room_id}));
        (s, out)
    }

    pub fn present(&self) -> impl Iterator<Item = &Participant> {
        self.participants.iter().filter(|p| p.is_present())
    }

    pub fn participant(&self, id: &str) -> Option<&Participant> {
        self.participants.iter().find(|p| p.id == id)
    }

    fn check_active(&self) -> Result<()> {
        if self.active {
            Ok(())
        } else {
            Err(ApiError::new(Code::RoomSessionState).detail("The room session has ended."))
        }
    }

    /// A participant joins with its `context`; `recording_ids` (audio, video) when the room
    /// records. Refused when `max_participants` are present already.
    pub fn join(
        &mut self,
        participant_id: String,
        context: String,
        max_participants: i64,
        recording_ids: Option<(String, String)>,
        now: DateTime<Utc>,
    ) -> Result<Outcome> {
        self.check_active()?;
        if self.present().count() as i64 >= max_participants {
            return Err(ApiError::new(Code::RoomFull)
                .detail(format!("The room allows {max_participants} participants at once.")));
        }
        let mut out = Outcome::default();
        let recordings = match recording_ids {
            Some((audio, video)) => vec![("audio".to_owned(), audio), ("video".to_owned(), video)],
            None => Vec::new(),
        };
        out.event(
            EVENT_JOINED,
            json!({"session_id": self.id, "room_id": self.room_id, "context": context, "participant_id": participant_id}),
        );
        for (kind, id) in &recordings {
            out.event(
                EVENT_RECORDING_STARTED,
                json!({"session_id": self.id, "room_id": self.room_id, "participant_id": participant_id,
                       "recording_id": id, "type": kind}),
            );
        }
        self.participants.push(Participant {
            id: participant_id,
            session_id: self.id.clone(),
            context,
            joined_at: now,
            left_at: None,
            updated_at: now,
            muted: false,
            left_reason: None,
            recordings,
        });
        self.end_due = None;
        self.updated_at = now;
        Ok(out)
    }

    /// One participant leaves (`reason` [`LEFT`] or [`KICKED`]). The last one leaving sets
    /// the end timer.
    pub fn leave(&mut self, participant_id: &str, reason: &str, now: DateTime<Utc>) -> Result<Outcome> {
        self.check_active()?;
        let mut out = Outcome::default();
        match self.participant(participant_id) {
            None => return Err(ApiError::not_found().detail("The session has no such participant.")),
            Some(p) if !p.is_present() => {
                return Err(ApiError::new(Code::RoomSessionState).detail("The participant has left already."));
            }
            Some(_) => {}
        }
        self.depart(participant_id, reason, now, &mut out);
        if self.present().next().is_none() {
            let due = now + Duration::seconds(GRACE_SECS);
            self.end_due = Some(due);
            out.end_timer = Some(due);
        }
        Ok(out)
    }

    fn depart(&mut self, participant_id: &str, reason: &str, now: DateTime<Utc>, out: &mut Outcome) {
        let (room_id, session_id, account_id, base) =
            (self.room_id.clone(), self.id.clone(), self.account_id.clone(), self.base_url.clone());
        let Some(p) = self.participants.iter_mut().find(|p| p.id == participant_id && p.is_present()) else {
            return;
        };
        p.left_at = Some(now);
        p.left_reason = Some(reason.to_owned());
        p.updated_at = now;
        out.event(
            EVENT_LEFT,
            json!({"session_id": session_id, "room_id": room_id, "context": p.context, "participant_id": p.id,
                   "duration_secs": secs(p.joined_at, now), "left_reason": reason}),
        );
        for (kind, id) in &p.recordings {
            out.recordings.push(Recording::finished(
                id.clone(),
                &account_id,
                &room_id,
                &session_id,
                &p.id,
                kind,
                p.joined_at,
                now,
                &base,
            ));
        }
        self.updated_at = now;
    }

    /// `actions/kick`: the selected present participants leave, kicked.
    pub fn kick(&mut self, sel: &Selection, now: DateTime<Utc>) -> Result<Outcome> {
        self.check_active()?;
        let mut out = Outcome::default();
        let ids: Vec<String> = self.present().filter(|p| sel.picks(&p.id)).map(|p| p.id.clone()).collect();
        for id in &ids {
            self.depart(id, KICKED, now, &mut out);
        }
        if !ids.is_empty() && self.present().next().is_none() {
            let due = now + Duration::seconds(GRACE_SECS);
            self.end_due = Some(due);
            out.end_timer = Some(due);
        }
        Ok(out)
    }

    /// `actions/mute` and `actions/unmute` of the selected present participants. Answers
    /// how many changed.
    pub fn set_muted(&mut self, sel: &Selection, muted: bool, now: DateTime<Utc>) -> Result<usize> {
        self.check_active()?;
        let mut n = 0;
        for p in self.participants.iter_mut().filter(|p| p.is_present() && sel.picks(&p.id)) {
            if p.muted != muted {
                p.muted = muted;
                p.updated_at = now;
                n += 1;
            }
        }
        if n > 0 {
            self.updated_at = now;
        }
        Ok(n)
    }

    /// `actions/end`: everyone is kicked and the session ends now.
    pub fn end(&mut self, now: DateTime<Utc>) -> Result<Outcome> {
        self.check_active()?;
        Ok(self.close(ENDED_BY_API, now))
    }

    /// The room is deleted: everyone is kicked and the session, if still active (even
    /// empty, waiting out its grace period), ends now with `room_deleted`.
    pub fn room_deleted(&mut self, now: DateTime<Utc>) -> Outcome {
        if self.active { self.close(ENDED_ROOM_DELETED, now) } else { Outcome::default() }
    }

    fn close(&mut self, reason: &str, now: DateTime<Utc>) -> Outcome {
        let mut out = Outcome::default();
        let ids: Vec<String> = self.present().map(|p| p.id.clone()).collect();
        for id in &ids {
            self.depart(id, KICKED, now, &mut out);
        }
        self.finish(reason, now, &mut out);
        out
    }

    /// The end timer set for `due` fires: the session ends if it is still empty and no
    /// later timer replaced this one.
    pub fn end_timer_fired(&mut self, due: DateTime<Utc>, now: DateTime<Utc>) -> Outcome {
        let mut out = Outcome::default();
        // Compared to the millisecond: the job carries the due time in milliseconds.
        let same = self.end_due.is_some_and(|d| d.timestamp_millis() == due.timestamp_millis());
        if self.active && same && self.present().next().is_none() {
            self.finish(ENDED_EMPTY, now, &mut out);
        }
        out
    }

    fn finish(&mut self, reason: &str, now: DateTime<Utc>, out: &mut Outcome) {
        self.active = false;
        self.ended_at = Some(now);
        self.ended_reason = Some(reason.to_owned());
        self.end_due = None;
        self.updated_at = now;
        out.ended = true;
        out.event(
            EVENT_SESSION_ENDED,
            json!({"session_id": self.id, "room_id": self.room_id,
                   "duration_secs": secs(self.created_at, now), "ended_reason": reason}),
        );
    }

    /// The session's length in milliseconds (to now while active).
    pub fn duration_ms(&self, now: DateTime<Utc>) -> u64 {
        (self.ended_at.unwrap_or(now) - self.created_at).num_milliseconds().max(0) as u64
    }

    /// The spec's `RoomSession`; `participants` only when asked for.
    pub fn to_json(&self, include_participants: bool) -> Value {
        let mut v = json!({
            "record_type": "room_session",
            "id": self.id,
            "room_id": self.room_id,
            "active": self.active,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if let Some(t) = self.ended_at {
            v["ended_at"] = json!(fmt_time(t));
        }
        if include_participants {
            v["participants"] = json!(self.participants.iter().map(Participant::to_json).collect::<Vec<_>>());
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Session> {
        <Self as Deserialize>::deserialize(v).ok()
    }
}

/// `GET /room_sessions` and `/rooms/{id}/sessions` filters.
#[derive(Clone, Debug, Default)]
pub struct SessionFilter {
    created: DateFilter,
    updated: DateFilter,
    ended: DateFilter,
    active: Option<bool>,
    room_id: Option<String>,
    pub include_participants: bool,
}

impl SessionFilter {
    pub fn parse(q: &Query) -> Result<SessionFilter> {
        Ok(SessionFilter {
            created: DateFilter::parse(q, "date_created_at")?,
            updated: DateFilter::parse(q, "date_updated_at")?,
            ended: DateFilter::parse(q, "date_ended_at")?,
            active: q.bool("filter[active]")?,
            room_id: q.str("filter[room_id]").map(str::to_owned),
            include_participants: q.bool("include_participants")?.unwrap_or(false),
        })
    }

    pub fn matches(&self, s: &Session) -> bool {
        self.created.matches(Some(s.created_at))
            && self.updated.matches(Some(s.updated_at))
            && self.ended.matches(s.ended_at)
            && self.active.is_none_or(|a| s.active == a)
            && self.room_id.as_ref().is_none_or(|r| &s.room_id == r)
    }
}

/// `GET /room_participants` and `/room_sessions/{id}/participants` filters.
#[derive(Clone, Debug, Default)]
pub struct ParticipantFilter {
    joined: DateFilter,
    left: DateFilter,
    updated: DateFilter,
    context: Option<String>,
    session_id: Option<String>,
}

impl ParticipantFilter {
    pub fn parse(q: &Query) -> Result<ParticipantFilter> {
        Ok(ParticipantFilter {
            joined: DateFilter::parse(q, "date_joined_at")?,
            left: DateFilter::parse(q, "date_left_at")?,
            updated: DateFilter::parse(q, "date_updated_at")?,
            context: q.str("filter[context]").map(str::to_owned),
            session_id: q.str("filter[session_id]").map(str::to_owned),
        })
    }

    pub fn matches(&self, p: &Participant) -> bool {
        self.joined.matches(Some(p.joined_at))
            && self.left.matches(p.left_at)
            && self.updated.matches(Some(p.updated_at))
            && self.context.as_ref().is_none_or(|c| &p.context == c)
            && self.session_id.as_ref().is_none_or(|s| &p.session_id == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        crate::query::parse_time("2024-05-01T10:00:00Z").unwrap()
    }

    fn types(out: &Outcome) -> Vec<&str> {
        out.events.iter().map(|(t, _)| t.as_str()).collect()
    }

    fn started() -> Session {
        Session::start("s".into(), "r", "a", "http://h", t0()).0
    }

    #[test]
    fn first_join_starts_and_last_leave_sets_the_end_timer() {
        let (mut s, out) = Session::start("s".into(), "r", "a", "http://h", t0());
        assert_eq!(types(&out), [EVENT_SESSION_STARTED]);
        let out = s.join("p1".into(), "alice".into(), 2, None, t0()).unwrap();
        assert_eq!(types(&out), [EVENT_JOINED]);
        assert_eq!(out.events[0].1["context"], "alice");
        s.join("p2".into(), "bob".into(), 2, None, t0()).unwrap();
        let e = s.join("p3".into(), "carol".into(), 2, None, t0()).unwrap_err();
        assert_eq!(e.code, Code::RoomFull);
        let later = t0() + Duration::seconds(90);
        let out = s.leave("p1", LEFT, later).unwrap();
        assert_eq!(out.events[0].1["duration_secs"], 90);
        assert!(out.end_timer.is_none());
        assert_eq!(s.leave("p1", LEFT, later).unwrap_err().code, Code::RoomSessionState);
        let out = s.leave("p2", LEFT, later).unwrap();
        let due = out.end_timer.unwrap();
        assert_eq!(due, later + Duration::seconds(GRACE_SECS));
        // A join within the grace period keeps the session; the old timer does nothing.
        s.join("p4".into(), "dave".into(), 2, None, later).unwrap();
        assert!(s.end_timer_fired(due, due).events.is_empty());
        assert!(s.active);
        let out = s.leave("p4", LEFT, due).unwrap();
        let due2 = out.end_timer.unwrap();
        let out = s.end_timer_fired(due2, due2);
        assert_eq!(types(&out), [EVENT_SESSION_ENDED]);
        assert!(out.ended && !s.active);
        assert_eq!(out.events[0].1["ended_reason"], ENDED_EMPTY);
        assert!(s.join("p5".into(), "x".into(), 2, None, due2).is_err());
    }

    #[test]
    fn kick_mute_and_end_take_a_selection() {
        let mut s = started();
        for p in ["a", "b", "c"] {
            s.join(p.into(), p.into(), 10, None, t0()).unwrap();
        }
        let body = |v: Value| Body::from_value(v).unwrap();
        let sel = Selection::parse(&body(json!({"participants": "all", "exclude": ["a"]}))).unwrap();
        assert_eq!(s.set_muted(&sel, true, t0()).unwrap(), 2);
        assert!(!s.participant("a").unwrap().muted && s.participant("b").unwrap().muted);
        let sel = Selection::parse(&body(json!({"participants": ["b"]}))).unwrap();
        assert_eq!(s.set_muted(&sel, false, t0()).unwrap(), 1);
        let out = s.kick(&sel, t0()).unwrap();
        assert_eq!(types(&out), [EVENT_LEFT]);
        assert_eq!(out.events[0].1["left_reason"], KICKED);
        assert!(Selection::parse(&body(json!({}))).is_err());
        assert!(Selection::parse(&body(json!({"participants": "some"}))).is_err());
        let out = s.end(t0()).unwrap();
        assert_eq!(types(&out), [EVENT_LEFT, EVENT_LEFT, EVENT_SESSION_ENDED]);
        assert!(out.ended);
        assert_eq!(s.end(t0()).unwrap_err().code, Code::RoomSessionState);
    }

    #[test]
    fn recording_rooms_finish_a_recording_per_track() {
        let mut s = started();
        let out = s.join("p".into(), "c".into(), 10, Some(("ra".into(), "rv".into())), t0()).unwrap();
        assert_eq!(types(&out), [EVENT_JOINED, EVENT_RECORDING_STARTED, EVENT_RECORDING_STARTED]);
        let out = s.leave("p", LEFT, t0() + Duration::seconds(12)).unwrap();
        let kinds: Vec<&str> = out.recordings.iter().map(|r| r.kind.as_str()).collect();
        assert_eq!(kinds, ["audio", "video"]);
        assert_eq!(out.recordings[0].duration_ms, 12_000);
    }

    #[test]
    fn deleting_the_room_kicks_everyone_and_ends_the_session() {
        let mut s = started();
        s.join("a".into(), "a".into(), 10, Some(("ra".into(), "rv".into())), t0()).unwrap();
        s.join("b".into(), "b".into(), 10, None, t0()).unwrap();
        s.leave("b", LEFT, t0()).unwrap();
        let out = s.room_deleted(t0() + Duration::seconds(3));
        assert_eq!(types(&out), [EVENT_LEFT, EVENT_SESSION_ENDED]);
        assert_eq!(out.events[0].1["left_reason"], KICKED);
        assert_eq!(out.events[1].1["ended_reason"], ENDED_ROOM_DELETED);
        assert!(out.ended && !s.active && s.end_due.is_none());
        assert_eq!(out.recordings.iter().map(|r| r.duration_ms).collect::<Vec<_>>(), [3_000, 3_000]);
        // An ended session has nothing left to end.
        assert!(s.room_deleted(t0()).events.is_empty());
        // An empty session in its grace period ends at once.
        let mut s = started();
        s.join("a".into(), "a".into(), 10, None, t0()).unwrap();
        s.leave("a", LEFT, t0()).unwrap();
        assert_eq!(types(&s.room_deleted(t0())), [EVENT_SESSION_ENDED]);
    }
}
