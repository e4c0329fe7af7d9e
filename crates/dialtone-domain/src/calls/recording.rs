//! Recording a call: record_start / pause / resume / stop. The recording's audio is made
//! when it is downloaded (`GET /_dialtone/recordings/{id}.wav`, and `.mp3` for an MP3
//! recording): silence for the time it ran, with a tone where the far end pressed a digit,
//! and the call's sounds (a scripted far end's audio, digits sent on answer) where they
//! fell while it ran.

use super::*;

/// The kind of a saved recording's document.
pub const RECORDING_KIND: &str = "call_recording";
/// A recorded digit sounds this long.
pub const DIGIT_TONE_MS: u64 = 250;
/// The download serves at most this much audio (57.6 MB of WAV): a four-hour call would
/// otherwise take 230 MB of memory per download.
pub const MAX_SERVED_MS: u64 = 3_600_000;

/// A recording in progress.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recording {
    pub id: String,
    pub format: String,
    pub channels: String,
    /// Where the server is reached (the download URL's origin).
    pub base_url: String,
    pub started_at: DateTime<Utc>,
    pub paused_at: Option<DateTime<Utc>>,
    /// Time spent paused so far.
    pub paused_ms: i64,
    /// Tones recorded so far (start, end in ms of recorded audio).
    pub tones: Vec<(u64, u64)>,
    /// When the running stretch began (the start, or the last resume).
    #[serde(default)]
    pub resumed_at: Option<DateTime<Utc>>,
    /// The stretches recorded before it (paused since).
    #[serde(default)]
    pub runs: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Recording {
    /// Milliseconds of audio recorded by `now`.
    fn recorded_ms(&self, now: DateTime<Utc>) -> u64 {
        let upto = self.paused_at.unwrap_or(now);
        ((upto - self.started_at).num_milliseconds() - self.paused_ms).max(0) as u64
    }

    /// A recording from `now` on (not paused).
    pub fn new(id: &str, req: &RecordRequest, base_url: &str, now: DateTime<Utc>) -> Recording {
        Recording {
            id: id.to_owned(),
            format: req.format.clone(),
            channels: req.channels.clone(),
            base_url: base_url.trim_end_matches('/').to_owned(),
            started_at: now,
            paused_at: None,
            paused_ms: 0,
            tones: Vec::new(),
            resumed_at: None,
            runs: Vec::new(),
        }
    }

    /// Every stretch recorded by `now`, on the call's clock.
    fn stretches(&self, now: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let mut runs = self.runs.clone();
        if self.paused_at.is_none() {
            runs.push((self.resumed_at.unwrap_or(self.started_at), now));
        }
        runs
    }
}

/// A finished recording, for the engine to keep and serve.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SavedRecording {
    pub id: String,
    pub call_control_id: String,
    pub format: String,
    pub channels: String,
    pub duration_ms: u64,
    pub tones: Vec<(u64, u64)>,
    /// The call's sounds heard while it ran, in ms of recorded audio.
    #[serde(default)]
    pub sounds: Vec<Sound>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// A validated `record_start`.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordRequest {
    pub format: String,
    pub channels: String,
}

impl RecordRequest {
    pub fn parse(body: &Body) -> Result<RecordRequest> {
        let format = body.opt_enum("format", &["wav", "mp3"])?.ok_or_else(|| ApiError::missing("format"))?;
        let channels = body.opt_enum("channels", &["single", "dual"])?.ok_or_else(|| ApiError::missing("channels"))?;
        body.opt_int_in("max_length", 0, 14_400)?;
        body.opt_int_in("timeout_secs", 0, 14_400)?;
        body.opt_bool("play_beep")?;
        body.opt_enum("recording_track", &["both", "inbound", "outbound"])?;
        body.opt_enum("trim", &["trim-silence"])?;
        if body.opt_str("custom_file_name")?.is_some_and(|n| n.chars().count() > 40) {
            return Err(ApiError::invalid("custom_file_name", "'custom_file_name' is at most 40 characters."));
        }
        Ok(RecordRequest { format: format.to_owned(), channels: channels.to_owned() })
    }
}

fn no_recording() -> ApiError {
    ApiError::new(Code::CallStateConflict).detail("This call is not being recorded.")
}

fn check_id(rec: &Recording, body_id: Option<&str>) -> Result<()> {
    match body_id {
        Some(id) if id != rec.id => Err(ApiError::invalid("recording_id", "No recording of this call has this id.")),
        _ => Ok(()),
    }
}

impl Call {
    /// `actions/record_start`: `id` names the recording, `base_url` where it will be served.
    pub fn record_start(
        &mut self,
        cmd: &Command,
        req: &RecordRequest,
        id: &str,
        base_url: &str,
        now: DateTime<Utc>,
    ) -> Result<Outcome> {
        self.require_answered()?;
        if self.recording.is_some() {
            return Err(ApiError::new(Code::CallStateConflict).detail("This call is already being recorded."));
        }
        self.accept(cmd);
        self.recording = Some(Recording::new(id, req, base_url, now));
        Ok(Outcome::default())
    }

    /// `actions/record_pause` (`resume: false`) and `actions/record_resume`.
    pub fn record_pause(
        &mut self,
        cmd: &Command,
        id: Option<&str>,
        resume: bool,
        now: DateTime<Utc>,
    ) -> Result<Outcome> {
        self.require_answered()?;
        let rec = self.recording.as_mut().ok_or_else(no_recording)?;
        check_id(rec, id)?;
        match (resume, rec.paused_at) {
            (false, None) => {
                rec.paused_at = Some(now);
                rec.runs.push((rec.resumed_at.unwrap_or(rec.started_at), now));
            }
            (true, Some(at)) => {
                rec.paused_ms += (now - at).num_milliseconds();
                rec.paused_at = None;
                rec.resumed_at = Some(now);
            }
            (false, Some(_)) => {
                return Err(ApiError::new(Code::CallStateConflict).detail("The recording is already paused."));
            }
            (true, None) => return Err(ApiError::new(Code::CallStateConflict).detail("The recording is not paused.")),
        }
        self.accept(cmd);
        Ok(Outcome::default())
    }

    /// `actions/record_stop`: `call.recording.saved`.
    pub fn record_stop(&mut self, cmd: &Command, id: Option<&str>, now: DateTime<Utc>) -> Result<Outcome> {
        self.require_answered()?;
        let rec = self.recording.as_ref().ok_or_else(no_recording)?;
        check_id(rec, id)?;
        self.accept(cmd);
        let mut out = Outcome::default();
        self.save_recording(&mut out, now);
        Ok(out)
    }

    /// Ends the recording in progress, if any, with its `call.recording.saved`.
    pub(super) fn save_recording(&mut self, out: &mut Outcome, now: DateTime<Utc>) {
        let Some(rec) = self.recording.take() else { return };
        let url = format!("{}/_dialtone/recordings/{}", rec.base_url, rec.id);
        // An MP3 recording is served as MP3, and as WAV too (both are made on download).
        let urls = if rec.format == "mp3" {
            json!({"mp3": format!("{url}.mp3"), "wav": format!("{url}.wav")})
        } else {
            json!({"wav": format!("{url}.wav")})
        };
        let mut p = self.base_payload();
        if let Some(o) = p.as_object_mut() {
            o.remove("from");
            o.remove("to");
        }
        p["recording_id"] = json!(rec.id);
        p["channels"] = json!(rec.channels);
        p["recording_started_at"] = json!(fmt_time(rec.started_at));
        p["recording_ended_at"] = json!(fmt_time(now));
        p["recording_urls"] = urls.clone();
        p["public_recording_urls"] = urls;
        out.events.push(Emit { event_type: "call.recording.saved", payload: p });
        let sounds = self.recorded_sounds(&rec, now);
        out.recordings.push(SavedRecording {
            id: rec.id.clone(),
            call_control_id: self.call_control_id.clone(),
            format: rec.format.clone(),
            channels: rec.channels.clone(),
            duration_ms: rec.recorded_ms(now),
            tones: rec.tones.clone(),
            sounds,
            started_at: rec.started_at,
            ended_at: now,
        });
    }

    /// The call's sounds (both tracks, mixed) heard while `rec` ran, in recorded time.
    fn recorded_sounds(&self, rec: &Recording, now: DateTime<Utc>) -> Vec<Sound> {
        let Some(answered) = self.answered_at else { return Vec::new() };
        let since = |t: DateTime<Utc>| (t - answered).num_milliseconds().max(0) as u64;
        let mut base = 0;
        let mut out = Vec::new();
        for (from, to) in rec.stretches(now) {
            let (a, b) = (since(from), since(to));
            out.extend(self.sounds.iter().filter_map(|(_, s)| s.window(a, b, base)));
            base += b.saturating_sub(a);
        }
        out
    }

    /// The far end pressed `n` digits now: tones in the recording, if it runs.
    pub(super) fn record_digits(&mut self, n: usize, now: DateTime<Utc>) {
        if let Some(rec) = &mut self.recording
            && rec.paused_at.is_none()
        {
            let at = rec.recorded_ms(now);
            for i in 0..n as u64 {
                rec.tones.push((at + i * DIGIT_TONE_MS, at + (i + 1) * DIGIT_TONE_MS));
            }
        }
    }
}

impl SavedRecording {
    /// Everything heard: the far end's digits and the call's sounds.
    fn all_sounds(&self) -> Vec<Sound> {
        crate::audio::digit_tones(&self.tones).chain(self.sounds.iter().cloned()).collect()
    }

    /// The clips its sounds play (to load before making the WAV).
    pub fn clip_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.sounds.iter().filter_map(|s| s.clip_id().map(str::to_owned)).collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The recording as an 8 kHz mono 16-bit PCM WAV file (its first hour at most), with
    /// the `clips` its sounds play.
    pub fn wav(&self, clips: &crate::audio::Clips) -> Vec<u8> {
        crate::audio::wav_of(self.duration_ms.min(MAX_SERVED_MS), crate::audio::CALL_RATE, &self.all_sounds(), clips)
    }

    /// The same audio as MPEG-1 Layer III, 48 kHz mono at 32 kbit/s (its first hour at
    /// most: 14 MB): its tones, with silence where a clip plays (see [`crate::media::mp3`]).
    pub fn mp3(&self) -> Vec<u8> {
        crate::media::mp3::mp3(self.duration_ms.min(MAX_SERVED_MS), &self.all_sounds())
    }
}
