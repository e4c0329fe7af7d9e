//! Telnyx's media-streaming protocol, the part that is rules rather than I/O: the JSON
//! frames Dialtone sends over the WebSocket (`connected`, `start`, `media`, `dtmf`,
//! `mark`, `stop`), the audio codecs of the payloads (G.711 µ-law and A-law, 16-bit
//! linear), what each 20 ms frame carries, and what the application's frames do in
//! bidirectional mode. The engine owns the socket and the pacing; [`Stream`] decides
//! every frame, so the protocol is tested without a network.

use crate::audio;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::VecDeque;

/// A frame lasts 20 ms.
pub const FRAME_MS: u64 = 20;
/// A pressed digit sounds this long in the streamed audio, as in recordings.
pub const DIGIT_TONE_MS: u64 = crate::calls::DIGIT_TONE_MS;
/// Audio the application may queue for playback (bidirectional), in ms: 30 s, the longest
/// chunk Telnyx documents, twice over.
pub const MAX_QUEUED_MS: u64 = 60_000;

/// The payload encodings Dialtone produces. Telnyx uses the call's codec when it cannot
/// transcode to the one asked for; the simulated calls carry PCMU, so `G722`, `OPUS`,
/// `AMR-WB` and `default` stream PCMU (and `start` says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Codec {
    Pcmu,
    Pcma,
    /// 16-bit signed linear PCM, big-endian (network order, as RTP's L16), at 16 kHz.
    L16,
}

impl Codec {
    /// The codec a `stream_codec` (or `stream_bidirectional_codec`) value streams as.
    pub fn for_request(name: Option<&str>) -> Codec {
        match name {
            Some("PCMA") => Codec::Pcma,
            Some("L16") => Codec::L16,
            _ => Codec::Pcmu,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Pcmu => "PCMU",
            Codec::Pcma => "PCMA",
            Codec::L16 => "L16",
        }
    }

    pub fn sample_rate(self) -> u32 {
        match self {
            Codec::L16 => 16_000,
            _ => 8_000,
        }
    }

    /// Samples in one 20 ms frame.
    pub fn frame_samples(self) -> usize {
        (self.sample_rate() as u64 * FRAME_MS / 1000) as usize
    }

    pub fn encode(self, samples: &[i16]) -> Vec<u8> {
        match self {
            Codec::Pcmu => samples.iter().map(|s| ulaw(*s)).collect(),
            Codec::Pcma => samples.iter().map(|s| alaw(*s)).collect(),
            Codec::L16 => samples.iter().flat_map(|s| s.to_be_bytes()).collect(),
        }
    }

    pub fn decode(self, bytes: &[u8]) -> Vec<i16> {
        match self {
            Codec::Pcmu => bytes.iter().map(|b| ulaw_linear(*b)).collect(),
            Codec::Pcma => bytes.iter().map(|b| alaw_linear(*b)).collect(),
            Codec::L16 => bytes.chunks_exact(2).map(|c| i16::from_be_bytes([c[0], c[1]])).collect(),
        }
    }
}

/// G.711 µ-law: sign, 3-bit segment, 4-bit step, inverted; bias 132, clip 32,635.
fn ulaw(sample: i16) -> u8 {
    let mut x = i32::from(sample);
    let sign = if x < 0 { 0x80 } else { 0 };
    x = x.abs().min(32_635) + 0x84;
    let mut seg = 7;
    while seg > 0 && x & (0x80 << seg) == 0 {
        seg -= 1;
    }
    let step = (x >> (seg + 3)) & 0x0F;
    !(sign | (seg << 4) | step) as u8
}

fn ulaw_linear(byte: u8) -> i16 {
    let u = !byte;
    let seg = (u >> 4) & 0x07;
    let x = (((i32::from(u & 0x0F) << 3) + 0x84) << seg) - 0x84;
    (if u & 0x80 != 0 { -x } else { x }) as i16
}

/// G.711 A-law on the 13 most significant bits; even bits inverted (xor 0x55).
fn alaw(sample: i16) -> u8 {
    let mut x = i32::from(sample) >> 3;
    let mask = if x >= 0 {
        0xD5
    } else {
        x = -x - 1;
        0x55
    };
    const SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let Some(seg) = SEGMENT_ENDS.iter().position(|end| x <= *end) else {
        return (0x7F ^ mask) as u8;
    };
    let step = if seg < 2 { (x >> 1) & 0x0F } else { (x >> seg) & 0x0F };
    (((seg as i32) << 4 | step) ^ mask) as u8
}

fn alaw_linear(byte: u8) -> i16 {
    let a = byte ^ 0x55;
    let mut t = i32::from(a & 0x0F) << 4;
    let seg = i32::from((a & 0x70) >> 4);
    match seg {
        0 => t += 8,
        1 => t += 0x108,
        _ => t = (t + 0x108) << (seg - 1),
    }
    (if a & 0x80 != 0 { t } else { -t }) as i16
}

/// Resamples by repeating or dropping samples (8 kHz <-> 16 kHz only differ by two).
fn resample(samples: Vec<i16>, from: u32, to: u32) -> Vec<i16> {
    match from.cmp(&to) {
        std::cmp::Ordering::Equal => samples,
        std::cmp::Ordering::Less => {
            let k = (to / from) as usize;
            samples.into_iter().flat_map(|s| std::iter::repeat_n(s, k)).collect()
        }
        std::cmp::Ordering::Greater => samples.into_iter().step_by((from / to) as usize).collect(),
    }
}

/// A media stream as asked (`streaming_start`, or `stream_url` on dial or answer).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StreamSpec {
    pub stream_id: String,
    pub url: String,
    /// `inbound_track` (the default), `outbound_track` or `both_tracks`.
    pub track: String,
    /// `stream_codec` as asked (`None`: the call's codec).
    pub codec: Option<String>,
    /// `rtp` or `mp3` when the application may send audio back.
    pub bidirectional_mode: Option<String>,
    pub bidirectional_codec: Option<String>,
}

/// A track of a call's audio: what the far end sends (`inbound`) or what the call sends it
/// (`outbound`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    Inbound,
    Outbound,
}

/// Who the stream belongs to, for `start` and `stop`.
#[derive(Clone, Debug, PartialEq)]
pub struct CallInfo {
    pub user_id: String,
    pub call_control_id: String,
    pub call_session_id: String,
    pub from: String,
    pub to: String,
    pub tags: Vec<String>,
    pub client_state: Option<String>,
}

/// One stream's protocol state: sequence numbers, chunk counters, the sounds of each track
/// (digit tones, the far end's audio, digits sent on answer), and the audio the
/// application queued to play into the call.
#[derive(Debug)]
pub struct Stream {
    spec: StreamSpec,
    call: CallInfo,
    codec: Codec,
    /// The last `sequence_number` sent.
    seq: u64,
    /// 20 ms frames elapsed since `start`.
    frames: u64,
    /// The sounds of the inbound and outbound tracks, in ms since `start`.
    inbound: Vec<audio::Sound>,
    outbound: Vec<audio::Sound>,
    /// The clips those sounds play.
    clips: audio::Clips,
    /// Audio the application sent back, at the stream codec's rate, not yet played.
    queued: VecDeque<i16>,
    /// Marks waiting for the audio ahead of them: (samples played when due, name).
    marks: VecDeque<(u64, String)>,
    /// Samples of queued audio played so far, and pushed so far.
    played: u64,
    pushed: u64,
}

impl Stream {
    pub fn new(spec: StreamSpec, call: CallInfo) -> Stream {
        let codec = Codec::for_request(spec.codec.as_deref());
        Stream {
            spec,
            call,
            codec,
            seq: 0,
            frames: 0,
            inbound: Vec::new(),
            outbound: Vec::new(),
            clips: audio::Clips::new(),
            queued: VecDeque::new(),
            marks: VecDeque::new(),
            played: 0,
            pushed: 0,
        }
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn stream_id(&self) -> &str {
        &self.spec.stream_id
    }

    fn next_seq(&mut self) -> String {
        self.seq += 1;
        self.seq.to_string()
    }

    /// The first frame, as soon as the socket is open.
    pub fn connected(&self) -> Value {
        json!({"event": "connected", "version": "1.0.0"})
    }

    /// The second frame: the call and the media format.
    pub fn start(&mut self) -> Value {
        let seq = self.next_seq();
        let mut start = json!({
            "user_id": self.call.user_id,
            "call_control_id": self.call.call_control_id,
            "call_session_id": self.call.call_session_id,
            "from": self.call.from,
            "to": self.call.to,
            "tags": self.call.tags,
            "media_format": {
                "encoding": self.codec.name(),
                "sample_rate": self.codec.sample_rate(),
                "channels": 1,
            },
        });
        if let Some(cs) = &self.call.client_state {
            start["client_state"] = json!(cs);
        }
        json!({"event": "start", "sequence_number": seq, "stream_id": self.spec.stream_id, "start": start})
    }

    /// The next 20 ms of the call: one `media` frame per streamed track (`inbound`: what
    /// the far end sends, its script's audio and a tone per digit pressed; `outbound`: what
    /// the call sends the far end, digits sent on answer and the application's audio in
    /// bidirectional mode), then any mark whose audio has finished playing.
    pub fn tick(&mut self) -> Vec<Value> {
        let n = self.codec.frame_samples();
        let from = self.frames * n as u64;
        let chunk = self.frames + 1;
        let timestamp = self.frames * FRAME_MS;
        self.frames += 1;
        let mut out = Vec::with_capacity(2);
        let (inbound, outbound) = match self.spec.track.as_str() {
            "outbound_track" => (false, true),
            "both_tracks" => (true, true),
            _ => (true, false),
        };
        if inbound {
            let samples = audio::render(self.codec.sample_rate(), from, n, &self.inbound, &self.clips);
            out.push(self.media("inbound", chunk, timestamp, &samples));
        }
        // The application's audio plays whether or not its track is streamed.
        let take = n.min(self.queued.len());
        let mut samples: Vec<i16> = self.queued.drain(..take).collect();
        self.played += take as u64;
        samples.resize(n, 0);
        if !self.outbound.is_empty() {
            let sounds = audio::render(self.codec.sample_rate(), from, n, &self.outbound, &self.clips);
            for (s, v) in samples.iter_mut().zip(sounds) {
                *s = s.saturating_add(v);
            }
        }
        if outbound {
            out.push(self.media("outbound", chunk, timestamp, &samples));
        }
        while self.marks.front().is_some_and(|(due, _)| *due <= self.played) {
            if let Some((_, name)) = self.marks.pop_front() {
                out.push(self.mark(&name));
            }
        }
        self.forget_past();
        out
    }

    fn media(&mut self, track: &str, chunk: u64, timestamp: u64, samples: &[i16]) -> Value {
        let payload = B64.encode(self.codec.encode(samples));
        json!({
            "event": "media",
            "sequence_number": self.next_seq(),
            "stream_id": self.spec.stream_id,
            "media": {"track": track, "chunk": chunk.to_string(), "timestamp": timestamp.to_string(), "payload": payload},
        })
    }

    fn mark(&mut self, name: &str) -> Value {
        json!({"event": "mark", "sequence_number": self.next_seq(), "stream_id": self.spec.stream_id, "mark": {"name": name}})
    }

    /// The far end pressed `digits` now (`occurred_at` is the call's clock): a `dtmf`
    /// frame each, and their tones in the inbound audio from the next frame on.
    pub fn dtmf(&mut self, digits: &str, occurred_at: &str) -> Vec<Value> {
        let at = self.frames * FRAME_MS;
        let mut out = Vec::new();
        for (i, d) in digits.chars().enumerate() {
            let start = at + i as u64 * DIGIT_TONE_MS;
            self.inbound.push(audio::Sound::tone(start, start + DIGIT_TONE_MS, audio::DIGIT_HZ));
            out.push(json!({
                "event": "dtmf",
                "sequence_number": self.next_seq(),
                "stream_id": self.spec.stream_id,
                "occurred_at": occurred_at,
                "dtmf": {"digit": d.to_string()},
            }));
        }
        self.forget_past();
        out
    }

    /// `sounds` (ms from now) play on `track` from the next frame on; `clips` has the
    /// clips they play.
    pub fn play(&mut self, track: Track, sounds: &[audio::Sound], clips: &audio::Clips) {
        let at = self.frames * FRAME_MS;
        let list = match track {
            Track::Inbound => &mut self.inbound,
            Track::Outbound => &mut self.outbound,
        };
        list.extend(sounds.iter().filter_map(|s| s.window(0, u64::MAX, at)));
        for s in sounds {
            if let Some(id) = s.clip_id()
                && let Some(c) = clips.get(id)
            {
                self.clips.insert(id.to_owned(), c.clone());
            }
        }
        self.forget_past();
    }

    /// Sounds long past are forgotten (and their clips), so a long call keeps short lists.
    fn forget_past(&mut self) {
        let now = self.frames * FRAME_MS;
        self.inbound.retain(|s| s.end_ms > now);
        self.outbound.retain(|s| s.end_ms > now);
        let (inbound, outbound) = (&self.inbound, &self.outbound);
        self.clips.retain(|id, _| inbound.iter().chain(outbound).any(|s| s.clip_id() == Some(id)));
    }

    /// The last frame: the stream stops (streaming_stop, or the call ended).
    pub fn stop(&mut self) -> Value {
        json!({
            "event": "stop",
            "sequence_number": self.next_seq(),
            "stream_id": self.spec.stream_id,
            "stop": {"user_id": self.call.user_id, "call_control_id": self.call.call_control_id},
        })
    }

    /// A text frame from the application. In bidirectional mode `media` queues audio to
    /// play into the call (RTP payloads in `stream_bidirectional_codec`, default PCMU; an
    /// MP3 file in `mp3` mode plays for its duration, heard as silence as Dialtone decodes
    /// no MP3), `mark` answers when the audio queued before it has played, `clear` drops the
    /// queue and answers its marks. Anything else, or media without bidirectional mode,
    /// answers an `error` frame.
    pub fn from_app(&mut self, text: &str) -> Vec<Value> {
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return vec![self.error(100_002, "Malformed frame", "The frame is not JSON.")];
        };
        match v["event"].as_str() {
            Some("media") => {
                let Some(mode) = self.spec.bidirectional_mode.clone() else {
                    return vec![self.error(
                        100_003,
                        "Bidirectional streaming is off",
                        "Start the stream with stream_bidirectional_mode to send media.",
                    )];
                };
                let Some(bytes) = v["media"]["payload"].as_str().and_then(|p| B64.decode(p).ok()) else {
                    return vec![self.error(100_002, "Malformed frame", "media.payload is not base64.")];
                };
                let rate = self.codec.sample_rate();
                let samples = if mode == "mp3" {
                    let ms = audio::duration_ms(&bytes).unwrap_or(0);
                    vec![0; (ms * u64::from(rate) / 1000) as usize]
                } else {
                    let codec = Codec::for_request(self.spec.bidirectional_codec.as_deref());
                    resample(codec.decode(&bytes), codec.sample_rate(), rate)
                };
                let room = ((MAX_QUEUED_MS * u64::from(rate) / 1000) as usize).saturating_sub(self.queued.len());
                let n = samples.len().min(room);
                self.queued.extend(&samples[..n]);
                self.pushed += n as u64;
                Vec::new()
            }
            Some("mark") => {
                let name = v["mark"]["name"].as_str().unwrap_or_default().to_owned();
                if self.queued.is_empty() {
                    vec![self.mark(&name)]
                } else {
                    self.marks.push_back((self.pushed, name));
                    Vec::new()
                }
            }
            Some("clear") => {
                self.played += self.queued.len() as u64;
                self.queued.clear();
                let marks: Vec<String> = self.marks.drain(..).map(|(_, n)| n).collect();
                marks.iter().map(|n| self.mark(n)).collect()
            }
            _ => vec![self.error(100_002, "Malformed frame", "Unknown event.")],
        }
    }

    fn error(&mut self, code: u32, title: &str, detail: &str) -> Value {
        json!({
            "event": "error",
            "sequence_number": self.next_seq(),
            "stream_id": self.spec.stream_id,
            "payload": {"code": code, "title": title, "detail": detail},
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(track: &str, codec: Option<&str>, bidi: Option<&str>) -> StreamSpec {
        StreamSpec {
            stream_id: "s-1".into(),
            url: "ws://127.0.0.1:1/".into(),
            track: track.into(),
            codec: codec.map(str::to_owned),
            bidirectional_mode: bidi.map(str::to_owned),
            bidirectional_codec: None,
        }
    }

    fn call() -> CallInfo {
        CallInfo {
            user_id: "acc".into(),
            call_control_id: "v3:cc".into(),
            call_session_id: "sess".into(),
            from: "+15550000001".into(),
            to: "+15550000002".into(),
            tags: vec![],
            client_state: Some("aGk=".into()),
        }
    }

    fn payload(frame: &Value) -> Vec<u8> {
        B64.decode(frame["media"]["payload"].as_str().unwrap()).unwrap()
    }

    #[test]
    fn g711_silence_and_round_trips() {
        assert_eq!(ulaw(0), 0xFF);
        assert_eq!(alaw(0), 0xD5);
        for s in [-32_768i16, -20_000, -1_000, -100, -5, 0, 5, 100, 1_000, 20_000, 32_767] {
            let tolerance = (i32::from(s).abs() / 16).max(16);
            let u = i32::from(ulaw_linear(ulaw(s)));
            let a = i32::from(alaw_linear(alaw(s)));
            assert!((u - i32::from(s)).abs() <= tolerance, "µ-law {s} -> {u}");
            assert!((a - i32::from(s)).abs() <= tolerance, "A-law {s} -> {a}");
        }
        // Every code decodes to a value that encodes back to an equivalent code.
        for b in 0..=255u8 {
            assert_eq!(ulaw_linear(ulaw(ulaw_linear(b))), ulaw_linear(b));
            assert_eq!(alaw(alaw_linear(b)), b);
        }
        assert_eq!(Codec::L16.decode(&Codec::L16.encode(&[1, -2, 300])), vec![1, -2, 300]);
    }

    #[test]
    fn frames_come_in_protocol_order_with_sequence_numbers() {
        let mut s = Stream::new(spec("inbound_track", None, None), call());
        assert_eq!(s.connected(), json!({"event": "connected", "version": "1.0.0"}));
        let start = s.start();
        assert_eq!(start["sequence_number"], "1");
        assert_eq!(start["stream_id"], "s-1");
        assert_eq!(start["start"]["media_format"], json!({"encoding": "PCMU", "sample_rate": 8000, "channels": 1}));
        assert_eq!(start["start"]["client_state"], "aGk=");
        let m = s.tick();
        assert_eq!(m.len(), 1);
        assert_eq!(m[0]["sequence_number"], "2");
        assert_eq!(m[0]["media"]["track"], "inbound");
        assert_eq!(m[0]["media"]["chunk"], "1");
        assert_eq!(m[0]["media"]["timestamp"], "0");
        assert_eq!(payload(&m[0]), vec![0xFF; 160], "20 ms of µ-law silence");
        let m = s.tick();
        assert_eq!((m[0]["media"]["chunk"].as_str(), m[0]["media"]["timestamp"].as_str()), (Some("2"), Some("20")));
        let stop = s.stop();
        assert_eq!(stop["sequence_number"], "4");
        assert_eq!(stop["stop"]["call_control_id"], "v3:cc");
    }

    #[test]
    fn a_digit_sends_dtmf_and_a_tone_on_the_inbound_track() {
        let mut s = Stream::new(spec("both_tracks", Some("PCMA"), None), call());
        s.start();
        s.tick();
        let d = s.dtmf("5#", "2026-01-01T00:00:00.000Z");
        assert_eq!(d.len(), 2);
        assert_eq!(d[0]["event"], "dtmf");
        assert_eq!(d[0]["dtmf"]["digit"], "5");
        assert_eq!(d[1]["dtmf"]["digit"], "#");
        let m = s.tick();
        assert_eq!(m.len(), 2, "both tracks");
        let inbound = Codec::Pcma.decode(&payload(&m[0]));
        assert!(inbound.iter().any(|x| x.abs() > 4_000), "a tone is heard inbound");
        assert!(Codec::Pcma.decode(&payload(&m[1])).iter().all(|x| x.abs() < 16), "outbound is silent");
        // Two digits: 500 ms of tone, then silence again.
        for _ in 0..25 {
            s.tick();
        }
        let m = s.tick();
        assert!(Codec::Pcma.decode(&payload(&m[0])).iter().all(|x| x.abs() < 16));
    }

    #[test]
    fn sounds_play_on_their_track_from_the_next_frame() {
        let mut s = Stream::new(spec("both_tracks", None, None), call());
        s.start();
        s.tick();
        let clip: std::sync::Arc<[i16]> = vec![4_000i16; 8_000].into();
        let clips = audio::Clips::from([("c".to_owned(), clip)]);
        let clip_sound =
            audio::Sound { start_ms: 40, end_ms: 60, source: audio::Source::Clip { id: "c".into(), from_ms: 0 } };
        s.play(Track::Inbound, &[audio::Sound::tone(0, 40, 1_000), clip_sound], &clips);
        s.play(Track::Outbound, &[audio::Sound::tone(20, 40, 2_000)], &audio::Clips::new());
        let frames: Vec<Vec<Value>> = (0..4).map(|_| s.tick()).collect();
        let pcm = |f: &Value| Codec::Pcmu.decode(&payload(f));
        let hz = audio::crossing_hz(&[pcm(&frames[0][0]), pcm(&frames[1][0])].concat(), 8_000);
        assert!((900.0..1_100.0).contains(&hz), "inbound 1 kHz: {hz}");
        assert!(pcm(&frames[0][1]).iter().all(|v| v.abs() < 16), "outbound silent at first");
        assert!(pcm(&frames[1][1]).iter().any(|v| v.abs() > 4_000), "then the outbound tone");
        assert!(pcm(&frames[2][0]).iter().all(|v| (3_700..4_300).contains(v)), "the clip's samples");
        assert!(pcm(&frames[3][0]).iter().all(|v| v.abs() < 16), "and silence after");
        assert!(s.clips.is_empty() && s.inbound.is_empty(), "past sounds are forgotten");
    }

    #[test]
    fn bidirectional_audio_plays_on_the_outbound_track_then_its_mark_returns() {
        let mut s = Stream::new(spec("outbound_track", None, Some("rtp")), call());
        s.start();
        let sent: Vec<u8> = (0..240u32).map(|i| (i % 100) as u8).collect();
        let media = json!({"event": "media", "media": {"payload": B64.encode(&sent)}}).to_string();
        assert!(s.from_app(&media).is_empty());
        assert!(s.from_app(&json!({"event": "mark", "mark": {"name": "done"}}).to_string()).is_empty());
        let first = s.tick();
        assert_eq!(first.len(), 1);
        // µ-law in, µ-law out: the same bytes come back.
        assert_eq!(payload(&first[0]), sent[..160].to_vec());
        let second = s.tick();
        let mut tail = sent[160..].to_vec();
        tail.resize(160, 0xFF);
        assert_eq!(payload(&second[0]), tail);
        assert_eq!(second[1]["event"], "mark");
        assert_eq!(second[1]["mark"]["name"], "done");
        // A mark with nothing queued returns at once; clear returns pending marks.
        assert_eq!(s.from_app(r#"{"event":"mark","mark":{"name":"now"}}"#)[0]["mark"]["name"], "now");
        s.from_app(&media);
        s.from_app(r#"{"event":"mark","mark":{"name":"cleared"}}"#);
        let cleared = s.from_app(r#"{"event":"clear"}"#);
        assert_eq!(cleared[0]["mark"]["name"], "cleared");
        assert_eq!(payload(&s.tick()[0]), vec![0xFF; 160]);
    }

    #[test]
    fn media_from_the_app_without_bidirectional_mode_is_an_error() {
        let mut s = Stream::new(spec("inbound_track", Some("L16"), None), call());
        s.start();
        let e = s.from_app(r#"{"event":"media","media":{"payload":"AAAA"}}"#);
        assert_eq!(e[0]["event"], "error");
        assert_eq!(s.from_app("not json")[0]["event"], "error");
        // L16: 16 kHz, 320 samples of two bytes per frame.
        assert_eq!(payload(&s.tick()[0]).len(), 640);
    }

    #[test]
    fn codecs_without_a_transcoder_stream_the_calls_pcmu() {
        for asked in ["G722", "OPUS", "AMR-WB", "default"] {
            assert_eq!(Codec::for_request(Some(asked)), Codec::Pcmu);
        }
        assert_eq!(Codec::for_request(None), Codec::Pcmu);
    }
}
