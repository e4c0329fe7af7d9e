//! RFC 3339 timestamps printed and read by hand, with the same text as chrono's.
//!
//! A message carries four timestamps, stored and read at every carrier step and printed
//! again in each webhook. chrono prints through `core::fmt` and parses through its general
//! format parser; under a burst of scheduled messages that was about 10 % of the steps'
//! CPU. These functions write the digits directly and read the one shape they write,
//! handing anything else (years outside 0-9999, leap seconds, offsets other than `Z`) to
//! chrono, so the text is always exactly chrono's.

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Timelike, Utc};

/// How many digits of the fraction of a second to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fraction {
    /// As few as the value needs of 0, 3, 6 or 9 (chrono's `AutoSi`, which its serde uses).
    Auto,
    /// Always 3 (Telnyx's bodies).
    Millis,
}

/// `t` as RFC 3339 with `Z`, the same text as `t.to_rfc3339_opts(format, true)`.
pub fn rfc3339(t: DateTime<Utc>, fraction: Fraction) -> String {
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        let format = match fraction {
            Fraction::Auto => SecondsFormat::AutoSi,
            Fraction::Millis => SecondsFormat::Millis,
        };
        return t.to_rfc3339_opts(format, true);
    }
    let (value, digits) = match fraction {
        Fraction::Millis => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos == 0 => (0, 0),
        Fraction::Auto if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos % 1_000 == 0 => (nanos / 1_000, 6),
        Fraction::Auto => (nanos, 9),
    };
    let mut out = String::with_capacity(30);
    let mut put = |v: u32, width: u32, then: Option<char>| {
        for i in (0..width).rev() {
            out.push(char::from(b'0' + (v / 10u32.pow(i) % 10) as u8));
        }
        out.extend(then);
    };
    put(year as u32, 4, Some('-'));
    put(t.month(), 2, Some('-'));
    put(t.day(), 2, Some('T'));
    put(t.hour(), 2, Some(':'));
    put(t.minute(), 2, Some(':'));
    put(t.second(), 2, (digits > 0).then_some('.'));
    put(value, digits, Some('Z'));
    out
}

/// Reads what [`rfc3339`] writes (`YYYY-MM-DDTHH:MM:SS[.f…]Z`, 1 to 9 digits of fraction)
/// directly, and any other RFC 3339 text through chrono.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    parse_plain(s.as_bytes()).or_else(|| DateTime::parse_from_rfc3339(s).ok().map(|t| t.with_timezone(&Utc)))
}

fn parse_plain(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<u32> {
        b.get(from..from + len)?
            .iter()
            .try_fold(0u32, |acc, c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let shape = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if shape.iter().any(|(i, c)| b[*i] != *c) {
        return None;
    }
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            num(20, digits.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 2)?, num(8, 2)?)?;
    let time = date.and_hms_nano_opt(num(11, 2)?, num(14, 2)?, num(17, 2)?, nanos)?;
    Some(time.and_utc())
}

/// `#[serde(with = "crate::time::auto")]`: a timestamp as chrono's serde writes it.
pub mod auto {
    use super::{Fraction, parse, rfc3339};
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(*t, Fraction::Auto))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let text = std::borrow::Cow::<str>::deserialize(d)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
    }
}

/// As [`auto`], for an optional timestamp (`null` when absent).
pub mod auto_opt {
    use super::{Fraction, parse, rfc3339};
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&rfc3339(*t, Fraction::Auto)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<std::borrow::Cow<str>>::deserialize(d)? {
            Some(text) => {
                parse(&text).map(Some).ok_or_else(|| serde::de::Error::custom(format!("not an RFC 3339 time: {text}")))
            }
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The same text as chrono's, for any time of years 0-9999 and any fraction, and
        /// read back the same.
        #[test]
        fn prints_and_reads_as_chrono_does(secs in -62_167_219_200i64..253_402_300_800i64, nanos in 0u32..1_000_000_000, round in 0u8..4) {
            let nanos = match round { 0 => 0, 1 => nanos / 1_000_000 * 1_000_000, 2 => nanos / 1_000 * 1_000, _ => nanos };
            let t = DateTime::from_timestamp(secs, nanos).unwrap();
            let auto = rfc3339(t, Fraction::Auto);
            prop_assert_eq!(&auto, &t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
            prop_assert_eq!(&auto, &serde_json::to_value(t).unwrap().as_str().unwrap().to_owned());
            prop_assert_eq!(rfc3339(t, Fraction::Millis), t.to_rfc3339_opts(SecondsFormat::Millis, true));
            prop_assert_eq!(parse(&auto), Some(t));
            let chrono_read: DateTime<Utc> = serde_json::from_value(serde_json::Value::String(auto.clone())).unwrap();
            prop_assert_eq!(parse(&auto), Some(chrono_read));
        }
    }

    #[test]
    fn other_rfc3339_text_is_read_through_chrono() {
        let t = parse("2026-12-05T10:00:00.5+01:00").unwrap();
        assert_eq!(rfc3339(t, Fraction::Auto), "2026-12-05T09:00:00.500Z");
        assert_eq!(parse("2026-12-05T09:00:00.123456789Z").unwrap().nanosecond(), 123_456_789);
        assert_eq!(parse("2026-12-05T09:00:00.1Z").unwrap().nanosecond(), 100_000_000);
        // Outside years 0-9999 the text is chrono's.
        for t in [
            DateTime::from_timestamp(-62_167_219_201, 5).unwrap(),
            DateTime::from_timestamp(253_402_300_800, 0).unwrap(),
        ] {
            assert_eq!(rfc3339(t, Fraction::Auto), t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
        }
        for bad in ["", "2026-12-05", "2026-13-05T09:00:00Z", "2026-12-05T09:00:00.Z"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
