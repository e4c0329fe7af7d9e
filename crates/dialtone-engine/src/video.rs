//! Video rooms: rooms and tokens, joins and leaves (through the simulation API), session
//! actions, recordings and compositions, and the jobs that end empty sessions, complete
//! recordings and move compositions on. Each operation loads the documents, hands them to
//! `dialtone_domain::video` and commits the change set with its events and timers.

use crate::scheduler::HandlerResult;
use crate::{Engine, Result, events, retry_on_conflict, store_err};
use chrono::{DateTime, Duration, Utc};
use dialtone_domain::accounts::Account;
use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code};
use dialtone_domain::media;
use dialtone_domain::video::compositions::{self, Composition, Step};
use dialtone_domain::video::recordings::{self, Recording};
use dialtone_domain::video::rooms::{self, Room};
use dialtone_domain::video::sessions::{self, Outcome, Participant, Selection, Session};
use dialtone_domain::video::tokens::{self, Issued};
use dialtone_domain::webhooks::Routing;
use dialtone_store::{ChangeSet, Doc, Job, NewJob, StoreError};
use serde_json::{Value, json};

/// The size of the video of a recording track (a test pattern, as compositions are).
pub const RECORDING_VIDEO_SIZE: (u32, u32) = (640, 360);

/// A session action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionAction {
    End,
    Kick,
    Mute,
    Unmute,
}

fn room_doc(mut doc: Doc, r: &Room) -> Doc {
    doc.data = r.to_value();
    doc.unique_key = r.unique_key();
    doc
}

fn name_taken(e: StoreError) -> ApiError {
    match e {
        StoreError::Duplicate => ApiError::new(Code::Duplicate)
            .with_status(422)
            .detail("The account has a room of this unique_name already.")
            .pointer("/unique_name"),
        other => store_err(other),
    }
}

/// The recording or composition file: Ogg Opus for audio, MP4 for video.
pub fn recording_file(r: &Recording) -> Vec<u8> {
    let ms = r.duration_ms.max(1);
    if r.kind == "audio" {
        media::ogg::opus_silence(ms)
    } else {
        let (w, h) = RECORDING_VIDEO_SIZE;
        media::mp4::test_pattern(w, h, ms).unwrap_or_default()
    }
}

pub fn composition_file(c: &Composition) -> Vec<u8> {
    c.file()
}

/// Adds a transition's events (to the room's webhook URL, in order per session), its
/// recordings (with their completion jobs) and its end timer to a change set.
fn apply_outcome(mut cs: ChangeSet, room: &Routing, session: &Session, out: Outcome, now: DateTime<Utc>) -> ChangeSet {
    for (event_type, payload) in out.events {
        if let Some(dest) = room.destination(&event_type) {
            let event = events::event(&event_type, payload, now);
            cs = events::emit(cs, &session.account_id, event, dest, Some(&session.id), now).0;
        }
    }
    for r in out.recordings {
        cs = cs.insert(Doc::new(recordings::KIND, &r.id, &r.account_id, r.to_value(), now).parent(&r.session_id)).job(
            NewJob {
                id: format!("video-rec:{}", r.id),
                kind: recordings::COMPLETE_JOB.into(),
                payload: json!({ "recording_id": r.id }).into(),
                due_at: now + Duration::seconds(recordings::PROCESSING_SECS),
                ordering_key: None,
            },
        );
    }
    if let Some(due) = out.end_timer {
        cs = cs.job(NewJob {
            id: format!("video-end:{}:{}", session.id, due.timestamp_millis()),
            kind: sessions::END_JOB.into(),
            payload: json!({ "session_id": session.id, "due": due.timestamp_millis() }).into(),
            due_at: due,
            ordering_key: None,
        });
    }
    cs
}

/// Signers by account seed: deriving a key pair from its seed costs as much as a signature,
/// and every token needs the account's; the seed is the key, so a changed seed is a miss.
fn cached_signer(acct: &Account) -> Result<dialtone_domain::keys::Signer> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, dialtone_domain::keys::Signer>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(s) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(&acct.signing_seed) {
        return Ok(s.clone());
    }
    let signer = Engine::signer(acct)?;
    let mut g = cache.lock().unwrap_or_else(|e| e.into_inner());
    if g.len() > 10_000 {
        g.clear();
    }
    g.insert(acct.signing_seed.clone(), signer.clone());
    Ok(signer)
}

impl Engine {
    async fn load_room(&self, account_id: &str, id: &str) -> Result<(Doc, Room)> {
        match self.store.get(rooms::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let r = Room::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, r))
            }
            _ => Err(ApiError::not_found().detail("The room does not exist.")),
        }
    }

    async fn load_session(&self, account_id: &str, id: &str) -> Result<(Doc, Session)> {
        match self.store.get(sessions::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => {
                let s = Session::from_value(&d.data).ok_or_else(ApiError::unexpected)?;
                Ok((d, s))
            }
            _ => Err(ApiError::not_found().detail("The room session does not exist.")),
        }
    }

    pub async fn create_room(&self, account_id: &str, body: &Body) -> Result<Room> {
        let now = self.clock.now();
        let id = Engine::new_ordered_id();
        let r = Room::create(body, id.clone(), account_id.to_owned(), now)?;
        let doc = room_doc(Doc::new(rooms::KIND, &id, account_id, Value::Null, now), &r);
        self.store.apply(&ChangeSet::new().insert(doc)).await.map_err(name_taken)?;
        Ok(r)
    }

    pub async fn room(&self, account_id: &str, id: &str) -> Result<Room> {
        Ok(self.load_room(account_id, id).await?.1)
    }

    pub async fn rooms(&self, account_id: &str) -> Result<Vec<Room>> {
        let docs = self.store.list(rooms::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Room::from_value(&d.data)).collect())
    }

    pub async fn update_room(&self, account_id: &str, id: &str, body: &Body) -> Result<Room> {
        let now = self.clock.now();
        retry_on_conflict!({
            let (doc, mut r) = self.load_room(account_id, id).await?;
            r.update(body, now)?;
            self.store.apply(&ChangeSet::new().update(room_doc(doc, &r))).await.map_err(name_taken).map(|_| r.clone())
        })
    }

    /// Deletes a room. Its active session ends in the same commit (everyone kicked, the
    /// session ended with `room_deleted`, recordings finished as at any end); its sessions,
    /// recordings and compositions stay readable.
    pub async fn delete_room(&self, account_id: &str, id: &str) -> Result<()> {
        retry_on_conflict!({
            let now = self.clock.now();
            let (rdoc, room) = self.load_room(account_id, id).await?;
            let mut cs = ChangeSet::new();
            if let Some(sid) = &room.active_session_id
                && let Ok((mut sdoc, mut session)) = self.load_session(account_id, sid).await
            {
                let out = session.room_deleted(now);
                if out.ended {
                    cs = apply_outcome(cs, &room.webhooks.routing(), &session, out, now);
                    sdoc.data = session.to_value();
                    cs = cs.update(sdoc);
                }
            }
            let tombstone = Doc::new(rooms::DELETED_KIND, id, account_id, room.to_value(), now);
            // Rewriting the room at the version read guards its deletion: a join that started
            // a session meanwhile makes this a conflict, and it runs again.
            cs = cs.update(rdoc).delete(rooms::KIND, id).insert(tombstone);
            self.commit(&cs).await
        })
    }

    /// `generate_join_client_token`: signed with the account's key.
    pub async fn room_token(&self, caller: &Account, room_id: &str, body: &Body) -> Result<Issued> {
        self.load_room(&caller.id, room_id).await?;
        let signer = cached_signer(caller)?;
        tokens::generate(&signer, room_id, &format!("telnyx:users:{}", caller.id), body, self.clock.now())
    }

    pub async fn refresh_room_token(&self, caller: &Account, room_id: &str, body: &Body) -> Result<Issued> {
        self.load_room(&caller.id, room_id).await?;
        let signer = cached_signer(caller)?;
        tokens::refresh(&signer, room_id, body, self.clock.now())
    }

    /// Every session of the account, or of one room.
    pub async fn room_sessions(&self, account_id: &str, room_id: Option<&str>) -> Result<Vec<Session>> {
        let docs = self.store.list(sessions::KIND, Some(account_id), room_id).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Session::from_value(&d.data)).collect())
    }

    pub async fn room_session(&self, account_id: &str, id: &str) -> Result<Session> {
        Ok(self.load_session(account_id, id).await?.1)
    }

    /// A participant by id, with its session: the participant's own document names its
    /// session.
    pub async fn room_participant(&self, account_id: &str, id: &str) -> Result<(Session, Participant)> {
        let not_found = || ApiError::not_found().detail("The room participant does not exist.");
        let pointer = self.store.get(sessions::PARTICIPANT_KIND, id).await.map_err(store_err)?;
        let sid = match pointer {
            Some(d) if d.account_id == account_id => d.parent_id.ok_or_else(not_found)?,
            Some(_) => return Err(not_found()),
            // A participant who joined before participants had documents of their own
            // (an older database): look through the account's sessions.
            None => {
                for s in self.room_sessions(account_id, None).await? {
                    if let Some(p) = s.participant(id).cloned() {
                        return Ok((s, p));
                    }
                }
                return Err(not_found());
            }
        };
        let (_, s) = self.load_session(account_id, &sid).await?;
        let p = s.participant(id).cloned().ok_or_else(not_found)?;
        Ok((s, p))
    }

    /// A participant joins a room with a client token (simulated client). The token must be
    /// the account's, for this room and unexpired; the room must have space. The first
    /// participant starts a session.
    pub async fn join_room(
        &self,
        caller: &Account,
        room_id: &str,
        token: &str,
        context: &str,
        base_url: &str,
    ) -> Result<(Session, Participant)> {
        let signer = cached_signer(caller)?;
        let participant_id = Engine::new_ordered_id();
        retry_on_conflict!({
            let now = self.clock.now();
            let (room_doc_, mut room) = self.load_room(&caller.id, room_id).await?;
            tokens::verify(&signer, token, "access", room_id, now)?;
            let current = match &room.active_session_id {
                Some(sid) => Some(self.load_session(&caller.id, sid).await?).filter(|(_, s)| s.active),
                None => None,
            };
            let mut cs = ChangeSet::new();
            let routing = room.webhooks.routing();
            let (doc, mut session, started) = match current {
                Some((doc, s)) => (Some(doc), s, None),
                None => {
                    let (s, out) = Session::start(Engine::new_ordered_id(), room_id, &caller.id, base_url, now);
                    room.active_session_id = Some(s.id.clone());
                    (None, s, Some(out))
                }
            };
            let recs = room.enable_recording.then(|| (Engine::new_ordered_id(), Engine::new_ordered_id()));
            let out = session.join(participant_id.clone(), context.to_owned(), room.max_participants, recs, now)?;
            if let Some(first) = started {
                cs = apply_outcome(cs, &routing, &session, first, now);
                cs = cs.update(room_doc(room_doc_, &room));
            }
            cs = apply_outcome(cs, &routing, &session, out, now);
            cs = cs.insert(
                Doc::new(
                    sessions::PARTICIPANT_KIND,
                    &participant_id,
                    &caller.id,
                    json!({ "session_id": session.id }),
                    now,
                )
                .parent(&session.id),
            );
            cs = match doc {
                Some(mut d) => {
                    d.data = session.to_value();
                    cs.update(d)
                }
                None => cs
                    .insert(Doc::new(sessions::KIND, &session.id, &caller.id, session.to_value(), now).parent(room_id)),
            };
            self.commit(&cs).await?;
            let p = session.participant(&participant_id).cloned().ok_or_else(ApiError::unexpected)?;
            Ok::<_, ApiError>((session, p))
        })
    }

    /// A participant of one of the caller's rooms leaves (simulated client).
    pub async fn leave_room(&self, caller: &Account, room_id: &str, participant_id: &str) -> Result<Participant> {
        retry_on_conflict!({
            let now = self.clock.now();
            let (_, room) = self.load_room(&caller.id, room_id).await?;
            let Some(sid) = room.active_session_id.clone() else {
                return Err(ApiError::not_found().detail("The room has no active session."));
            };
            let (mut doc, mut session) = self.load_session(&caller.id, &sid).await?;
            let out = session.leave(participant_id, sessions::LEFT, now)?;
            let mut cs = apply_outcome(ChangeSet::new(), &room.webhooks.routing(), &session, out, now);
            doc.data = session.to_value();
            cs = cs.update(doc);
            self.commit(&cs).await?;
            session.participant(participant_id).cloned().ok_or_else(ApiError::unexpected)
        })
    }

    /// `actions/end|kick|mute|unmute` on one of the caller's sessions.
    pub async fn session_action(
        &self,
        account_id: &str,
        session_id: &str,
        action: SessionAction,
        body: &Body,
    ) -> Result<()> {
        let sel = match action {
            SessionAction::End => Selection::all(),
            _ => Selection::parse(body)?,
        };
        retry_on_conflict!({
            let now = self.clock.now();
            let (mut doc, mut session) = self.load_session(account_id, session_id).await?;
            let room = self.load_room(account_id, &session.room_id).await.ok();
            let routing = room.as_ref().map(|(_, r)| r.webhooks.routing()).unwrap_or_default();
            let out = match action {
                SessionAction::End => session.end(now)?,
                SessionAction::Kick => session.kick(&sel, now)?,
                SessionAction::Mute | SessionAction::Unmute => {
                    session.set_muted(&sel, action == SessionAction::Mute, now)?;
                    Outcome::default()
                }
            };
            let ended = out.ended;
            let mut cs = apply_outcome(ChangeSet::new(), &routing, &session, out, now);
            if ended
                && let Some((rdoc, mut r)) = room.clone()
                && r.active_session_id.as_deref() == Some(session_id)
            {
                r.active_session_id = None;
                cs = cs.update(room_doc(rdoc, &r));
            }
            doc.data = session.to_value();
            cs = cs.update(doc);
            self.commit(&cs).await
        })
    }

    pub async fn room_recordings(&self, account_id: &str) -> Result<Vec<Recording>> {
        let docs = self.store.list(recordings::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Recording::from_value(&d.data)).collect())
    }

    pub async fn room_recording(&self, account_id: &str, id: &str) -> Result<Recording> {
        match self.store.get(recordings::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => Recording::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found().detail("The room recording does not exist.")),
        }
    }

    pub async fn delete_room_recordings(&self, ids: &[String]) -> Result<usize> {
        let mut cs = ChangeSet::new();
        for id in ids {
            cs = cs.delete(recordings::KIND, id);
        }
        self.commit(&cs).await?;
        Ok(ids.len())
    }

    /// A completed recording or composition by id, for its download (its URL is the
    /// credential, as Telnyx's pre-signed URLs are).
    pub async fn recording_download(&self, id: &str) -> Result<Recording> {
        let doc = self.store.get(recordings::KIND, id).await.map_err(store_err)?.ok_or_else(ApiError::not_found)?;
        Recording::from_value(&doc.data).filter(Recording::is_completed).ok_or_else(ApiError::not_found)
    }

    pub async fn composition_download(&self, id: &str) -> Result<Composition> {
        let doc = self.store.get(compositions::KIND, id).await.map_err(store_err)?.ok_or_else(ApiError::not_found)?;
        Composition::from_value(&doc.data).filter(Composition::is_completed).ok_or_else(ApiError::not_found)
    }

    pub async fn create_composition(&self, account_id: &str, body: &Body, base_url: &str) -> Result<Composition> {
        let session_id = body.req_str("session_id")?;
        let session = self.load_session(account_id, session_id).await.map_err(|e| {
            if e.code == Code::NotFound {
                ApiError::new(Code::MissingAssociation)
                    .detail(format!("No room session '{session_id}' exists."))
                    .pointer("/session_id")
            } else {
                e
            }
        })?;
        let now = self.clock.now();
        let c = Composition::create(body, &session.1, Engine::new_ordered_id(), base_url, now)?;
        let cs = ChangeSet::new()
            .insert(Doc::new(compositions::KIND, &c.id, account_id, c.to_value(), now).parent(&c.session_id))
            .job(NewJob {
                id: format!("video-comp:{}:1", c.id),
                kind: compositions::STEP_JOB.into(),
                payload: json!({ "composition_id": c.id }).into(),
                due_at: now + Duration::seconds(compositions::ENQUEUED_SECS),
                ordering_key: None,
            });
        self.commit(&cs).await?;
        Ok(c)
    }

    pub async fn compositions(&self, account_id: &str) -> Result<Vec<Composition>> {
        let docs = self.store.list(compositions::KIND, Some(account_id), None).await.map_err(store_err)?;
        Ok(docs.iter().filter_map(|d| Composition::from_value(&d.data)).collect())
    }

    pub async fn composition(&self, account_id: &str, id: &str) -> Result<Composition> {
        match self.store.get(compositions::KIND, id).await.map_err(store_err)? {
            Some(d) if d.account_id == account_id => Composition::from_value(&d.data).ok_or_else(ApiError::unexpected),
            _ => Err(ApiError::not_found().detail("The room composition does not exist.")),
        }
    }

    pub async fn delete_composition(&self, account_id: &str, id: &str) -> Result<()> {
        self.composition(account_id, id).await?;
        self.commit(&ChangeSet::new().delete(compositions::KIND, id)).await
    }
}

/// The end timer of an empty session fires.
pub async fn end_session(engine: Engine, job: Job) -> HandlerResult {
    let p = job.payload.value();
    let id = p["session_id"].as_str().unwrap_or_default().to_owned();
    let due = DateTime::from_timestamp_millis(p["due"].as_i64().unwrap_or_default()).unwrap_or_default();
    let Some(mut doc) = engine.store.get(sessions::KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let mut session = Session::from_value(&doc.data).ok_or_else(|| format!("session {id} is unreadable"))?;
    let now = engine.clock.now();
    let out = session.end_timer_fired(due, now);
    if !out.ended {
        return Ok(ChangeSet::new());
    }
    let room = engine.store.get(rooms::KIND, &session.room_id).await.map_err(|e| e.to_string())?;
    let room = room.and_then(|d| Room::from_value(&d.data).map(|r| (d, r)));
    let routing = room.as_ref().map(|(_, r)| r.webhooks.routing()).unwrap_or_default();
    let mut cs = apply_outcome(ChangeSet::new(), &routing, &session, out, now);
    if let Some((rdoc, mut r)) = room
        && r.active_session_id.as_deref() == Some(id.as_str())
    {
        r.active_session_id = None;
        cs = cs.update(room_doc(rdoc, &r));
    }
    doc.data = session.to_value();
    Ok(cs.update(doc))
}

/// Where a room's events go: the room's webhook settings, or the deleted room's.
async fn room_routing(engine: &Engine, room_id: &str) -> std::result::Result<Routing, String> {
    let mut room = engine.store.get(rooms::KIND, room_id).await.map_err(|e| e.to_string())?;
    if room.is_none() {
        room = engine.store.get(rooms::DELETED_KIND, room_id).await.map_err(|e| e.to_string())?;
    }
    Ok(room.and_then(|d| Room::from_value(&d.data)).map(|r| r.webhooks.routing()).unwrap_or_default())
}

/// A recording's processing is done: `completed`, `video.room.recording.completed`.
pub async fn complete_recording(engine: Engine, job: Job) -> HandlerResult {
    let id = job.payload.value()["recording_id"].as_str().unwrap_or_default().to_owned();
    let Some(mut doc) = engine.store.get(recordings::KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let mut r = Recording::from_value(&doc.data).ok_or_else(|| format!("recording {id} is unreadable"))?;
    let now = engine.clock.now();
    let size = recording_file(&r).len() as u64;
    let Some(payload) = r.complete(size, now) else {
        return Ok(ChangeSet::new());
    };
    doc.data = r.to_value();
    let mut cs = ChangeSet::new().update(doc);
    if let Some(dest) = room_routing(&engine, &r.room_id).await?.destination(recordings::EVENT_COMPLETED) {
        let event = events::event(recordings::EVENT_COMPLETED, payload, now);
        cs = events::emit(cs, &r.account_id, event, dest, Some(&r.session_id), now).0;
    }
    Ok(cs)
}

/// A composition moves one step on; completed, its webhook goes to the composition's URL,
/// or the room's when it has none.
pub async fn step_composition(engine: Engine, job: Job) -> HandlerResult {
    let id = job.payload.value()["composition_id"].as_str().unwrap_or_default().to_owned();
    let Some(mut doc) = engine.store.get(compositions::KIND, &id).await.map_err(|e| e.to_string())? else {
        return Ok(ChangeSet::new());
    };
    let mut c = Composition::from_value(&doc.data).ok_or_else(|| format!("composition {id} is unreadable"))?;
    let now = engine.clock.now();
    let step = c.step(|c| composition_file(c).len() as u64, now);
    doc.data = c.to_value();
    let mut cs = ChangeSet::new().update(doc);
    match step {
        Step::Again(due) => {
            cs = cs.job(NewJob {
                id: format!("video-comp:{}:2", c.id),
                kind: compositions::STEP_JOB.into(),
                payload: json!({ "composition_id": c.id }).into(),
                due_at: due,
                ordering_key: None,
            });
        }
        Step::Completed(payload) => {
            let routing =
                if c.webhooks.url.is_some() { c.webhooks.routing() } else { room_routing(&engine, &c.room_id).await? };
            if let Some(dest) = routing.destination(compositions::EVENT_COMPLETED) {
                let event = events::event(compositions::EVENT_COMPLETED, payload, now);
                cs = events::emit(cs, &c.account_id, event, dest, Some(&c.session_id), now).0;
            }
        }
        Step::Done => return Ok(ChangeSet::new()),
    }
    Ok(cs)
}
