//! Silent Ogg Opus audio (RFC 7845 in an Ogg stream per RFC 3533): an `OpusHead` page,
//! an `OpusTags` page, then pages of 20 ms mono packets that each carry one CELT frame
//! with the silence flag set, 3 bytes a packet. The last page's granule position trims
//! the decoded audio to the exact duration.

/// Samples per second of every Opus granule position.
const RATE: u64 = 48_000;
/// Samples in one 20 ms packet.
const PACKET_SAMPLES: u64 = 960;
/// Packets on one audio page: one second.
const PACKETS_PER_PAGE: u64 = 50;
/// One 20 ms packet: TOC byte for configuration 31 (CELT-only, fullband, 20 ms), mono,
/// one frame; then a frame whose first decoded symbol is the silence flag.
const SILENT_PACKET: [u8; 3] = [0xF8, 0xFF, 0xFE];
/// The stream's serial number ("DTON"); any value works for a single stream.
const SERIAL: u32 = 0x4454_4F4E;

const FLAG_BOS: u8 = 0x02;
const FLAG_EOS: u8 = 0x04;

/// An Ogg Opus file of `duration_ms` milliseconds of silence (mono, 48 kHz). A zero
/// duration gives one packet trimmed to nothing by the last granule position.
pub fn opus_silence(duration_ms: u64) -> Vec<u8> {
    let samples = duration_ms * RATE / 1000;
    // At least one packet: a stream without audio pages is not one players accept.
    let packets = samples.div_ceil(PACKET_SAMPLES).max(1);
    let pages = packets.div_ceil(PACKETS_PER_PAGE);
    let mut out = Vec::with_capacity((pages * (27 + PACKETS_PER_PAGE * 4) + 128) as usize);

    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&0u16.to_le_bytes()); // pre-skip: silence needs no priming
    head.extend_from_slice(&48_000u32.to_le_bytes()); // input sample rate (informative)
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family 0: mono or stereo, no table
    page(&mut out, FLAG_BOS, 0, 0, &[&head]);

    let vendor = b"Dialtone";
    let mut tags = Vec::with_capacity(16 + vendor.len());
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes()); // no user comments
    page(&mut out, 0, 0, 1, &[&tags]);

    let packet: &[u8] = &SILENT_PACKET;
    let mut sent = 0;
    for n in 0..pages {
        let count = PACKETS_PER_PAGE.min(packets - sent);
        sent += count;
        let last = sent == packets;
        // The granule position counts samples up to the end of the page's last packet;
        // on the last page it is the exact end, shorter than the packets decode to.
        let granule = if last { samples } else { sent * PACKET_SAMPLES };
        let body: Vec<&[u8]> = (0..count).map(|_| packet).collect();
        page(&mut out, if last { FLAG_EOS } else { 0 }, granule, 2 + n as u32, &body);
    }
    out
}

/// One Ogg page holding whole packets (each under 255 bytes, one lacing value each).
fn page(out: &mut Vec<u8>, flags: u8, granule: u64, sequence: u32, packets: &[&[u8]]) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0); // stream structure version
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&SERIAL.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]); // CRC, filled in below
    // Lacing: a packet of n bytes is n / 255 values of 255 and one of the rest.
    let lacing: Vec<u8> = packets
        .iter()
        .flat_map(|p| std::iter::repeat_n(255u8, p.len() / 255).chain(std::iter::once((p.len() % 255) as u8)))
        .collect();
    debug_assert!(lacing.len() <= 255);
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    for p in packets {
        out.extend_from_slice(p);
    }
    let crc = crc32(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

/// The Ogg CRC-32: polynomial 0x04C11DB7, initial value 0, not reflected, no final xor.
fn crc32(bytes: &[u8]) -> u32 {
    const TABLE: [u32; 256] = {
        let mut table = [0u32; 256];
        let mut i = 0;
        while i < 256 {
            let mut r = (i as u32) << 24;
            let mut bit = 0;
            while bit < 8 {
                r = if r & 0x8000_0000 != 0 { (r << 1) ^ 0x04C1_1DB7 } else { r << 1 };
                bit += 1;
            }
            table[i] = r;
            i += 1;
        }
        table
    };
    bytes.iter().fold(0u32, |crc, &b| (crc << 8) ^ TABLE[(((crc >> 24) as u8) ^ b) as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits a file into pages, checking each page's CRC.
    fn pages(mut b: &[u8]) -> Vec<(u8, u64, u32, Vec<Vec<u8>>)> {
        let mut out = Vec::new();
        while !b.is_empty() {
            assert_eq!(&b[..4], b"OggS");
            let n = usize::from(b[26]);
            let lacing = &b[27..27 + n];
            let body_len: usize = lacing.iter().map(|l| usize::from(*l)).sum();
            let len = 27 + n + body_len;
            let mut copy = b[..len].to_vec();
            copy[22..26].fill(0);
            assert_eq!(crc32(&copy), u32::from_le_bytes(b[22..26].try_into().unwrap()), "page CRC");
            let mut packets = Vec::new();
            let mut at = 27 + n;
            for l in lacing {
                packets.push(b[at..at + usize::from(*l)].to_vec());
                at += usize::from(*l);
            }
            out.push((
                b[5],
                u64::from_le_bytes(b[6..14].try_into().unwrap()),
                u32::from_le_bytes(b[18..22].try_into().unwrap()),
                packets,
            ));
            b = &b[len..];
        }
        out
    }

    #[test]
    fn crc_matches_the_ogg_reference_value() {
        // The CRC-32/MPEG-2 family without final xor; "123456789" gives 0x89A1897F.
        assert_eq!(crc32(b"123456789"), 0x89A1_897F);
    }

    #[test]
    fn headers_then_audio_pages_with_granules_at_48_khz() {
        let file = opus_silence(2_010);
        let p = pages(&file);
        assert_eq!(p[0].0, FLAG_BOS);
        assert_eq!(&p[0].3[0][..8], b"OpusHead");
        assert_eq!(p[0].3[0].len(), 19);
        assert_eq!(&p[1].3[0][..8], b"OpusTags");
        // 2.01 s is 101 packets of 20 ms: pages of 50, 50 and 1.
        assert_eq!(p.len(), 5);
        assert_eq!(p[2].1, 48_000);
        assert_eq!(p[3].1, 96_000);
        assert_eq!(p[4].0, FLAG_EOS);
        assert_eq!(p[4].1, 96_480);
        assert_eq!(p.iter().map(|x| x.2).collect::<Vec<_>>(), vec![0, 1, 2, 3, 4]);
        assert!(p[2..].iter().flat_map(|x| &x.3).all(|pk| pk == &SILENT_PACKET));
        assert_eq!(p[2..].iter().map(|x| x.3.len()).sum::<usize>(), 101);
    }

    #[test]
    fn zero_duration_is_one_packet_trimmed_to_nothing() {
        let p = pages(&opus_silence(0));
        assert_eq!(p.len(), 3);
        assert_eq!(p[2].0, FLAG_EOS);
        assert_eq!(p[2].1, 0);
        assert_eq!(p[2].3.len(), 1);
    }
}
