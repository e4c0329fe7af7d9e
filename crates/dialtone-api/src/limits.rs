//! Per-key rate limits and injected faults, so users can test their retry code.
//!
//! Both live in the memory of one process: they are test settings, not acknowledged state,
//! and a restart clears them (documented).

use dialtone_domain::body::Body;
use dialtone_domain::error::{ApiError, Code, Result};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token bucket per API key: `per_second` requests a second, bursts up to that many.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: Option<u32>,
    buckets: Mutex<HashMap<String, (f64, Instant)>>,
}

impl RateLimiter {
    pub fn new(per_second: Option<u32>) -> Self {
        RateLimiter { per_second: per_second.filter(|n| *n > 0), buckets: Mutex::new(HashMap::new()) }
    }

    /// Takes a token for `key`, or answers the 429 to send.
    pub fn check(&self, key: &str) -> Result<()> {
        let Some(rate) = self.per_second else {
            return Ok(());
        };
        let rate = f64::from(rate);
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (tokens, last) = buckets.entry(key.to_owned()).or_insert((rate, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * rate).min(rate);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = ((1.0 - *tokens) / rate).ceil().max(1.0) as u64;
            Err(ApiError::new(Code::TooManyRequests).retry_after(wait))
        }
    }
}

/// One injected fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    pub id: u64,
    /// An `operationId` of the spec, or `*` for every operation.
    pub operation: String,
    /// 429, 500 or 503; `None` for latency only.
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub probability: f64,
    /// Applies to the next N matching calls, then disappears; `None` for until cleared.
    pub remaining: Option<u64>,
}

impl Fault {
    pub fn parse(body: &Body, id: u64) -> Result<Fault> {
        let operation = body.req_str("operation")?.to_owned();
        let status = match body.opt_int("status")? {
            None => None,
            Some(s @ (429 | 500 | 503)) => Some(s as u16),
            Some(_) => {
                return Err(ApiError::invalid("status", "status must be 429, 500 or 503."));
            }
        };
        let latency_ms = match body.opt_int("latency_ms")? {
            None => 0,
            Some(ms) if (0..=60_000).contains(&ms) => ms as u64,
            Some(_) => {
                return Err(ApiError::invalid("latency_ms", "latency_ms must be between 0 and 60000."));
            }
        };
        let probability = match body.raw("probability") {
            None => 1.0,
            Some(v) => match v.as_f64() {
                Some(p) if (0.0..=1.0).contains(&p) => p,
                _ => {
                    return Err(ApiError::invalid("probability", "probability must be a number from 0 to 1."));
                }
            },
        };
        let remaining = match body.opt_int("count")? {
            None => None,
            Some(n) if n > 0 => Some(n as u64),
            Some(_) => return Err(ApiError::invalid("count", "count must be 1 or more.")),
        };
        if status.is_none() && latency_ms == 0 {
            return Err(ApiError::missing("status").detail("Give a status, a latency_ms, or both."));
        }
        Ok(Fault { id, operation, status, latency_ms, probability, remaining })
    }

    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id.to_string(),
            "record_type": "sim_fault",
            "operation": self.operation,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "probability": self.probability,
            "remaining": self.remaining,
        })
    }
}

#[derive(Debug, Default)]
pub struct Faults {
    inner: Mutex<(u64, Vec<Fault>)>,
}

/// What to do to a request.
#[derive(Debug, Default, PartialEq)]
pub struct Effect {
    pub delay: Duration,
    pub error: Option<ApiError>,
}

impl Faults {
    pub fn add(&self, body: &Body) -> Result<Fault> {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        g.0 += 1;
        let f = Fault::parse(body, g.0)?;
        g.1.push(f.clone());
        Ok(f)
    }

    pub fn list(&self) -> Vec<Fault> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).1.clone()
    }

    /// Removes one fault (`Some(id)`) or all; answers how many went.
    pub fn clear(&self, id: Option<u64>) -> usize {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let before = g.1.len();
        match id {
            Some(id) => g.1.retain(|f| f.id != id),
            None => g.1.clear(),
        }
        before - g.1.len()
    }

    /// The effect of the first fault that matches `operation` and whose dice roll hits.
    pub fn effect(&self, operation: &str, roll: impl Fn() -> f64) -> Effect {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.1.is_empty() {
            return Effect::default();
        }
        let mut out = Effect::default();
        let mut spent = None;
        for f in g.1.iter_mut() {
            if f.operation != "*" && f.operation != operation {
                continue;
            }
            if f.probability < 1.0 && roll() >= f.probability {
                continue;
            }
            out.delay = Duration::from_millis(f.latency_ms);
            out.error = f.status.map(|s| {
                let e = match s {
                    429 => ApiError::new(Code::TooManyRequests).retry_after(1),
                    _ => ApiError::new(Code::InjectedFault).with_status(s),
                };
                e.detail(format!("Fault {} injected on {operation}.", f.id))
            });
            if let Some(n) = f.remaining.as_mut() {
                *n -= 1;
                if *n == 0 {
                    spent = Some(f.id);
                }
            }
            break;
        }
        if let Some(id) = spent {
            g.1.retain(|f| f.id != id);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Body {
        Body::from_value(v).unwrap()
    }

    #[test]
    fn bucket_refuses_past_the_rate_with_retry_after() {
        let r = RateLimiter::new(Some(2));
        assert!(r.check("k").is_ok());
        assert!(r.check("k").is_ok());
        let e = r.check("k").unwrap_err();
        assert_eq!(e.status(), 429);
        assert_eq!(e.retry_after, Some(1));
        assert!(r.check("other").is_ok(), "limits are per key");
        assert!(RateLimiter::new(None).check("k").is_ok());
    }

    #[test]
    fn count_limited_faults_expire() {
        let f = Faults::default();
        f.add(&body(json!({"operation": "Op", "status": 503, "count": 2}))).unwrap();
        assert_eq!(f.effect("Other", || 0.0), Effect::default());
        assert_eq!(f.effect("Op", || 0.0).error.unwrap().status(), 503);
        assert_eq!(f.effect("Op", || 0.0).error.unwrap().status(), 503);
        assert!(f.effect("Op", || 0.0).error.is_none());
        assert!(f.list().is_empty());
    }

    #[test]
    fn probability_and_latency() {
        let f = Faults::default();
        f.add(&body(json!({"operation": "*", "latency_ms": 30, "probability": 0.5}))).unwrap();
        assert_eq!(f.effect("X", || 0.9).delay, Duration::ZERO);
        assert_eq!(f.effect("X", || 0.1).delay, Duration::from_millis(30));
        assert_eq!(f.clear(None), 1);
    }

    #[test]
    fn bad_faults_are_refused() {
        let f = Faults::default();
        assert!(f.add(&body(json!({"operation": "X", "status": 404}))).is_err());
        assert!(f.add(&body(json!({"operation": "X"}))).is_err());
        assert!(f.add(&body(json!({"status": 500}))).is_err());
        assert!(f.add(&body(json!({"operation": "X", "status": 500, "probability": 2}))).is_err());
    }
}
