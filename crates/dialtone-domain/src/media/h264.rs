//! The smallest H.264 (ITU-T H.264, Constrained Baseline profile) bitstream that shows a
//! picture: one IDR frame whose macroblocks are all `I_PCM` (raw samples, so no transform
//! or entropy coding is needed), then P frames that skip every macroblock (each repeats the
//! previous picture in a few bytes, so an hour of video stays small).
//!
//! NAL units are returned without start codes or length prefixes, with emulation
//! prevention applied (clause 7.4.1).

use super::bits::BitWriter;

/// `log2_max_frame_num_minus4 = 0`: frame_num counts modulo 16 in 4 bits.
const FRAME_NUM_BITS: u32 = 4;
pub(crate) const MAX_FRAME_NUM: u32 = 1 << FRAME_NUM_BITS;
const PROFILE_BASELINE: u8 = 66;
/// constraint_set0_flag and constraint_set1_flag: Constrained Baseline, decodable by
/// Baseline and Main decoders.
const CONSTRAINTS: u8 = 0b1100_0000;

/// The coded picture: whole macroblocks, cropped back to `width` x `height`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Picture {
    pub width: u32,
    pub height: u32,
    /// Frames per second, for the level's macroblock rate.
    pub fps: u32,
}

impl Picture {
    fn mbs_wide(&self) -> u32 {
        self.width.div_ceil(16)
    }
    fn mbs_high(&self) -> u32 {
        self.height.div_ceil(16)
    }
    fn mbs(&self) -> u32 {
        self.mbs_wide() * self.mbs_high()
    }

    pub(crate) fn profile(&self) -> u8 {
        PROFILE_BASELINE
    }
    pub(crate) fn constraints(&self) -> u8 {
        CONSTRAINTS
    }

    /// The lowest level (Table A-1) whose frame size, macroblock rate and frame
    /// dimensions admit this picture; 6.0 beyond them.
    pub(crate) fn level(&self) -> u8 {
        // (level_idc, MaxFS, MaxMBPS)
        const LEVELS: [(u8, u32, u32); 16] = [
            (10, 99, 1_485),
            (11, 396, 3_000),
            (12, 396, 6_000),
            (13, 396, 11_880),
            (20, 396, 11_880),
            (21, 792, 19_800),
            (22, 1_620, 20_250),
            (30, 1_620, 40_500),
            (31, 3_600, 108_000),
            (32, 5_120, 216_000),
            (40, 8_192, 245_760),
            (42, 8_704, 522_240),
            (50, 22_080, 589_824),
            (51, 36_864, 983_040),
            (52, 36_864, 2_073_600),
            (60, 139_264, 4_177_920),
        ];
        let (fs, mbps) = (self.mbs(), self.mbs() * self.fps);
        let side = self.mbs_wide().max(self.mbs_high());
        LEVELS
            .iter()
            .find(|(_, max_fs, max_mbps)| fs <= *max_fs && mbps <= *max_mbps && side * side <= max_fs * 8)
            .map_or(60, |l| l.0)
    }

    /// The sequence parameter set (clause 7.3.2.1.1).
    pub(crate) fn sps(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.bits(8, u64::from(PROFILE_BASELINE));
        w.bits(8, u64::from(CONSTRAINTS));
        w.bits(8, u64::from(self.level()));
        w.ue(0); // seq_parameter_set_id
        w.ue(FRAME_NUM_BITS - 4); // log2_max_frame_num_minus4
        // pic_order_cnt_type 2: output order is decoding order, no order count in slices.
        w.ue(2);
        w.ue(1); // max_num_ref_frames
        w.bit(false); // gaps_in_frame_num_value_allowed_flag
        w.ue(self.mbs_wide() - 1);
        w.ue(self.mbs_high() - 1); // pic_height_in_map_units_minus1
        w.bit(true); // frame_mbs_only_flag
        w.bit(true); // direct_8x8_inference_flag
        let (crop_right, crop_bottom) = (self.mbs_wide() * 16 - self.width, self.mbs_high() * 16 - self.height);
        let crop = crop_right != 0 || crop_bottom != 0;
        w.bit(crop); // frame_cropping_flag
        if crop {
            // In 4:2:0 frames the crop unit is two samples each way (CropUnitX/Y = 2).
            w.ue(0);
            w.ue(crop_right / 2);
            w.ue(0);
            w.ue(crop_bottom / 2);
        }
        w.bit(true); // vui_parameters_present_flag
        self.vui(&mut w);
        w.trailing();
        nal(3, 7, w.into_bytes())
    }

    /// VUI (Annex E): the frame rate, and that no frame waits for reordering, so decoders
    /// output each picture as soon as it is decoded.
    fn vui(&self, w: &mut BitWriter) {
        w.bit(false); // aspect_ratio_info_present_flag
        w.bit(false); // overscan_info_present_flag
        w.bit(false); // video_signal_type_present_flag
        w.bit(false); // chroma_loc_info_present_flag
        w.bit(true); // timing_info_present_flag
        w.bits(32, 1); // num_units_in_tick
        w.bits(32, u64::from(self.fps) * 2); // time_scale: two ticks per frame
        w.bit(true); // fixed_frame_rate_flag
        w.bit(false); // nal_hrd_parameters_present_flag
        w.bit(false); // vcl_hrd_parameters_present_flag
        w.bit(false); // pic_struct_present_flag
        w.bit(true); // bitstream_restriction_flag
        w.bit(true); // motion_vectors_over_pic_boundaries_flag
        w.ue(0); // max_bytes_per_pic_denom: no limit
        w.ue(0); // max_bits_per_mb_denom: no limit
        w.ue(16); // log2_max_mv_length_horizontal
        w.ue(16); // log2_max_mv_length_vertical
        w.ue(0); // max_num_reorder_frames
        w.ue(1); // max_dec_frame_buffering
    }

    /// The picture parameter set (clause 7.3.2.2): CAVLC, one slice group, deblocking
    /// control in the slice header.
    pub(crate) fn pps(&self) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.ue(0); // pic_parameter_set_id
        w.ue(0); // seq_parameter_set_id
        w.bit(false); // entropy_coding_mode_flag: CAVLC
        w.bit(false); // bottom_field_pic_order_in_frame_present_flag
        w.ue(0); // num_slice_groups_minus1
        w.ue(0); // num_ref_idx_l0_default_active_minus1
        w.ue(0); // num_ref_idx_l1_default_active_minus1
        w.bit(false); // weighted_pred_flag
        w.bits(2, 0); // weighted_bipred_idc
        w.se(0); // pic_init_qp_minus26
        w.se(0); // pic_init_qs_minus26
        w.se(0); // chroma_qp_index_offset
        w.bit(true); // deblocking_filter_control_present_flag
        w.bit(false); // constrained_intra_pred_flag
        w.bit(false); // redundant_pic_cnt_present_flag
        w.trailing();
        nal(3, 8, w.into_bytes())
    }

    /// The IDR picture: one I slice of `I_PCM` macroblocks whose samples come from
    /// `sample(x, y) -> (Y, Cb, Cr)` at luma coordinates (chroma is sampled at even ones).
    /// Two IDR pictures in a row must differ in `idr_pic_id` (clause 7.4.3).
    pub(crate) fn idr(&self, idr_pic_id: u32, sample: impl Fn(u32, u32) -> (u8, u8, u8)) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.ue(0); // first_mb_in_slice
        w.ue(7); // slice_type: I, as every slice of the picture
        w.ue(0); // pic_parameter_set_id
        w.bits(FRAME_NUM_BITS, 0); // frame_num
        w.ue(idr_pic_id);
        w.bit(false); // no_output_of_prior_pics_flag
        w.bit(false); // long_term_reference_flag
        w.se(0); // slice_qp_delta
        w.ue(1); // disable_deblocking_filter_idc: off, the samples are shown as given
        let (wide, high) = (self.mbs_wide(), self.mbs_high());
        // Samples in the cropped margin repeat the last visible ones.
        let clamp = |x: u32, y: u32| sample(x.min(self.width - 1), y.min(self.height - 1));
        for mb in 0..wide * high {
            let (mx, my) = ((mb % wide) * 16, (mb / wide) * 16);
            w.ue(25); // mb_type I_PCM
            w.align_zero(); // pcm_alignment_zero_bit
            for y in 0..16 {
                for x in 0..16 {
                    w.byte(clamp(mx + x, my + y).0);
                }
            }
            for plane in 0..2 {
                for y in 0..8 {
                    for x in 0..8 {
                        let (_, cb, cr) = clamp(mx + 2 * x, my + 2 * y);
                        w.byte(if plane == 0 { cb } else { cr });
                    }
                }
            }
        }
        w.trailing();
        nal(3, 5, w.into_bytes())
    }

    /// A P picture that skips every macroblock: the previous picture again. Each is a
    /// reference picture (so frame_num moves on, as `pic_order_cnt_type` 2 wants).
    pub(crate) fn skipped(&self, frame_num: u32) -> Vec<u8> {
        let mut w = BitWriter::new();
        w.ue(0); // first_mb_in_slice
        w.ue(5); // slice_type: P, as every slice of the picture
        w.ue(0); // pic_parameter_set_id
        w.bits(FRAME_NUM_BITS, u64::from(frame_num % MAX_FRAME_NUM));
        w.bit(false); // num_ref_idx_active_override_flag
        w.bit(false); // ref_pic_list_modification_flag_l0
        w.bit(false); // adaptive_ref_pic_marking_mode_flag: sliding window
        w.se(0); // slice_qp_delta
        w.ue(1); // disable_deblocking_filter_idc
        w.ue(self.mbs()); // mb_skip_run: all of them
        w.trailing();
        nal(2, 1, w.into_bytes())
    }
}

/// A NAL unit: the header byte, then the payload with emulation prevention bytes (a 0x03
/// after two zero bytes whenever the next byte is 0..=3, so no start code appears inside).
fn nal(ref_idc: u8, unit_type: u8, rbsp: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64 + 1);
    out.push((ref_idc << 5) | unit_type);
    let mut zeros = 0;
    for b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_prevention_escapes_start_code_prefixes() {
        assert_eq!(nal(3, 7, vec![0, 0, 1, 0, 0, 0, 5]), vec![0x67, 0, 0, 3, 1, 0, 0, 3, 0, 5]);
        assert_eq!(nal(0, 1, vec![0, 0, 4]), vec![0x01, 0, 0, 4]);
    }

    #[test]
    fn level_follows_the_frame_size() {
        let level = |width, height| Picture { width, height, fps: 30 }.level();
        assert_eq!(level(176, 144), 11);
        assert_eq!(level(640, 360), 30);
        assert_eq!(level(1280, 720), 31);
        assert_eq!(level(1920, 1080), 40);
        assert_eq!(level(4096, 2304), 52);
        // A thin strip is bounded by its longest side.
        assert_eq!(level(16, 4096), 40);
    }

    #[test]
    fn sps_starts_with_profile_constraints_and_level() {
        let sps = Picture { width: 1280, height: 720, fps: 30 }.sps();
        assert_eq!(&sps[..4], &[0x67, 66, 0xC0, 31]);
    }

    #[test]
    fn a_skipped_picture_is_a_few_bytes() {
        let p = Picture { width: 1920, height: 1080, fps: 30 };
        let frame = p.skipped(3);
        assert_eq!(frame[0], 0x41); // nal_ref_idc 2, type 1 (non-IDR slice)
        assert!(frame.len() < 12, "{}", frame.len());
    }

    #[test]
    fn an_idr_picture_holds_every_sample() {
        let p = Picture { width: 48, height: 32, fps: 30 };
        let frame = p.idr(0, |_, _| (100, 110, 120));
        // 6 macroblocks of 384 samples, plus headers.
        assert!(frame.len() > 6 * 384 && frame.len() < 6 * 384 + 6 * 3 + 16, "{}", frame.len());
        assert_eq!(frame[0], 0x65);
    }
}
