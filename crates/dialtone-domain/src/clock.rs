//! The one clock every timer reads. Real by default; `--clock manual` freezes it so tests
//! move time by hand (`POST /_dialtone/sim/clock/advance`) instead of sleeping.

use chrono::{DateTime, Duration, Utc};
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug)]
pub enum Clock {
    Real,
    Manual(Arc<Mutex<DateTime<Utc>>>),
}

impl Clock {
    /// A manual clock starting at `start`.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Clock::Manual(Arc::new(Mutex::new(start)))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match self {
            Clock::Real => Utc::now(),
            Clock::Manual(t) => *t.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    pub fn is_manual(&self) -> bool {
        matches!(self, Clock::Manual(_))
    }

    /// Moves a manual clock forward; a real clock cannot be moved and answers `false`.
    pub fn advance(&self, by: Duration) -> bool {
        match self {
            Clock::Real => false,
            Clock::Manual(t) => {
                let mut t = t.lock().unwrap_or_else(|e| e.into_inner());
                *t += by;
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_only_moves_when_advanced() {
        let start = Utc::now();
        let c = Clock::manual(start);
        assert_eq!(c.now(), start);
        assert!(c.advance(Duration::seconds(30)));
        assert_eq!(c.now(), start + Duration::seconds(30));
        assert!(!Clock::Real.advance(Duration::seconds(1)));
    }
}
