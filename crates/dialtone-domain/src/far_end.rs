//! The simulated far end of an outgoing call: what the destination does once it is rung.
//! Chosen when the call is dialled, from the documented magic numbers
//! (`docs/simulation.md`); any other destination answers after a short ring. A number of
//! this server routed to an application is not a far end: the call arrives there as an
//! incoming call (decided by the engine).

use serde::{Deserialize, Serialize};

/// How long a destination rings before it answers (or rejects).
pub const RING_MS: u64 = 3_000;
/// How long a busy destination takes to say so.
pub const BUSY_MS: u64 = 1_000;
/// How long the network takes to find that a destination does not exist.
pub const UNREACHABLE_MS: u64 = 500;
/// How long answering machine detection listens before it decides.
pub const MACHINE_DETECTION_MS: u64 = 3_500;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "behaviour", rename_all = "snake_case")]
pub enum Behaviour {
    /// Rings `ring_ms`, answers (a person, or an answering machine), and hangs up
    /// `hangup_after_ms` after answering when set.
    Answer { ring_ms: u64, hangup_after_ms: Option<u64>, machine: bool },
    /// The line is busy (`user_busy`, SIP 486).
    Busy { after_ms: u64 },
    /// Rings, then declines (`call_rejected`, SIP 603).
    Reject { after_ms: u64 },
    /// Rings until the caller's `timeout_secs`.
    NoAnswer,
    /// The destination does not exist (`not_found`, SIP 404).
    Unreachable { after_ms: u64 },
}

/// A person answering after [`RING_MS`]: what an unknown destination does.
pub const DEFAULT: Behaviour = Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: None, machine: false };

/// `+15550200007` answers after its ring and presses these digits this long after the
/// answer: an IVR test without a live `dtmf` call.
pub const PRESSES_MS: u64 = 2_000;
pub const PRESSES_DIGITS: &str = "1234#";

/// The digits a destination presses once answered, and when (ms after the answer).
pub fn presses(to: &str) -> Option<(u64, &'static str)> {
    (number_of(to) == "+15550200007").then_some((PRESSES_MS, PRESSES_DIGITS))
}

/// The number a destination names: an E.164 number as is, the user part of a SIP URI.
pub fn number_of(to: &str) -> &str {
    let rest = to.strip_prefix("sips:").or_else(|| to.strip_prefix("sip:")).unwrap_or(to);
    rest.split('@').next().unwrap_or(rest)
}

/// The documented magic destinations (an E.164 number, or a SIP URI whose user part is one).
pub fn behaviour(to: &str) -> Behaviour {
    let n = number_of(to);
    match n {
        "+15550200001" => DEFAULT,
        "+15550200002" => Behaviour::Busy { after_ms: BUSY_MS },
        "+15550200003" => Behaviour::NoAnswer,
        "+15550200004" => Behaviour::Reject { after_ms: RING_MS },
        "+15550200005" => Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: None, machine: true },
        "+15550200006" => Behaviour::Unreachable { after_ms: UNREACHABLE_MS },
        _ => match n.strip_prefix("+1555021").and_then(|s| s.parse::<u64>().ok()) {
            // +1555021NNNN: answers, then hangs up NNNN seconds later.
            Some(secs) if n.len() == 12 && secs > 0 => {
                Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: Some(secs * 1000), machine: false }
            }
            _ => DEFAULT,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_numbers() {
        assert_eq!(behaviour("+15550200002"), Behaviour::Busy { after_ms: BUSY_MS });
        assert_eq!(behaviour("sip:+15550200003@sip.example.com"), Behaviour::NoAnswer);
        assert_eq!(behaviour("+15550200006"), Behaviour::Unreachable { after_ms: UNREACHABLE_MS });
        assert!(matches!(behaviour("+15550200005"), Behaviour::Answer { machine: true, .. }));
        assert_eq!(
            behaviour("+15550210045"),
            Behaviour::Answer { ring_ms: RING_MS, hangup_after_ms: Some(45_000), machine: false }
        );
        assert_eq!(behaviour("+15550210000"), DEFAULT, "zero seconds is no hang-up");
        assert_eq!(behaviour("+14155550100"), DEFAULT);
        assert_eq!(behaviour("sip:alice@example.com"), DEFAULT);
        assert_eq!(number_of("sips:bob@x.example;secure=true"), "bob");
    }
}
