//! MPEG-1 Layer III (ISO/IEC 11172-3) audio of a call: 48 kHz mono, 32 kbit/s constant
//! bit rate, each frame self-contained (no bit reservoir). The call's audio is silence with
//! 440 Hz tones where digits were pressed, so the encoder needs only two kinds of granule:
//! silent (no spectral data at all) and tone, one spectral line of long-block subband 0
//! at about 437 Hz coded in the count1 region with Huffman table B, its sign following
//! the tone's phase from granule to granule. No psychoacoustic model, filterbank analysis
//! or big-value tables are needed for that, and every frame is standard: any decoder plays
//! it. A first `Info` frame (Xing header with a LAME tag) gives the frame count and the
//! encoder delay and padding, so players trim the file to the exact duration.

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
/// The spectral line of the tone: long-block line 10 of subband 0, (10 + 0.5) * 750 / 18 Hz.
const TONE_LINE: usize = 10;
/// Global gain of a tone granule: a line of magnitude 1 at 2^((gain - 210) / 4), tuned so
/// the decoded tone peaks near the WAV's 8,000 of 32,768.
const TONE_GAIN: u8 = 202;
/// A steady tone advances the line's phase by (10 + 0.5) * pi per granule: its sign runs
/// +, -, -, + .
const TONE_SIGNS: [bool; 4] = [false, true, true, false];

/// An MP3 of `ms` milliseconds: silence, with the tone in the spans given (start, end in
/// ms), as [`crate::audio::wav`] makes the same audio in WAV.
pub fn mp3(ms: u64, tones: &[(u64, u64)]) -> Vec<u8> {
    let samples = ms * SAMPLE_RATE / 1000;
    let frames = (samples + DECODER_DELAY).div_ceil(FRAME_SAMPLES).max(1);
    // Players keep the decoded samples from the decoder's delay up to the frames' end
    // plus that delay less the padding: exactly `samples`.
    let end_pad = frames * FRAME_SAMPLES - samples;
    let total_bytes = (frames as usize + 1) * FRAME_BYTES;
    let mut out = Vec::with_capacity(total_bytes);
    out.extend_from_slice(&info_frame(frames as u32, total_bytes as u32, end_pad as u16));
    for f in 0..frames {
        let mut granules = [false; 2];
        for (gr, on) in granules.iter_mut().enumerate() {
            let g = f * 2 + gr as u64;
            // The granule's middle, on the output timeline (the decoder delays it).
            let mid = (g * GRANULE_SAMPLES + GRANULE_SAMPLES / 2).saturating_sub(DECODER_DELAY);
            let at_ms = mid * 1000 / SAMPLE_RATE;
            *on = tones.iter().any(|(a, b)| (*a..*b).contains(&at_ms));
        }
        out.extend_from_slice(&frame(f, granules));
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

/// One audio frame; `tone[gr]` says which granules carry the tone.
fn frame(index: u64, tone: [bool; 2]) -> [u8; FRAME_BYTES] {
    let mut f = [0u8; FRAME_BYTES];
    f[..4].copy_from_slice(&HEADER);
    // Main data of a tone granule: quadruples (lines 0-3, 4-7) of zeros, code 1111 each
    // in table B, then (0, 0, 1, 0) for lines 8-11: code 1101 and the line's sign bit.
    const TONE_BITS: u32 = 4 + 4 + 4 + 1;
    {
        let mut side = Bits { buf: &mut f[4..4 + SIDE_INFO_BYTES], at: 0 };
        side.put(9, 0); // main_data_begin: this frame's own main data
        side.put(5, 0); // private_bits
        side.put(4, 0); // scfsi
        for on in tone {
            side.put(12, if on { TONE_BITS } else { 0 }); // part2_3_length
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
    for (gr, on) in tone.into_iter().enumerate() {
        if on {
            debug_assert_eq!(TONE_LINE / 4, 2);
            main.put(4, 0b1111);
            main.put(4, 0b1111);
            main.put(4, 0b1101);
            let g = (index * 2 + gr as u64) as usize;
            main.put(1, u32::from(TONE_SIGNS[g % 4]));
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
        let file = mp3(2_000, &[(500, 750)]);
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

    #[test]
    fn crc16_matches_the_arc_check_value() {
        assert_eq!(crc16(b"123456789"), 0xBB3D);
    }
}
