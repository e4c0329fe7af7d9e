//! Audio: how long a piece lasts from its bytes (WAV and MP3), for playbacks; a call's
//! audio as [`Sound`]s (tones and WAV clips on a timeline) rendered to samples and WAV
//! files; WAV files decoded into clips.

use serde::{Deserialize, Serialize};

/// The duration of a WAV (RIFF/WAVE with a `fmt ` and a `data` chunk) or MP3 (MPEG audio
/// frames, after an optional ID3v2 tag) file, in milliseconds; `None` when the bytes are
/// neither.
pub fn duration_ms(bytes: &[u8]) -> Option<u64> {
    wav_ms(bytes).or_else(|| mp3_ms(bytes))
}

fn u32_le(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn wav_ms(b: &[u8]) -> Option<u64> {
    if b.get(0..4)? != b"RIFF" || b.get(8..12)? != b"WAVE" {
        return None;
    }
    let mut at = 12;
    let mut byte_rate = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = u32_le(b, at + 4)? as usize;
        match id {
            b"fmt " => byte_rate = u32_le(b, at + 16),
            b"data" => {
                let rate = u64::from(byte_rate.filter(|r| *r > 0)?);
                // A streamed WAV may give 0 or 0xFFFFFFFF: count the bytes present.
                let len = if size == 0 || size == u32::MAX as usize { b.len() - at - 8 } else { size };
                return Some(len as u64 * 1000 / rate);
            }
            _ => {}
        }
        at += 8 + size + (size & 1);
    }
    None
}

/// Bit rates (kbit/s) of MPEG-1 Layer III, and of MPEG-2/2.5 Layer III.
const MPEG1_L3: [u32; 15] = [0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320];
const MPEG2_L3: [u32; 15] = [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160];

fn mp3_ms(b: &[u8]) -> Option<u64> {
    let mut start = 0;
    if b.get(0..3)? == b"ID3" {
        let s = b.get(6..10)?;
        let size = s.iter().fold(0usize, |acc, x| (acc << 7) | usize::from(x & 0x7f));
        start = 10 + size;
    }
    // The first frame header: 11 sync bits, Layer III.
    let at = (start..b.len().saturating_sub(4)).find(|&i| b[i] == 0xff && b[i + 1] & 0xe0 == 0xe0)?;
    let (h1, h2) = (b[at + 1], b[at + 2]);
    let version = (h1 >> 3) & 0b11; // 3: MPEG-1, 2: MPEG-2, 0: MPEG-2.5
    let layer = (h1 >> 1) & 0b11; // 1: Layer III
    if layer != 1 || version == 1 {
        return None;
    }
    let index = usize::from(h2 >> 4);
    let table = if version == 3 { &MPEG1_L3 } else { &MPEG2_L3 };
    let kbps = u64::from(*table.get(index)?);
    if kbps == 0 {
        return None;
    }
    // Constant bit rate: the audio bytes over the rate.
    Some((b.len() - at) as u64 * 8 / kbps)
}

/// The sample rate of a call's audio (and of recordings' WAV files).
pub const CALL_RATE: u32 = 8_000;
/// The level of a tone: peaks at 8,000 of 32,768 (about -12 dBFS).
pub const TONE_LEVEL: f64 = 8_000.0;
/// The frequency a pressed digit is heard at.
pub const DIGIT_HZ: u32 = 440;
/// Tones are audible telephone frequencies: below half of [`CALL_RATE`].
pub const TONE_HZ: (u32, u32) = (50, 3_900);
/// The longest clip (WAV audio a far end sends), in ms: 60 s, 960 KB of 8 kHz samples.
pub const MAX_CLIP_MS: u64 = 60_000;

/// What a [`Sound`] plays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Source {
    /// A sine tone at `hz`.
    Tone { hz: u32 },
    /// The clip `id` (8 kHz samples, see [`Clips`]) from `from_ms` into it.
    Clip { id: String, from_ms: u64 },
}

/// A sound in a stretch of audio, from `start_ms` to `end_ms` (ms from the stretch's start).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sound {
    pub start_ms: u64,
    pub end_ms: u64,
    pub source: Source,
}

impl Sound {
    pub fn tone(start_ms: u64, end_ms: u64, hz: u32) -> Sound {
        Sound { start_ms, end_ms, source: Source::Tone { hz } }
    }

    /// The part of this sound between `from` and `to` (ms on the same timeline), moved to
    /// start at `at` on another; `None` when they do not overlap. A clip cut at its start
    /// plays on from where it was cut.
    pub fn window(&self, from: u64, to: u64, at: u64) -> Option<Sound> {
        let (a, b) = (self.start_ms.max(from), self.end_ms.min(to));
        if a >= b {
            return None;
        }
        let source = match &self.source {
            Source::Clip { id, from_ms } => Source::Clip { id: id.clone(), from_ms: from_ms + (a - self.start_ms) },
            tone => tone.clone(),
        };
        Some(Sound { start_ms: at + (a - from), end_ms: at + (b - from), source })
    }

    /// The clip this sound plays, if it is one.
    pub fn clip_id(&self) -> Option<&str> {
        match &self.source {
            Source::Clip { id, .. } => Some(id),
            Source::Tone { .. } => None,
        }
    }
}

/// The 440 Hz tones of pressed digits, as sounds.
pub fn digit_tones(spans: &[(u64, u64)]) -> impl Iterator<Item = Sound> + '_ {
    spans.iter().map(|(a, b)| Sound::tone(*a, *b, DIGIT_HZ))
}

/// Clips by id: mono 16-bit samples at [`CALL_RATE`].
pub type Clips = std::collections::HashMap<String, std::sync::Arc<[i16]>>;

/// A mono 16-bit PCM WAV file of `ms` milliseconds at `rate` Hz: silence, with a 440 Hz
/// tone for the spans given (start, end in ms).
pub fn wav(ms: u64, rate: u32, tones: &[(u64, u64)]) -> Vec<u8> {
    let sounds: Vec<Sound> = digit_tones(tones).collect();
    wav_of(ms, rate, &sounds, &Clips::new())
}

/// A mono 16-bit PCM WAV file of `ms` milliseconds at `rate` Hz of `sounds` mixed over
/// silence.
pub fn wav_of(ms: u64, rate: u32, sounds: &[Sound], clips: &Clips) -> Vec<u8> {
    let samples = (ms * u64::from(rate) / 1000) as usize;
    let data_len = (samples * 2) as u32;
    let mut out = Vec::with_capacity(44 + samples * 2);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for v in render(rate, 0, samples, sounds, clips) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// `n` samples at `rate` Hz from sample `from` on of `sounds` (ms from sample 0) mixed over
/// silence. The recording's WAV and the media stream's frames are both cut from this; a
/// clip missing from `clips` is silence.
pub fn render(rate: u32, from: u64, n: usize, sounds: &[Sound], clips: &Clips) -> Vec<i16> {
    let mut mix = vec![0i32; n];
    let rate64 = u64::from(rate);
    let to = from + n as u64;
    for s in sounds {
        // The sound's samples, as the spans of digits always were: by whole milliseconds.
        let a = (s.start_ms * rate64).div_ceil(1000).max(from);
        let b = (s.end_ms * rate64).div_ceil(1000).min(to);
        if a >= b {
            continue;
        }
        match &s.source {
            Source::Tone { hz } => {
                let step = f64::from(*hz) * std::f64::consts::TAU / f64::from(rate);
                for i in a..b {
                    mix[(i - from) as usize] += ((i as f64 * step).sin() * TONE_LEVEL) as i32;
                }
            }
            Source::Clip { id, from_ms } => {
                let Some(clip) = clips.get(id) else { continue };
                // Clip sample of output sample i: its 8 kHz index, from `from_ms` in.
                let first = from_ms * u64::from(CALL_RATE) / 1000;
                let start = s.start_ms * rate64 / 1000;
                for i in a..b {
                    let k = first + (i - start) * u64::from(CALL_RATE) / rate64;
                    if let Some(v) = clip.get(k as usize) {
                        mix[(i - from) as usize] += i32::from(*v);
                    }
                }
            }
        }
    }
    mix.into_iter().map(|v| v.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16).collect()
}

/// Why a WAV file cannot be a clip.
pub const WAV_REQUIRED: &str = "The audio must be a PCM WAV file: 16-bit (or 8-bit) samples, mono or stereo, 8-48 kHz.";

/// A PCM WAV file's audio as a clip: mono (channels averaged), 16-bit, resampled to
/// [`CALL_RATE`] (linear interpolation), at most [`MAX_CLIP_MS`]. `Err` says why not.
pub fn decode_wav(b: &[u8]) -> Result<Vec<i16>, String> {
    if b.get(0..4) != Some(b"RIFF") || b.get(8..12) != Some(b"WAVE") {
        return Err(WAV_REQUIRED.into());
    }
    let u16_le = |at: usize| b.get(at..at + 2).map(|x| u16::from_le_bytes([x[0], x[1]]));
    let mut at = 12;
    let mut fmt = None;
    while at + 8 <= b.len() {
        let id = &b[at..at + 4];
        let size = u32_le(b, at + 4).ok_or(WAV_REQUIRED)? as usize;
        let body = at + 8;
        match id {
            b"fmt " => {
                let tag = u16_le(body).ok_or(WAV_REQUIRED)?;
                let channels = u16_le(body + 2).ok_or(WAV_REQUIRED)?;
                let rate = u32_le(b, body + 4).ok_or(WAV_REQUIRED)?;
                let bits = u16_le(body + 14).ok_or(WAV_REQUIRED)?;
                // WAVE_FORMAT_EXTENSIBLE names its format in the first two bytes of the GUID.
                let tag = if tag == 0xFFFE { u16_le(body + 24).ok_or(WAV_REQUIRED)? } else { tag };
                if tag != 1
                    || !(1..=2).contains(&channels)
                    || !(8_000..=48_000).contains(&rate)
                    || !matches!(bits, 8 | 16)
                {
                    return Err(WAV_REQUIRED.into());
                }
                fmt = Some((channels as usize, rate, bits));
            }
            b"data" => {
                let (channels, rate, bits) = fmt.ok_or(WAV_REQUIRED)?;
                let end = if size == 0 || size == u32::MAX as usize { b.len() } else { (body + size).min(b.len()) };
                let data = &b[body..end];
                let width = usize::from(bits / 8) * channels;
                let frames = data.len() / width;
                if frames as u64 * 1000 / u64::from(rate) > MAX_CLIP_MS {
                    return Err(format!("The audio is longer than {} seconds.", MAX_CLIP_MS / 1000));
                }
                let sample = |f: usize, c: usize| -> i32 {
                    let at = f * width + c * usize::from(bits / 8);
                    if bits == 8 {
                        (i32::from(data[at]) - 128) << 8
                    } else {
                        i32::from(i16::from_le_bytes([data[at], data[at + 1]]))
                    }
                };
                let mono: Vec<i32> =
                    (0..frames).map(|f| (0..channels).map(|c| sample(f, c)).sum::<i32>() / channels as i32).collect();
                return Ok(resample_linear(&mono, rate, CALL_RATE));
            }
            _ => {}
        }
        at = body + size + (size & 1);
    }
    Err(WAV_REQUIRED.into())
}

fn resample_linear(x: &[i32], from: u32, to: u32) -> Vec<i16> {
    if x.is_empty() {
        return Vec::new();
    }
    let n = (x.len() as u64 * u64::from(to) / u64::from(from)) as usize;
    (0..n)
        .map(|i| {
            let pos = i as f64 * f64::from(from) / f64::from(to);
            let k = pos as usize;
            let frac = pos - k as f64;
            let a = f64::from(x[k.min(x.len() - 1)]);
            let b = f64::from(x[(k + 1).min(x.len() - 1)]);
            (a + (b - a) * frac).round().clamp(-32_768.0, 32_767.0) as i16
        })
        .collect()
}

/// A clip's samples as stored (little-endian bytes in base64), and back.
pub fn clip_to_base64(samples: &[i16]) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn clip_from_base64(text: &str) -> Option<Vec<i16>> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).ok()?;
    Some(bytes.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect())
}

/// A clip's id: the SHA-256 of its samples, so one audio is kept once.
pub fn clip_id(samples: &[i16]) -> String {
    use sha2::Digest as _;
    let mut h = sha2::Sha256::new();
    for s in samples {
        h.update(s.to_le_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Estimates the main frequency of `samples` at `rate` from their zero crossings (tests
/// and checks: a pure tone gives its frequency).
pub fn crossing_hz(samples: &[i16], rate: u32) -> f64 {
    let crossings = samples.windows(2).filter(|p| (p[0] < 0) != (p[1] < 0)).count();
    crossings as f64 * f64::from(rate) / (2.0 * samples.len().max(1) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wav_duration_is_read_from_its_header() {
        let w = wav(2_500, 8_000, &[(0, 1_000)]);
        assert_eq!(w.len(), 44 + 2 * 20_000);
        assert_eq!(duration_ms(&w), Some(2_500));
        assert_eq!(duration_ms(b"not audio at all"), None);
        assert_eq!(duration_ms(b""), None);
    }

    #[test]
    fn mp3_duration_is_estimated_from_the_bit_rate() {
        // An ID3 tag of 5 bytes, then one MPEG-1 Layer III 128 kbit/s frame header and
        // 16,000 bytes: one second.
        let mut b = b"ID3\x04\x00\x00\x00\x00\x00\x05hello".to_vec();
        b.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64]);
        b.resize(b.len() + 16_000 - 4, 0);
        assert_eq!(duration_ms(&b), Some(1_000));
    }

    #[test]
    fn sounds_render_tones_at_their_frequency_and_clips_as_given() {
        let sounds = [
            Sound::tone(1_000, 1_500, 1_000),
            Sound { start_ms: 2_000, end_ms: 2_010, source: Source::Clip { id: "c".into(), from_ms: 5 } },
        ];
        let clip: std::sync::Arc<[i16]> = (0..200).map(|i| i as i16).collect::<Vec<_>>().into();
        let clips = Clips::from([("c".to_owned(), clip)]);
        let all = render(8_000, 0, 24_000, &sounds, &clips);
        assert!(all[..8_000].iter().all(|v| *v == 0), "silence before the tone");
        let hz = crossing_hz(&all[8_000..12_000], 8_000);
        assert!((990.0..1_010.0).contains(&hz), "{hz}");
        assert!(all[12_000..16_000].iter().all(|v| *v == 0));
        // 10 ms of the clip from its 40th sample (5 ms in).
        assert_eq!(&all[16_000..16_080], &(40..120).collect::<Vec<i16>>()[..]);
        assert_eq!(all[16_080], 0);
        // A window of the samples is the same audio.
        assert_eq!(render(8_000, 8_100, 50, &sounds, &clips), all[8_100..8_150].to_vec());
        // At 16 kHz a clip's samples are each heard twice.
        let hi = render(16_000, 32_000, 4, &sounds, &clips);
        assert_eq!(hi, vec![40, 40, 41, 41]);
    }

    #[test]
    fn a_window_cuts_a_sound_and_moves_it() {
        let clip = Sound { start_ms: 100, end_ms: 300, source: Source::Clip { id: "c".into(), from_ms: 0 } };
        assert_eq!(
            clip.window(150, 1_000, 10),
            Some(Sound { start_ms: 10, end_ms: 160, source: Source::Clip { id: "c".into(), from_ms: 50 } })
        );
        assert_eq!(Sound::tone(0, 50, 440).window(50, 100, 0), None);
        assert_eq!(Sound::tone(0, 50, 440).window(20, 30, 0), Some(Sound::tone(0, 10, 440)));
    }

    #[test]
    fn wav_files_decode_to_8khz_mono_clips() {
        // 16 kHz stereo, 16-bit: resampled and averaged.
        let mut w = wav(100, 16_000, &[]);
        w[22] = 2; // channels
        let rate = 16_000u32;
        w[28..32].copy_from_slice(&(rate * 4).to_le_bytes());
        w[32] = 4;
        let frames = 1_600usize;
        w.truncate(44);
        w[40..44].copy_from_slice(&((frames * 4) as u32).to_le_bytes());
        for i in 0..frames {
            w.extend_from_slice(&1_000i16.to_le_bytes());
            w.extend_from_slice(&(i as i16).to_le_bytes());
        }
        let clip = decode_wav(&w).unwrap();
        assert_eq!(clip.len(), 800, "100 ms at 8 kHz");
        assert_eq!(clip[10], (1_000 + 20) / 2);
        // 8-bit mono at 8 kHz is kept as is, scaled to 16 bits.
        let mut w8 = wav(0, 8_000, &[]);
        w8[34] = 8;
        w8[32] = 1;
        w8.truncate(40);
        w8.extend_from_slice(&3u32.to_le_bytes());
        w8.extend_from_slice(&[128, 255, 0]);
        assert_eq!(decode_wav(&w8).unwrap(), vec![0, 127 << 8, -128 << 8]);
        assert!(decode_wav(b"RIFF....WAVEjunk").is_err());
        assert!(decode_wav(b"not a wav").is_err());
        let mut float = wav(10, 8_000, &[]);
        float[20] = 3; // IEEE float
        assert_eq!(decode_wav(&float).unwrap_err(), WAV_REQUIRED);
        let long = wav(MAX_CLIP_MS + 1_000, 8_000, &[]);
        assert!(decode_wav(&long).unwrap_err().contains("longer than 60"));
        let samples = vec![1i16, -2, 3];
        assert_eq!(clip_from_base64(&clip_to_base64(&samples)), Some(samples.clone()));
        assert_eq!(clip_id(&samples).len(), 64);
    }
}
