//! Telnyx query strings: deepObject parameters (`filter[email][contains]=x`, `page[size]=5`),
//! percent-encoded brackets, comma-joined arrays, `true`/`false` booleans.
//!
//! The raw string is parsed once into a flat map keyed by the bracket path
//! (`filter[email][contains]`), and typed accessors report a bad value with the parameter's
//! name, so every error names the offending parameter in `source.parameter`.

use crate::error::{ApiError, Code, Result};
use std::collections::BTreeMap;

#[derive(Clone, Debug, Default)]
pub struct Query {
    params: BTreeMap<String, String>,
}

impl Query {
    /// Parses a raw query string (without `?`). Keys are percent-decoded, so
    /// `page%5Bsize%5D` and `page[size]` are the same parameter.
    pub fn parse(raw: Option<&str>) -> Self {
        let mut params = BTreeMap::new();
        if let Some(raw) = raw {
            for (k, v) in form_urlencoded_pairs(raw) {
                params.insert(k, v);
            }
        }
        Query { params }
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    /// A non-empty string parameter.
    pub fn str(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.is_empty())
    }

    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.str(name) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(ApiError::new(Code::InvalidValue)
                .detail(format!("'{name}' must be true or false, not '{other}'."))
                .parameter(name)),
        }
    }

    pub fn int(&self, name: &str, min: i64, max: i64) -> Result<Option<i64>> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => match v.parse::<i64>() {
                Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
                Ok(_) => Err(ApiError::new(Code::InvalidValue)
                    .detail(format!("'{name}' must be between {min} and {max}."))
                    .parameter(name)),
                Err(_) => Err(ApiError::new(Code::InvalidValue)
                    .detail(format!("'{name}' must be an integer, not '{v}'."))
                    .parameter(name)),
            },
        }
    }

    /// A value from a closed set.
    pub fn one_of<'a>(&'a self, name: &str, allowed: &[&str]) -> Result<Option<&'a str>> {
        match self.str(name) {
            None => Ok(None),
            Some(v) if allowed.contains(&v) => Ok(Some(v)),
            Some(v) => Err(ApiError::new(Code::InvalidValue)
                .detail(format!("'{name}' must be one of {}, not '{v}'.", allowed.join(", ")))
                .parameter(name)),
        }
    }

    /// An ISO 8601 date-time (or a date: midnight UTC).
    pub fn time(&self, name: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>> {
        match self.str(name) {
            None => Ok(None),
            Some(v) => parse_time(v).map(Some).ok_or_else(|| {
                ApiError::new(Code::InvalidValue)
                    .detail(format!("'{name}' must be an ISO 8601 date-time, not '{v}'."))
                    .parameter(name)
            }),
        }
    }

    /// A comma-joined list (`filter[status]=a,b`).
    pub fn list(&self, name: &str) -> Option<Vec<&str>> {
        self.str(name).map(|v| v.split(',').filter(|s| !s.is_empty()).collect())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.params.keys().map(String::as_str)
    }
}

/// An ISO 8601 date-time, or a date (midnight UTC).
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc())
}

fn form_urlencoded_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as space, lossy on invalid UTF-8 (a bad byte then fails
/// validation of the value instead of the whole request).
fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push(h << 4 | l);
                    i += 3;
                }
                _ => {
                    out.push(b'%');
                    i += 1;
                }
            },
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_encoded_brackets() {
        let q = Query::parse(Some("page%5Bsize%5D=5&filter%5Bemail%5D%5Bcontains%5D=a%40b.c&x=1+2"));
        assert_eq!(q.get("page[size]"), Some("5"));
        assert_eq!(q.get("filter[email][contains]"), Some("a@b.c"));
        assert_eq!(q.get("x"), Some("1 2"));
    }

    #[test]
    fn typed_accessors_name_the_parameter() {
        let q = Query::parse(Some("page[size]=999&b=yes&n=abc"));
        let e = q.int("page[size]", 1, 250).unwrap_err();
        assert_eq!(e.parameter.as_deref(), Some("page[size]"));
        assert!(q.bool("b").is_err());
        assert!(q.int("n", 0, 10).is_err());
        assert_eq!(q.int("missing", 0, 10).unwrap(), None);
    }

    #[test]
    fn trailing_percent_is_kept_literally() {
        let q = Query::parse(Some("a=50%&b=%4"));
        assert_eq!(q.get("a"), Some("50%"));
        assert_eq!(q.get("b"), Some("%4"));
    }

    #[test]
    fn lists_are_comma_joined() {
        let q = Query::parse(Some("filter[status]=a,b"));
        assert_eq!(q.list("filter[status]").unwrap(), vec!["a", "b"]);
    }
}
