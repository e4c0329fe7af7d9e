//! SMS text encoding: which alphabet a message goes out in, how many parts it takes, and
//! where it is split. Pure functions; the messaging handlers call [`analyze`] and report
//! its [`Analysis`] as the message's `encoding`, `parts` and `num_chars`.
//!
//! # The two encodings
//!
//! An SMS carries 140 octets of user data. A message goes out in one of two alphabets:
//!
//! * **GSM-7** ([`Encoding::Gsm7`]): the GSM 03.38 (3GPP TS 23.038) default alphabet, 7 bits
//!   a character, so 160 septets fit in one SMS. [`GSM7_BASIC`] holds its 128 characters by
//!   septet value; [`GSM7_EXTENSION`] holds the ten characters reached through the escape
//!   septet `0x1B` (`^ { } \ [ ~ ] | €` and form feed), each of which costs **two** septets.
//! * **UCS-2** ([`Encoding::Ucs2`]): 16 bits a code unit, 70 code units in one SMS. Text is
//!   sent as UTF-16, as carriers do, so a character outside the Basic Multilingual Plane
//!   (most emoji) is a surrogate pair and costs **two** code units.
//!
//! # Parts
//!
//! A text that does not fit one SMS is sent concatenated: each part carries a 6-octet user
//! data header, leaving 134 octets, which is **153 septets** or **67 code units** a part.
//! Parts are filled in order, as full as they go, and a character is never cut: an extension
//! character's escape and code stay in one part (so a part may hold only 152 septets), and so
//! do the two halves of a surrogate pair (a part may hold only 66 code units). [`segments`]
//! returns the parts' texts.
//!
//! | encoding | one SMS | each part of a longer message |
//! | -------- | ------- | ----------------------------- |
//! | GSM-7    | 160 septets | 153 septets |
//! | UCS-2    | 70 code units | 67 code units |
//!
//! An **empty text** is one part (Telnyx bills a message, an MMS without text included, as at
//! least one part); it is GSM-7 unless UCS-2 was requested.
//!
//! Telnyx sends at most [`MAX_PARTS`] (10) parts; [`check_length`] refuses anything longer.
//!
//! # `num_chars`
//!
//! [`Analysis::num_chars`] is the number of **characters** (Unicode scalar values) of the text
//! that will be sent, that is after smart encoding. It is not the septet or code-unit count:
//! `"€"` has one character but costs two septets, `"😀"` one character and two code units.
//! The cost in the encoding's units is [`Analysis::units`].
//!
//! # Choosing the encoding
//!
//! The `encoding` field of a Telnyx send request is a [`Requested`]:
//!
//! * `auto` (the default): GSM-7 when every character is in the GSM-7 alphabet (basic or
//!   extension), otherwise UCS-2. With smart encoding on, the look-alikes below are replaced
//!   first — but only if that makes the whole text GSM-7; if some other character still needs
//!   UCS-2, the text is sent unchanged in UCS-2 (replacing would alter it for no gain).
//! * `gsm7`: GSM-7 or an error. Smart encoding is always applied here, whatever the profile
//!   says (as Telnyx documents it); a character that is neither in the alphabet nor replaced
//!   makes [`analyze`] return [`NotGsm7`], which the API answers as a 400.
//! * `ucs2`: UCS-2, and smart encoding is skipped.
//!
//! # Smart encoding
//!
//! Telnyx's `smart_encoding` (on the messaging profile, or per request) replaces characters
//! that only look like GSM-7 ones. The whole table ([`smart_replacement`]):
//!
//! | characters | become |
//! | ---------- | ------ |
//! | U+2018 ‘, U+2019 ’, U+201A ‚, U+201B ‛, U+2032 ′, U+2035 ‵, U+02BC ʼ, U+00B4 ´, U+0060 \` | `'` |
//! | U+201C “, U+201D ”, U+201E „, U+201F ‟, U+2033 ″, U+2036 ‶, U+00AB «, U+00BB » | `"` |
//! | U+2039 ‹ | `<` |
//! | U+203A › | `>` |
//! | U+2010 ‐, U+2011 ‑, U+2012 ‒, U+2013 –, U+2014 —, U+2015 ―, U+2212 −, U+2022 • | `-` |
//! | U+2026 … | `...` |
//! | U+0009 tab, U+00A0 no-break space, U+2000–U+200A (en quad to hair space), U+202F, U+205F, U+3000 | a space |
//! | U+00AD soft hyphen, U+200B, U+200C, U+200D, U+2060, U+FEFF (zero-width characters) | nothing (removed) |
//! | U+2206 ∆ (increment) | `Δ` (U+0394, GSM-7 `0x10`) |
//! | U+2126 Ω (ohm sign) | `Ω` (U+03A9, GSM-7 `0x15`) |
//!
//! The grave accent U+0060 is the one printable ASCII character GSM-7 cannot carry at all (its
//! septet, `0x60`, is `¿`). Letters are never changed: `ç` stays `ç` (GSM-7 has only the
//! capital `Ç`, at `0x09`), so a text with `ç` goes out in UCS-2.
//!
//! [`Analysis::smart_encoding_applied`] is true only when a replacement changed the text that
//! is sent. Smart encoding can cost parts: `…` becomes three septets, so 160 `…` are 480
//! septets, 4 GSM-7 parts, while the same text with one more character that keeps it in UCS-2
//! is 161 code units, 3 parts. That is why parts only surely grow with the text when smart
//! encoding is off.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::Range;

/// Septets in a single GSM-7 SMS.
pub const GSM7_SINGLE: u32 = 160;
/// Septets in each part of a concatenated GSM-7 message (160 less the 6-octet header).
pub const GSM7_PART: u32 = 153;
/// Code units in a single UCS-2 SMS.
pub const UCS2_SINGLE: u32 = 70;
/// Code units in each part of a concatenated UCS-2 message (70 less the 6-octet header).
pub const UCS2_PART: u32 = 67;
/// The most parts Telnyx sends one message in; see [`check_length`].
pub const MAX_PARTS: u32 = 10;

/// The escape septet: the next septet is read from the extension table.
pub const ESCAPE: u8 = 0x1B;

/// The GSM 03.38 default alphabet, indexed by septet value. Entry `0x1B` is the escape to
/// [`GSM7_EXTENSION`], not a character: U+001B itself cannot be sent.
pub const GSM7_BASIC: [char; 128] = [
    // 0x00
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å', //
    // 0x10
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u{1B}', 'Æ', 'æ', 'ß', 'É', //
    // 0x20
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/', //
    // 0x30
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?', //
    // 0x40
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', //
    // 0x50
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§', //
    // 0x60
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', //
    // 0x70
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à', //
];

/// The GSM 03.38 default extension table: the characters sent as [`ESCAPE`] followed by the
/// septet given here, two septets each.
pub const GSM7_EXTENSION: [(u8, char); 10] = [
    (0x0A, '\u{0C}'), // form feed
    (0x14, '^'),
    (0x28, '{'),
    (0x29, '}'),
    (0x2F, '\\'),
    (0x3C, '['),
    (0x3D, '~'),
    (0x3E, ']'),
    (0x40, '|'),
    (0x65, '€'),
];

/// Where a character sits in the GSM-7 alphabet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gsm7Code {
    /// One septet of the basic table.
    Basic(u8),
    /// [`ESCAPE`] and then this septet of the extension table.
    Extension(u8),
}

impl Gsm7Code {
    /// The septets this character costs: 1 or 2.
    pub const fn septets(self) -> u32 {
        match self {
            Gsm7Code::Basic(_) => 1,
            Gsm7Code::Extension(_) => 2,
        }
    }
}

/// The GSM-7 code of `c`, or `None` if GSM-7 cannot carry it.
pub fn gsm7_code(c: char) -> Option<Gsm7Code> {
    if c == '\u{1B}' {
        return None;
    }
    if let Some(i) = GSM7_BASIC.iter().position(|&b| b == c) {
        return Some(Gsm7Code::Basic(i as u8));
    }
    GSM7_EXTENSION.iter().find(|&&(_, e)| e == c).map(|&(code, _)| Gsm7Code::Extension(code))
}

/// Whether every character of `text` is in the GSM-7 alphabet (basic or extension).
pub fn is_gsm7(text: &str) -> bool {
    text.chars().all(|c| gsm7_code(c).is_some())
}

/// `text` as unpacked septet values (one byte each, extension characters as `0x1B` and their
/// code), ready to be packed into user data.
pub fn encode_gsm7(text: &str) -> Result<Vec<u8>, NotGsm7> {
    let mut out = Vec::with_capacity(text.len());
    for (position, character) in text.chars().enumerate() {
        match gsm7_code(character) {
            Some(Gsm7Code::Basic(s)) => out.push(s),
            Some(Gsm7Code::Extension(s)) => out.extend([ESCAPE, s]),
            None => return Err(NotGsm7 { character, position }),
        }
    }
    Ok(out)
}

/// The encoding a message is sent in. Serialized as Telnyx reports it: `"GSM-7"`, `"UCS-2"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

impl Encoding {
    /// The name Telnyx reports: `"GSM-7"` or `"UCS-2"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "GSM-7",
            Encoding::Ucs2 => "UCS-2",
        }
    }

    /// Units (septets or code units) that fit one unsplit SMS.
    pub const fn single_limit(self) -> u32 {
        match self {
            Encoding::Gsm7 => GSM7_SINGLE,
            Encoding::Ucs2 => UCS2_SINGLE,
        }
    }

    /// Units that fit each part of a concatenated message.
    pub const fn part_limit(self) -> u32 {
        match self {
            Encoding::Gsm7 => GSM7_PART,
            Encoding::Ucs2 => UCS2_PART,
        }
    }

    /// What `c` costs in this encoding: septets for GSM-7 (a character outside the alphabet,
    /// which [`analyze`] never lets through, counts as one), UTF-16 code units for UCS-2.
    pub fn cost(self, c: char) -> u32 {
        match self {
            Encoding::Gsm7 => gsm7_code(c).map_or(1, Gsm7Code::septets),
            Encoding::Ucs2 => c.len_utf16() as u32,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `encoding` field of a Telnyx send request: `"auto"` (the default), `"gsm7"`, `"ucs2"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Requested {
    /// GSM-7 if every character fits (after smart encoding, if on), else UCS-2.
    #[default]
    Auto,
    /// GSM-7, with smart encoding applied, or [`NotGsm7`].
    Gsm7,
    /// UCS-2, without smart encoding.
    Ucs2,
}

/// GSM-7 was required but the text has a character it cannot carry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NotGsm7 {
    /// The first such character.
    pub character: char,
    /// Its index among the characters (not bytes) of the text as given.
    pub position: usize,
}

impl fmt::Display for NotGsm7 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let NotGsm7 { character, position } = self;
        write!(
            f,
            "the text cannot be sent in GSM-7: {character:?} (U+{:04X}, character {position}) has no GSM-7 equivalent",
            u32::from(*character)
        )
    }
}

impl std::error::Error for NotGsm7 {}

/// How a message text goes out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Analysis {
    pub encoding: Encoding,
    /// SMS parts the message takes; at least 1.
    pub parts: u32,
    /// Characters (Unicode scalar values) of [`Analysis::text`]; see the module docs.
    pub num_chars: u32,
    /// The text that is sent: the request's text after smart encoding.
    pub text: String,
    /// Whether smart encoding changed the text.
    pub smart_encoding_applied: bool,
}

impl Analysis {
    /// The text's cost in its encoding: septets for GSM-7 (extension characters count 2),
    /// UTF-16 code units for UCS-2 (surrogate pairs count 2).
    pub fn units(&self) -> u32 {
        saturate(units(&self.text, self.encoding))
    }
}

/// Decides the encoding of `text` and how many parts it takes.
///
/// `requested` is the request's `encoding` field and `smart_encoding` whether smart encoding
/// is on (the request's or else the messaging profile's setting); the module docs say how
/// they combine. Fails only for [`Requested::Gsm7`] with a character GSM-7 cannot carry.
pub fn analyze(text: &str, requested: Requested, smart_encoding: bool) -> Result<Analysis, NotGsm7> {
    let (encoding, sent) = match requested {
        Requested::Ucs2 => (Encoding::Ucs2, text.to_owned()),
        Requested::Gsm7 => {
            let smart = smart_encode(text);
            if let Some((position, character)) =
                text.chars().enumerate().find(|&(_, c)| gsm7_code(c).is_none() && smart_replacement(c).is_none())
            {
                return Err(NotGsm7 { character, position });
            }
            (Encoding::Gsm7, smart)
        }
        Requested::Auto if is_gsm7(text) => (Encoding::Gsm7, text.to_owned()),
        Requested::Auto => match smart_encoding.then(|| smart_encode(text)) {
            Some(smart) if is_gsm7(&smart) => (Encoding::Gsm7, smart),
            _ => (Encoding::Ucs2, text.to_owned()),
        },
    };
    Ok(Analysis {
        encoding,
        parts: saturate(part_ranges(&sent, encoding).len()),
        num_chars: saturate(sent.chars().count()),
        smart_encoding_applied: sent != text,
        text: sent,
    })
}

/// Refuses a message of more than [`MAX_PARTS`] parts: Telnyx does not send longer ones
/// (about 1,530 GSM-7 or 670 UCS-2 characters).
pub fn check_length(analysis: &Analysis) -> Result<(), String> {
    if analysis.parts > MAX_PARTS {
        return Err(format!(
            "the text takes {} {} parts; at most {MAX_PARTS} parts are sent",
            analysis.parts, analysis.encoding
        ));
    }
    Ok(())
}

/// The texts of the parts the message is sent in, in order; they concatenate to
/// [`Analysis::text`]. An empty text is one empty part.
pub fn segments(analysis: &Analysis) -> Vec<String> {
    part_ranges(&analysis.text, analysis.encoding).into_iter().map(|r| analysis.text[r].to_owned()).collect()
}

/// The smart encoding replacement for `c`, if it has one (the table is in the module docs).
/// Every replacement is GSM-7 text; an empty one means the character is dropped.
pub fn smart_replacement(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{2035}' | '\u{02BC}' | '\u{00B4}'
        | '\u{0060}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' | '\u{2036}' | '\u{00AB}' | '\u{00BB}' => "\"",
        '\u{2039}' => "<",
        '\u{203A}' => ">",
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2022}' => "-",
        '\u{2026}' => "...",
        '\u{0009}' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' => "",
        '\u{2206}' => "Δ",
        '\u{2126}' => "Ω",
        _ => return None,
    })
}

/// `text` with every character that has a [`smart_replacement`] replaced.
pub fn smart_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match smart_replacement(c) {
            Some(r) => out.push_str(r),
            None => out.push(c),
        }
    }
    out
}

fn units(text: &str, encoding: Encoding) -> usize {
    text.chars().map(|c| encoding.cost(c) as usize).sum()
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Byte ranges of the parts of `text`: one part if it fits a single SMS, else parts filled
/// greedily up to the part limit without cutting a character.
fn part_ranges(text: &str, encoding: Encoding) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    if units(text, encoding) <= encoding.single_limit() as usize {
        ranges.push(0..text.len());
        return ranges;
    }
    let limit = encoding.part_limit();
    let (mut start, mut used) = (0, 0);
    for (i, c) in text.char_indices() {
        let cost = encoding.cost(c);
        if used + cost > limit {
            ranges.push(start..i);
            (start, used) = (i, 0);
        }
        used += cost;
    }
    ranges.push(start..text.len());
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashSet;

    fn rep(s: &str, n: usize) -> String {
        s.repeat(n)
    }

    fn ok(text: &str, requested: Requested, smart: bool) -> Analysis {
        analyze(text, requested, smart).unwrap_or_else(|e| panic!("{text:?}: {e}"))
    }

    #[test]
    fn basic_table_is_the_standard_one() {
        let distinct: HashSet<char> = GSM7_BASIC.iter().copied().collect();
        assert_eq!(distinct.len(), 128);
        let spot = [
            (0x00, '@'),
            (0x01, '£'),
            (0x02, '$'),
            (0x09, 'Ç'),
            (0x0A, '\n'),
            (0x0D, '\r'),
            (0x10, 'Δ'),
            (0x11, '_'),
            (0x1F, 'É'),
            (0x20, ' '),
            (0x24, '¤'),
            (0x40, '¡'),
            (0x41, 'A'),
            (0x5B, 'Ä'),
            (0x5F, '§'),
            (0x60, '¿'),
            (0x61, 'a'),
            (0x7F, 'à'),
        ];
        for (code, c) in spot {
            assert_eq!(GSM7_BASIC[code], c, "septet {code:#04x}");
            assert_eq!(gsm7_code(c), Some(Gsm7Code::Basic(code as u8)));
        }
        // The Greek capitals are the Greek letters, not the look-alike symbols.
        assert_eq!(GSM7_BASIC[0x10] as u32, 0x0394);
        assert_eq!(GSM7_BASIC[0x15] as u32, 0x03A9);
        // ASCII: everything printable but the grave accent and the extension characters.
        for c in (' '..='~').filter(|c| !"`^{}\\[]~|".contains(*c)) {
            assert!(matches!(gsm7_code(c), Some(Gsm7Code::Basic(_))), "{c:?}");
        }
        assert_eq!(gsm7_code('`'), None);
        assert_eq!(gsm7_code('\u{1B}'), None);
        assert_eq!(gsm7_code('\t'), None);
        assert_eq!(gsm7_code('ç'), None);
        assert_eq!(gsm7_code('$'), Some(Gsm7Code::Basic(0x02)));
    }

    #[test]
    fn extension_table_is_the_standard_one() {
        let expected = [
            ('\u{0C}', 0x0A),
            ('^', 0x14),
            ('{', 0x28),
            ('}', 0x29),
            ('\\', 0x2F),
            ('[', 0x3C),
            ('~', 0x3D),
            (']', 0x3E),
            ('|', 0x40),
            ('€', 0x65),
        ];
        for (c, code) in expected {
            assert_eq!(gsm7_code(c), Some(Gsm7Code::Extension(code)), "{c:?}");
            assert_eq!(gsm7_code(c).map(Gsm7Code::septets), Some(2));
        }
        for (_, c) in GSM7_EXTENSION {
            assert!(!GSM7_BASIC.contains(&c), "{c:?} in both tables");
        }
    }

    #[test]
    fn encodes_septets() {
        assert_eq!(encode_gsm7("@£$ A€{"), Ok(vec![0x00, 0x01, 0x02, 0x20, 0x41, 0x1B, 0x65, 0x1B, 0x28]));
        assert_eq!(encode_gsm7("ab😀"), Err(NotGsm7 { character: '😀', position: 2 }));
    }

    #[test]
    fn serializes_as_telnyx_does() {
        assert_eq!(serde_json::to_value(Encoding::Gsm7).unwrap(), "GSM-7");
        assert_eq!(serde_json::to_value(Encoding::Ucs2).unwrap(), "UCS-2");
        assert_eq!(Encoding::Ucs2.to_string(), "UCS-2");
        for (s, r) in [("auto", Requested::Auto), ("gsm7", Requested::Gsm7), ("ucs2", Requested::Ucs2)] {
            assert_eq!(serde_json::from_value::<Requested>(s.into()).unwrap(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), s);
        }
        assert!(serde_json::from_value::<Requested>("GSM-7".into()).is_err());
        assert_eq!(Requested::default(), Requested::Auto);
        let a = ok("“Hi”", Requested::Auto, true);
        assert_eq!(
            serde_json::to_value(&a).unwrap(),
            serde_json::json!({
                "encoding": "GSM-7", "parts": 1, "num_chars": 4, "text": "\"Hi\"", "smart_encoding_applied": true
            })
        );
    }

    /// Known cases: (what, text, requested, smart encoding, encoding, parts, num_chars).
    #[test]
    fn known_cases() {
        use Encoding::{Gsm7 as G, Ucs2 as U};
        use Requested::{Auto, Gsm7, Ucs2};
        let a = |n| rep("a", n);
        let cases: Vec<(&str, String, Requested, bool, Encoding, u32, u32)> = vec![
            ("empty", String::new(), Auto, false, G, 1, 0),
            ("empty, ucs2", String::new(), Ucs2, false, U, 1, 0),
            ("160 a", a(160), Auto, false, G, 1, 160),
            ("161 a", a(161), Auto, false, G, 2, 161),
            ("306 a", a(306), Auto, false, G, 2, 306),
            ("307 a", a(307), Auto, false, G, 3, 307),
            ("459 a", a(459), Auto, false, G, 3, 459),
            ("460 a", a(460), Auto, false, G, 4, 460),
            ("1530 a", a(1530), Auto, false, G, 10, 1530),
            ("1531 a", a(1531), Auto, false, G, 11, 1531),
            ("80 € is 160 septets", rep("€", 80), Auto, false, G, 1, 80),
            ("81 €", rep("€", 81), Auto, false, G, 2, 81),
            ("152 € is 2 parts of 76", rep("€", 152), Auto, false, G, 2, 152),
            ("153 €", rep("€", 153), Auto, false, G, 3, 153),
            ("159 a then € is 161 septets", a(159) + "€", Auto, false, G, 2, 160),
            ("€ straddling 153 moves on", a(152) + "€" + &a(152), Auto, false, G, 3, 305),
            ("same septets, no straddle", a(153) + "€" + &a(151), Auto, false, G, 2, 305),
            ("form feed is an extension", rep("\u{0C}", 80), Auto, false, G, 1, 80),
            ("70 ж", rep("ж", 70), Auto, false, U, 1, 70),
            ("71 ж", rep("ж", 71), Auto, false, U, 2, 71),
            ("134 ж", rep("ж", 134), Auto, false, U, 2, 134),
            ("135 ж", rep("ж", 135), Auto, false, U, 3, 135),
            ("670 ж", rep("ж", 670), Auto, false, U, 10, 670),
            ("671 ж", rep("ж", 671), Auto, false, U, 11, 671),
            ("Hello 😀", "Hello 😀".into(), Auto, false, U, 1, 7),
            ("35 😀 is 70 units", rep("😀", 35), Auto, false, U, 1, 35),
            ("36 😀", rep("😀", 36), Auto, false, U, 2, 36),
            ("67 😀: 33 a part, pairs not split", rep("😀", 67), Auto, false, U, 3, 67),
            ("😀 straddling 67 moves on", rep("ж", 66) + "😀" + &rep("ж", 66), Auto, false, U, 3, 133),
            ("one ж makes it all UCS-2", a(100) + "ж", Auto, false, U, 2, 101),
            ("ASCII with extension chars", "{[~]} ^|\\".into(), Auto, false, G, 1, 9),
            ("Ç is GSM-7", "Ça va".into(), Auto, false, G, 1, 5),
            ("ç is not", "ça va".into(), Auto, false, U, 1, 5),
            ("ç is not even with smart encoding", "ça va".into(), Auto, true, U, 1, 5),
            ("grave accent is not GSM-7", "`x`".into(), Auto, false, U, 1, 3),
            ("tab is not GSM-7", "a\tb".into(), Auto, false, U, 1, 3),
            ("CR LF is", "a\r\nb".into(), Auto, false, G, 1, 4),
            ("curly quotes, smart off", "“Hello”".into(), Auto, false, U, 1, 7),
            ("curly quotes, smart on", "“Hello”".into(), Auto, true, G, 1, 7),
            ("ellipsis grows the text", "Wait…".into(), Auto, true, G, 1, 7),
            ("smart on, emoji stays UCS-2", "“Hi” 😀".into(), Auto, true, U, 1, 6),
            ("ucs2 forced on GSM text", "hello".into(), Ucs2, false, U, 1, 5),
            ("ucs2 forced skips smart", "“Hi”".into(), Ucs2, true, U, 1, 4),
            ("gsm7 forced", "hello €".into(), Gsm7, false, G, 1, 7),
            ("gsm7 forced applies smart", "“Hi”—bye".into(), Gsm7, false, G, 1, 8),
            ("smart on, 107 … is 321 septets", rep("…", 107), Auto, true, G, 3, 321),
        ];
        for (what, text, requested, smart, encoding, parts, num_chars) in cases {
            let a = analyze(&text, requested, smart).unwrap_or_else(|e| panic!("{what}: {e}"));
            assert_eq!((a.encoding, a.parts, a.num_chars), (encoding, parts, num_chars), "{what}");
            assert_eq!(segments(&a).len() as u32, a.parts, "{what}");
        }
    }

    #[test]
    fn gsm7_forced_refuses_what_it_cannot_carry() {
        assert_eq!(analyze("ok ж", Requested::Gsm7, false), Err(NotGsm7 { character: 'ж', position: 3 }));
        assert_eq!(analyze("“Hi” 😀", Requested::Gsm7, true), Err(NotGsm7 { character: '😀', position: 5 }));
        assert_eq!(analyze("ça", Requested::Gsm7, true), Err(NotGsm7 { character: 'ç', position: 0 }));
        let e = analyze("\u{1B}", Requested::Gsm7, false).unwrap_err();
        assert!(e.to_string().contains("U+001B"), "{e}");
    }

    #[test]
    fn smart_encoding_text_and_flag() {
        let a = ok("“Hello” — it’s 5–6 pm… • ‹ok› «fine»\u{A0}x\u{200B}y ∆Ω", Requested::Auto, true);
        assert_eq!(a.text, "\"Hello\" - it's 5-6 pm... - <ok> \"fine\" xy ΔΩ");
        assert!(a.smart_encoding_applied);
        assert_eq!(a.encoding, Encoding::Gsm7);

        // Nothing to replace: not applied.
        let a = ok("Hello", Requested::Auto, true);
        assert!(!a.smart_encoding_applied);
        assert_eq!(a.text, "Hello");
        // Smart encoding off: text as given.
        let a = ok("“Hello”", Requested::Auto, false);
        assert!(!a.smart_encoding_applied);
        assert_eq!(a.text, "“Hello”");
        // Still UCS-2 after replacing: sent unchanged.
        let a = ok("“Hello” ж", Requested::Auto, true);
        assert_eq!((a.encoding, a.text.as_str(), a.smart_encoding_applied), (Encoding::Ucs2, "“Hello” ж", false));
        // Forced GSM-7 replaces, and says so.
        let a = ok("it’s", Requested::Gsm7, false);
        assert_eq!((a.text.as_str(), a.smart_encoding_applied), ("it's", true));
        let a = ok("its", Requested::Gsm7, true);
        assert!(!a.smart_encoding_applied);
    }

    #[test]
    fn smart_table_maps_non_gsm_to_gsm() {
        let mut replaced = 0;
        for c in (0..=0x3000u32).chain([0xFEFF]).filter_map(char::from_u32) {
            if let Some(r) = smart_replacement(c) {
                replaced += 1;
                assert!(gsm7_code(c).is_none(), "{c:?} is GSM-7 already");
                assert!(is_gsm7(r), "{c:?} -> {r:?}");
            }
        }
        assert_eq!(replaced, 52);
    }

    #[test]
    fn smart_encoding_can_cost_parts() {
        let a = ok(&rep("…", 160), Requested::Auto, true);
        assert_eq!((a.encoding, a.parts, a.units()), (Encoding::Gsm7, 4, 480));
        let a = ok(&(rep("…", 160) + "ж"), Requested::Auto, true);
        assert_eq!((a.encoding, a.parts, a.units()), (Encoding::Ucs2, 3, 161));
    }

    #[test]
    fn segments_split_where_documented() {
        let a = ok(&(rep("a", 152) + "€" + &rep("a", 152)), Requested::Auto, false);
        assert_eq!(segments(&a), vec![rep("a", 152), "€".to_owned() + &rep("a", 151), "a".to_owned()]);
        let a = ok(&rep("😀", 67), Requested::Auto, false);
        assert_eq!(segments(&a), vec![rep("😀", 33), rep("😀", 33), "😀".to_owned()]);
        assert_eq!(a.units(), 134);
        let a = ok("", Requested::Auto, false);
        assert_eq!(segments(&a), vec![String::new()]);
        let a = ok(&rep("a", 160), Requested::Auto, false);
        assert_eq!(segments(&a), vec![rep("a", 160)]);
    }

    #[test]
    fn length_limit() {
        assert_eq!(check_length(&ok(&rep("a", 1530), Requested::Auto, false)), Ok(()));
        let e = check_length(&ok(&rep("a", 1531), Requested::Auto, false)).unwrap_err();
        assert!(e.contains("11") && e.contains("10"), "{e}");
        assert_eq!(check_length(&ok(&rep("ж", 670), Requested::Auto, false)), Ok(()));
        assert!(check_length(&ok(&rep("ж", 671), Requested::Auto, false)).is_err());
        assert_eq!(check_length(&ok("", Requested::Auto, false)), Ok(()));
    }

    // ---- properties ----

    fn basic_char() -> impl Strategy<Value = char> {
        prop::sample::select(GSM7_BASIC.iter().copied().filter(|&c| c != '\u{1B}').collect::<Vec<_>>())
    }

    fn extension_char() -> impl Strategy<Value = char> {
        prop::sample::select(GSM7_EXTENSION.iter().map(|&(_, c)| c).collect::<Vec<_>>())
    }

    fn gsm_char() -> impl Strategy<Value = char> {
        prop_oneof![6 => basic_char(), 1 => extension_char()]
    }

    /// Neither GSM-7 nor smart-replaceable.
    fn foreign_char() -> impl Strategy<Value = char> {
        prop_oneof![
            prop::sample::select(vec!['ж', 'ç', '中', 'ß', 'ğ', '😀', '𝄞', '\u{1B}', '\u{7F}', '\u{0}']),
            any::<char>(),
        ]
        .prop_filter("outside both tables", |&c| gsm7_code(c).is_none() && smart_replacement(c).is_none())
    }

    fn smart_char() -> impl Strategy<Value = char> {
        prop::sample::select(vec![
            '‘', '’', '“', '”', '–', '—', '…', '\u{A0}', '«', '»', '‹', '›', '•', '`', '\u{200B}',
        ])
    }

    /// Text of mostly GSM-7 characters, with some extension, smart-replaceable and foreign ones.
    fn any_text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![30 => basic_char(), 4 => extension_char(), 2 => smart_char(), 1 => foreign_char()],
            0..max,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    /// Text that smart encoding makes GSM-7: long GSM-7 messages, split into many parts.
    fn gsm_text(max: usize) -> impl Strategy<Value = String> {
        prop::collection::vec(prop_oneof![30 => basic_char(), 4 => extension_char(), 2 => smart_char()], 0..max)
            .prop_map(|v| v.into_iter().collect())
    }

    fn mixed_text(max: usize) -> impl Strategy<Value = String> {
        prop_oneof![any_text(max), gsm_text(max)]
    }

    /// Printable ASCII and CR, LF, less the grave accent and the extension characters.
    fn plain_ascii_char() -> impl Strategy<Value = char> {
        let chars = (' '..='~').filter(|c| !"`^{}\\[]~|".contains(*c)).chain(['\n', '\r']);
        prop::sample::select(chars.collect::<Vec<_>>())
    }

    fn any_requested() -> impl Strategy<Value = Requested> {
        prop::sample::select(vec![Requested::Auto, Requested::Gsm7, Requested::Ucs2])
    }

    proptest! {
        #[test]
        fn parts_never_decrease_as_text_grows(
            text in mixed_text(1200), cut in any::<prop::sample::Index>(), requested in any_requested()
        ) {
            let chars: Vec<char> = text.chars().collect();
            let prefix: String = chars[..cut.index(chars.len() + 1)].iter().collect();
            if let (Ok(short), Ok(long)) = (analyze(&prefix, requested, false), analyze(&text, requested, false)) {
                prop_assert!(short.parts <= long.parts, "{} then {}", short.parts, long.parts);
            }
        }

        #[test]
        fn gsm_text_of_at_most_160_septets_is_one_part(chars in prop::collection::vec(gsm_char(), 0..=160)) {
            let mut text: String = chars.into_iter().collect();
            while units(&text, Encoding::Gsm7) > 160 {
                text.pop();
            }
            for smart in [false, true] {
                let a = analyze(&text, Requested::Auto, smart).unwrap();
                prop_assert_eq!((a.encoding, a.parts), (Encoding::Gsm7, 1));
                prop_assert_eq!(a.units() as usize, encode_gsm7(&text).unwrap().len());
            }
        }

        #[test]
        fn segments_rebuild_the_text_within_limits(
            text in mixed_text(1800), requested in any_requested(), smart in any::<bool>()
        ) {
            let Ok(a) = analyze(&text, requested, smart) else { return Ok(()) };
            let segs = segments(&a);
            prop_assert_eq!(segs.len() as u32, a.parts);
            prop_assert_eq!(segs.concat(), a.text.clone());
            prop_assert_eq!(a.num_chars as usize, a.text.chars().count());
            let limit = if segs.len() == 1 { a.encoding.single_limit() } else { a.encoding.part_limit() };
            for (i, seg) in segs.iter().enumerate() {
                prop_assert!(units(seg, a.encoding) <= limit as usize);
                if segs.len() > 1 {
                    prop_assert!(!seg.is_empty());
                }
                // Greedy: a part ends only because the next character would not fit.
                if let Some(next) = segs.get(i + 1).and_then(|s| s.chars().next()) {
                    prop_assert!(units(seg, a.encoding) + a.encoding.cost(next) as usize > limit as usize);
                }
            }
            // No character is cut: the parts' own encodings add up to the whole's, and no
            // part ends in an escape or a high surrogate.
            match a.encoding {
                Encoding::Gsm7 => {
                    let whole = encode_gsm7(&a.text).unwrap();
                    let mut joined = Vec::new();
                    for seg in &segs {
                        let septets = encode_gsm7(seg).unwrap();
                        prop_assert_ne!(septets.last(), Some(&ESCAPE));
                        joined.extend(septets);
                    }
                    prop_assert_eq!(joined, whole);
                }
                Encoding::Ucs2 => {
                    let whole: Vec<u16> = a.text.encode_utf16().collect();
                    let mut joined = Vec::new();
                    for seg in &segs {
                        let code_units: Vec<u16> = seg.encode_utf16().collect();
                        prop_assert!(!code_units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)));
                        joined.extend(code_units);
                    }
                    prop_assert_eq!(joined, whole);
                }
            }
        }

        #[test]
        fn printable_ascii_without_extension_chars_is_gsm7(
            chars in prop::collection::vec(plain_ascii_char(), 0..400),
            smart in any::<bool>(),
        ) {
            let text: String = chars.into_iter().collect();
            let a = analyze(&text, Requested::Auto, smart).unwrap();
            prop_assert_eq!(a.encoding, Encoding::Gsm7);
            prop_assert_eq!(a.units() as usize, text.len());
            prop_assert_eq!(a.text, text);
            prop_assert!(!a.smart_encoding_applied);
        }

        #[test]
        fn a_character_outside_both_tables_means_ucs2(
            before in any_text(200), c in foreign_char(), after in any_text(200), smart in any::<bool>()
        ) {
            let text = format!("{before}{c}{after}");
            let a = analyze(&text, Requested::Auto, smart).unwrap();
            prop_assert_eq!(a.encoding, Encoding::Ucs2);
            prop_assert_eq!(&a.text, &text);
            prop_assert!(!a.smart_encoding_applied);
            let e = analyze(&text, Requested::Gsm7, smart).unwrap_err();
            let first = text.chars().position(|c| gsm7_code(c).is_none() && smart_replacement(c).is_none());
            prop_assert_eq!(Some(e.position), first);
        }
    }
}
