//! When to try a request again and how long to wait, as the official SDKs do.

use reqwest::header::HeaderMap;
use std::time::{Duration, SystemTime};

/// The longest delay a server may ask for and still be honoured as given; beyond it (or
/// for a nonsense value) the usual backoff applies, as in the official SDKs.
const MAX_SERVER_DELAY: Duration = Duration::from_secs(60);

/// Whether an answer with this status and these headers is worth another attempt.
pub(crate) fn should_retry(status: u16, headers: &HeaderMap) -> bool {
    match headers.get("x-should-retry").and_then(|v| v.to_str().ok()) {
        Some("true") => return true,
        Some("false") => return false,
        _ => {}
    }
    matches!(status, 408 | 409 | 429) || status >= 500
}

/// The delay the server asked for: `retry-after-ms` (milliseconds, fractions allowed), else
/// `Retry-After` (seconds or an HTTP date).
pub(crate) fn server_delay(headers: &HeaderMap, now: SystemTime) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    let v = get("retry-after")?;
    if let Ok(secs) = v.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs));
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait before retry number `retry` (0 for the first retry): the server's delay when it
/// gave a sensible one, else `min(0.5 s · 2^retry, 8 s)` shortened by up to 25 % of jitter.
/// `jitter` is a number in `[0, 1)`.
pub(crate) fn delay(retry: u32, server: Option<Duration>, jitter: f64) -> Duration {
    if let Some(d) = server
        && d <= MAX_SERVER_DELAY
    {
        return d;
    }
    let base = (0.5 * 2f64.powi(retry.min(16) as i32)).min(8.0);
    Duration::from_secs_f64(base * (1.0 - jitter.clamp(0.0, 1.0) * 0.25))
}

/// A number in `[0, 1)` from the system's random source.
pub(crate) fn jitter() -> f64 {
    (uuid::Uuid::new_v4().as_u128() as u64 >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn backoff_doubles_from_half_a_second_and_caps_at_eight() {
        let secs: Vec<f64> = (0..6).map(|n| delay(n, None, 0.0).as_secs_f64()).collect();
        assert_eq!(secs, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]);
        // Full jitter takes a quarter off, never more.
        assert_eq!(delay(1, None, 0.999_999).as_millis(), 750);
        assert_eq!(delay(1, None, 0.5).as_millis(), 875);
    }

    #[test]
    fn server_delays_win_when_sensible() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(server_delay(&headers(&[("retry-after-ms", "1500")]), now), Some(Duration::from_millis(1500)));
        assert_eq!(server_delay(&headers(&[("retry-after", "3")]), now), Some(Duration::from_secs(3)));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(server_delay(&headers(&[("retry-after", &date)]), now), Some(Duration::from_secs(7)));
        assert_eq!(server_delay(&headers(&[("retry-after", "soon")]), now), None);
        // ms wins over seconds.
        let both = headers(&[("retry-after-ms", "100"), ("retry-after", "9")]);
        assert_eq!(server_delay(&both, now), Some(Duration::from_millis(100)));
        // An hour is not honoured: the usual backoff applies.
        assert_eq!(delay(0, Some(Duration::from_secs(3600)), 0.0), Duration::from_millis(500));
        assert_eq!(delay(0, Some(Duration::from_secs(2)), 0.0), Duration::from_secs(2));
    }

    #[test]
    fn what_is_retried() {
        let none = HeaderMap::new();
        for s in [408, 409, 429, 500, 502, 503] {
            assert!(should_retry(s, &none), "{s}");
        }
        for s in [400, 401, 403, 404, 422] {
            assert!(!should_retry(s, &none), "{s}");
        }
        assert!(should_retry(400, &headers(&[("x-should-retry", "true")])));
        assert!(!should_retry(503, &headers(&[("x-should-retry", "false")])));
    }

    #[test]
    fn jitter_is_in_range() {
        for _ in 0..1000 {
            let j = jitter();
            assert!((0.0..1.0).contains(&j));
        }
    }
}
