//! Media files the simulated network serves: a video test pattern in MP4 (room
//! compositions and recordings) and silent Ogg Opus audio. Everything here is written
//! byte by byte from the public specifications (ISO/IEC 14496-12 and -15 for MP4,
//! ITU-T H.264 for the video bitstream, RFC 3533 / RFC 7845 / RFC 6716 for Ogg Opus), so
//! no codec library is linked and the output is deterministic.

mod bits;
mod h264;
pub mod mp3;
pub mod mp4;
pub mod ogg;
pub mod stream;

pub use mp4::{Frame, Mp4Error, slideshow, test_pattern};
pub use ogg::opus_silence;
