//! The kinds of job the scheduler runs and the retry policy they share.
//!
//! A job is a durable row with a due time; the kind says which handler runs it. Handlers
//! must be idempotent: a job whose worker dies mid-run is run again after its lease ends.

use chrono::Duration;

/// A timer set through `POST /_dialtone/sim/timers`: fires once at its due time and records
/// that it fired (lets a user, and the tests, observe the scheduler and the clock).
pub const SIM_TIMER: &str = "sim.timer";

/// Completes a number order (`crate::orders::COMPLETE_JOB`).
pub const NUMBER_ORDER_COMPLETE: &str = crate::orders::COMPLETE_JOB;

/// Runs a bulk messaging-settings update of phone numbers.
pub const MESSAGING_BULK_UPDATE: &str = "messaging.bulk_update";

/// Delay before retry `attempt` (1-based) of a failing job: exponential from 1 s, capped
/// at 5 min. Jitter is added by the caller from its own randomness.
pub fn retry_delay(attempt: i64) -> Duration {
    let exp = attempt.clamp(1, 20) - 1;
    let secs = 1i64.checked_shl(exp as u32).unwrap_or(i64::MAX).min(300);
    Duration::seconds(secs)
}

/// A failing job is given up after this many attempts.
pub const MAX_ATTEMPTS: i64 = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        assert_eq!(retry_delay(1), Duration::seconds(1));
        assert_eq!(retry_delay(2), Duration::seconds(2));
        assert_eq!(retry_delay(5), Duration::seconds(16));
        assert_eq!(retry_delay(30), Duration::seconds(300));
    }
}
