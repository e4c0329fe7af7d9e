//! Video: rooms, join tokens, sessions and their participants, recordings, compositions.
//!
//! ```no_run
//! # async fn run() -> telnyx::Result<()> {
//! use telnyx::video::{CreateRoom, GenerateClientToken};
//! let client = telnyx::Client::from_env()?;
//! let room = client.rooms().create(CreateRoom::new().unique_name("standup").max_participants(10i64)).await?;
//! let token = client.rooms().generate_join_client_token(room.id.as_deref().unwrap(), GenerateClientToken::new()).await?;
//! println!("join with {:?}", token.token);
//! # Ok(()) }
//! ```

use crate::client::{Client, Request, Retry};
use crate::error::Result;
use crate::model::{list_params, model, request};
use crate::pagination::{Page, Pages};
use crate::resource::{Data, seg};
use reqwest::Method;
use serde_json::Value;

model! {
    /// A room.
    pub struct Room {
        id: String,
        record_type: String,
        unique_name: String,
        max_participants: i64,
        enable_recording: bool,
        webhook_event_url: String,
        webhook_event_failover_url: String,
        webhook_timeout_secs: i64,
        active_session_id: String,
        sessions: Vec<RoomSession>,
        created_at: String,
        updated_at: String,
    }
}

request! {
    /// `POST /rooms`.
    pub struct CreateRoom {
        required {}
        optional {
            unique_name: String,
            max_participants: i64,
            enable_recording: bool,
            webhook_event_url: String,
            webhook_event_failover_url: String,
            webhook_timeout_secs: i64,
        }
    }
}

request! {
    /// `PATCH /rooms/{room_id}`.
    pub struct UpdateRoom {
        required {}
        optional {
            unique_name: String,
            max_participants: i64,
            enable_recording: bool,
            webhook_event_url: String,
            webhook_event_failover_url: String,
            webhook_timeout_secs: i64,
        }
    }
}

request! {
    /// `POST /rooms/{room_id}/actions/generate_join_client_token`.
    pub struct GenerateClientToken {
        required {}
        optional { token_ttl_secs: i64, refresh_token_ttl_secs: i64 }
    }
}

request! {
    /// `POST /rooms/{room_id}/actions/refresh_client_token`.
    pub struct RefreshClientToken {
        required { refresh_token: String }
        optional { token_ttl_secs: i64 }
    }
}

model! {
    /// A join token (and its refresh token).
    pub struct ClientToken {
        token: String,
        token_expires_at: String,
        refresh_token: String,
        refresh_token_expires_at: String,
    }
}

list_params! {
    /// `GET /rooms`.
    pub struct ListRooms {
        unique_name: String => "filter[unique_name]",
        date_created_at_eq: String => "filter[date_created_at][eq]",
        date_created_at_gte: String => "filter[date_created_at][gte]",
        date_created_at_lte: String => "filter[date_created_at][lte]",
        date_updated_at_eq: String => "filter[date_updated_at][eq]",
        date_updated_at_gte: String => "filter[date_updated_at][gte]",
        date_updated_at_lte: String => "filter[date_updated_at][lte]",
        include_sessions: bool => "include_sessions",
    }
}

model! {
    /// A session of a room.
    pub struct RoomSession {
        id: String,
        record_type: String,
        room_id: String,
        active: bool,
        participants: Vec<RoomParticipant>,
        created_at: String,
        updated_at: String,
        ended_at: String,
    }
}

list_params! {
    /// `GET /room_sessions` and `/rooms/{room_id}/sessions`.
    pub struct ListRoomSessions {
        room_id: String => "filter[room_id]",
        active: bool => "filter[active]",
        date_created_at_eq: String => "filter[date_created_at][eq]",
        date_created_at_gte: String => "filter[date_created_at][gte]",
        date_created_at_lte: String => "filter[date_created_at][lte]",
        date_ended_at_eq: String => "filter[date_ended_at][eq]",
        date_ended_at_gte: String => "filter[date_ended_at][gte]",
        date_ended_at_lte: String => "filter[date_ended_at][lte]",
        date_updated_at_eq: String => "filter[date_updated_at][eq]",
        date_updated_at_gte: String => "filter[date_updated_at][gte]",
        date_updated_at_lte: String => "filter[date_updated_at][lte]",
        include_participants: bool => "include_participants",
    }
}

request! {
    /// The body of `mute`, `unmute` and `kick`: `participants` is `"all"` or a list of ids.
    pub struct ParticipantsAction {
        required {}
        optional { participants: Value, exclude: Vec<String> }
    }
}

model! {
    /// A participant of a session.
    pub struct RoomParticipant {
        id: String,
        record_type: String,
        session_id: String,
        context: String,
        joined_at: String,
        left_at: String,
        updated_at: String,
    }
}

list_params! {
    /// `GET /room_participants` and `/room_sessions/{id}/participants`.
    pub struct ListRoomParticipants {
        session_id: String => "filter[session_id]",
        context: String => "filter[context]",
        date_joined_at_eq: String => "filter[date_joined_at][eq]",
        date_joined_at_gte: String => "filter[date_joined_at][gte]",
        date_joined_at_lte: String => "filter[date_joined_at][lte]",
        date_left_at_eq: String => "filter[date_left_at][eq]",
        date_left_at_gte: String => "filter[date_left_at][gte]",
        date_left_at_lte: String => "filter[date_left_at][lte]",
        date_updated_at_eq: String => "filter[date_updated_at][eq]",
        date_updated_at_gte: String => "filter[date_updated_at][gte]",
        date_updated_at_lte: String => "filter[date_updated_at][lte]",
    }
}

model! {
    /// A recording of a participant's track.
    pub struct RoomRecording {
        id: String,
        record_type: String,
        room_id: String,
        session_id: String,
        participant_id: String,
        status: String,
        #[serde(rename = "type")]
        kind: String,
        codec: String,
        duration_secs: i64,
        size_mb: f64,
        download_url: String,
        started_at: String,
        completed_at: String,
        ended_at: String,
        created_at: String,
        updated_at: String,
    }
}

list_params! {
    /// `GET /room_recordings` (and the filter of the bulk delete).
    pub struct ListRoomRecordings {
        room_id: String => "filter[room_id]",
        session_id: String => "filter[session_id]",
        participant_id: String => "filter[participant_id]",
        status: String => "filter[status]",
        kind: String => "filter[type]",
        duration_secs: i64 => "filter[duration_secs]",
        date_started_at_eq: String => "filter[date_started_at][eq]",
        date_started_at_gte: String => "filter[date_started_at][gte]",
        date_started_at_lte: String => "filter[date_started_at][lte]",
        date_ended_at_eq: String => "filter[date_ended_at][eq]",
        date_ended_at_gte: String => "filter[date_ended_at][gte]",
        date_ended_at_lte: String => "filter[date_ended_at][lte]",
    }
}

model! {
    /// How many recordings a bulk delete removed.
    pub struct BulkDeleted {
        room_recordings: i64,
    }
}

model! {
    /// A composition of a session's recordings.
    pub struct RoomComposition {
        id: String,
        record_type: String,
        room_id: String,
        session_id: String,
        status: String,
        format: String,
        resolution: String,
        video_layout: Value,
        duration_secs: i64,
        size_mb: f64,
        download_url: String,
        user_id: String,
        webhook_event_url: String,
        webhook_event_failover_url: String,
        webhook_timeout_secs: i64,
        started_at: String,
        ended_at: String,
        completed_at: String,
        created_at: String,
        updated_at: String,
    }
}

request! {
    /// `POST /room_compositions`.
    pub struct CreateRoomComposition {
        required {}
        optional {
            session_id: String,
            format: String,
            resolution: String,
            video_layout: Value,
            webhook_event_url: String,
            webhook_event_failover_url: String,
            webhook_timeout_secs: i64,
        }
    }
}

list_params! {
    /// `GET /room_compositions`.
    pub struct ListRoomCompositions {
        session_id: String => "filter[session_id]",
        status: String => "filter[status]",
        date_created_at_eq: String => "filter[date_created_at][eq]",
        date_created_at_gte: String => "filter[date_created_at][gte]",
        date_created_at_lte: String => "filter[date_created_at][lte]",
    }
}

/// `client.rooms()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::video::{CreateRoom, GenerateClientToken, RefreshClientToken};
/// let room = client.rooms().create(CreateRoom::new().unique_name("my-meeting-room").max_participants(10i64)).await?;
/// let id = room.id.as_deref().unwrap();
/// let token = client.rooms().generate_join_client_token(id, GenerateClientToken::new().token_ttl_secs(600i64)).await?;
/// let fresh = client.rooms().refresh_client_token(id, RefreshClientToken::new(token.refresh_token.unwrap())).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Rooms<'a>(&'a Client);
/// `client.room_sessions()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::video::{ListRoomSessions, ParticipantsAction};
/// let sessions = client.room_sessions().list(&ListRoomSessions::new().active(true)).await?;
/// let id = sessions.data[0].id.as_deref().unwrap();
/// client.room_sessions().mute(id, ParticipantsAction::new().participants(serde_json::json!("all"))).await?;
/// client.room_sessions().end(id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RoomSessions<'a>(&'a Client);
/// `client.room_participants()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::video::ListRoomParticipants;
/// let participants = client.room_participants().list(&ListRoomParticipants::new().session_id("session-id")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RoomParticipants<'a>(&'a Client);
/// `client.room_recordings()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::video::ListRoomRecordings;
/// let recordings = client.room_recordings().list(&ListRoomRecordings::new().room_id("room-id")).await?;
/// let deleted = client.room_recordings().delete_many(&ListRoomRecordings::new().room_id("room-id")).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RoomRecordings<'a>(&'a Client);
/// `client.room_compositions()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::video::CreateRoomComposition;
/// let composition = client.room_compositions().create(CreateRoomComposition::new().session_id("session-id").format("mp4")).await?;
/// client.room_compositions().delete(composition.id.as_deref().unwrap()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RoomCompositions<'a>(&'a Client);

impl Client {
    pub fn rooms(&self) -> Rooms<'_> {
        Rooms(self)
    }
    pub fn room_sessions(&self) -> RoomSessions<'_> {
        RoomSessions(self)
    }
    pub fn room_participants(&self) -> RoomParticipants<'_> {
        RoomParticipants(self)
    }
    pub fn room_recordings(&self) -> RoomRecordings<'_> {
        RoomRecordings(self)
    }
    pub fn room_compositions(&self) -> RoomCompositions<'_> {
        RoomCompositions(self)
    }
}

impl Rooms<'_> {
    pub async fn create(&self, req: CreateRoom) -> Result<Room> {
        self.0.body_data(Method::POST, "/rooms".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, room_id: &str) -> Result<Room> {
        self.0.get_data(format!("/rooms/{}", seg(room_id))).await
    }
    pub async fn update(&self, room_id: &str, req: UpdateRoom) -> Result<Room> {
        self.0.body_data(Method::PATCH, format!("/rooms/{}", seg(room_id)), &req, Retry::Safe).await
    }
    /// `DELETE /rooms/{room_id}` (204).
    pub async fn delete(&self, room_id: &str) -> Result<()> {
        self.0.send_empty(Request::delete(format!("/rooms/{}", seg(room_id)))).await
    }
    pub async fn list(&self, p: &ListRooms) -> Result<Page<Room>> {
        self.0.page("/rooms", p).await
    }
    pub fn list_all(&self, p: &ListRooms) -> Pages<Room> {
        self.0.pages("/rooms", p)
    }
    pub async fn generate_join_client_token(&self, room_id: &str, req: GenerateClientToken) -> Result<ClientToken> {
        let path = format!("/rooms/{}/actions/generate_join_client_token", seg(room_id));
        self.0.body_data(Method::POST, path, &req, Retry::Safe).await
    }
    pub async fn refresh_client_token(&self, room_id: &str, req: RefreshClientToken) -> Result<ClientToken> {
        let path = format!("/rooms/{}/actions/refresh_client_token", seg(room_id));
        self.0.body_data(Method::POST, path, &req, Retry::Safe).await
    }
    pub async fn list_sessions(&self, room_id: &str, p: &ListRoomSessions) -> Result<Page<RoomSession>> {
        self.0.page(&format!("/rooms/{}/sessions", seg(room_id)), p).await
    }
}

impl RoomSessions<'_> {
    pub async fn list(&self, p: &ListRoomSessions) -> Result<Page<RoomSession>> {
        self.0.page("/room_sessions", p).await
    }
    pub fn list_all(&self, p: &ListRoomSessions) -> Pages<RoomSession> {
        self.0.pages("/room_sessions", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<RoomSession> {
        self.0.get_data(format!("/room_sessions/{}", seg(id))).await
    }
    /// Ends the session (a bare POST).
    pub async fn end(&self, id: &str) -> Result<Value> {
        let r: Data<Value> =
            self.0.send(Request::post_empty(format!("/room_sessions/{}/actions/end", seg(id)))).await?;
        Ok(r.data)
    }
    pub async fn mute(&self, id: &str, req: ParticipantsAction) -> Result<Value> {
        self.0.body_data(Method::POST, format!("/room_sessions/{}/actions/mute", seg(id)), &req, Retry::Safe).await
    }
    pub async fn unmute(&self, id: &str, req: ParticipantsAction) -> Result<Value> {
        self.0.body_data(Method::POST, format!("/room_sessions/{}/actions/unmute", seg(id)), &req, Retry::Safe).await
    }
    pub async fn kick(&self, id: &str, req: ParticipantsAction) -> Result<Value> {
        self.0.body_data(Method::POST, format!("/room_sessions/{}/actions/kick", seg(id)), &req, Retry::Safe).await
    }
    pub async fn list_participants(&self, id: &str, p: &ListRoomParticipants) -> Result<Page<RoomParticipant>> {
        self.0.page(&format!("/room_sessions/{}/participants", seg(id)), p).await
    }
}

impl RoomParticipants<'_> {
    pub async fn list(&self, p: &ListRoomParticipants) -> Result<Page<RoomParticipant>> {
        self.0.page("/room_participants", p).await
    }
    pub fn list_all(&self, p: &ListRoomParticipants) -> Pages<RoomParticipant> {
        self.0.pages("/room_participants", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<RoomParticipant> {
        self.0.get_data(format!("/room_participants/{}", seg(id))).await
    }
}

impl RoomRecordings<'_> {
    pub async fn list(&self, p: &ListRoomRecordings) -> Result<Page<RoomRecording>> {
        self.0.page("/room_recordings", p).await
    }
    pub fn list_all(&self, p: &ListRoomRecordings) -> Pages<RoomRecording> {
        self.0.pages("/room_recordings", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<RoomRecording> {
        self.0.get_data(format!("/room_recordings/{}", seg(id))).await
    }
    /// `DELETE /room_recordings/{id}` (204).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.send_empty(Request::delete(format!("/room_recordings/{}", seg(id)))).await
    }
    /// `DELETE /room_recordings` with filters: deletes every match.
    pub async fn delete_many(&self, p: &ListRoomRecordings) -> Result<BulkDeleted> {
        let mut r = crate::pagination::list_request("/room_recordings", p, None);
        r.method = Method::DELETE;
        Ok(self.0.send::<Data<BulkDeleted>>(r).await?.data)
    }
}

impl RoomCompositions<'_> {
    pub async fn create(&self, req: CreateRoomComposition) -> Result<RoomComposition> {
        self.0.body_data(Method::POST, "/room_compositions".into(), &req, Retry::Once).await
    }
    pub async fn list(&self, p: &ListRoomCompositions) -> Result<Page<RoomComposition>> {
        self.0.page("/room_compositions", p).await
    }
    pub fn list_all(&self, p: &ListRoomCompositions) -> Pages<RoomComposition> {
        self.0.pages("/room_compositions", p)
    }
    pub async fn retrieve(&self, id: &str) -> Result<RoomComposition> {
        self.0.get_data(format!("/room_compositions/{}", seg(id))).await
    }
    /// `DELETE /room_compositions/{id}` (204).
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.0.send_empty(Request::delete(format!("/room_compositions/{}", seg(id)))).await
    }
}
