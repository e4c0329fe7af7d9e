//! Calls: one leg of a phone call controlled through an application, as a state machine.
//!
//! ```text
//!  dial ─► Ringing(outgoing) ──far end answers──► Answered ──hangup / far end / time limit──► Ended
//!  sim  ─► Ringing(incoming) ──answer command──►  Answered ──(bridge, later) ──► Bridged ──► Ended
//!            │ reject / busy / timeout / caller gives up / unreachable ...                 ▲
//!            └─────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! Every transition is a method answering an [`Outcome`]: the webhooks to send (with
//! payloads in the spec's `call.*` shapes), the timers to set (durable jobs the engine
//! schedules), and what a linked leg must learn (a call between two numbers of this server
//! has an outgoing and an incoming leg). A command that does not fit the state is refused
//! with call control's error; a command repeating a `command_id` within a minute is
//! recognised by [`Call::is_repeat`] and ignored. `client_state` given with a command is
//! kept and echoed in every later webhook.

use crate::audio::{self, Sound};
use crate::body::Body;
use crate::error::{ApiError, Code, Result};
use crate::far_end::{self, Behaviour};
use crate::fmt_time;
use crate::media::stream::{StreamSpec, Track};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

pub const KIND: &str = "call";
/// A call's timer (see [`Timer`]).
pub const TIMER_JOB: &str = "call.timer";
/// Dial commands by `command_id`, so a repeated dial answers the first call.
pub const DIAL_COMMAND_KIND: &str = "call_dial_command";

/// A command repeating a `command_id` within this window is ignored.
pub const COMMAND_WINDOW: Duration = Duration::seconds(60);
/// An ended call answers `GET /calls/{id}` this long, then is forgotten (Telnyx keeps call
/// status for 10 minutes).
pub const KEEP_ENDED: Duration = Duration::minutes(10);
/// An incoming call from outside that nobody answers: the caller gives up after this long.
pub const DEFAULT_GIVE_UP_SECS: i64 = 60;
pub const TIMEOUT_RANGE: (i64, i64) = (5, 600);
pub const DEFAULT_TIMEOUT_SECS: i64 = 30;
pub const TIME_LIMIT_RANGE: (i64, i64) = (30, 14_400);
pub const DEFAULT_TIME_LIMIT_SECS: i64 = 14_400;

/// Codecs shown in `call.initiated`.
const CONNECTION_CODECS: &str = "G722,PCMU,PCMA,G729,OPUS,VP8,H264";
const OFFERED_CODECS: &str = "PCMU,PCMA,G722";

pub const AMD_MODES: &[&str] = &["premium", "detect", "detect_beep", "detect_words", "greeting_end", "disabled"];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Incoming,
    Outgoing,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Incoming => "incoming",
            Direction::Outgoing => "outgoing",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "name", rename_all = "snake_case")]
pub enum State {
    /// Outgoing: the destination is being rung. Incoming: offered to the application
    /// ("parked"), waiting for it to answer or reject.
    Ringing,
    /// Answered, not bridged to another call.
    Answered,
    /// Answered and bridged to the call `with` (bridge and transfer, to come).
    Bridged {
        with: String,
    },
    Ended,
}

/// `hangup_cause` values of the spec's `call.hangup`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    CallRejected,
    NormalClearing,
    OriginatorCancel,
    Timeout,
    TimeLimit,
    UserBusy,
    NotFound,
    NoAnswer,
    Unspecified,
}

impl Cause {
    pub fn as_str(self) -> &'static str {
        match self {
            Cause::CallRejected => "call_rejected",
            Cause::NormalClearing => "normal_clearing",
            Cause::OriginatorCancel => "originator_cancel",
            Cause::Timeout => "timeout",
            Cause::TimeLimit => "time_limit",
            Cause::UserBusy => "user_busy",
            Cause::NotFound => "not_found",
            Cause::NoAnswer => "no_answer",
            Cause::Unspecified => "unspecified",
        }
    }
}

/// Who ended the call, as the leg sees it: on an outgoing leg the application's side is
/// the caller; on an incoming leg it is the callee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Caller,
    Callee,
    Unknown,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Caller => "caller",
            Source::Callee => "callee",
            Source::Unknown => "unknown",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hangup {
    pub cause: Cause,
    pub source: Source,
    /// The SIP response code, or `unspecified` when there was none (a BYE).
    pub sip_cause: String,
}

/// The timers a call sets. Each is a durable job; when it fires, [`Call::on_timer`] decides
/// whether it still means anything (a ring timeout after the answer does not).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Timer {
    /// The far end answers (outgoing).
    FarAnswer,
    /// The far end ends the ringing: busy, rejected, unreachable (outgoing).
    FarRefuse,
    /// The far end hangs up an answered call.
    FarHangup,
    /// Outgoing: `timeout_secs` passed without an answer.
    RingTimeout,
    /// Incoming: the caller stops waiting.
    CallerGivesUp,
    /// Incoming: the application gave no command within `first_command_timeout_secs`.
    FirstCommand,
    /// `time_limit_secs` after the answer.
    TimeLimit,
    /// Answering machine detection decides.
    MachineDetection,
    /// The ended call is forgotten (handled by the engine).
    Expire,
    /// The playing prompt (speak or playback) number `seq` ends.
    MediaEnd { seq: u32 },
    /// The gather number `seq` may have timed out (a digit since may have moved its deadline).
    GatherCheck { seq: u32 },
    /// The far end reports on the REFER number `seq`.
    ReferEnd { seq: u32 },
    /// `max_wait_time_secs` of the enqueue number `seq` passed.
    QueueTimeout { seq: u32 },
    /// The far end presses the digits scheduled as number `seq` (see [`Call::far_presses`]).
    FarPress { seq: u32 },
}

/// A webhook to send.
#[derive(Clone, Debug, PartialEq)]
pub struct Emit {
    pub event_type: &'static str,
    pub payload: Value,
}

/// What a linked leg must learn from a transition of this one.
#[derive(Clone, Debug, PartialEq)]
pub enum PeerSignal {
    /// The incoming leg was answered: the outgoing leg is answered too.
    Answered,
    /// This leg ended: the other ends with this cause and SIP code.
    Ended { cause: Cause, sip_cause: String },
    /// This leg sent digits (`send_dtmf`, with `w`/`W` pauses, each sounding the given ms):
    /// the other leg's far end presses them.
    Digits(String, u64),
}

/// What a transition produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Outcome {
    pub events: Vec<Emit>,
    pub timers: Vec<(Timer, DateTime<Utc>)>,
    pub peer: Option<PeerSignal>,
    /// Another leg (bridged, or transferred) that must learn of this transition.
    pub link: Option<(String, Link)>,
    /// Recordings finished, to keep for download.
    pub recordings: Vec<SavedRecording>,
    /// What the call's media streams must do (open, send digits, stop), in order.
    pub streams: Vec<StreamOp>,
    /// The call has just ended: the timers it set before are void (a ring timeout, its time
    /// limit, the far end's next move) and are cancelled, not left to fire for nothing.
    /// The timers of this outcome (the ended call's expiry) are kept.
    pub cancel_timers: bool,
}

/// The fields every command shares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Command {
    pub command_id: Option<String>,
    pub client_state: Option<String>,
}

impl Command {
    pub fn parse(body: &Body) -> Result<Command> {
        Ok(Command { command_id: body.opt_str("command_id")?.map(str::to_owned), client_state: client_state(body)? })
    }
}

/// `client_state`: a base64 string.
fn client_state(body: &Body) -> Result<Option<String>> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    let Some(s) = body.opt_str("client_state")? else {
        return Ok(None);
    };
    let ok = [STANDARD.decode(s), URL_SAFE.decode(s), URL_SAFE_NO_PAD.decode(s)].iter().any(|r| r.is_ok());
    if !ok {
        return Err(ApiError::invalid("client_state", "'client_state' must be a valid Base-64 encoded string."));
    }
    Ok(Some(s.to_owned()))
}

/// An E.164 number or a SIP URI (`sip:user@host`).
pub fn is_destination(s: &str) -> bool {
    if crate::numbers::is_e164(s) {
        return s.len() >= 3;
    }
    let Some(rest) = s.strip_prefix("sip:").or_else(|| s.strip_prefix("sips:")) else {
        return false;
    };
    let addr = rest.split(';').next().unwrap_or_default();
    match addr.split_once('@') {
        Some((user, host)) => !user.is_empty() && !host.is_empty() && !addr.chars().any(char::is_whitespace),
        None => false,
    }
}

/// A validated `POST /calls` (the application and the routing are the engine's to check).
#[derive(Clone, Debug, PartialEq)]
pub struct DialRequest {
    pub connection_id: String,
    pub to: String,
    /// DTMF to send once answered (`send_digits_on_answer`, or `to`'s `,digits` suffix).
    pub send_digits: Option<String>,
    pub from: String,
    pub from_display_name: Option<String>,
    pub timeout_secs: i64,
    pub time_limit_secs: i64,
    pub answering_machine_detection: String,
    /// `record: record-from-answer`: how to record from the answer.
    pub record: Option<RecordRequest>,
    /// `stream_url` and its options: a media stream from the answer.
    pub stream: Option<StreamSpec>,
    pub command: Command,
}

/// The longest `send_digits_on_answer`.
pub const MAX_SEND_DIGITS: usize = 64;

fn digits_ok(d: &str) -> bool {
    !d.is_empty() && d.len() <= MAX_SEND_DIGITS && d.chars().all(|c| c.is_ascii_digit() || "*#ABCDwW".contains(c))
}

/// When `send_digits_on_answer` sends its digits: (ms after the answer, digits sent
/// together). A digit sounds [`DIGIT_TONE_MS`]; `w` pauses 0.5 s and `W` 1 s, as Telnyx
/// documents. `"12w3"` sends `12` at once (two tones, 0.5 s) and `3` at 1 s.
pub fn send_schedule(digits: &str) -> Vec<(u64, String)> {
    send_schedule_with(digits, DIGIT_TONE_MS)
}

/// [`send_schedule`] with digits sounding `tone_ms` each (`send_dtmf`'s `duration_millis`).
pub fn send_schedule_with(digits: &str, tone_ms: u64) -> Vec<(u64, String)> {
    let mut out: Vec<(u64, String)> = Vec::new();
    let mut at = 0;
    let mut group = String::new();
    let mut group_at = 0;
    for c in digits.chars() {
        let pause = match c {
            'w' => 500,
            'W' => 1_000,
            _ => {
                if group.is_empty() {
                    group_at = at;
                }
                group.push(c);
                at += tone_ms;
                continue;
            }
        };
        if !group.is_empty() {
            out.push((group_at, std::mem::take(&mut group)));
        }
        at += pause;
    }
    if !group.is_empty() {
        out.push((group_at, group));
    }
    out
}

impl DialRequest {
    pub fn parse(body: &Body) -> Result<DialRequest> {
        let connection_id = body.req_str("connection_id")?.to_owned();
        let to_raw = match body.raw("to") {
            None => return Err(ApiError::missing("to").detail("The 'to' parameter is required and cannot be blank.")),
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(Value::Array(items)) if items.len() == 1 && items[0].is_string() => {
                items[0].as_str().unwrap_or_default().to_owned()
            }
            Some(Value::Array(items)) if items.len() > 1 => {
                return Err(ApiError::invalid(
                    "to",
                    "Dialtone dials one destination per call; give 'to' as one string.",
                ));
            }
            Some(Value::String(_)) => {
                return Err(ApiError::missing("to").detail("The 'to' parameter is required and cannot be blank."));
            }
            Some(_) => {
                return Err(ApiError::new(Code::InvalidType)
                    .detail("The 'to' parameter must be a string or an array of strings.")
                    .pointer("/to"));
            }
        };
        // `+18005550100,200`: digits to press once answered.
        let (to, suffix_digits) = match to_raw.split_once(',') {
            Some((t, d)) if !t.starts_with("sip") => (t.to_owned(), Some(d.to_owned())),
            _ => (to_raw.clone(), None),
        };
        if !is_destination(&to) {
            return Err(ApiError::new(Code::NotE164)
                .detail("The 'to' parameter must be in E164 format or a SIP URI.")
                .pointer("/to"));
        }
        let from = body.req_str("from")?.to_owned();
        if !is_destination(&from) {
            return Err(ApiError::new(Code::NotE164)
                .detail("The 'from' parameter must be in E164 format or a SIP URI.")
                .pointer("/from"));
        }
        let send_digits = match body.opt_str("send_digits_on_answer")? {
            Some(d) => Some(d.to_owned()),
            None => suffix_digits,
        };
        if let Some(d) = &send_digits
            && !digits_ok(d)
        {
            let field = if body.has("send_digits_on_answer") { "send_digits_on_answer" } else { "to" };
            return Err(ApiError::invalid(
                field,
                "DTMF digits are 0-9, A-D, *, # and w/W (pauses), at most 64 characters.",
            ));
        }
        let from_display_name = body.opt_str("from_display_name")?.map(str::to_owned);
        if from_display_name.as_ref().is_some_and(|n| n.chars().count() > 128) {
            return Err(ApiError::invalid("from_display_name", "'from_display_name' is at most 128 characters."));
        }
        let (lo, hi) = TIMEOUT_RANGE;
        let timeout_secs = body.opt_int_in("timeout_secs", lo, hi)?.unwrap_or(DEFAULT_TIMEOUT_SECS);
        let (lo, hi) = TIME_LIMIT_RANGE;
        let time_limit_secs = body.opt_int_in("time_limit_secs", lo, hi)?.unwrap_or(DEFAULT_TIME_LIMIT_SECS);
        let amd = body.opt_enum("answering_machine_detection", AMD_MODES)?.unwrap_or("disabled").to_owned();
        let record = match body.opt_enum("record", &["record-from-answer"])? {
            Some(_) => Some(RecordRequest {
                format: body.opt_enum("record_format", &["wav", "mp3"])?.unwrap_or("mp3").to_owned(),
                channels: body.opt_enum("record_channels", &["single", "dual"])?.unwrap_or("dual").to_owned(),
            }),
            None => None,
        };
        for (field, allowed) in [
            ("media_encryption", &["disabled", "SRTP", "DTLS"][..]),
            ("record_channels", &["single", "dual"]),
            ("record_format", &["wav", "mp3"]),
            ("record_track", &["both", "inbound", "outbound"]),
            ("record_trim", &["trim-silence"]),
            ("sip_transport_protocol", &["UDP", "TCP", "TLS"]),
            ("sip_region", &["US", "Europe", "Canada", "Australia", "Middle East"]),
            ("stream_track", &["inbound_track", "outbound_track", "both_tracks"]),
            ("supervisor_role", &["barge", "whisper", "monitor"]),
            ("privacy", &["id", "none"]),
        ] {
            body.opt_enum(field, allowed)?;
        }
        body.opt_int_in("record_max_length", 0, 43_200)?;
        if matches!(body.opt_str("media_encryption")?, Some("SRTP" | "DTLS")) && !to.starts_with("sip") {
            let mut e = ApiError::new(Code::InvalidValue)
                .detail("SRTP media encryption is not supported for PSTN calls.")
                .pointer("/media_encryption");
            e.code_override = Some(Box::new(("10011", "Media encryption not supported for PSTN calls".to_owned())));
            return Err(e);
        }
        Ok(DialRequest {
            connection_id,
            to,
            send_digits,
            from,
            from_display_name,
            timeout_secs,
            time_limit_secs,
            answering_machine_detection: amd,
            record,
            stream: StreamSpec::parse(body, false)?,
            command: Command::parse(body)?,
        })
    }
}

/// The identifiers of a new leg.
#[derive(Clone, Debug, PartialEq)]
pub struct Ids {
    pub call_control_id: String,
    pub call_leg_id: String,
    pub call_session_id: String,
}

impl Ids {
    /// Fresh ids; `session` joins the leg to an existing call session.
    pub fn new(session: Option<&str>) -> Ids {
        use base64::Engine as _;
        let mut bytes = [0u8; 40];
        rand::Rng::fill(&mut rand::thread_rng(), &mut bytes[..]);
        Ids {
            call_control_id: format!("v3:{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)),
            // Time-ordered, as Telnyx's (v1) are: legs list in the order they were made.
            call_leg_id: uuid::Uuid::now_v7().to_string(),
            call_session_id: session.map(str::to_owned).unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        }
    }
}

/// How a new leg starts (what the engine has decided from the application and the network).
#[derive(Clone, Debug, PartialEq)]
pub struct Setup {
    pub ids: Ids,
    pub account_id: String,
    pub connection_id: String,
    pub from: String,
    pub to: String,
    pub caller_id_name: Option<String>,
    /// Where the webhooks go: the application's routing with the command's overrides.
    pub routing: crate::webhooks::Routing,
    /// The tags of the number called (incoming).
    pub tags: Vec<String>,
    /// Report SHAKEN/STIR in `call.initiated` (incoming, when the application asks).
    pub shaken_stir: bool,
    /// The linked leg, for a call between two numbers of this server.
    pub peer: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Call {
    pub call_control_id: String,
    pub call_leg_id: String,
    pub call_session_id: String,
    pub account_id: String,
    pub connection_id: String,
    pub direction: Direction,
    pub from: String,
    pub to: String,
    pub caller_id_name: Option<String>,
    pub state: State,
    pub client_state: Option<String>,
    pub routing: crate::webhooks::Routing,
    pub tags: Vec<String>,
    pub shaken_stir: bool,
    pub time_limit_secs: i64,
    pub answering_machine_detection: String,
    pub send_digits: Option<String>,
    /// What the destination does (outgoing calls to outside destinations).
    pub far_end: Option<Behaviour>,
    /// The other leg of a call between two numbers of this server.
    pub peer: Option<String>,
    pub hangup: Option<Hangup>,
    pub start_time: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    /// Recent `command_id`s and when they came.
    pub commands: Vec<(String, DateTime<Utc>)>,
    /// Timers set so far (numbers each timer's job).
    pub timers_set: u32,
    /// Prompts: the first plays, the others wait their turn.
    #[serde(default)]
    pub media: Vec<Media>,
    /// The running gather.
    #[serde(default)]
    pub gather: Option<Gather>,
    /// Numbers prompts and gathers.
    #[serde(default)]
    pub media_seq: u32,
    /// The leg a transfer dialled this one for: bridged with it on the answer.
    #[serde(default)]
    pub transfer_of: Option<String>,
    /// Stay up (answered) when the bridged leg ends, instead of hanging up with it.
    #[serde(default)]
    pub park_after_unbridge: bool,
    #[serde(default)]
    pub refer: Option<Refer>,
    #[serde(default)]
    pub recording: Option<Recording>,
    /// Services running (fork, siprec, streaming, transcription, suppression).
    #[serde(default)]
    pub services: Vec<Service>,
    #[serde(default)]
    pub supervisor_role: Option<String>,
    #[serde(default)]
    pub queue: Option<Queued>,
    /// Digits the far end will press: (timer number, digits).
    #[serde(default)]
    pub far_presses: Vec<(u32, String)>,
    /// The AI assistant / AI gather / conversation relay session.
    #[serde(default)]
    pub conversation: Option<Conversation>,
    /// A recording to start on the answer (`record: record-from-answer` on dial).
    #[serde(default)]
    pub pending_recording: Option<Recording>,
    /// A media stream to start on the answer (`stream_url` on dial).
    #[serde(default)]
    pub pending_stream: Option<StreamSpec>,
    /// A dialled call counted in its account's live outbound calls
    /// ([`crate::accounts::outbound_calls_key`]) until it ends.
    #[serde(default)]
    pub holds_channel: bool,
    /// Digits a scripted far end presses once answered, and when (ms after the answer).
    #[serde(default)]
    pub far_script_presses: Option<(u64, String)>,
    /// The far end follows a script (its presses replace a magic number's).
    #[serde(default)]
    pub far_scripted: bool,
    /// The call's sounds, in ms from the answer: what the far end sends (inbound: its
    /// script's audio) and what this leg sends it (outbound: `send_digits_on_answer`).
    #[serde(default)]
    pub sounds: Vec<(Track, Sound)>,
    /// Incoming leg of a call between two numbers of this server: the digits the calling
    /// leg sends once this one answers (its `send_digits_on_answer`).
    #[serde(default)]
    pub caller_digits: Option<String>,
}

impl Call {
    fn new(setup: Setup, direction: Direction, now: DateTime<Utc>) -> Call {
        Call {
            call_control_id: setup.ids.call_control_id,
            call_leg_id: setup.ids.call_leg_id,
            call_session_id: setup.ids.call_session_id,
            account_id: setup.account_id,
            connection_id: setup.connection_id,
            direction,
            from: setup.from,
            to: setup.to,
            caller_id_name: setup.caller_id_name,
            state: State::Ringing,
            client_state: None,
            routing: setup.routing,
            tags: setup.tags,
            shaken_stir: setup.shaken_stir,
            time_limit_secs: DEFAULT_TIME_LIMIT_SECS,
            answering_machine_detection: "disabled".into(),
            send_digits: None,
            far_end: None,
            peer: setup.peer,
            hangup: None,
            start_time: now,
            answered_at: None,
            end_time: None,
            commands: Vec::new(),
            timers_set: 0,
            media: Vec::new(),
            gather: None,
            media_seq: 0,
            transfer_of: None,
            park_after_unbridge: false,
            refer: None,
            recording: None,
            services: Vec::new(),
            supervisor_role: None,
            queue: None,
            far_presses: Vec::new(),
            conversation: None,
            pending_recording: None,
            pending_stream: None,
            holds_channel: false,
            far_script_presses: None,
            far_scripted: false,
            sounds: Vec::new(),
            caller_digits: None,
        }
    }

    /// The far end follows `script` (when set): its presses and its audio.
    pub fn follow_script(&mut self, script: Option<&far_end::Script>) {
        self.far_scripted = script.is_some();
        self.far_script_presses = script.and_then(|s| s.presses());
        let sounds = script.map(|s| s.sounds()).unwrap_or_default();
        self.sounds.extend(sounds.into_iter().map(|s| (Track::Inbound, s)));
    }

    /// The call's sounds still to be heard at `now` (whole or their rest), in ms from
    /// `now`: what a media stream opened now plays.
    pub fn sounds_ahead(&self, now: DateTime<Utc>) -> Vec<(Track, Sound)> {
        let Some(answered) = self.answered_at.filter(|_| self.is_alive()) else { return Vec::new() };
        let elapsed = (now - answered).num_milliseconds().max(0) as u64;
        self.sounds.iter().filter_map(|(t, s)| s.window(elapsed, u64::MAX, 0).map(|w| (*t, w))).collect()
    }

    /// Whether the call gives back its outbound channel now: it held one and has ended.
    /// Clears the hold, so the channel is given back once, in the commit that ends the call.
    pub fn release_channel(&mut self) -> bool {
        if self.holds_channel && !self.is_alive() {
            self.holds_channel = false;
            return true;
        }
        false
    }

    /// `POST /calls`: an outgoing leg ringing `far_end` (or the peer leg when `None`).
    pub fn dial(setup: Setup, req: &DialRequest, far_end: Option<Behaviour>, now: DateTime<Utc>) -> (Call, Outcome) {
        let mut call = Call::new(setup, Direction::Outgoing, now);
        call.client_state = req.command.client_state.clone();
        call.time_limit_secs = req.time_limit_secs;
        call.answering_machine_detection = req.answering_machine_detection.clone();
        call.send_digits = req.send_digits.clone();
        call.far_end = far_end.clone();
        call.pending_stream = req.stream.clone();
        if let Some(id) = &req.command.command_id {
            call.commands.push((id.clone(), now));
        }
        let mut out = Outcome::default();
        call.emit(&mut out, "call.initiated");
        out.timers.push((Timer::RingTimeout, now + Duration::seconds(req.timeout_secs)));
        match far_end {
            Some(Behaviour::Answer { ring_ms, .. }) => out.timers.push((Timer::FarAnswer, now + ms(ring_ms))),
            Some(
                Behaviour::Busy { after_ms } | Behaviour::Reject { after_ms } | Behaviour::Unreachable { after_ms },
            ) => out.timers.push((Timer::FarRefuse, now + ms(after_ms))),
            Some(Behaviour::NoAnswer) | None => {}
        }
        (call, out)
    }

    /// A call arriving at a number routed to an application: offered to it ("parked").
    /// The caller gives up after `give_up_secs` (none for a leg whose caller is another
    /// leg: that leg's own timeout ends both); `first_command_secs` hangs up a call the
    /// application leaves alone (the application's `first_command_timeout`).
    pub fn incoming(
        setup: Setup,
        give_up_secs: Option<i64>,
        first_command_secs: Option<i64>,
        now: DateTime<Utc>,
    ) -> (Call, Outcome) {
        let call = Call::new(setup, Direction::Incoming, now);
        let mut out = Outcome::default();
        call.emit(&mut out, "call.initiated");
        if let Some(s) = give_up_secs {
            out.timers.push((Timer::CallerGivesUp, now + Duration::seconds(s)));
        }
        if let Some(s) = first_command_secs {
            out.timers.push((Timer::FirstCommand, now + Duration::seconds(s)));
        }
        (call, out)
    }

    pub fn is_alive(&self) -> bool {
        self.state != State::Ended
    }

    pub fn is_answered(&self) -> bool {
        matches!(self.state, State::Answered | State::Bridged { .. })
    }

    /// Whether `cmd` repeats a command of the last minute (to be ignored). Otherwise it is
    /// remembered, and its `client_state` kept for the webhooks that follow.
    pub fn is_repeat(&mut self, cmd: &Command, now: DateTime<Utc>) -> bool {
        self.commands.retain(|(_, at)| now - *at < COMMAND_WINDOW);
        if let Some(id) = &cmd.command_id {
            if self.commands.iter().any(|(c, _)| c == id) {
                return true;
            }
            self.commands.push((id.clone(), now));
        }
        false
    }

    fn accept(&mut self, cmd: &Command) {
        if let Some(cs) = &cmd.client_state {
            self.client_state = Some(cs.clone());
        }
    }

    fn alive_or_refuse(&self) -> Result<()> {
        if self.is_alive() { Ok(()) } else { Err(ApiError::new(Code::CallEnded)) }
    }

    /// `actions/answer`: only a ringing incoming call.
    pub fn answer(&mut self, cmd: &Command, now: DateTime<Utc>) -> Result<Outcome> {
        self.alive_or_refuse()?;
        if self.direction == Direction::Outgoing {
            return Err(ApiError::new(Code::CallStateConflict)
                .detail("Only an incoming call can be answered; the destination answers an outgoing one."));
        }
        if self.is_answered() {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call has already been answered."));
        }
        self.accept(cmd);
        let mut out = self.answered(now);
        out.peer = self.peer.as_ref().map(|_| PeerSignal::Answered);
        // The calling leg (of this server) sends its digits: the far end presses them here.
        if let Some(digits) = self.caller_digits.take() {
            for (after, group) in send_schedule(&digits) {
                out.timers.push(self.schedule_press(&group, after, now));
            }
        }
        Ok(out)
    }

    /// `actions/reject`: a ringing incoming call, with `CALL_REJECTED` or `USER_BUSY`.
    pub fn reject(&mut self, cmd: &Command, cause: &str, now: DateTime<Utc>) -> Result<Outcome> {
        self.alive_or_refuse()?;
        if self.direction == Direction::Outgoing {
            return Err(ApiError::new(Code::CallStateConflict).detail("Only an incoming call can be rejected."));
        }
        if self.is_answered() {
            return Err(ApiError::new(Code::CallStateConflict)
                .detail("An answered call cannot be rejected; hang it up instead."));
        }
        let (cause, sip) = match cause {
            "USER_BUSY" => (Cause::UserBusy, "486"),
            _ => (Cause::CallRejected, "603"),
        };
        self.accept(cmd);
        Ok(self.end(Hangup { cause, source: Source::Callee, sip_cause: sip.into() }, now))
    }

    /// `actions/hangup`: any live call. The application's side ends it.
    pub fn hangup(&mut self, cmd: &Command, now: DateTime<Utc>) -> Result<Outcome> {
        self.alive_or_refuse()?;
        self.accept(cmd);
        let ours = self.our_side();
        let h = match (self.is_answered(), self.direction) {
            (true, _) => Hangup { cause: Cause::NormalClearing, source: ours, sip_cause: "unspecified".into() },
            (false, Direction::Outgoing) => {
                Hangup { cause: Cause::OriginatorCancel, source: ours, sip_cause: "487".into() }
            }
            (false, Direction::Incoming) => {
                Hangup { cause: Cause::CallRejected, source: ours, sip_cause: "603".into() }
            }
        };
        Ok(self.end(h, now))
    }

    /// The far end hangs up now (simulation API): the outside caller of an incoming call,
    /// the destination of an outgoing one (declining it while it rings).
    pub fn far_hangup(&mut self, now: DateTime<Utc>) -> Result<Outcome> {
        self.alive_or_refuse()?;
        let theirs = self.their_side();
        Ok(match (self.is_answered(), self.direction) {
            (true, _) => {
                self.end(Hangup { cause: Cause::NormalClearing, source: theirs, sip_cause: "unspecified".into() }, now)
            }
            (false, Direction::Incoming) => self.on_timer(Timer::CallerGivesUp, now),
            (false, Direction::Outgoing) => {
                self.end(Hangup { cause: Cause::CallRejected, source: theirs, sip_cause: "603".into() }, now)
            }
        })
    }

    /// A command other than answer/reject/hangup checks the call with this: alive, and
    /// answered (90034) when the command needs media.
    pub fn require_answered(&self) -> Result<()> {
        self.alive_or_refuse()?;
        if self.is_answered() { Ok(()) } else { Err(ApiError::new(Code::CallNotAnswered)) }
    }

    /// A timer fired. Timers that no longer apply change nothing.
    pub fn on_timer(&mut self, timer: Timer, now: DateTime<Utc>) -> Outcome {
        if !self.is_alive() {
            return Outcome::default();
        }
        let ringing = self.state == State::Ringing;
        let outgoing = self.direction == Direction::Outgoing;
        match timer {
            Timer::FarAnswer if ringing && outgoing => {
                let mut out = self.answered(now);
                if let Some(Behaviour::Answer { hangup_after_ms: Some(after), .. }) = self.far_end {
                    out.timers.push((Timer::FarHangup, now + ms(after)));
                }
                if self.answering_machine_detection != "disabled" {
                    out.timers.push((Timer::MachineDetection, now + ms(far_end::MACHINE_DETECTION_MS)));
                }
                let presses = match self.far_scripted {
                    true => self.far_script_presses.clone(),
                    false => far_end::presses(&self.to).map(|(after, d)| (after, d.to_owned())),
                };
                if let Some((after, digits)) = presses {
                    out.timers.push(self.schedule_press(&digits, after, now));
                }
                out
            }
            Timer::FarRefuse if ringing && outgoing => {
                let (cause, sip) = match self.far_end {
                    Some(Behaviour::Busy { .. }) => (Cause::UserBusy, "486"),
                    Some(Behaviour::Reject { .. }) => (Cause::CallRejected, "603"),
                    _ => (Cause::NotFound, "404"),
                };
                self.end(Hangup { cause, source: Source::Callee, sip_cause: sip.into() }, now)
            }
            Timer::RingTimeout if ringing && outgoing => {
                self.end(Hangup { cause: Cause::Timeout, source: Source::Caller, sip_cause: "487".into() }, now)
            }
            Timer::CallerGivesUp if ringing && !outgoing => self
                .end(Hangup { cause: Cause::OriginatorCancel, source: Source::Caller, sip_cause: "487".into() }, now),
            Timer::FirstCommand if ringing && !outgoing => {
                self.end(Hangup { cause: Cause::Timeout, source: Source::Callee, sip_cause: "unspecified".into() }, now)
            }
            Timer::TimeLimit if self.is_answered() => {
                let ours = self.our_side();
                self.end(Hangup { cause: Cause::TimeLimit, source: ours, sip_cause: "unspecified".into() }, now)
            }
            Timer::FarHangup if self.is_answered() => {
                let theirs = self.their_side();
                self.end(Hangup { cause: Cause::NormalClearing, source: theirs, sip_cause: "unspecified".into() }, now)
            }
            Timer::MachineDetection if self.is_answered() => {
                let machine = matches!(self.far_end, Some(Behaviour::Answer { machine: true, .. }));
                let mut out = Outcome::default();
                let premium = self.answering_machine_detection == "premium";
                let event_type =
                    if premium { "call.machine.premium.detection.ended" } else { "call.machine.detection.ended" };
                let mut payload = self.base_payload();
                payload["result"] = json!(match (machine, premium) {
                    (true, _) => "machine",
                    (false, true) => "human_residence",
                    (false, false) => "human",
                });
                out.events.push(Emit { event_type, payload });
                out
            }
            Timer::MediaEnd { .. } | Timer::GatherCheck { .. } if self.is_answered() => self.on_media_timer(timer, now),
            Timer::ReferEnd { seq } if self.is_answered() => self.on_refer_timer(seq, now),
            Timer::QueueTimeout { seq } if self.is_answered() => self.on_queue_timer(seq, now),
            Timer::FarPress { seq } if self.is_answered() => {
                let Some(i) = self.far_presses.iter().position(|(s, _)| *s == seq) else {
                    return Outcome::default();
                };
                let (_, digits) = self.far_presses.remove(i);
                self.far_dtmf(&digits, now).unwrap_or_default()
            }
            _ => Outcome::default(),
        }
    }

    /// The linked leg changed: the incoming leg was answered (this outgoing leg is
    /// answered too), or it ended (this one ends with it).
    pub fn on_peer(&mut self, signal: &PeerSignal, now: DateTime<Utc>) -> Outcome {
        if !self.is_alive() {
            return Outcome::default();
        }
        match signal {
            PeerSignal::Answered if self.state == State::Ringing && self.direction == Direction::Outgoing => {
                self.answered(now)
            }
            PeerSignal::Answered => Outcome::default(),
            PeerSignal::Digits(digits, tone_ms) if self.is_answered() => {
                let mut out = Outcome::default();
                for (after, group) in send_schedule_with(digits, *tone_ms) {
                    out.timers.push(self.schedule_press(&group, after, now));
                }
                out
            }
            PeerSignal::Digits(..) => Outcome::default(),
            PeerSignal::Ended { cause, sip_cause } => {
                let theirs = self.their_side();
                let mut out = self.end(Hangup { cause: *cause, source: theirs, sip_cause: sip_cause.clone() }, now);
                // The other leg already ended: nothing to tell it.
                out.peer = None;
                out
            }
        }
    }

    fn our_side(&self) -> Source {
        match self.direction {
            Direction::Outgoing => Source::Caller,
            Direction::Incoming => Source::Callee,
        }
    }

    fn their_side(&self) -> Source {
        match self.direction {
            Direction::Outgoing => Source::Callee,
            Direction::Incoming => Source::Caller,
        }
    }

    fn answered(&mut self, now: DateTime<Utc>) -> Outcome {
        self.state = State::Answered;
        self.answered_at = Some(now);
        let mut out = Outcome::default();
        self.emit(&mut out, "call.answered");
        out.timers.push((Timer::TimeLimit, now + Duration::seconds(self.time_limit_secs)));
        if let Some(mut r) = self.pending_recording.take() {
            r.started_at = now;
            self.recording = Some(r);
        }
        // An outgoing leg sends its `send_digits_on_answer`: tones on its outbound track.
        if self.direction == Direction::Outgoing
            && let Some(digits) = self.send_digits.clone()
        {
            self.digit_tones(0, &digits, DIGIT_TONE_MS);
        }
        if let Some(spec) = self.pending_stream.take() {
            self.start_stream(&mut out, spec);
        }
        if let Some(original) = self.transfer_of.clone() {
            let bridged = self.bridged_with(&original, now);
            out.events.extend(bridged.events);
            out.link = bridged.link;
        }
        out
    }

    /// Tones for `digits` on the outbound track, from `from_ms` after the answer.
    fn digit_tones(&mut self, from_ms: u64, digits: &str, tone_ms: u64) {
        for (after, group) in send_schedule_with(digits, tone_ms) {
            for i in 0..group.chars().count() as u64 {
                let start = from_ms + after + i * tone_ms;
                self.sounds.push((Track::Outbound, Sound::tone(start, start + tone_ms, audio::DIGIT_HZ)));
            }
        }
    }

    /// `send_dtmf` on an answered leg: a leg of this server at the other end hears the
    /// digits as its far end pressing them (a `call.dtmf.received` each, counted by its
    /// gather); an outside far end gets them as tones on this leg's outbound track (heard
    /// in its recordings and media stream).
    pub(crate) fn send_digits_now(&mut self, out: &mut Outcome, digits: &str, tone_ms: u64, now: DateTime<Utc>) {
        if self.peer.is_some() {
            out.peer = Some(PeerSignal::Digits(digits.to_owned(), tone_ms));
            return;
        }
        let Some(answered) = self.answered_at else { return };
        let from_ms = (now - answered).num_milliseconds().max(0) as u64;
        self.digit_tones(from_ms, digits, tone_ms);
    }

    fn end(&mut self, h: Hangup, now: DateTime<Utc>) -> Outcome {
        let was_alive = self.state != State::Ended;
        let was_answered = self.is_answered();
        let link = match (&self.state, &self.transfer_of) {
            (State::Bridged { with }, _) => Some((with.clone(), Link::Unbridged)),
            (State::Ringing, Some(original)) => Some((original.clone(), Link::TransferFailed)),
            _ => None,
        };
        self.refer = None;
        self.state = State::Ended;
        self.end_time = Some(now);
        // What the linked leg sees.
        let peer = self.peer.as_ref().map(|_| match (was_answered, self.direction) {
            (true, _) => PeerSignal::Ended { cause: Cause::NormalClearing, sip_cause: "unspecified".into() },
            (false, Direction::Outgoing) => {
                PeerSignal::Ended { cause: Cause::OriginatorCancel, sip_cause: "487".into() }
            }
            (false, Direction::Incoming) => match h.cause {
                Cause::CallRejected | Cause::UserBusy => {
                    PeerSignal::Ended { cause: h.cause, sip_cause: h.sip_cause.clone() }
                }
                _ => PeerSignal::Ended { cause: Cause::NoAnswer, sip_cause: "480".into() },
            },
        });
        self.hangup = Some(h);
        let mut out = Outcome::default();
        self.end_media(&mut out);
        let cause = self.hangup.as_ref().map_or("normal_clearing", |h| h.cause.as_str());
        self.end_services(&mut out, cause, now);
        self.end_conversation(&mut out, Some("call_hangup"), now);
        self.emit(&mut out, "call.hangup");
        self.save_recording(&mut out, now);
        out.timers.push((Timer::Expire, now + KEEP_ENDED));
        out.cancel_timers = was_alive;
        out.peer = peer;
        out.link = link;
        out
    }

    fn emit(&self, out: &mut Outcome, event_type: &'static str) {
        out.events.push(Emit { event_type, payload: self.payload(event_type) });
    }

    /// The fields every `call.*` payload has.
    fn base_payload(&self) -> Value {
        let mut v = json!({
            "call_control_id": self.call_control_id,
            "call_leg_id": self.call_leg_id,
            "call_session_id": self.call_session_id,
            "connection_id": self.connection_id,
            "from": self.from,
            "to": self.to,
        });
        if let Some(cs) = &self.client_state {
            v["client_state"] = json!(cs);
        }
        v
    }

    /// The payload of a `call.*` webhook, with the fields the spec's schema for that event
    /// has (fields without a value are left out: the schemas admit no `null` there).
    pub fn payload(&self, event_type: &str) -> Value {
        let mut v = self.base_payload();
        match event_type {
            "call.initiated" => {
                v["direction"] = json!(self.direction.as_str());
                v["state"] = json!(if self.direction == Direction::Incoming { "parked" } else { "bridging" });
                v["caller_id_name"] = json!(self.caller_id_name.clone().unwrap_or_else(|| self.from.clone()));
                v["start_time"] = json!(fmt_time(self.start_time));
                v["connection_codecs"] = json!(CONNECTION_CODECS);
                v["offered_codecs"] = json!(OFFERED_CODECS);
                v["tags"] = json!(self.tags);
                if self.shaken_stir {
                    v["shaken_stir_attestation"] = json!("A");
                    v["shaken_stir_validated"] = json!(true);
                }
            }
            "call.answered" => {
                v["state"] = json!("answered");
                v["start_time"] = json!(fmt_time(self.start_time));
                v["tags"] = json!(self.tags);
            }
            "call.hangup" => {
                v["state"] = json!("hangup");
                v["start_time"] = json!(fmt_time(self.start_time));
                v["tags"] = json!(self.tags);
                let h = self.hangup.clone().unwrap_or(Hangup {
                    cause: Cause::Unspecified,
                    source: Source::Unknown,
                    sip_cause: "unspecified".into(),
                });
                v["hangup_cause"] = json!(h.cause.as_str());
                v["hangup_source"] = json!(h.source.as_str());
                v["sip_hangup_cause"] = json!(h.sip_cause);
                v["call_quality_stats"] = Value::Null;
            }
            _ => {}
        }
        v
    }

    /// Whole seconds from the start to the end (or to `now` while alive).
    pub fn duration_secs(&self, now: DateTime<Utc>) -> i64 {
        (self.end_time.unwrap_or(now) - self.start_time).num_seconds().max(0)
    }

    /// The spec's `Call` (`GET /calls/{id}`).
    pub fn to_json(&self, now: DateTime<Utc>) -> Value {
        let mut v = json!({
            "record_type": "call",
            "call_control_id": self.call_control_id,
            "call_leg_id": self.call_leg_id,
            "call_session_id": self.call_session_id,
            "is_alive": self.is_alive(),
            "call_duration": self.duration_secs(now),
            "start_time": fmt_time(self.start_time),
        });
        if let Some(cs) = &self.client_state {
            v["client_state"] = json!(cs);
        }
        if let Some(end) = self.end_time {
            v["end_time"] = json!(fmt_time(end));
        }
        v
    }

    /// The spec's `CallWithRecordingId` answering a dial: `is_alive` is always `false`
    /// there (dialling is asynchronous), as the spec documents.
    pub fn to_dial_json(&self, now: DateTime<Utc>, recording_id: Option<&str>) -> Value {
        let mut v = self.to_json(now);
        v["is_alive"] = json!(false);
        if let Some(r) = recording_id {
            v["recording_id"] = json!(r);
        }
        v
    }

    /// The spec's `ActiveCall` (`client_state` is required there: `""` when unset).
    pub fn to_active_json(&self, now: DateTime<Utc>) -> Value {
        json!({
            "record_type": "call",
            "call_control_id": self.call_control_id,
            "call_leg_id": self.call_leg_id,
            "call_session_id": self.call_session_id,
            "client_state": self.client_state.clone().unwrap_or_default(),
            "call_duration": self.duration_secs(now),
        })
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    pub fn from_value(v: &Value) -> Option<Call> {
        <Self as serde::Deserialize>::deserialize(v).ok()
    }
}

fn ms(n: u64) -> Duration {
    Duration::milliseconds(n as i64)
}

mod ai;
mod bridge;
mod media;
mod recording;
mod services;
mod streaming;
pub use ai::{AiRequest, Conversation};
pub use bridge::{Link, REFER_MS, Refer};
pub use media::{AudioLength, AudioSource, Gather, Media, PlaybackRequest, Prompt, Request, speak_ms};
pub use recording::{DIGIT_TONE_MS, RECORDING_KIND, RecordRequest, Recording, SavedRecording};
pub use services::{Queued, Service, ServiceRequest};
pub use streaming::{STREAM_JOB, StreamOp};

#[cfg(test)]
mod tests;
