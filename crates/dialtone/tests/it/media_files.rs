//! The generated media files read by the reference tools: `ffprobe` reports the codec,
//! size and duration asked for, and `ffmpeg` decodes every frame without a complaint.
//! These tests fail (they do not skip) without ffmpeg: `scripts/test.sh` installs it, or
//! `apt-get install -y ffmpeg` by hand.

use dialtone_domain::media::{Frame, opus_silence, slideshow, test_pattern};
use std::path::PathBuf;
use std::process::Command;

fn tool(name: &str) -> Command {
    let found = Command::new(name).arg("-version").output().map(|o| o.status.success()).unwrap_or(false);
    assert!(
        found,
        "`{name}` is needed by the media tests and was not found on PATH: install ffmpeg \
         (`apt-get install -y ffmpeg` on Debian/Ubuntu; scripts/test.sh does it when it can)"
    );
    Command::new(name)
}

/// A file in the system's temporary directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(ext: &str, bytes: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!("dialtone-media-{}.{ext}", uuid::Uuid::new_v4()));
        std::fs::write(&path, bytes).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// ffprobe's view of the first stream and the format, as JSON.
fn probe(file: &TempFile) -> serde_json::Value {
    let out = tool("ffprobe")
        .args(["-v", "error", "-print_format", "json", "-show_streams", "-show_format"])
        .arg(&file.0)
        .output()
        .expect("run ffprobe");
    assert!(out.status.success() && out.stderr.is_empty(), "ffprobe: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("ffprobe JSON")
}

/// Decodes the whole file; ffmpeg prints nothing at `-v error` when every frame decodes.
/// Answers the number of frames decoded.
fn decode(file: &TempFile, stream: &str) -> u64 {
    let out = tool("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.0)
        .args(["-map", stream, "-f", "framemd5", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success() && out.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().filter(|l| !l.starts_with('#')).count() as u64
}

/// The frame shown at `at_secs` into an MP4, decoded to 8-bit RGB (`width * height * 3`).
pub(crate) fn frame_rgb(mp4: &[u8], at_secs: f64, width: u32, height: u32) -> Vec<u8> {
    let file = TempFile::new("mp4", mp4);
    let out = tool("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.0)
        .args(["-ss", &format!("{at_secs:.3}"), "-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success() && out.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), (width * height * 3) as usize);
    out.stdout
}

/// Whether each of red, green and blue is high, at `(x, y)` of an RGB frame.
pub(crate) fn rgb_on(rgb: &[u8], width: u32, x: u32, y: u32) -> (u8, u8, u8) {
    let at = ((y * width + x) * 3) as usize;
    let on = |c: u8| u8::from(c > 100);
    (on(rgb[at]), on(rgb[at + 1]), on(rgb[at + 2]))
}

fn seconds(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("duration {v}"))
}

#[test]
fn test_pattern_mp4_probes_as_h264_of_the_size_and_duration_asked() {
    // 650x366 is not a multiple of 16: the coded picture is cropped.
    for (width, height, ms) in [(1280, 720, 1_000), (640, 360, 65_000), (650, 366, 1_000), (16, 16, 40)] {
        let file = TempFile::new("mp4", &test_pattern(width, height, ms).expect("valid size"));
        let info = probe(&file);
        let stream = &info["streams"][0];
        assert_eq!(info["streams"].as_array().map(Vec::len), Some(1));
        assert_eq!(stream["codec_type"], "video");
        assert_eq!(stream["codec_name"], "h264");
        assert_eq!(stream["profile"], "Constrained Baseline");
        assert_eq!((stream["width"].as_u64(), stream["height"].as_u64()), (Some(width.into()), Some(height.into())));
        let expected = ms as f64 / 1000.0;
        assert!((seconds(&stream["duration"]) - expected).abs() < 0.001, "{width}x{height} {ms} ms: {stream}");
        assert!((seconds(&info["format"]["duration"]) - expected).abs() < 0.001, "{}", info["format"]);
        // 30 frames a second, the last one shortened to end on the millisecond.
        assert_eq!(decode(&file, "0:v"), (ms * 30).div_ceil(1000), "{width}x{height} {ms} ms");
    }
}

#[test]
fn test_pattern_shows_colour_bars() {
    // Decode the first frame to raw 8-bit RGB and look at the middle row of each bar.
    let (width, height) = (160u32, 96u32);
    let file = TempFile::new("mp4", &test_pattern(width, height, 100).expect("valid size"));
    let out = tool("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.0)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.stdout.len(), (width * height * 3) as usize);
    let pixel = |x: u32| {
        let at = (((height / 2) * width + x) * 3) as usize;
        (out.stdout[at], out.stdout[at + 1], out.stdout[at + 2])
    };
    // (red, green, blue) high or low, per bar: white, yellow, cyan, green, magenta, red, blue, black.
    let expected = [(1, 1, 1), (1, 1, 0), (0, 1, 1), (0, 1, 0), (1, 0, 1), (1, 0, 0), (0, 0, 1), (0, 0, 0)];
    for (i, want) in expected.iter().enumerate() {
        let (r, g, b) = pixel(width / 16 + i as u32 * width / 8);
        let on = |c: u8| u8::from(c > 100);
        assert_eq!((on(r), on(g), on(b)), *want, "bar {i}: rgb({r}, {g}, {b})");
    }
}

#[test]
fn a_slideshow_decodes_and_changes_picture_at_each_scene() {
    // Yellow for 1 s, then blue: a keyframe at frame 30.
    let (width, height) = (96u32, 64u32);
    let yellow = Frame::new(width, height, (168, 44, 136));
    let mut blue = Frame::new(width, height, (28, 212, 120));
    blue.fill(0, 0, 48, 64, (168, 44, 136));
    let mp4 = slideshow(width, height, 2_000, [(0, yellow), (1_000, blue)]).expect("valid size");
    let file = TempFile::new("mp4", &mp4);
    assert_eq!(decode(&file, "0:v"), 60);
    let first = frame_rgb(&mp4, 0.5, width, height);
    assert_eq!((rgb_on(&first, width, 10, 10), rgb_on(&first, width, 90, 60)), ((1, 1, 0), (1, 1, 0)));
    let second = frame_rgb(&mp4, 1.5, width, height);
    assert_eq!((rgb_on(&second, width, 10, 10), rgb_on(&second, width, 90, 60)), ((1, 1, 0), (0, 0, 1)));
}

#[test]
fn opus_silence_probes_as_opus_of_the_duration_asked() {
    for ms in [1_000u64, 65_000, 30] {
        let file = TempFile::new("opus", &opus_silence(ms));
        let info = probe(&file);
        let stream = &info["streams"][0];
        assert_eq!(stream["codec_name"], "opus");
        assert_eq!(stream["sample_rate"], "48000");
        assert_eq!(stream["channels"], 1);
        let expected = ms as f64 / 1000.0;
        assert!((seconds(&stream["duration"]) - expected).abs() < 0.001, "{ms} ms: {stream}");
        assert!((seconds(&info["format"]["duration"]) - expected).abs() < 0.001, "{}", info["format"]);
        // Every 20 ms packet decodes.
        assert_eq!(decode(&file, "0:a"), ms.div_ceil(20), "{ms} ms");
    }
}

#[test]
fn opus_silence_decodes_to_zero_samples_of_the_exact_length() {
    let file = TempFile::new("opus", &opus_silence(1_010));
    let out = tool("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(&file.0)
        .args(["-f", "s16le", "-"])
        .output()
        .expect("run ffmpeg");
    assert!(out.status.success() && out.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
    // 1.01 s at 48 kHz, 16-bit mono: the last packet is trimmed by the granule position.
    assert_eq!(out.stdout.len(), 48_480 * 2);
    assert!(out.stdout.iter().all(|b| *b == 0), "silence");
}

#[test]
fn call_recording_mp3_probes_as_mpeg1_layer3_and_decodes_to_the_exact_length_with_its_tones() {
    use dialtone_domain::audio::Sound;
    use dialtone_domain::media::mp3::mp3;
    for ms in [1_000u64, 65_010] {
        let file = TempFile::new("mp3", &mp3(ms, &[Sound::tone(250, 500, 440)]));
        let info = probe(&file);
        let stream = &info["streams"][0];
        assert_eq!(stream["codec_name"], "mp3");
        assert_eq!(stream["sample_rate"], "48000");
        assert_eq!(stream["channels"], 1);
        assert_eq!(info["format"]["format_name"], "mp3");
        // ffprobe counts whole 24 ms frames, the decoder's 11 ms delay among them.
        let d = seconds(&info["format"]["duration"]) - ms as f64 / 1000.0;
        assert!((0.0..0.036).contains(&d), "{ms} ms: {}", info["format"]);
        // Players trim delay and padding: exactly `ms` of audio.
        let out = tool("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(&file.0)
            .args(["-f", "s16le", "-"])
            .output()
            .expect("run ffmpeg");
        assert!(out.status.success() && out.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
        let samples: Vec<i16> = out.stdout.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        assert_eq!(samples.len() as u64, ms * 48, "{ms} ms");
        let peak =
            |from_ms: usize, to_ms: usize| samples[from_ms * 48..to_ms * 48].iter().map(|s| s.unsigned_abs()).max();
        // The tone (250-500 ms) is heard at about the WAV's level; silence around it.
        let tone = peak(280, 470).unwrap_or(0);
        assert!((5_000..12_000).contains(&tone), "tone peak {tone}");
        assert_eq!(peak(0, 200), Some(0));
        assert_eq!(peak(560, 900), Some(0));
        // About 440 Hz: zero crossings over 100 ms.
        let w = &samples[300 * 48..400 * 48];
        let crossings = w.windows(2).filter(|p| (p[0] < 0) != (p[1] < 0)).count();
        assert!((80..96).contains(&crossings), "{crossings} crossings in 100 ms");
    }
}

#[test]
fn call_recording_mp3_plays_any_tone_at_its_frequency() {
    use dialtone_domain::audio::{Sound, crossing_hz};
    use dialtone_domain::media::mp3::{coded_hz, mp3};
    for hz in [1_000u32, 2_600, 3_900] {
        let file = TempFile::new("mp3", &mp3(1_000, &[Sound::tone(200, 800, hz)]));
        let out = tool("ffmpeg")
            .args(["-nostdin", "-v", "error", "-i"])
            .arg(&file.0)
            .args(["-f", "s16le", "-"])
            .output()
            .expect("run ffmpeg");
        assert!(out.status.success() && out.stderr.is_empty(), "ffmpeg: {}", String::from_utf8_lossy(&out.stderr));
        let samples: Vec<i16> = out.stdout.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])).collect();
        let heard = crossing_hz(&samples[300 * 48..700 * 48], 48_000);
        assert!((heard - coded_hz(hz)).abs() < 30.0, "{hz} Hz is heard at {heard} Hz");
        assert!((coded_hz(hz) - f64::from(hz)).abs() <= 21.0);
        let peak = samples[300 * 48..700 * 48].iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
        assert!((4_000..14_000).contains(&peak), "{hz} Hz peak {peak}");
        assert!(samples[..150 * 48].iter().all(|s| *s == 0), "silence before it");
    }
}
