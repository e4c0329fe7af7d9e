//! Commands on an answered call's media: speak and playback (a queue of prompts, each
//! ending on a timer), DTMF in both directions, gathers, and the small commands that only
//! change the call's state (client_state_update, send_sip_info).
//!
//! The engine parses a command into a [`Request`] before touching the call, fetches a
//! playback's audio (I/O stays out of here) and gives its duration, or why it could not be
//! had, in [`AudioLength`].

use super::*;

/// The simulated text-to-speech speaks this many characters per second (about 150 words a
/// minute): a speak of 45 characters lasts 3 s. At least one second.
pub const SPEAK_CHARS_PER_SEC: u64 = 15;
/// Telnyx's limit on a speak's `payload`.
pub const MAX_SPEAK_CHARS: usize = 3_000;
/// DTMF an application sends lasts 100..=500 ms per digit (Telnyx's range).
pub const DTMF_DURATION_RANGE: (i64, i64) = (100, 500);

/// What a prompt plays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Prompt {
    Speak,
    Playback { media_url: Option<String>, media_name: Option<String>, overlay: bool },
}

/// A queued or playing prompt. The first of [`Call::media`] plays; the rest wait.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Media {
    pub prompt: Prompt,
    /// Numbers its end timer, so a stale timer is recognised.
    pub seq: u32,
    /// How long it plays (all loops); `None`: until stopped.
    pub length_ms: Option<u64>,
    pub started: bool,
    /// The prompt of the running gather (gather_using_audio / gather_using_speak).
    pub for_gather: bool,
}

/// A gather collecting the far end's digits.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gather {
    pub seq: u32,
    pub min: usize,
    pub max: usize,
    pub terminating: Option<char>,
    pub valid: String,
    /// After the prompt, how long to wait for the first digit.
    pub first_ms: u64,
    pub inter_ms: u64,
    pub digits: String,
    /// When it times out if no digit comes (`None` while its prompt plays).
    pub deadline: Option<DateTime<Utc>>,
    /// When it ends whatever comes (plain gather's `timeout_millis`).
    pub overall: Option<DateTime<Utc>>,
    pub prompting: bool,
}

/// How long a playback's audio lasts, or why it cannot play (`call.playback.ended`'s
/// status and status_detail).
pub type AudioLength = std::result::Result<u64, (&'static str, String)>;

/// Where a playback's audio comes from (for the engine to fetch or decode).
#[derive(Clone, Debug, PartialEq)]
pub enum AudioSource {
    Url(String),
    /// `playback_content`: base64 audio bytes.
    Content(Vec<u8>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct PlaybackRequest {
    pub source: AudioSource,
    pub media_url: Option<String>,
    pub overlay: bool,
    /// Plays this many times; `None`: until stopped (`"infinity"`).
    pub loops: Option<u32>,
    pub stop: Option<String>,
    /// Filled by the engine once the audio is fetched.
    pub length: Option<AudioLength>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct GatherRequest {
    /// The prompt of gather_using_speak (its length) or gather_using_audio.
    pub speak_chars: Option<usize>,
    pub playback: Option<PlaybackRequest>,
    pub min: usize,
    pub max: usize,
    pub terminating: Option<char>,
    pub valid: String,
    /// Plain gather: wait this long for the first digit, and `timeout_ms` in all.
    pub initial_ms: Option<u64>,
    pub timeout_ms: u64,
    pub inter_ms: u64,
}

/// A parsed command of this module.
#[derive(Clone, Debug, PartialEq)]
pub enum Request {
    ClientStateUpdate,
    /// Digits (with `w`/`W` pauses) this leg sends its far end, each sounding `tone_ms`.
    SendDtmf {
        digits: String,
        tone_ms: u64,
    },
    SendSipInfo,
    Speak {
        chars: usize,
        stop: Option<String>,
    },
    Playback(PlaybackRequest),
    PlaybackStop {
        stop: String,
    },
    Gather(GatherRequest),
    GatherStop,
}

fn spoken_chars(body: &Body, payload: &str) -> Result<usize> {
    let ssml = body.opt_enum("payload_type", &["text", "ssml"])? == Some("ssml");
    let text: String = if ssml {
        // Only the text between tags is spoken.
        let mut inside = false;
        payload
            .chars()
            .filter(|c| match c {
                '<' => {
                    inside = true;
                    false
                }
                '>' => {
                    inside = false;
                    false
                }
                _ => !inside,
            })
            .collect()
    } else {
        payload.to_owned()
    };
    Ok(text.trim().chars().count())
}

fn parse_speak(body: &Body) -> Result<usize> {
    let payload = body.req_str("payload")?;
    if payload.chars().count() > MAX_SPEAK_CHARS {
        return Err(ApiError::invalid("payload", format!("'payload' is at most {MAX_SPEAK_CHARS} characters.")));
    }
    body.req_str("voice")?;
    body.opt_enum("service_level", &["basic", "premium"])?;
    body.opt_str("language")?;
    if let Some(v) = body.raw("voice_settings")
        && !v.is_object()
    {
        return Err(ApiError::new(Code::InvalidType)
            .detail("The 'voice_settings' parameter must be of type 'object'.")
            .pointer("/voice_settings"));
    }
    spoken_chars(body, payload)
}

fn parse_stop(body: &Body) -> Result<Option<String>> {
    Ok(body.opt_enum("stop", &["current", "all"])?.map(str::to_owned))
}

/// `loop`: a positive integer or `"infinity"`.
fn parse_loop(body: &Body) -> Result<Option<u32>> {
    match body.raw("loop") {
        None => Ok(Some(1)),
        Some(Value::String(s)) if s == "infinity" => Ok(None),
        Some(Value::String(s)) => s
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .map(Some)
            .ok_or_else(|| ApiError::invalid("loop", "'loop' is a positive integer or \"infinity\".")),
        Some(Value::Number(n)) => n
            .as_u64()
            .filter(|n| (1..=u64::from(u32::MAX)).contains(n))
            .map(|n| Some(n as u32))
            .ok_or_else(|| ApiError::invalid("loop", "'loop' is a positive integer or \"infinity\".")),
        Some(_) => Err(ApiError::invalid("loop", "'loop' is a positive integer or \"infinity\".")),
    }
}

fn parse_audio(body: &Body, with_loop: bool) -> Result<PlaybackRequest> {
    use base64::Engine as _;
    let url = body.opt_str("audio_url")?;
    let content = body.opt_str("playback_content")?;
    let source = match (url, content, body.opt_str("media_name")?) {
        (Some(u), None, None) => {
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
                return Err(ApiError::invalid("audio_url", "'audio_url' must be an http(s) URL."));
            }
            AudioSource::Url(u.to_owned())
        }
        (None, Some(c), None) => AudioSource::Content(
            base64::engine::general_purpose::STANDARD
                .decode(c)
                .map_err(|_| ApiError::invalid("playback_content", "'playback_content' must be base64 audio."))?,
        ),
        (None, None, Some(_)) => {
            return Err(ApiError::invalid(
                "media_name",
                "Dialtone has no media storage: give the audio as 'audio_url' or 'playback_content'.",
            ));
        }
        (None, None, None) => {
            return Err(ApiError::missing("audio_url")
                .detail("One of 'audio_url', 'media_name' or 'playback_content' is required."));
        }
        _ => {
            return Err(ApiError::invalid(
                "audio_url",
                "Give only one of 'audio_url', 'media_name' and 'playback_content'.",
            ));
        }
    };
    body.opt_enum("audio_type", &["mp3", "wav"])?;
    body.opt_bool("cache_audio")?;
    body.opt_enum("target_legs", &["self", "opposite", "both"])?;
    Ok(PlaybackRequest {
        media_url: url.map(str::to_owned),
        source,
        overlay: body.opt_bool("overlay")?.unwrap_or(false),
        loops: if with_loop { parse_loop(body)? } else { Some(1) },
        stop: if with_loop { parse_stop(body)? } else { None },
        length: None,
    })
}

fn millis(body: &Body, field: &str, default: u64) -> Result<u64> {
    Ok(body.opt_int_in(field, 1, 120_000)?.map_or(default, |n| n as u64))
}

fn parse_gather(body: &Body, action: &str) -> Result<GatherRequest> {
    let min = body.opt_int_in("minimum_digits", 1, 128)?.unwrap_or(1) as usize;
    let max = body.opt_int_in("maximum_digits", 1, 128)?.unwrap_or(128) as usize;
    if min > max {
        return Err(ApiError::invalid("minimum_digits", "'minimum_digits' cannot exceed 'maximum_digits'."));
    }
    let valid = body.opt_str("valid_digits")?.unwrap_or("0123456789#*").to_owned();
    if valid.is_empty() || !valid.chars().all(|c| c.is_ascii_digit() || "*#ABCD".contains(c)) {
        return Err(ApiError::invalid("valid_digits", "'valid_digits' are among 0-9, A-D, * and #."));
    }
    let terminating = match body.opt_str("terminating_digit")? {
        None => Some('#'),
        Some("") => None,
        Some(t) if t.chars().count() == 1 && "0123456789*#ABCD".contains(t) => t.chars().next(),
        Some(_) => {
            return Err(ApiError::invalid("terminating_digit", "'terminating_digit' is one of 0-9, A-D, * or #."));
        }
    };
    if body.opt_str("gather_id")?.is_some_and(|g| g.chars().count() > 40) {
        return Err(ApiError::invalid("gather_id", "'gather_id' is at most 40 characters."));
    }
    body.opt_int_in("maximum_tries", 1, 10)?;
    let (speak_chars, playback, initial_ms) = match action {
        "gather_using_speak" => (Some(parse_speak(body)?), None, None),
        "gather_using_audio" => (None, Some(parse_audio(body, false)?), None),
        _ => (None, None, Some(millis(body, "initial_timeout_millis", 5_000)?)),
    };
    Ok(GatherRequest {
        speak_chars,
        playback,
        min,
        max,
        terminating,
        valid,
        initial_ms,
        timeout_ms: millis(body, "timeout_millis", 60_000)?,
        inter_ms: millis(body, "inter_digit_timeout_millis", 5_000)?,
    })
}

impl Request {
    /// Reads the body of `actions/{action}` (an action of this module).
    pub fn parse(action: &str, body: &Body) -> Result<Request> {
        Ok(match action {
            "client_state_update" => {
                body.req_str("client_state")?;
                Request::ClientStateUpdate
            }
            "send_dtmf" => {
                let digits = body.req_str("digits")?;
                if !digits.chars().all(|c| c.is_ascii_digit() || "*#ABCDwW".contains(c)) {
                    return Err(ApiError::invalid("digits", "DTMF digits are 0-9, A-D, *, # and w/W (pauses)."));
                }
                let (lo, hi) = DTMF_DURATION_RANGE;
                let tone_ms = body.opt_int_in("duration_millis", lo, hi)?.map_or(DIGIT_TONE_MS, |d| d as u64);
                Request::SendDtmf { digits: digits.to_owned(), tone_ms }
            }
            "send_sip_info" => {
                let ct = body.req_str("content_type")?;
                if !ct.contains('/') {
                    return Err(ApiError::invalid("content_type", "'content_type' is a MIME type (type/subtype)."));
                }
                body.req_str("body")?;
                Request::SendSipInfo
            }
            "speak" => {
                body.opt_enum("target_legs", &["self", "opposite", "both"])?;
                Request::Speak { chars: parse_speak(body)?, stop: parse_stop(body)? }
            }
            "playback_start" => Request::Playback(parse_audio(body, true)?),
            "playback_stop" => {
                Request::PlaybackStop { stop: body.opt_enum("stop", &["current", "all"])?.unwrap_or("all").to_owned() }
            }
            "gather_stop" => Request::GatherStop,
            _ => Request::Gather(parse_gather(body, action)?),
        })
    }
}

/// How long a speak of `chars` characters lasts.
pub fn speak_ms(chars: usize) -> u64 {
    (chars as u64 * 1000).div_ceil(SPEAK_CHARS_PER_SEC).max(1000)
}

impl Call {
    /// A command of this module on a live call. client_state_update works on any live
    /// call; the others need it answered (90034).
    pub fn command(&mut self, cmd: &Command, req: Request, now: DateTime<Utc>) -> Result<Outcome> {
        match req {
            Request::ClientStateUpdate => self.alive_or_refuse()?,
            _ => self.require_answered()?,
        }
        self.accept(cmd);
        let mut out = Outcome::default();
        match req {
            Request::ClientStateUpdate | Request::SendSipInfo => {}
            Request::SendDtmf { digits, tone_ms } => self.send_digits_now(&mut out, &digits, tone_ms, now),
            Request::Speak { chars, stop } => {
                self.stop_media(&mut out, stop.as_deref(), |_| true, now);
                self.queue_len(&mut out, Prompt::Speak, Some(speak_ms(chars)), false, now);
            }
            Request::Playback(p) => {
                self.stop_media(&mut out, p.stop.as_deref(), |_| true, now);
                self.queue_playback(&mut out, p, false, now);
            }
            Request::PlaybackStop { stop } => {
                self.stop_media(&mut out, Some(&stop), |m| matches!(m.prompt, Prompt::Playback { .. }), now);
            }
            Request::GatherStop => self.end_gather(&mut out, "cancelled", now),
            Request::Gather(g) => {
                // A new gather replaces a running one.
                self.end_gather(&mut out, "cancelled", now);
                self.media_seq += 1;
                let prompting = g.speak_chars.is_some() || g.playback.is_some();
                self.gather = Some(Gather {
                    seq: self.media_seq,
                    min: g.min,
                    max: g.max,
                    terminating: g.terminating,
                    valid: g.valid.clone(),
                    first_ms: if prompting { g.timeout_ms } else { g.initial_ms.unwrap_or(5_000) },
                    inter_ms: g.inter_ms,
                    digits: String::new(),
                    deadline: None,
                    overall: (!prompting).then(|| now + ms(g.timeout_ms)),
                    prompting,
                });
                if let Some(chars) = g.speak_chars {
                    self.queue_len(&mut out, Prompt::Speak, Some(speak_ms(chars)), true, now);
                } else if let Some(p) = g.playback {
                    self.queue_playback(&mut out, p, true, now);
                } else {
                    self.arm_gather(&mut out, now);
                }
            }
        }
        Ok(out)
    }

    /// The far end presses `digits` now: a `call.dtmf.received` each, fed to the running
    /// gather (which a digit ends or extends, and whose prompt it interrupts).
    pub fn far_dtmf(&mut self, digits: &str, now: DateTime<Utc>) -> Result<Outcome> {
        self.require_answered()?;
        self.record_digits(digits.chars().count(), now);
        let mut out = Outcome::default();
        if let Some(spec) = self.stream() {
            out.streams.push(StreamOp::Dtmf { stream_id: spec.stream_id.clone(), digits: digits.to_owned() });
        }
        for d in digits.chars() {
            let mut p = self.base_payload();
            p["digit"] = json!(d.to_string());
            out.events.push(Emit { event_type: "call.dtmf.received", payload: p });
            let Some(g) = &mut self.gather else { continue };
            if Some(d) == g.terminating {
                let status = g.verdict();
                self.end_gather(&mut out, status, now);
                continue;
            }
            g.digits.push(d);
            if g.digits.chars().count() >= g.max {
                let status = g.verdict();
                self.end_gather(&mut out, status, now);
                continue;
            }
            let prompting = g.prompting;
            g.prompting = false;
            if prompting {
                self.drop_gather_prompt(&mut out, now);
            }
            if let Some(g) = &mut self.gather {
                g.deadline = Some(now + ms(g.inter_ms));
            }
            self.arm_gather(&mut out, now);
        }
        Ok(out)
    }

    /// The far end will press `digits` `after_ms` from now: the timer to set.
    pub fn schedule_press(&mut self, digits: &str, after_ms: u64, now: DateTime<Utc>) -> (Timer, DateTime<Utc>) {
        self.media_seq += 1;
        self.far_presses.push((self.media_seq, digits.to_owned()));
        (Timer::FarPress { seq: self.media_seq }, now + ms(after_ms))
    }

    /// The far end presses `digits` after `delay_ms` (simulation API): at once when 0.
    pub fn far_dtmf_after(&mut self, digits: &str, delay_ms: u64, now: DateTime<Utc>) -> Result<Outcome> {
        if delay_ms == 0 {
            return self.far_dtmf(digits, now);
        }
        self.require_answered()?;
        let timer = self.schedule_press(digits, delay_ms, now);
        Ok(Outcome { timers: vec![timer], ..Outcome::default() })
    }

    /// A media or gather timer fired (see [`Timer::MediaEnd`], [`Timer::GatherCheck`]).
    pub(super) fn on_media_timer(&mut self, timer: Timer, now: DateTime<Utc>) -> Outcome {
        let mut out = Outcome::default();
        match timer {
            Timer::MediaEnd { seq } if self.media.first().is_some_and(|m| m.seq == seq && m.started) => {
                let m = self.media.remove(0);
                self.emit_ended(&mut out, &m, "completed", None);
                if m.for_gather
                    && let Some(g) = &mut self.gather
                {
                    g.prompting = false;
                    g.deadline = Some(now + ms(g.first_ms));
                    self.arm_gather(&mut out, now);
                }
                self.start_next(&mut out, now);
            }
            Timer::GatherCheck { seq } => {
                let Some(g) = &self.gather else { return out };
                let due = [g.deadline, g.overall].into_iter().flatten().min();
                if g.seq == seq && due.is_some_and(|d| d <= now) {
                    let status = if g.digits.is_empty() { "timeout" } else { g.verdict() };
                    self.end_gather(&mut out, status, now);
                }
            }
            _ => {}
        }
        out
    }

    /// The call ends: what plays ends with `call_hangup`, and so does the gather.
    pub(super) fn end_media(&mut self, out: &mut Outcome) {
        if let Some(m) = self.media.first().filter(|m| m.started).cloned() {
            self.emit_ended(out, &m, "call_hangup", None);
        }
        self.media.clear();
        if let Some(g) = self.gather.take() {
            self.emit_gather_ended(out, &g, "call_hangup");
        }
    }

    fn queue_playback(&mut self, out: &mut Outcome, p: PlaybackRequest, for_gather: bool, now: DateTime<Utc>) {
        let prompt = Prompt::Playback { media_url: p.media_url.clone(), media_name: None, overlay: p.overlay };
        let length = match p.length {
            Some(Ok(one)) => Ok(p.loops.map(|n| one * u64::from(n))),
            Some(Err(e)) => Err(e),
            None => Err(("failed", "The audio was not fetched.".to_owned())),
        };
        match length {
            Ok(len) => self.queue_len(out, prompt, len, for_gather, now),
            Err((status, detail)) => {
                // It never plays: only its end is told (a gather waits from now).
                let m = Media { prompt, seq: 0, length_ms: None, started: true, for_gather };
                self.emit_ended(out, &m, status, Some(&detail));
                if for_gather && let Some(g) = &mut self.gather {
                    g.prompting = false;
                    g.deadline = Some(now + ms(g.first_ms));
                    self.arm_gather(out, now);
                }
            }
        }
    }

    fn queue_len(&mut self, out: &mut Outcome, prompt: Prompt, len: Option<u64>, for_gather: bool, now: DateTime<Utc>) {
        self.media_seq += 1;
        self.media.push(Media { prompt, seq: self.media_seq, length_ms: len, started: false, for_gather });
        self.start_next(out, now);
    }

    /// Starts the head of the queue if it waits.
    fn start_next(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let Some(m) = self.media.first_mut() else { return };
        if m.started {
            return;
        }
        m.started = true;
        let m = m.clone();
        let (event_type, mut p) = match &m.prompt {
            Prompt::Speak => ("call.speak.started", self.base_payload()),
            Prompt::Playback { .. } => ("call.playback.started", self.playback_payload(&m)),
        };
        if let Some(o) = p.as_object_mut() {
            // call.speak.started has no from/to; harmless, but keep its shape tight.
            if event_type == "call.speak.started" {
                o.remove("from");
                o.remove("to");
            }
        }
        out.events.push(Emit { event_type, payload: p });
        if let Some(len) = m.length_ms {
            out.timers.push((Timer::MediaEnd { seq: m.seq }, now + ms(len)));
        }
    }

    /// Stops prompts that `which` selects: `current` the playing one, `all` every one
    /// (`None`: nothing). Each one that had started ends `cancelled` (a speak, whose
    /// schema has no such status, ends `completed`).
    fn stop_media(
        &mut self,
        out: &mut Outcome,
        stop: Option<&str>,
        which: impl Fn(&Media) -> bool,
        now: DateTime<Utc>,
    ) {
        let Some(stop) = stop else { return };
        let head_stopped = self.media.first().is_some_and(|m| m.started && which(m));
        if head_stopped {
            let m = self.media.remove(0);
            self.emit_ended(out, &m, "cancelled", None);
            if m.for_gather
                && let Some(g) = &mut self.gather
            {
                g.prompting = false;
                g.deadline = Some(now + ms(g.first_ms));
                self.arm_gather(out, now);
            }
        }
        if stop == "all" {
            self.media.retain(|m| !which(m));
        }
        self.start_next(out, now);
    }

    /// A digit interrupts the gather's prompt.
    fn drop_gather_prompt(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        if self.media.first().is_some_and(|m| m.for_gather && m.started) {
            let m = self.media.remove(0);
            self.emit_ended(out, &m, "cancelled", None);
            self.start_next(out, now);
        } else {
            self.media.retain(|m| !m.for_gather);
        }
    }

    fn arm_gather(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let Some(g) = &mut self.gather else { return };
        if g.prompting {
            return;
        }
        if g.deadline.is_none() {
            g.deadline = Some(now + ms(g.first_ms));
        }
        let due = [g.deadline, g.overall].into_iter().flatten().min().unwrap_or(now);
        out.timers.push((Timer::GatherCheck { seq: g.seq }, due));
    }

    fn end_gather(&mut self, out: &mut Outcome, status: &str, now: DateTime<Utc>) {
        let Some(g) = self.gather.take() else { return };
        if g.prompting {
            self.drop_gather_prompt(out, now);
        }
        self.emit_gather_ended(out, &g, status);
    }

    fn emit_gather_ended(&self, out: &mut Outcome, g: &Gather, status: &str) {
        let mut p = self.base_payload();
        p["digits"] = json!(g.digits);
        p["status"] = json!(status);
        out.events.push(Emit { event_type: "call.gather.ended", payload: p });
    }

    fn playback_payload(&self, m: &Media) -> Value {
        let mut p = self.base_payload();
        if let Prompt::Playback { media_url, media_name, overlay } = &m.prompt {
            if let Some(u) = media_url {
                p["media_url"] = json!(u);
            }
            if let Some(n) = media_name {
                p["media_name"] = json!(n);
            }
            p["overlay"] = json!(overlay);
        }
        p
    }

    fn emit_ended(&self, out: &mut Outcome, m: &Media, status: &str, detail: Option<&str>) {
        match m.prompt {
            Prompt::Speak => {
                let mut p = self.base_payload();
                if let Some(o) = p.as_object_mut() {
                    o.remove("from");
                    o.remove("to");
                }
                // The schema's statuses: completed, call_hangup, cancelled_amd.
                p["status"] = json!(if status == "call_hangup" { "call_hangup" } else { "completed" });
                out.events.push(Emit { event_type: "call.speak.ended", payload: p });
            }
            Prompt::Playback { .. } => {
                let mut p = self.playback_payload(m);
                p["status"] = json!(status);
                if let Some(d) = detail {
                    p["status_detail"] = json!(d);
                }
                out.events.push(Emit { event_type: "call.playback.ended", payload: p });
            }
        }
    }
}

impl Gather {
    /// How the digits so far end the gather: `valid` when their count is within min..max
    /// and each is a valid digit, `invalid` otherwise.
    fn verdict(&self) -> &'static str {
        let n = self.digits.chars().count();
        let ok = (self.min..=self.max).contains(&n) && self.digits.chars().all(|c| self.valid.contains(c));
        if ok { "valid" } else { "invalid" }
    }
}
