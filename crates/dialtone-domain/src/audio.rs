//! Reading how long a piece of audio lasts from its bytes (WAV and MP3), for playbacks:
//! the call hears the file for as long as it plays.

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

/// A mono 16-bit PCM WAV file of `ms` milliseconds at `rate` Hz: silence, with a 440 Hz
/// tone for the spans given (start, end in ms).
pub fn wav(ms: u64, rate: u32, tones: &[(u64, u64)]) -> Vec<u8> {
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
    for v in samples_at(rate, 0, samples, tones) {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

/// `n` samples of the call's audio at `rate` Hz from sample `from` on: silence, with a
/// 440 Hz tone in the spans given (start, end in ms). The recording's WAV and the media
/// stream's frames are both cut from this.
pub fn samples_at(rate: u32, from: u64, n: usize, tones: &[(u64, u64)]) -> impl Iterator<Item = i16> + '_ {
    (from..from + n as u64).map(move |i| {
        let at_ms = i * 1000 / u64::from(rate);
        if tones.iter().any(|(a, b)| (*a..*b).contains(&at_ms)) {
            let t = i as f64 / f64::from(rate);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8_000.0) as i16
        } else {
            0
        }
    })
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
}
