//! A most-significant-bit-first bit writer with the exp-Golomb codes of H.264 (clause 9.1).

/// Bits appended to a byte buffer, the first bit in the high bit of the first byte.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    /// Bits used in the last byte (0 when the writer is byte-aligned).
    used: u8,
}

impl BitWriter {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// One bit.
    pub(crate) fn bit(&mut self, on: bool) {
        if self.used == 0 {
            self.bytes.push(0);
        }
        if on {
            let last = self.bytes.len() - 1;
            self.bytes[last] |= 0x80 >> self.used;
        }
        self.used = (self.used + 1) % 8;
    }

    /// The low `n` bits of `value`, high bit first (`u(n)` in the spec).
    pub(crate) fn bits(&mut self, n: u32, value: u64) {
        for i in (0..n).rev() {
            self.bit((value >> i) & 1 == 1);
        }
    }

    /// A whole byte; the writer must be aligned (the fast path for raw samples).
    pub(crate) fn byte(&mut self, b: u8) {
        debug_assert!(self.aligned());
        self.bytes.push(b);
    }

    /// Unsigned exp-Golomb (`ue(v)`): `value + 1` in binary after as many zeros as it has
    /// bits less one.
    pub(crate) fn ue(&mut self, value: u32) {
        let v = u64::from(value) + 1;
        let len = 64 - v.leading_zeros();
        self.bits(len - 1, 0);
        self.bits(len, v);
    }

    /// Signed exp-Golomb (`se(v)`): positive k as 2k-1, zero and negative k as -2k.
    pub(crate) fn se(&mut self, value: i32) {
        let mapped = if value > 0 { 2 * value.unsigned_abs() - 1 } else { 2 * value.unsigned_abs() };
        self.ue(mapped);
    }

    pub(crate) fn aligned(&self) -> bool {
        self.used == 0
    }

    /// Zero bits up to the next byte boundary (`pcm_alignment_zero_bit`).
    pub(crate) fn align_zero(&mut self) {
        self.used = 0;
    }

    /// `rbsp_trailing_bits`: a one, then zeros to the byte boundary.
    pub(crate) fn trailing(&mut self) {
        self.bit(true);
        self.align_zero();
    }

    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bits_of(f: impl FnOnce(&mut BitWriter)) -> String {
        let mut w = BitWriter::new();
        f(&mut w);
        let used = w.used;
        let bytes = w.into_bytes();
        let mut s: String = bytes.iter().map(|b| format!("{b:08b}")).collect();
        if used != 0 {
            s.truncate(s.len() - (8 - usize::from(used)));
        }
        s
    }

    #[test]
    fn exp_golomb_codes_match_the_table_of_clause_9_1() {
        assert_eq!(bits_of(|w| w.ue(0)), "1");
        assert_eq!(bits_of(|w| w.ue(1)), "010");
        assert_eq!(bits_of(|w| w.ue(2)), "011");
        assert_eq!(bits_of(|w| w.ue(3)), "00100");
        assert_eq!(bits_of(|w| w.ue(25)), "000011010");
        assert_eq!(bits_of(|w| w.se(1)), "010");
        assert_eq!(bits_of(|w| w.se(-1)), "011");
        assert_eq!(bits_of(|w| w.se(0)), "1");
        assert_eq!(bits_of(|w| w.se(2)), "00100");
    }

    #[test]
    fn trailing_bits_close_the_byte() {
        let mut w = BitWriter::new();
        w.bits(3, 0b101);
        w.trailing();
        assert_eq!(w.into_bytes(), vec![0b1011_0000]);
        let mut w = BitWriter::new();
        w.bits(8, 0xAB);
        w.trailing();
        assert_eq!(w.into_bytes(), vec![0xAB, 0x80]);
    }
}
