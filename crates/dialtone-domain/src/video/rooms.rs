//! Rooms: where participants meet. A room holds its settings and, while participants are
//! in it, the id of its active session.

use super::{DateFilter, WebhookFields};
use crate::body::Body;
use crate::error::{ApiError, Result};
use crate::fmt_time;
use crate::query::Query;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "video_room";
/// A deleted room, kept (same id, no unique name) so that what its last session leaves
/// behind (recordings completing, compositions) still reaches the room's webhook URLs.
pub const DELETED_KIND: &str = "video_room_deleted";
/// `max_participants`: the spec's range and default.
pub const MAX_PARTICIPANTS_RANGE: (i64, i64) = (2, 50);
pub const DEFAULT_MAX_PARTICIPANTS: i64 = 10;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Room {
    pub id: String,
    pub account_id: String,
    pub unique_name: Option<String>,
    pub max_participants: i64,
    pub enable_recording: bool,
    pub webhooks: WebhookFields,
    pub active_session_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Room {
    /// `POST /rooms`: every field is optional.
    pub fn create(body: &Body, id: String, account_id: String, now: DateTime<Utc>) -> Result<Room> {
        let mut r = Room {
            id,
            account_id,
            unique_name: None,
            max_participants: DEFAULT_MAX_PARTICIPANTS,
            enable_recording: false,
            webhooks: WebhookFields::default(),
            active_session_id: None,
            created_at: now,
            updated_at: now,
        };
        r.apply(body, now)?;
        Ok(r)
    }

    /// `PATCH /rooms/{id}`: the fields given replace the room's.
    pub fn update(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        let mut next = self.clone();
        next.apply(body, now)?;
        *self = next;
        Ok(())
    }

    fn apply(&mut self, body: &Body, now: DateTime<Utc>) -> Result<()> {
        if body.is_null("unique_name") {
            self.unique_name = None;
        } else if let Some(n) = body.opt_str("unique_name")? {
            if n.chars().count() > 255 {
                return Err(ApiError::invalid("unique_name", "'unique_name' is at most 255 characters."));
            }
            self.unique_name = Some(n.to_owned()).filter(|n| !n.is_empty());
        }
        let (lo, hi) = MAX_PARTICIPANTS_RANGE;
        if let Some(m) = body.opt_int_in("max_participants", lo, hi)? {
            self.max_participants = m;
        }
        if let Some(r) = body.opt_bool("enable_recording")? {
            self.enable_recording = r;
        }
        self.webhooks.apply(body)?;
        self.updated_at = now;
        Ok(())
    }

    /// The document's unique key: the name is unique within the account.
    pub fn unique_key(&self) -> Option<String> {
        self.unique_name.as_ref().map(|n| format!("{}:{n}", self.account_id))
    }

    /// The spec's `Room`; `sessions` only when asked for (`include_sessions`).
    pub fn to_json(&self, sessions: Option<Vec<Value>>) -> Value {
        let mut v = json!({
            "record_type": "room",
            "id": self.id,
            "max_participants": self.max_participants,
            "enable_recording": self.enable_recording,
            "created_at": fmt_time(self.created_at),
            "updated_at": fmt_time(self.updated_at),
        });
        if let Some(n) = &self.unique_name {
            v["unique_name"] = json!(n);
        }
        if let Some(s) = &self.active_session_id {
            v["active_session_id"] = json!(s);
        }
        self.webhooks.write(&mut v);
        if let Some(s) = sessions {
            v["sessions"] = json!(s);
        }
        v
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Room> {
        <Self as Deserialize>::deserialize(v).ok()
    }
}

/// `GET /rooms` filters.
#[derive(Clone, Debug, Default)]
pub struct ListFilter {
    created: DateFilter,
    updated: DateFilter,
    unique_name: Option<String>,
    pub include_sessions: bool,
}

impl ListFilter {
    pub fn parse(q: &Query) -> Result<ListFilter> {
        Ok(ListFilter {
            created: DateFilter::parse(q, "date_created_at")?,
            updated: DateFilter::parse(q, "date_updated_at")?,
            unique_name: q.str("filter[unique_name]").map(str::to_owned),
            include_sessions: q.bool("include_sessions")?.unwrap_or(false),
        })
    }

    pub fn matches(&self, r: &Room) -> bool {
        self.created.matches(Some(r.created_at))
            && self.updated.matches(Some(r.updated_at))
            && self.unique_name.as_ref().is_none_or(|n| r.unique_name.as_ref() == Some(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Code;

    fn create(v: Value) -> Result<Room> {
        Room::create(&Body::from_value(v).unwrap(), "r".into(), "a".into(), Utc::now())
    }

    #[test]
    fn defaults_and_ranges() {
        let r = create(json!({})).unwrap();
        let j = r.to_json(None);
        assert_eq!(j["max_participants"], 10);
        assert_eq!(j["enable_recording"], false);
        assert_eq!(j["webhook_event_failover_url"], "");
        assert!(j.get("webhook_timeout_secs").is_none());
        assert!(j.get("active_session_id").is_none());
        for bad in [1, 51] {
            let e = create(json!({"max_participants": bad})).unwrap_err();
            assert_eq!((e.code, e.pointer.as_deref()), (Code::OutOfRange, Some("/max_participants")));
        }
        let e = create(json!({"webhook_event_url": "nope"})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/webhook_event_url"));
        let e = create(json!({"webhook_timeout_secs": 31})).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some("/webhook_timeout_secs"));
    }

    #[test]
    fn update_replaces_given_fields_only() {
        let mut r = create(json!({"unique_name": "a", "max_participants": 5})).unwrap();
        assert_eq!(r.unique_key().as_deref(), Some("a:a"));
        r.update(&Body::from_value(json!({"enable_recording": true})).unwrap(), Utc::now()).unwrap();
        assert_eq!((r.max_participants, r.enable_recording, r.unique_name.as_deref()), (5, true, Some("a")));
        assert!(r.update(&Body::from_value(json!({"max_participants": 99})).unwrap(), Utc::now()).is_err());
        assert_eq!(r.max_participants, 5);
    }
}
