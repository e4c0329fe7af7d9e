//! MPEG-1 Layer III (ISO/IEC 11172-3) audio of a call: 48 kHz mono, 32 kbit/s constant
//! bit rate, each frame self-contained (no bit reservoir). The call's audio is silence and
//! tones (pressed digits, a far end's tone), so the encoder needs only silent granules (no
//! spectral data at all) and tone granules: one long-block spectral line per tone, the
//! line nearest its frequency ((line + 0.5) x 41.67 Hz, so within 21 Hz), all coded in the
//! count1 region with Huffman table B, each line's sign following its tone's phase from
//! granule to granule. No psychoacoustic model, filterbank analysis or big-value tables are
//! needed for that, and every frame is standard: any decoder plays it. Clips (WAV audio a
//! far end sends) cannot be coded this way: the MP3 has silence where they play (the WAV
//! of the same recording has them). A first `Info` frame (Xing header with a LAME tag) gives the frame count and the
//! encoder delay and padding, so players trim the file to the exact duration.

use crate::audio::{Sound, Source};

/// Samples per second.
pub const SAMPLE_RATE: u64 = 48_000;
/// Samples per frame (two granules of 576).
const FRAME_SAMPLES: u64 = 1_152;
const GRANULE_SAMPLES: u64 = 576;
/// 144 * 32,000 / 48,000 bytes per frame, no padding at 48 kHz.
const FRAME_BYTES: usize = 96;
/// Header: MPEG-1, Layer III, no CRC; 32 kbit/s, 48 kHz, no padding; mono.
const HEADER: [u8; 4] = [0xFF, 0xFB, 0x14, 0xC0];
/// Side information of a mono MPEG-1 frame.
const SIDE_INFO_BYTES: usize = 17;
/// Samples a Layer III decoder delays its output by (the filterbanks), which players
/// skip besides the encoder delay of the LAME tag.
const DECODER_DELAY: u64 = 529;
/// Hz between two long-block spectral lines: 24 kHz over 576 lines.
const LINE_HZ: f64 = 24_000.0 / 576.0;
/// The highest line a tone may use: count1 quadruples up to it must fit a granule's half
/// of the frame's main data (300 bits at 4 bits a quadruple, with sign bits).
const MAX_LINE: usize = 200;
/// Global gain of a tone granule: a line of magnitude 1 at 2^((gain - 210) / 4), tuned so
/// the decoded tone peaks near the WAV's 8,000 of 32,768.
const TONE_GAIN: u8 = 202;

/// The spectral line that carries a tone of `hz`.
pub fn tone_line(hz: u32) -> usize {
    ((f64::from(hz) / LINE_HZ - 0.5).round().max(0.0) as usize).min(MAX_LINE)
}

/// The frequency an MP3 plays a tone of `hz` at.
pub fn coded_hz(hz: u32) -> f64 {
    (tone_line(hz) as f64 + 0.5) * LINE_HZ
}

/// Whether line `line`'s coefficient is negative in granule `g`: a steady tone advances
/// its line's phase by (line + 0.5) * pi per granule, so its sign follows cos(pi/4 + q *
/// pi/2) for q = (2 * line + 1) * g quarter turns.
fn negative(line: usize, g: u64) -> bool {
    let q = ((2 * line as u64 + 1) * g) % 4;
    matches!(q, 1 | 2)
}

/// An MP3 of `ms` milliseconds: the tones of `sounds` (ms from the start) over silence,
/// as [`crate::audio::wav_of`] makes the same audio in WAV (clips are left out).
pub fn mp3(ms: u64, sounds: &[Sound]) -> Vec<u8> {
    let samples = ms * SAMPLE_RATE / 1000;
    let frames = (samples + DECODER_DELAY).div_ceil(FRAME_SAMPLES).max(1);
    // Players keep the decoded samples from the decoder's delay up to the frames' end
    // plus that delay less the padding: exactly `samples`.
    let end_pad = frames * FRAME_SAMPLES - samples;
    let total_bytes = (frames as usize + 1) * FRAME_BYTES;
    let mut out = Vec::with_capacity(total_bytes);
    out.extend_from_slice(&info_frame(frames as u32, total_bytes as u32, end_pad as u16));
    for f in 0..frames {
        let granules: [Vec<usize>; 2] = std::array::from_fn(|gr| {
            let g = f * 2 + gr as u64;
            // The granule's middle, on the output timeline (the decoder delays it).
            let mid = (g * GRANULE_SAMPLES + GRANULE_SAMPLES / 2).saturating_sub(DECODER_DELAY);
            let at_ms = mid * 1000 / SAMPLE_RATE;
            let mut lines: Vec<usize> = sounds
                .iter()
                .filter(|s| (s.start_ms..s.end_ms).contains(&at_ms))
                .filter_map(|s| match s.source {
                    Source::Tone { hz } => Some(tone_line(hz)),
                    Source::Clip { .. } => None,
                })
                .collect();
            lines.sort_unstable();
            lines.dedup();
            lines
        });
        out.extend_from_slice(&frame(f, &granules));
    }
    out
}

/// MSB-first bits into a fixed buffer.
struct Bits<'a> {
    buf: &'a mut [u8],
    at: usize,
}

impl Bits<'_> {
    fn put(&mut self, n: u32, v: u32) {
        for i in (0..n).rev() {
            if (v >> i) & 1 == 1 {
                self.buf[self.at / 8] |= 0x80 >> (self.at % 8);
            }
            self.at += 1;
        }
    }
}

/// One audio frame; `lines[gr]` are the spectral lines (ascending) granule `gr` carries.
fn frame(index: u64, lines: &[Vec<usize>; 2]) -> [u8; FRAME_BYTES] {
    let mut f = [0u8; FRAME_BYTES];
    f[..4].copy_from_slice(&HEADER);
    // Main data of a tone granule: count1 quadruples from line 0 up to the last line's,
    // each 4 bits in table B (the inverted magnitudes v, w, x, y), then a sign bit for
    // each line of magnitude 1 in it.
    let bits = |ls: &Vec<usize>| -> u32 {
        match ls.last() {
            Some(last) => 4 * (last / 4 + 1) as u32 + ls.len() as u32,
            None => 0,
        }
    };
    {
        let mut side = Bits { buf: &mut f[4..4 + SIDE_INFO_BYTES], at: 0 };
        side.put(9, 0); // main_data_begin: this frame's own main data
        side.put(5, 0); // private_bits
        side.put(4, 0); // scfsi
        for ls in lines {
            let on = !ls.is_empty();
            side.put(12, bits(ls)); // part2_3_length
            side.put(9, 0); // big_values: all in count1
            side.put(8, if on { u32::from(TONE_GAIN) } else { 0 }); // global_gain
            side.put(4, 0); // scalefac_compress: no scale factor bits
            side.put(1, 0); // window_switching_flag: long blocks
            side.put(15, 0); // table_select[3]
            side.put(4, 0); // region0_count
            side.put(3, 0); // region1_count
            side.put(1, 0); // preflag
            side.put(1, 0); // scalefac_scale
            side.put(1, 1); // count1table_select: table B
        }
    }
    let mut main = Bits { buf: &mut f[4 + SIDE_INFO_BYTES..], at: 0 };
    for (gr, ls) in lines.iter().enumerate() {
        let Some(last) = ls.last() else { continue };
        let g = index * 2 + gr as u64;
        for quad in 0..=last / 4 {
            let on: Vec<usize> = (quad * 4..quad * 4 + 4).filter(|l| ls.contains(l)).collect();
            let magnitudes = on.iter().fold(0u32, |acc, l| acc | (8 >> (l % 4)));
            main.put(4, !magnitudes & 0xF);
            for l in on {
                main.put(1, u32::from(negative(l, g)));
            }
        }
    }
    f
}

/// The first frame: silent, carrying the `Info` header (frame and byte counts) and a LAME
/// tag with the encoder delay (0) and the padding at the end, protected by its CRC.
fn info_frame(frames: u32, bytes: u32, end_pad: u16) -> [u8; FRAME_BYTES] {
    let mut f = [0u8; FRAME_BYTES];
    f[..4].copy_from_slice(&HEADER);
    let mut at = 4 + SIDE_INFO_BYTES;
    let mut put = |b: &[u8]| {
        f[at..at + b.len()].copy_from_slice(b);
        at += b.len();
    };
    put(b"Info");
    put(&3u32.to_be_bytes()); // frame count and byte count present
    put(&frames.to_be_bytes());
    put(&bytes.to_be_bytes());
    put(b"LAME3.100"); // the tag layout LAME defined (players read delays from it)
    put(&[0x00]); // tag revision 0, CBR
    put(&[0]); // lowpass: unknown
    put(&[0; 4]); // peak amplitude
    put(&[0; 2]); // radio replay gain
    put(&[0; 2]); // audiophile replay gain
    put(&[0]); // encoding flags, ATH type
    put(&[32]); // bit rate, kbit/s
    let delays = u32::from(end_pad) & 0x0FFF; // 12 bits of delay (0), 12 of padding
    put(&delays.to_be_bytes()[1..]);
    put(&[0]); // misc
    put(&[0]); // MP3 gain
    put(&[0; 2]); // preset and surround
    put(&bytes.to_be_bytes()); // music length
    put(&[0; 2]); // music CRC (not computed)
    let crc_at = at;
    let crc = crc16(&f[..crc_at]);
    f[crc_at..crc_at + 2].copy_from_slice(&crc.to_be_bytes());
    f
}

/// CRC-16 (polynomial 0x8005, reflected, initial 0) of the LAME tag.
fn crc16(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for &b in bytes {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_constant_bit_rate_after_an_info_frame() {
        let file = mp3(1_000, &[]);
        assert_eq!(file.len() % FRAME_BYTES, 0);
        // 48,000 samples and the decoder's delay: 43 frames of 1,152, and the Info frame.
        assert_eq!(file.len() / FRAME_BYTES, 44);
        for f in file.chunks(FRAME_BYTES) {
            assert_eq!(&f[..4], &HEADER);
        }
        assert_eq!(&file[21..25], b"Info");
        assert_eq!(u32::from_be_bytes(file[29..33].try_into().unwrap()), 43);
        assert_eq!(crate::audio::duration_ms(&file).map(|d| d / 100), Some(10), "about a second at 32 kbit/s");
    }

    #[test]
    fn tone_granules_carry_a_line_silent_ones_nothing() {
        let file = mp3(2_000, &[Sound::tone(500, 750, 440)]);
        let tone_frames = file[FRAME_BYTES..]
            .chunks(FRAME_BYTES)
            .filter(|f| f[4 + SIDE_INFO_BYTES..].iter().any(|b| *b != 0))
            .count();
        // 250 ms is about 21 granules, in 10 to 12 frames.
        assert!((10..=12).contains(&tone_frames), "{tone_frames}");
        // A silent granule codes nothing: part2_3_length 0, no main data.
        let silent = &file[FRAME_BYTES..2 * FRAME_BYTES];
        assert_eq!((u16::from(silent[6] & 0x1F) << 7) | u16::from(silent[7] >> 1), 0);
        assert!(silent[4 + SIDE_INFO_BYTES..].iter().all(|b| *b == 0));
    }

    /// The spectral lines a granule's main data codes (count1, table B), read back.
    fn coded_lines(f: &[u8], gr: usize) -> Vec<usize> {
        let side = &f[4..4 + SIDE_INFO_BYTES];
        let bit = |buf: &[u8], i: usize| (buf[i / 8] >> (7 - i % 8)) & 1;
        let read =
            |buf: &[u8], from: usize, n: usize| (from..from + n).fold(0u32, |a, i| (a << 1) | u32::from(bit(buf, i)));
        let len = |g: usize| read(side, 18 + g * 59, 12) as usize;
        let main = &f[4 + SIDE_INFO_BYTES..];
        let mut at: usize = (0..gr).map(len).sum();
        let end = at + len(gr);
        let mut lines = Vec::new();
        let mut quad = 0;
        while at < end {
            let m = !read(main, at, 4) & 0xF;
            at += 4;
            for k in 0..4 {
                if m & (8 >> k) != 0 {
                    lines.push(quad * 4 + k);
                    at += 1;
                }
            }
            quad += 1;
        }
        lines
    }

    #[test]
    fn each_tone_is_coded_on_the_line_of_its_frequency() {
        assert_eq!(tone_line(440), 10, "the digits' line");
        assert!((coded_hz(1_000) - 1_000.0).abs() <= LINE_HZ / 2.0);
        assert!((coded_hz(3_900) - 3_900.0).abs() <= LINE_HZ / 2.0);
        // A digit (440 Hz) over a far end's 1 kHz tone, then the tone alone; a clip is not coded.
        let sounds = [
            Sound::tone(0, 1_000, 1_000),
            Sound::tone(0, 500, 440),
            Sound { start_ms: 1_000, end_ms: 2_000, source: Source::Clip { id: "c".into(), from_ms: 0 } },
        ];
        let file = mp3(2_000, &sounds);
        let frames: Vec<&[u8]> = file[FRAME_BYTES..].chunks(FRAME_BYTES).collect();
        assert_eq!(coded_lines(frames[10], 0), vec![10, tone_line(1_000)]);
        assert_eq!(coded_lines(frames[30], 1), vec![tone_line(1_000)]);
        assert!(frames[60..].iter().all(|f| coded_lines(f, 0).is_empty() && coded_lines(f, 1).is_empty()));
        // The highest tone still fits a granule.
        let high = mp3(100, &[Sound::tone(0, 100, TONE_HZ_MAX)]);
        assert_eq!(coded_lines(&high[2 * FRAME_BYTES..], 0), vec![tone_line(TONE_HZ_MAX)]);
        // The line's signs follow the tone: 440 Hz runs +, -, -, + as before.
        assert_eq!((0..4).map(|g| negative(10, g)).collect::<Vec<_>>(), [false, true, true, false]);
    }

    const TONE_HZ_MAX: u32 = crate::audio::TONE_HZ.1;

    #[test]
    fn crc16_matches_the_arc_check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }
}
