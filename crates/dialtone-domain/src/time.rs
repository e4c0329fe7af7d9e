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
    match plain(t, fraction, &mut [0; PLAIN_LEN]) {
        Some(text) => text.to_owned(),
        None => {
            let format = match fraction {
                Fraction::Auto => SecondsFormat::AutoSi,
                Fraction::Millis => SecondsFormat::Millis,
            };
            t.to_rfc3339_opts(format, true)
        }
    }
}

/// The longest text [`plain`] writes: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
const PLAIN_LEN: usize = 30;

/// [`rfc3339`]'s text written into `buf`, for years 0-9999 without a leap second (`None`
/// otherwise). The digits are written from the right, dividing by the constant 10 (a
/// multiply); dividing by a computed power of ten for each digit was a hardware division
/// each, most of the time a timestamp took to print.
fn plain(t: DateTime<Utc>, fraction: Fraction, buf: &mut [u8; PLAIN_LEN]) -> Option<&str> {
    let (year, nanos) = (t.year(), t.nanosecond());
    if !(0..=9999).contains(&year) || nanos >= 1_000_000_000 {
        return None;
    }
    let (value, digits) = match fraction {
        Fraction::Millis => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos == 0 => (0, 0),
        Fraction::Auto if nanos % 1_000_000 == 0 => (nanos / 1_000_000, 3),
        Fraction::Auto if nanos % 1_000 == 0 => (nanos / 1_000, 6),
        Fraction::Auto => (nanos, 9),
    };
    let date = t.date_naive();
    let secs = t.num_seconds_from_midnight();
    let mut at = 0;
    let mut put = |mut v: u32, width: usize, then: Option<u8>| {
        for i in (0..width).rev() {
            buf[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        at += width;
        if let Some(c) = then {
            buf[at] = c;
            at += 1;
        }
    };
    put(year as u32, 4, Some(b'-'));
    put(date.month(), 2, Some(b'-'));
    put(date.day(), 2, Some(b'T'));
    put(secs / 3600, 2, Some(b':'));
    put(secs / 60 % 60, 2, Some(b':'));
    put(secs % 60, 2, (digits > 0).then_some(b'.'));
    put(value, digits, Some(b'Z'));
    std::str::from_utf8(&buf[..at]).ok()
}

/// Serializes `t` as [`rfc3339`] prints it, from a buffer on the stack.
fn serialize_time<S: serde::Serializer>(t: DateTime<Utc>, fraction: Fraction, s: S) -> Result<S::Ok, S::Error> {
    match plain(t, fraction, &mut [0; PLAIN_LEN]) {
        Some(text) => s.serialize_str(text),
        None => s.serialize_str(&rfc3339(t, fraction)),
    }
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

/// Reads a timestamp from the string it is handed, borrowed or not: serde's `Cow<str>`
/// always copied it into a `String` first.
struct TimeVisitor;

impl serde::de::Visitor<'_> for TimeVisitor {
    type Value = DateTime<Utc>;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an RFC 3339 time")
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Self::Value, E> {
        parse(text).ok_or_else(|| E::custom(format!("not an RFC 3339 time: {text}")))
    }
}

/// `#[serde(with = "crate::time::auto")]`: a timestamp as chrono's serde writes it.
pub mod auto {
    use super::{Fraction, TimeVisitor, serialize_time};
    use chrono::{DateTime, Utc};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        serialize_time(*t, Fraction::Auto, s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        d.deserialize_str(TimeVisitor)
    }
}

/// As [`auto`], for an optional timestamp (`null` when absent).
pub mod auto_opt {
    use super::{Fraction, TimeVisitor, serialize_time};
    use chrono::{DateTime, Utc};
    use serde::de::Visitor;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => serialize_time(*t, Fraction::Auto, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        d.deserialize_option(OptionVisitor)
    }

    struct OptionVisitor;

    impl<'de> Visitor<'de> for OptionVisitor {
        type Value = Option<DateTime<Utc>>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an RFC 3339 time or null")
        }

        fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_str(TimeVisitor).map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Auto(#[serde(with = "auto")] DateTime<Utc>);
    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct AutoOpt(#[serde(with = "auto_opt")] Option<DateTime<Utc>>);

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
            // The serde functions print from the stack the same text as chrono's serde.
            let chrono_json = serde_json::to_string(&t).unwrap();
            prop_assert_eq!(&serde_json::to_string(&Auto(t)).unwrap(), &chrono_json);
            prop_assert_eq!(&serde_json::to_string(&AutoOpt(Some(t))).unwrap(), &chrono_json);
        }
    }

    #[test]
    fn timestamps_are_read_from_text_borrowed_or_unescaped_and_from_values() {
        let t = DateTime::from_timestamp(1_796_461_200, 5_000_000).unwrap();
        // Borrowed from the input, and unescaped into a buffer (`\u0032` is `2`).
        for text in [r#""2026-12-05T09:00:00.005Z""#, r#""\u0032026-12-05T09:00:00.005Z""#] {
            assert_eq!(serde_json::from_str::<Auto>(text).unwrap(), Auto(t), "{text}");
            assert_eq!(serde_json::from_str::<AutoOpt>(text).unwrap(), AutoOpt(Some(t)), "{text}");
        }
        let value = serde_json::json!("2026-12-05T09:00:00.005Z");
        assert_eq!(serde_json::from_value::<Auto>(value.clone()).unwrap(), Auto(t));
        assert_eq!(serde_json::from_value::<AutoOpt>(value).unwrap(), AutoOpt(Some(t)));
        assert_eq!(serde_json::from_str::<AutoOpt>("null").unwrap(), AutoOpt(None));
        assert_eq!(serde_json::from_value::<AutoOpt>(serde_json::Value::Null).unwrap(), AutoOpt(None));
        for bad in [r#""yesterday""#, "12", "{}"] {
            assert!(serde_json::from_str::<Auto>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<AutoOpt>(bad).is_err(), "{bad}");
        }
        let e = serde_json::from_str::<Auto>(r#""yesterday""#).unwrap_err().to_string();
        assert!(e.contains("not an RFC 3339 time: yesterday"), "{e}");
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
            assert_eq!(serde_json::to_string(&Auto(t)).unwrap(), serde_json::to_string(&t).unwrap());
        }
        assert_eq!(serde_json::to_string(&AutoOpt(None)).unwrap(), "null");
        for bad in ["", "2026-12-05", "2026-13-05T09:00:00Z", "2026-12-05T09:00:00.Z"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
