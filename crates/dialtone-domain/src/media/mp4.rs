//! A test-pattern video as an MP4 file (ISO/IEC 14496-12 boxes, an `avc1` track per
//! ISO/IEC 14496-15): colour bars for the requested size and duration, at 30 frames per
//! second, `moov` ahead of `mdat` so a player can start before the download ends.
//!
//! Size: one raw keyframe (384 bytes per 16x16 macroblock, about 1.4 MB at 1280x720) plus
//! about 12 bytes per further frame (the picture repeated by skipping every macroblock,
//! 8 bytes of it in the sample table): an hour at 30 fps adds about 1.3 MB. Memory is the
//! output's size.

use super::h264::{MAX_FRAME_NUM, Picture};

/// Frames per second of the generated video.
pub const FPS: u32 = 30;
/// The track's time scale: 1,000 units per frame, so any whole millisecond is exact.
const TIMESCALE: u32 = FPS * 1000;
/// Smallest and largest width and height accepted (even, as 4:2:0 cropping needs).
pub const MIN_SIDE: u32 = 16;
pub const MAX_SIDE: u32 = 4096;
/// The longest video generated: 24 hours (32-bit box durations hold about 39 h at the
/// track's time scale).
pub const MAX_DURATION_MS: u64 = 24 * 3_600_000;

/// Why a test pattern cannot be made; nothing is generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Mp4Error {
    #[error("width must be even and within {MIN_SIDE}..={MAX_SIDE}, got {0}")]
    Width(u32),
    #[error("height must be even and within {MIN_SIDE}..={MAX_SIDE}, got {0}")]
    Height(u32),
    #[error("duration must be within 1..={MAX_DURATION_MS} ms, got {0}")]
    Duration(u64),
}

/// An MP4 file with one H.264 video track of exactly `width` x `height` and
/// `duration_ms` milliseconds showing colour bars. `width` and `height` must be even and
/// within 16..=4096, the duration within 1 ms..=24 h; otherwise an [`Mp4Error`] says
/// which and nothing is allocated.
pub fn test_pattern(width: u32, height: u32, duration_ms: u64) -> Result<Vec<u8>, Mp4Error> {
    check(width, height, duration_ms)?;
    let mut bars = Frame::new(width, height, BLACK);
    for i in 0..8 {
        // Pixel x shows bar floor(x * 8 / width).
        let (x0, x1) = ((i * width).div_ceil(8), ((i + 1) * width).div_ceil(8));
        bars.fill(i64::from(x0), 0, i64::from(x1 - x0), i64::from(height), bar(i));
    }
    slideshow(width, height, duration_ms, [(0, bars)])
}

fn check(width: u32, height: u32, duration_ms: u64) -> Result<(), Mp4Error> {
    let side_ok = |s: u32| (MIN_SIDE..=MAX_SIDE).contains(&s) && s.is_multiple_of(2);
    if !side_ok(width) {
        return Err(Mp4Error::Width(width));
    }
    if !side_ok(height) {
        return Err(Mp4Error::Height(height));
    }
    if !(1..=MAX_DURATION_MS).contains(&duration_ms) {
        return Err(Mp4Error::Duration(duration_ms));
    }
    Ok(())
}

/// Black in BT.601 limited-range Y'CbCr.
pub const BLACK: (u8, u8, u8) = (16, 128, 128);

/// A picture to show: `(Y, Cb, Cr)` per pixel, row by row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    width: u32,
    height: u32,
    pixels: Vec<(u8, u8, u8)>,
}

impl Frame {
    pub fn new(width: u32, height: u32, colour: (u8, u8, u8)) -> Frame {
        Frame { width, height, pixels: vec![colour; width as usize * height as usize] }
    }

    /// Paints a rectangle, clipped to the frame.
    pub fn fill(&mut self, x: i64, y: i64, width: i64, height: i64, colour: (u8, u8, u8)) {
        let clip = |from: i64, len: i64, max: u32| {
            (from.clamp(0, i64::from(max)) as usize, from.saturating_add(len).clamp(0, i64::from(max)) as usize)
        };
        let ((x0, x1), (y0, y1)) = (clip(x, width, self.width), clip(y, height, self.height));
        for row in y0..y1 {
            let at = row * self.width as usize;
            self.pixels[at + x0..at + x1].fill(colour);
        }
    }

    /// The pixel at `(x, y)`; outside the frame, the nearest edge's.
    pub fn get(&self, x: u32, y: u32) -> (u8, u8, u8) {
        let (x, y) = (x.min(self.width - 1), y.min(self.height - 1));
        self.pixels[(y * self.width + x) as usize]
    }
}

/// An MP4 file of `width` x `height` and `duration_ms` showing each frame of `scenes`
/// from its start (milliseconds) until the next one's: a keyframe at each, rounded down to
/// the frame it falls in (the last of several in one frame wins), and frames repeating it
/// until the next. Black until the first scene. Sizes and duration as [`test_pattern`].
pub fn slideshow(
    width: u32,
    height: u32,
    duration_ms: u64,
    scenes: impl IntoIterator<Item = (u64, Frame)>,
) -> Result<Vec<u8>, Mp4Error> {
    check(width, height, duration_ms)?;
    let picture = Picture { width, height, fps: FPS };
    let units = duration_ms * u64::from(TIMESCALE) / 1000;
    // Every frame lasts 1,000 units but the last, which ends the video on the millisecond.
    let frames = units.div_ceil(1000);
    let last = units - (frames - 1) * 1000;

    // (frame index, IDR NAL), by index; the first at frame 0.
    let mut keys: Vec<(u64, Vec<u8>)> = Vec::new();
    for (start_ms, frame) in scenes {
        let at = start_ms * u64::from(FPS) / 1000;
        if at >= frames || frame.width != width || frame.height != height {
            continue;
        }
        if keys.last().is_some_and(|(i, _)| *i >= at) {
            keys.retain(|(i, _)| *i < at);
        }
        let id = keys.len() as u32 % 2;
        keys.push((at, picture.idr(id, |x, y| frame.get(x, y))));
    }
    if keys.first().is_none_or(|(i, _)| *i != 0) {
        // idr_pic_id 1: the next keyframe's is 0.
        keys.insert(0, (0, picture.idr(1, |_, _| BLACK)));
    }
    // The P pictures differ only in frame_num, which counts modulo 16 from each keyframe.
    let skipped: Vec<Vec<u8>> = (0..MAX_FRAME_NUM).map(|n| picture.skipped(n)).collect();
    let nal_of = |i: u64| -> &[u8] {
        let k = keys.partition_point(|(at, _)| *at <= i) - 1;
        let (at, idr) = &keys[k];
        if *at == i { idr } else { &skipped[((i - at) % u64::from(MAX_FRAME_NUM)) as usize] }
    };
    let sample_len = |i: u64| -> u32 { 4 + nal_of(i).len() as u32 };
    let mdat_len: u64 = 8 + (0..frames).map(|i| u64::from(sample_len(i))).sum::<u64>();

    let track = Track { frames, last, duration_ms, units, keyframes: keys.iter().map(|(i, _)| *i).collect() };
    let ftyp = ftyp();
    // The chunk offset has a fixed width: measure the moov once, then write it for real.
    let moov_len = track.moov(&picture, 0, &sample_len).len() as u64;
    let offset = ftyp.len() as u64 + moov_len + 8;
    let moov = track.moov(&picture, offset as u32, &sample_len);

    let mut out = Vec::with_capacity((ftyp.len() as u64 + moov_len + mdat_len) as usize);
    out.extend_from_slice(&ftyp);
    out.extend_from_slice(&moov);
    out.extend_from_slice(&(mdat_len as u32).to_be_bytes());
    out.extend_from_slice(b"mdat");
    for i in 0..frames {
        let nal = nal_of(i);
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    Ok(out)
}

/// Eight 75 % colour bars (white, yellow, cyan, green, magenta, red, blue, black) in
/// BT.601 limited-range Y'CbCr; past the eighth, black.
pub fn bar(index: u32) -> (u8, u8, u8) {
    const BARS: [(u8, u8, u8); 8] = [
        (180, 128, 128),
        (168, 44, 136),
        (145, 147, 44),
        (133, 63, 52),
        (63, 193, 204),
        (51, 109, 212),
        (28, 212, 120),
        (16, 128, 128),
    ];
    BARS[index.min(7) as usize]
}

struct Track {
    frames: u64,
    /// Duration of the last frame, in track units.
    last: u64,
    duration_ms: u64,
    /// Duration in track units.
    units: u64,
    /// Frame indices of the keyframes, ascending, the first 0.
    keyframes: Vec<u64>,
}

/// A box: size, type, body.
fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(8 + body.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(body);
    out
}

/// A full box: version and flags ahead of the body.
fn full_box(kind: &[u8; 4], version: u8, flags: u32, body: &[u8]) -> Vec<u8> {
    let mut b = Vec::with_capacity(4 + body.len());
    b.push(version);
    b.extend_from_slice(&flags.to_be_bytes()[1..]);
    b.extend_from_slice(body);
    mp4_box(kind, &b)
}

/// Big-endian field writer for box bodies.
#[derive(Default)]
struct Body(Vec<u8>);

impl Body {
    fn u8(mut self, v: u8) -> Self {
        self.0.push(v);
        self
    }
    fn u16(mut self, v: u16) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn u32(mut self, v: u32) -> Self {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }
    fn bytes(mut self, v: &[u8]) -> Self {
        self.0.extend_from_slice(v);
        self
    }
    /// The identity transformation matrix of mvhd and tkhd.
    fn matrix(self) -> Self {
        [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000].into_iter().fold(self, Body::u32)
    }
}

fn ftyp() -> Vec<u8> {
    let body = Body::default().bytes(b"isom").u32(0x200).bytes(b"isomiso2avc1mp41");
    mp4_box(b"ftyp", &body.0)
}

impl Track {
    fn moov(&self, p: &Picture, chunk_offset: u32, sample_len: &dyn Fn(u64) -> u32) -> Vec<u8> {
        let mvhd = Body::default()
            .u32(0) // creation_time
            .u32(0) // modification_time
            .u32(1000) // timescale: milliseconds
            .u32(self.duration_ms as u32)
            .u32(0x0001_0000) // rate 1.0
            .u16(0x0100) // volume 1.0
            .bytes(&[0; 10])
            .matrix()
            .bytes(&[0; 24]) // pre_defined
            .u32(2); // next_track_ID
        let mut moov = full_box(b"mvhd", 0, 0, &mvhd.0);
        moov.extend_from_slice(&self.trak(p, chunk_offset, sample_len));
        mp4_box(b"moov", &moov)
    }

    fn trak(&self, p: &Picture, chunk_offset: u32, sample_len: &dyn Fn(u64) -> u32) -> Vec<u8> {
        let tkhd = Body::default()
            .u32(0)
            .u32(0)
            .u32(1) // track_ID
            .u32(0)
            .u32(self.duration_ms as u32) // in the movie's time scale
            .bytes(&[0; 8])
            .u16(0) // layer
            .u16(0) // alternate_group
            .u16(0) // volume: not audio
            .u16(0)
            .matrix()
            .u32(p.width << 16) // 16.16 fixed point
            .u32(p.height << 16);
        // Flags: enabled, in movie, in preview.
        let mut trak = full_box(b"tkhd", 0, 7, &tkhd.0);

        let mdhd = Body::default()
            .u32(0)
            .u32(0)
            .u32(TIMESCALE)
            .u32(self.units as u32)
            .u16(0x55C4) // language "und", packed ISO-639-2/T
            .u16(0);
        let hdlr = Body::default().u32(0).bytes(b"vide").bytes(&[0; 12]).bytes(b"VideoHandler\0");
        let vmhd = Body::default().u16(0).bytes(&[0; 6]);
        let url = full_box(b"url ", 0, 1, &[]); // flag 1: the media is in this file
        let dref = full_box(b"dref", 0, 0, &Body::default().u32(1).bytes(&url).0);
        let mut minf = full_box(b"vmhd", 0, 1, &vmhd.0);
        minf.extend_from_slice(&mp4_box(b"dinf", &dref));
        minf.extend_from_slice(&self.stbl(p, chunk_offset, sample_len));
        let mut mdia = full_box(b"mdhd", 0, 0, &mdhd.0);
        mdia.extend_from_slice(&full_box(b"hdlr", 0, 0, &hdlr.0));
        mdia.extend_from_slice(&mp4_box(b"minf", &minf));
        trak.extend_from_slice(&mp4_box(b"mdia", &mdia));
        mp4_box(b"trak", &trak)
    }

    fn stbl(&self, p: &Picture, chunk_offset: u32, sample_len: &dyn Fn(u64) -> u32) -> Vec<u8> {
        let (sps, pps) = (p.sps(), p.pps());
        let avcc = Body::default()
            .u8(1) // configurationVersion
            .u8(p.profile())
            .u8(p.constraints())
            .u8(p.level())
            .u8(0xFC | 3) // lengthSizeMinusOne: 4-byte NAL lengths
            .u8(0xE0 | 1) // one SPS
            .u16(sps.len() as u16)
            .bytes(&sps)
            .u8(1) // one PPS
            .u16(pps.len() as u16)
            .bytes(&pps);
        let mut compressor = [0u8; 32];
        let name = b"Dialtone test pattern";
        compressor[0] = name.len() as u8;
        compressor[1..=name.len()].copy_from_slice(name);
        let avc1 = Body::default()
            .bytes(&[0; 6])
            .u16(1) // data_reference_index
            .bytes(&[0; 16])
            .u16(p.width as u16)
            .u16(p.height as u16)
            .u32(0x0048_0000) // 72 dpi
            .u32(0x0048_0000)
            .u32(0)
            .u16(1) // frame_count per sample
            .bytes(&compressor)
            .u16(0x0018) // depth: colour
            .u16(0xFFFF) // pre_defined -1
            .bytes(&mp4_box(b"avcC", &avcc.0));
        let stsd = Body::default().u32(1).bytes(&mp4_box(b"avc1", &avc1.0));

        let frames = self.frames as u32;
        let mut stts = Body::default();
        if self.frames > 1 {
            stts = stts.u32(2).u32(frames - 1).u32(1000);
        } else {
            stts = stts.u32(1);
        }
        stts = stts.u32(1).u32(self.last as u32);
        // The keyframes, numbered from 1.
        let stss =
            self.keyframes.iter().fold(Body::default().u32(self.keyframes.len() as u32), |b, i| b.u32(*i as u32 + 1));
        let stsc = Body::default().u32(1).u32(1).u32(frames).u32(1); // one chunk of all samples
        let mut stsz = Body::default().u32(0).u32(frames);
        stsz.0.reserve(4 * self.frames as usize);
        for i in 0..self.frames {
            stsz = stsz.u32(sample_len(i));
        }
        let stco = Body::default().u32(1).u32(chunk_offset);

        let mut stbl = full_box(b"stsd", 0, 0, &stsd.0);
        stbl.extend_from_slice(&full_box(b"stts", 0, 0, &stts.0));
        stbl.extend_from_slice(&full_box(b"stss", 0, 0, &stss.0));
        stbl.extend_from_slice(&full_box(b"stsc", 0, 0, &stsc.0));
        stbl.extend_from_slice(&full_box(b"stsz", 0, 0, &stsz.0));
        stbl.extend_from_slice(&full_box(b"stco", 0, 0, &stco.0));
        mp4_box(b"stbl", &stbl)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The boxes directly inside `b`: (type, body).
    fn boxes(mut b: &[u8]) -> Vec<([u8; 4], &[u8])> {
        let mut out = Vec::new();
        while !b.is_empty() {
            let len = u32::from_be_bytes(b[..4].try_into().unwrap()) as usize;
            assert!(len >= 8 && len <= b.len(), "box length {len} of {}", b.len());
            out.push((b[4..8].try_into().unwrap(), &b[8..len]));
            b = &b[len..];
        }
        out
    }

    fn child<'a>(b: &'a [u8], kind: &[u8; 4]) -> &'a [u8] {
        boxes(b).into_iter().find(|(k, _)| k == kind).map(|(_, body)| body).unwrap_or_else(|| {
            panic!("no {} box", String::from_utf8_lossy(kind));
        })
    }

    fn path<'a>(b: &'a [u8], kinds: &[&[u8; 4]]) -> &'a [u8] {
        kinds.iter().fold(b, |b, k| child(b, k))
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn the_file_is_ftyp_moov_mdat_with_an_avc1_track() {
        let file = test_pattern(640, 360, 1_500).unwrap();
        let top: Vec<[u8; 4]> = boxes(&file).iter().map(|(k, _)| *k).collect();
        assert_eq!(top, vec![*b"ftyp", *b"moov", *b"mdat"]);
        let moov = child(&file, b"moov");
        let mvhd = child(moov, b"mvhd");
        assert_eq!((u32_at(mvhd, 12), u32_at(mvhd, 16)), (1000, 1_500), "mvhd timescale and duration");
        let tkhd = path(moov, &[b"trak", b"tkhd"]);
        assert_eq!((u32_at(tkhd, 76) >> 16, u32_at(tkhd, 80) >> 16), (640, 360));
        let mdhd = path(moov, &[b"trak", b"mdia", b"mdhd"]);
        assert_eq!((u32_at(mdhd, 12), u32_at(mdhd, 16)), (30_000, 45_000));
        assert_eq!(&path(moov, &[b"trak", b"mdia", b"hdlr"])[8..12], b"vide");

        let stbl = path(moov, &[b"trak", b"mdia", b"minf", b"stbl"]);
        let stsd = child(stbl, b"stsd");
        let avc1 = child(&stsd[8..], b"avc1");
        assert_eq!((u16::from_be_bytes([avc1[24], avc1[25]]), u16::from_be_bytes([avc1[26], avc1[27]])), (640, 360));
        let avcc = child(&avc1[78..], b"avcC");
        assert_eq!(&avcc[..4], &[1, 66, 0xC0, 30]);
        let sps_len = usize::from(u16::from_be_bytes([avcc[6], avcc[7]]));
        assert_eq!(avcc[8] & 0x1F, 7, "SPS NAL");
        assert_eq!(avcc[8 + sps_len + 3] & 0x1F, 8, "PPS NAL");

        // 45 frames of 1,000 units each.
        let stts = child(stbl, b"stts");
        assert_eq!((u32_at(stts, 4), u32_at(stts, 8), u32_at(stts, 12)), (2, 44, 1000));
        assert_eq!((u32_at(stts, 16), u32_at(stts, 20)), (1, 1000));
        let stsz = child(stbl, b"stsz");
        assert_eq!(u32_at(stsz, 8), 45);
        let sizes: Vec<u32> = (0..45).map(|i| u32_at(stsz, 12 + 4 * i)).collect();

        // The chunk offset points at the first sample, an IDR NAL; the samples fill mdat.
        let offset = u32_at(child(stbl, b"stco"), 8) as usize;
        assert_eq!(file[offset + 4] & 0x1F, 5, "IDR slice first");
        assert_eq!(file[offset + sizes[0] as usize + 4] & 0x1F, 1, "then non-IDR slices");
        assert_eq!(offset + sizes.iter().sum::<u32>() as usize, file.len());
        let stss = child(stbl, b"stss");
        assert_eq!((u32_at(stss, 4), u32_at(stss, 8)), (1, 1), "one keyframe, the first");
    }

    #[test]
    fn each_scene_starts_with_a_keyframe() {
        let red = Frame::new(64, 32, (81, 90, 240));
        let blue = Frame::new(64, 32, (41, 240, 110));
        // 2 s: 60 frames; scenes at 0, 1.01 s (frame 30) and 1.02 s (also frame 30: it wins).
        let file = slideshow(64, 32, 2_000, [(0, red.clone()), (1_010, blue), (1_020, red)]).unwrap();
        let stbl = path(&file, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]);
        let stss = child(stbl, b"stss");
        assert_eq!((u32_at(stss, 4), u32_at(stss, 8), u32_at(stss, 12)), (2, 1, 31));
        let stsz = child(stbl, b"stsz");
        let sizes: Vec<usize> = (0..60).map(|i| u32_at(stsz, 12 + 4 * i) as usize).collect();
        let offset = u32_at(child(stbl, b"stco"), 8) as usize;
        let nal_type = |n: usize| file[offset + sizes[..n].iter().sum::<usize>() + 4] & 0x1F;
        assert_eq!((nal_type(0), nal_type(1), nal_type(29), nal_type(30), nal_type(31)), (5, 1, 1, 5, 1));
        // A later scene than the video's end is left out; none at 0 starts black.
        let file = slideshow(64, 32, 500, [(200, Frame::new(64, 32, (81, 90, 240))), (900, Frame::new(64, 32, BLACK))])
            .unwrap();
        let stss = child(path(&file, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]), b"stss");
        assert_eq!((u32_at(stss, 4), u32_at(stss, 8), u32_at(stss, 12)), (2, 1, 7));
    }

    #[test]
    fn frames_fill_clipped_rectangles() {
        let mut f = Frame::new(32, 16, BLACK);
        f.fill(-10, 4, 20, 100, (1, 2, 3));
        assert_eq!((f.get(0, 4), f.get(9, 15), f.get(10, 4), f.get(0, 3)), ((1, 2, 3), (1, 2, 3), BLACK, BLACK));
        f.fill(i64::MAX - 1, 0, i64::MAX, 5, (9, 9, 9));
        assert_eq!(f.get(31, 0), BLACK);
    }

    #[test]
    fn a_duration_off_the_frame_grid_shortens_the_last_frame() {
        let file = test_pattern(320, 240, 1_010).unwrap();
        let stbl = path(&file, &[b"moov", b"trak", b"mdia", b"minf", b"stbl"]);
        let stts = child(stbl, b"stts");
        // 30.3 frames: 30 whole ones and a last of 300 units (10 ms).
        assert_eq!((u32_at(stts, 8), u32_at(stts, 12), u32_at(stts, 16), u32_at(stts, 20)), (30, 1000, 1, 300));
    }

    #[test]
    fn sizes_not_multiple_of_16_are_cropped() {
        let file = test_pattern(650, 366, 100).unwrap();
        let tkhd = path(&file, &[b"moov", b"trak", b"tkhd"]);
        assert_eq!((u32_at(tkhd, 76) >> 16, u32_at(tkhd, 80) >> 16), (650, 366));
    }

    #[test]
    fn an_hour_stays_small() {
        let file = test_pattern(1280, 720, 3_600_000).unwrap();
        // One raw keyframe (3,600 macroblocks of 384 bytes) and ~12 bytes per other frame.
        assert!(file.len() < 3_600 * 384 + 108_000 * 16, "{}", file.len());
    }

    #[test]
    fn bad_sizes_and_durations_are_errors() {
        assert_eq!(test_pattern(641, 360, 1000), Err(Mp4Error::Width(641)));
        assert_eq!(test_pattern(8, 360, 1000), Err(Mp4Error::Width(8)));
        assert_eq!(test_pattern(4098, 360, 1000), Err(Mp4Error::Width(4098)));
        assert_eq!(test_pattern(640, 0, 1000), Err(Mp4Error::Height(0)));
        assert_eq!(test_pattern(640, 361, 1000), Err(Mp4Error::Height(361)));
        assert_eq!(test_pattern(640, 360, 0), Err(Mp4Error::Duration(0)));
        assert_eq!(test_pattern(640, 360, MAX_DURATION_MS + 1), Err(Mp4Error::Duration(MAX_DURATION_MS + 1)));
        assert!(test_pattern(16, 16, 1).is_ok());
    }
}
