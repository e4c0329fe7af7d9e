//! The simulated far end of an outgoing call: what the destination does once it is rung.
//! Chosen when the call is dialled, from the documented magic numbers
//! (`docs/simulation.md`); any other destination answers after a short ring. A number of
//! this server routed to an application is not a far end: the call arrives there as an
//! incoming call (decided by the engine).

use crate::audio::{Sound, Source};
use serde::{Deserialize, Serialize};

/// How long a destination rings before it answers (or rejects).
pub const RING_MS: u64 = 3_000;
/// How long a busy destination takes to say so.
pub const BUSY_MS: u64 = 1_000;
/// How long the network takes to find that a destination does not exist.
pub const UNREACHABLE_MS: u64 = 500;
/// How long answering machine detection listens before it decides.
pub const MACHINE_DETECTION_MS: u64 = 3_500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "behaviour", rename_all = "snake_case")]
pub enum Behaviour {
    /// Rings `ring_ms`, answers (a person, or an answering machine), and hangs up
    /// `hangup_after_ms` after answering when set.
    Answer { ring_ms: u64, hangup_after_ms: Option<u64>, machine: bool },
    /// The line is busy (`user_busy`, SIP 486).
    Busy { after_ms: u64 },
    /// Rings, then declines (`call_rejected`, SIP 603).
    Reject { after_ms: u64 },
    /// Rings until the caller's `timeout_secs`.
    NoAnswer,
    /// The destination does not exist (`not_found`, SIP 404).
    Unreachable { after_ms: u64 },
}

/// A person answering after [`RING_MS`]: what an unknown destination does.
pub const DEFAULT: Behaviour = Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: None, machine: false };

/// `+15550200007` answers after its ring and presses these digits this long after the
/// answer: an IVR test without a live `dtmf` call.
pub const PRESSES_MS: u64 = 2_000;
pub const PRESSES_DIGITS: &str = "1234#";

/// The digits a destination presses once answered, and when (ms after the answer).
pub fn presses(to: &str) -> Option<(u64, &'static str)> {
    (number_of(to) == "+15550200007").then_some((PRESSES_MS, PRESSES_DIGITS))
}

/// The number a destination names: an E.164 number as is, the user part of a SIP URI.
pub fn number_of(to: &str) -> &str {
    let rest = to.strip_prefix("sips:").or_else(|| to.strip_prefix("sip:")).unwrap_or(to);
    rest.split('@').next().unwrap_or(rest)
}

/// The documented magic destinations (an E.164 number, or a SIP URI whose user part is one).
pub fn behaviour(to: &str) -> Behaviour {
    let n = number_of(to);
    match n {
        "+15550200001" => DEFAULT,
        "+15550200002" => Behaviour::Busy { after_ms: BUSY_MS },
        "+15550200003" => Behaviour::NoAnswer,
        "+15550200004" => Behaviour::Reject { after_ms: RING_MS },
        "+15550200005" => Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: None, machine: true },
        "+15550200006" => Behaviour::Unreachable { after_ms: UNREACHABLE_MS },
        _ => match n.strip_prefix("+1555021").and_then(|s| s.parse::<u64>().ok()) {
            // +1555021NNNN: answers, then hangs up NNNN seconds later.
            Some(secs) if n.len() == 12 && secs > 0 => {
                Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: Some(secs * 1000), machine: false }
            }
            _ => DEFAULT,
        },
    }
}

/// How often a script's audio may repeat.
pub const MAX_REPEAT: i64 = 100;

/// The audio a scripted far end sends once it answers: a tone, or a WAV file's audio
/// (fetched when the script is set), `after_ms` after the answer, `repeat` times with
/// `gap_ms` of silence between.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FarAudio {
    pub tone_hz: Option<u32>,
    pub wav_url: Option<String>,
    /// The clip decoded from `wav_url` (its id, see [`crate::audio::clip_id`]), once fetched.
    pub clip: Option<String>,
    /// How long one play lasts: the tone's `duration_ms`, or the WAV's length.
    pub duration_ms: u64,
    pub after_ms: u64,
    pub repeat: u32,
    pub gap_ms: u64,
}

impl FarAudio {
    /// `{"tone_hz", "duration_ms"}` or `{"wav_url"}`, with `after_ms`, `repeat`, `gap_ms`.
    pub fn parse(body: &crate::body::Body) -> crate::error::Result<FarAudio> {
        use crate::error::ApiError;
        let (lo, hi) = crate::audio::TONE_HZ;
        let tone_hz = body.opt_int_in("tone_hz", i64::from(lo), i64::from(hi))?.map(|v| v as u32);
        let wav_url = body.opt_str("wav_url")?.map(str::to_owned);
        let duration = body.opt_int_in("duration_ms", 1, MAX_SCRIPT_MS)?.map(|v| v as u64);
        let duration_ms = match (&tone_hz, &wav_url, duration) {
            (Some(_), None, Some(d)) => d,
            (Some(_), None, None) => {
                return Err(ApiError::missing("duration_ms").detail("A tone needs its duration_ms."));
            }
            (None, Some(url), None) => {
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    return Err(ApiError::invalid("wav_url", "'wav_url' is an http:// or https:// URL."));
                }
                0
            }
            (None, Some(_), Some(_)) => {
                return Err(ApiError::invalid(
                    "duration_ms",
                    "A WAV plays for its own length; duration_ms goes with tone_hz.",
                ));
            }
            _ => {
                return Err(ApiError::invalid(
                    "",
                    "The audio is either a tone (tone_hz and duration_ms) or a WAV (wav_url).",
                ));
            }
        };
        Ok(FarAudio {
            tone_hz,
            wav_url,
            clip: None,
            duration_ms,
            after_ms: body.opt_int_in("after_ms", 0, MAX_SCRIPT_MS)?.unwrap_or(0) as u64,
            repeat: body.opt_int_in("repeat", 1, MAX_REPEAT)?.unwrap_or(1) as u32,
            gap_ms: body.opt_int_in("gap_ms", 0, MAX_SCRIPT_MS)?.unwrap_or(0) as u64,
        })
    }

    /// What the far end sends, in ms from the answer.
    pub fn sounds(&self) -> Vec<Sound> {
        let source = match (&self.clip, self.tone_hz) {
            (Some(id), _) => Source::Clip { id: id.clone(), from_ms: 0 },
            (None, Some(hz)) => Source::Tone { hz },
            // A WAV not fetched: nothing to send.
            (None, None) => return Vec::new(),
        };
        (0..u64::from(self.repeat))
            .map(|i| {
                let start = self.after_ms + i * (self.duration_ms + self.gap_ms);
                Sound { start_ms: start, end_ms: start + self.duration_ms, source: source.clone() }
            })
            .collect()
    }

    pub fn to_json(&self) -> serde_json::Value {
        let mut v = serde_json::json!({
            "duration_ms": self.duration_ms,
            "after_ms": self.after_ms,
            "repeat": self.repeat,
            "gap_ms": self.gap_ms,
        });
        match (&self.wav_url, self.tone_hz) {
            (Some(url), _) => v["wav_url"] = serde_json::json!(url),
            (None, hz) => v["tone_hz"] = serde_json::json!(hz),
        }
        v
    }
}

/// Longest delay a script may set (one day), in milliseconds.
pub const MAX_SCRIPT_MS: i64 = 86_400_000;
/// The store kind of scripts set through `PUT /_dialtone/sim/destinations/{number}`.
pub const SCRIPT_KIND: &str = "far_script";

/// The store kind of clips: the audio of a script's WAV, decoded (8 kHz mono samples in
/// base64), kept by [`crate::audio::clip_id`], never changed.
pub const CLIP_KIND: &str = "far_clip";

/// What a destination does when one of the account's calls rings it, set through the
/// simulation API; it takes precedence over the magic numbers.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Script {
    /// How long it rings before it answers (with `answer`).
    pub ring_ms: u64,
    /// Whether it answers; otherwise it rings until the caller's `timeout_secs`.
    pub answer: bool,
    /// Digits pressed once answered, `dtmf_after_ms` after the answer.
    pub dtmf: Option<String>,
    pub dtmf_after_ms: u64,
    /// Hangs up this long after the answer.
    pub hangup_after_ms: Option<u64>,
    /// The audio it sends once answered (silence when `None`).
    #[serde(default)]
    pub audio: Option<FarAudio>,
}

impl Script {
    /// `{"ring_ms", "answer", "dtmf", "dtmf_after_ms", "hangup_after_ms", "audio"}`, all
    /// optional: an empty script answers after [`RING_MS`] and stays on the line, silent.
    /// A WAV's audio is not fetched here (see [`FarAudio::clip`]).
    pub fn parse(body: &crate::body::Body) -> crate::error::Result<Script> {
        use crate::error::ApiError;
        let ms = |field: &str| -> crate::error::Result<Option<u64>> {
            Ok(body.opt_int_in(field, 0, MAX_SCRIPT_MS)?.map(|v| v as u64))
        };
        let dtmf = body.opt_str("dtmf")?.map(str::to_owned);
        if let Some(d) = &dtmf
            && (d.is_empty() || !d.chars().all(|c| c.is_ascii_digit() || "*#ABCDabcdw".contains(c)))
        {
            return Err(ApiError::invalid("dtmf", "dtmf must be digits 0-9, *, #, A-D (w pauses)."));
        }
        Ok(Script {
            ring_ms: ms("ring_ms")?.unwrap_or(RING_MS),
            answer: body.opt_bool("answer")?.unwrap_or(true),
            dtmf,
            dtmf_after_ms: ms("dtmf_after_ms")?.unwrap_or(PRESSES_MS),
            hangup_after_ms: ms("hangup_after_ms")?,
            audio: match body.opt_object("audio")? {
                Some(a) => Some(FarAudio::parse(&a).map_err(|e| e.within("/audio"))?),
                None => None,
            },
        })
    }

    /// The behaviour a call dialled to the scripted destination gets.
    pub fn behaviour(&self) -> Behaviour {
        if self.answer {
            Behaviour::Answer { ring_ms: self.ring_ms, hangup_after_ms: self.hangup_after_ms, machine: false }
        } else {
            Behaviour::NoAnswer
        }
    }

    /// The audio it sends once answered, in ms from the answer.
    pub fn sounds(&self) -> Vec<Sound> {
        self.audio.as_ref().filter(|_| self.answer).map(FarAudio::sounds).unwrap_or_default()
    }

    /// The digits pressed once answered, and when (ms after the answer).
    pub fn presses(&self) -> Option<(u64, String)> {
        self.dtmf.clone().filter(|_| self.answer).map(|d| (self.dtmf_after_ms, d))
    }

    pub fn to_json(&self, number: &str) -> serde_json::Value {
        serde_json::json!({
            "record_type": "sim_destination",
            "number": number,
            "ring_ms": self.ring_ms,
            "answer": self.answer,
            "dtmf": self.dtmf,
            "dtmf_after_ms": self.dtmf_after_ms,
            "hangup_after_ms": self.hangup_after_ms,
            "audio": self.audio.as_ref().map(FarAudio::to_json),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn script(v: serde_json::Value) -> crate::error::Result<Script> {
        Script::parse(&crate::body::Body::from_value(v).unwrap())
    }

    #[test]
    fn scripts_parse_with_defaults_and_map_to_behaviours() {
        let s = script(json!({})).unwrap();
        assert_eq!(s.behaviour(), DEFAULT);
        assert_eq!(s.presses(), None);
        let s = script(json!({"ring_ms": 7000, "dtmf": "42#", "dtmf_after_ms": 500, "hangup_after_ms": 9000})).unwrap();
        assert_eq!(s.behaviour(), Behaviour::Answer { ring_ms: 7000, hangup_after_ms: Some(9000), machine: false });
        assert_eq!(s.presses(), Some((500, "42#".to_owned())));
        let s = script(json!({"answer": false, "dtmf": "1"})).unwrap();
        assert_eq!((s.behaviour(), s.presses()), (Behaviour::NoAnswer, None));
    }

    #[test]
    fn bad_scripts_point_at_their_field() {
        for (v, field) in [
            (json!({"ring_ms": -1}), "/ring_ms"),
            (json!({"ring_ms": "soon"}), "/ring_ms"),
            (json!({"dtmf": "12x"}), "/dtmf"),
            (json!({"answer": "yes"}), "/answer"),
            (json!({"hangup_after_ms": MAX_SCRIPT_MS + 1}), "/hangup_after_ms"),
            (json!({"audio": "beep"}), "/audio"),
            (json!({"audio": {}}), "/audio"),
            (json!({"audio": {"tone_hz": 1000}}), "/audio/duration_ms"),
            (json!({"audio": {"tone_hz": 20, "duration_ms": 10}}), "/audio/tone_hz"),
            (json!({"audio": {"tone_hz": 4000, "duration_ms": 10}}), "/audio/tone_hz"),
            (json!({"audio": {"tone_hz": 1000, "duration_ms": 0}}), "/audio/duration_ms"),
            (json!({"audio": {"tone_hz": 1000, "wav_url": "http://x/a.wav"}}), "/audio"),
            (json!({"audio": {"wav_url": "ftp://x/a.wav"}}), "/audio/wav_url"),
            (json!({"audio": {"wav_url": "http://x/a.wav", "duration_ms": 5}}), "/audio/duration_ms"),
            (json!({"audio": {"tone_hz": 1000, "duration_ms": 5, "repeat": 0}}), "/audio/repeat"),
            (json!({"audio": {"tone_hz": 1000, "duration_ms": 5, "repeat": 101}}), "/audio/repeat"),
            (json!({"audio": {"tone_hz": 1000, "duration_ms": 5, "after_ms": -1}}), "/audio/after_ms"),
            (json!({"audio": {"tone_hz": 1000, "duration_ms": 5, "gap_ms": "x"}}), "/audio/gap_ms"),
        ] {
            assert_eq!(script(v).unwrap_err().pointer.as_deref(), Some(field));
        }
    }

    #[test]
    fn a_scripts_audio_is_laid_out_from_the_answer() {
        let s = script(
            json!({"audio": {"tone_hz": 1000, "duration_ms": 500, "after_ms": 200, "repeat": 3, "gap_ms": 100}}),
        )
        .unwrap();
        let starts: Vec<(u64, u64)> = s.sounds().iter().map(|x| (x.start_ms, x.end_ms)).collect();
        assert_eq!(starts, [(200, 700), (800, 1_300), (1_400, 1_900)]);
        assert!(s.sounds().iter().all(|x| x.source == Source::Tone { hz: 1000 }));
        assert_eq!(
            s.to_json("+1")["audio"],
            json!({"tone_hz": 1000, "duration_ms": 500, "after_ms": 200, "repeat": 3, "gap_ms": 100})
        );
        // A WAV sends its clip once fetched, for its length.
        let mut w = script(json!({"audio": {"wav_url": "https://example.com/a.wav"}})).unwrap();
        assert!(w.sounds().is_empty(), "not fetched yet");
        let a = w.audio.as_mut().unwrap();
        a.clip = Some("c1".into());
        a.duration_ms = 1_500;
        assert_eq!(
            w.sounds(),
            [Sound { start_ms: 0, end_ms: 1_500, source: Source::Clip { id: "c1".into(), from_ms: 0 } }]
        );
        // A far end that never answers sends nothing.
        let n = script(json!({"answer": false, "audio": {"tone_hz": 1000, "duration_ms": 5}})).unwrap();
        assert!(n.sounds().is_empty());
    }

    #[test]
    fn magic_numbers() {
        assert_eq!(behaviour("+15550200002"), Behaviour::Busy { after_ms: BUSY_MS });
        assert_eq!(behaviour("sip:+15550200003@sip.example.com"), Behaviour::NoAnswer);
        assert_eq!(behaviour("+15550200006"), Behaviour::Unreachable { after_ms: UNREACHABLE_MS });
        assert!(matches!(behaviour("+15550200005"), Behaviour::Answer { machine: true, .. }));
        assert_eq!(
            behaviour("+15550210045"),
            Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: Some(45_000), machine: false }
        );
        assert_eq!(behaviour("+15550210000"), DEFAULT, "zero seconds is no hang-up");
        assert_eq!(behaviour("+14155550100"), DEFAULT);
        assert_eq!(behaviour("sip:alice@example.com"), DEFAULT);
        assert_eq!(number_of("sips:bob@x.example;secure=true"), "bob");
    }
}
