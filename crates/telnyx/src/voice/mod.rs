//! Voice call control: call control applications, connections, calls and every call
//! command.
//!
//! ```no_run
//! # async fn run() -> telnyx::Result<()> {
//! use telnyx::voice::{CreateCallControlApplication, Dial, Hangup, Speak};
//! let client = telnyx::Client::from_env()?;
//! let app = client
//!     .call_control_applications()
//!     .create(CreateCallControlApplication::new("ivr", "https://example.com/hooks"))
//!     .await?;
//! let call = client.calls().dial(Dial::new(app.id.unwrap(), "+13125550001", "+13125550100")).await?;
//! let id = call.call_control_id.unwrap();
//! client.calls().speak(&id, Speak::new("Hello, this is Telnyx", "female")).await?;
//! client.calls().hangup(&id, Hangup::new()).await?;
//! # Ok(()) }
//! ```

mod actions;
pub use actions::*;

use crate::client::{Client, Request, Retry};
use crate::error::Result;
use crate::model::{list_params, model, request};
use crate::pagination::{Page, Pages};
use crate::resource::{Data, seg};
use reqwest::Method;
use serde_json::Value;

model! {
    /// A call control application.
    pub struct CallControlApplication {
        id: String,
        record_type: String,
        application_name: String,
        active: bool,
        webhook_event_url: String,
        webhook_event_failover_url: String,
        webhook_api_version: String,
        webhook_timeout_secs: i64,
        first_command_timeout: bool,
        first_command_timeout_secs: i64,
        anchorsite_override: String,
        dtmf_type: String,
        call_cost_in_webhooks: bool,
        redact_dtmf_debug_logging: bool,
        tags: Vec<String>,
        inbound: Value,
        outbound: Value,
        created_at: String,
        updated_at: String,
    }
}

request! {
    /// `POST /call_control_applications`.
    pub struct CreateCallControlApplication {
        required { application_name: String, webhook_event_url: String }
        optional {
            active: bool,
            anchorsite_override: String,
            call_cost_in_webhooks: bool,
            dtmf_type: String,
            first_command_timeout: bool,
            first_command_timeout_secs: i64,
            inbound: Value,
            outbound: Value,
            redact_dtmf_debug_logging: bool,
            webhook_api_version: String,
            webhook_event_failover_url: String,
            webhook_timeout_secs: i64,
        }
    }
}

request! {
    /// `PATCH /call_control_applications/{id}`.
    pub struct UpdateCallControlApplication {
        required { application_name: String, webhook_event_url: String }
        optional {
            active: bool,
            anchorsite_override: String,
            call_cost_in_webhooks: bool,
            dtmf_type: String,
            first_command_timeout: bool,
            first_command_timeout_secs: i64,
            inbound: Value,
            outbound: Value,
            redact_dtmf_debug_logging: bool,
            webhook_api_version: String,
            webhook_event_failover_url: String,
            webhook_timeout_secs: i64,
        }
    }
}

request! {
    /// `POST /calls`: dial. `to` is one destination (number or SIP URI).
    pub struct Dial {
        required { connection_id: String, to: String, from: String }
        optional {
            answering_machine_detection: String,
            answering_machine_detection_config: Value,
            assistant: Value,
            audio_url: String,
            billing_group_id: String,
            bridge_intent: bool,
            bridge_on_answer: bool,
            client_state: String,
            command_id: String,
            conference_config: Value,
            conversation_relay_config: Value,
            custom_headers: Value,
            deepfake_detection: Value,
            dialogflow_config: Value,
            enable_dialogflow: bool,
            from_display_name: String,
            link_to: String,
            media_encryption: String,
            media_name: String,
            park_after_unbridge: String,
            preferred_codecs: String,
            prevent_double_bridge: bool,
            privacy: String,
            record: String,
            record_channels: String,
            record_custom_file_name: String,
            record_format: String,
            record_max_length: i64,
            record_timeout_secs: i64,
            record_track: String,
            record_trim: String,
            retry_on_timeout: bool,
            send_digits_on_answer: String,
            send_silence_when_idle: bool,
            sip_auth_password: String,
            sip_auth_username: String,
            sip_headers: Value,
            sip_region: String,
            sip_transport_protocol: String,
            sound_modifications: Value,
            stream_auth_token: String,
            stream_bidirectional_codec: Value,
            stream_bidirectional_mode: Value,
            stream_bidirectional_sampling_rate: Value,
            stream_bidirectional_target_legs: Value,
            stream_codec: Value,
            stream_establish_before_call_originate: bool,
            stream_track: String,
            stream_url: String,
            supervise_call_control_id: String,
            supervisor_role: String,
            time_limit_secs: i64,
            timeout_secs: i64,
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

list_params! {
    /// `GET /call_control_applications`.
    pub struct ListCallControlApplications {
        application_name_contains: String => "filter[application_name][contains]",
        outbound_voice_profile_id: String => "filter[outbound.outbound_voice_profile_id]",
        active: bool => "filter[active]",
        product: String => "filter[product]",
        sort: String => "sort",
    }
}

/// `client.call_control_applications()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::voice::{CreateCallControlApplication, ListCallControlApplications};
/// let app = client.call_control_applications().create(CreateCallControlApplication::new("call-router", "https://example.com/hooks")).await?;
/// let all = client.call_control_applications().list_all(&ListCallControlApplications::new()).collect_all().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CallControlApplications<'a>(&'a Client);

impl CallControlApplications<'_> {
    pub async fn create(&self, req: CreateCallControlApplication) -> Result<CallControlApplication> {
        self.0.body_data(Method::POST, "/call_control_applications".into(), &req, Retry::Once).await
    }
    pub async fn retrieve(&self, id: &str) -> Result<CallControlApplication> {
        self.0.get_data(format!("/call_control_applications/{}", seg(id))).await
    }
    pub async fn update(&self, id: &str, req: UpdateCallControlApplication) -> Result<CallControlApplication> {
        self.0.body_data(Method::PATCH, format!("/call_control_applications/{}", seg(id)), &req, Retry::Safe).await
    }
    pub async fn delete(&self, id: &str) -> Result<CallControlApplication> {
        self.0.delete_data(format!("/call_control_applications/{}", seg(id))).await
    }
    pub async fn list(&self, p: &ListCallControlApplications) -> Result<Page<CallControlApplication>> {
        self.0.page("/call_control_applications", p).await
    }
    pub fn list_all(&self, p: &ListCallControlApplications) -> Pages<CallControlApplication> {
        self.0.pages("/call_control_applications", p)
    }
}

model! {
    /// A connection (`/connections`).
    pub struct Connection {
        id: String,
        record_type: String,
        connection_name: String,
        active: bool,
        webhook_event_url: String,
        webhook_event_failover_url: String,
        webhook_api_version: String,
        outbound_voice_profile_id: String,
        anchorsite_override: String,
        tags: Vec<String>,
        created_at: String,
        updated_at: String,
    }
}

list_params! {
    /// `GET /connections`.
    pub struct ListConnections {
        connection_name_contains: String => "filter[connection_name][contains]",
        fqdn: String => "filter[fqdn]",
        outbound_voice_profile_id: String => "filter[outbound_voice_profile_id]",
        sort: String => "sort",
    }
}

model! {
    /// A live call of a connection.
    pub struct ActiveCall {
        call_control_id: String,
        call_leg_id: String,
        call_session_id: String,
        call_duration: i64,
        client_state: String,
        record_type: String,
    }
}

list_params! {
    /// `GET /connections/{id}/active_calls`.
    pub struct ListActiveCalls {}
}

/// `client.connections()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::voice::{ListActiveCalls, ListConnections};
/// let connections = client.connections().list(&ListConnections::new()).await?;
/// let live = client.connections().list_active_calls("1293384261075731499", &ListActiveCalls::new()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Connections<'a>(&'a Client);

impl Connections<'_> {
    pub async fn retrieve(&self, id: &str) -> Result<Connection> {
        self.0.get_data(format!("/connections/{}", seg(id))).await
    }
    pub async fn list(&self, p: &ListConnections) -> Result<Page<Connection>> {
        self.0.page("/connections", p).await
    }
    pub fn list_all(&self, p: &ListConnections) -> Pages<Connection> {
        self.0.pages("/connections", p)
    }
    pub async fn list_active_calls(&self, connection_id: &str, p: &ListActiveCalls) -> Result<Page<ActiveCall>> {
        self.0.page(&format!("/connections/{}/active_calls", seg(connection_id)), p).await
    }
    pub fn list_all_active_calls(&self, connection_id: &str, p: &ListActiveCalls) -> Pages<ActiveCall> {
        self.0.pages(&format!("/connections/{}/active_calls", seg(connection_id)), p)
    }
}

model! {
    /// A call: the answer to a dial and to `GET /calls/{call_control_id}`.
    pub struct Call {
        call_control_id: String,
        call_leg_id: String,
        call_session_id: String,
        record_type: String,
        is_alive: bool,
        call_duration: i64,
        client_state: String,
        start_time: String,
        end_time: String,
        recording_id: String,
    }
}

model! {
    /// The answer to a call command (`result: "ok"`, and ids some commands start).
    pub struct CallCommand {
        result: String,
        recording_id: String,
        conversation_id: String,
    }
}

/// `client.calls()`.
///
/// ```no_run
/// # async fn run(client: telnyx::Client) -> telnyx::Result<()> {
/// use telnyx::voice::{Dial, Gather, Hangup};
/// let call = client.calls().dial(Dial::new("1293384261075731499", "+18005550100", "+18005550101")).await?;
/// let id = call.call_control_id.unwrap();
/// client.calls().gather(&id, Gather::new().maximum_digits(4i64).terminating_digit("#")).await?;
/// client.calls().hangup(&id, Hangup::new()).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Calls<'a>(&'a Client);

impl Client {
    /// Call control applications.
    pub fn call_control_applications(&self) -> CallControlApplications<'_> {
        CallControlApplications(self)
    }
    /// Connections and their live calls.
    pub fn connections(&self) -> Connections<'_> {
        Connections(self)
    }
    /// Dialling and commanding calls.
    pub fn calls(&self) -> Calls<'_> {
        Calls(self)
    }
}

/// A `command_id` for a command that has none, so that a retried command is carried out
/// once (Telnyx ignores a repeated `command_id` on a call within 60 s).
fn with_command_id(body: &impl serde::Serialize) -> Value {
    let mut v = serde_json::to_value(body).unwrap_or(Value::Null);
    if let Value::Object(o) = &mut v
        && o.get("command_id").is_none_or(Value::is_null)
    {
        o.insert("command_id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    }
    v
}

impl Calls<'_> {
    /// `POST /calls`. A `command_id` is filled in when absent, so a retried dial dials once.
    pub async fn dial(&self, req: Dial) -> Result<Call> {
        let body = with_command_id(&req);
        self.0.body_data(Method::POST, "/calls".into(), &body, Retry::Safe).await
    }

    /// `GET /calls/{call_control_id}`.
    pub async fn retrieve(&self, call_control_id: &str) -> Result<Call> {
        self.0.get_data(format!("/calls/{}", seg(call_control_id))).await
    }

    async fn command(
        &self,
        call_control_id: &str,
        action: &str,
        method: Method,
        req: &impl serde::Serialize,
        dedup: bool,
    ) -> Result<CallCommand> {
        let path = format!("/calls/{}/actions/{action}", seg(call_control_id));
        let (body, retry) = if dedup {
            (with_command_id(req), Retry::Safe)
        } else {
            // No dedup key in the schema: only commands that change nothing twice are retried.
            let retry = if action == "siprec_start" { Retry::Once } else { Retry::Safe };
            (serde_json::to_value(req).unwrap_or(Value::Null), retry)
        };
        let r: Data<CallCommand> = self.0.send(Request::with_body(method, path, &body, retry)).await?;
        Ok(r.data)
    }
}
