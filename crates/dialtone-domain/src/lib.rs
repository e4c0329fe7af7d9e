//! The domain of Dialtone: what the product decides, free of HTTP and storage.
//!
//! Handlers in `dialtone-api` parse a request, call into a service that loads documents
//! from the store, hand them to the rules here, and persist the [`store::ChangeSet`]
//! that comes back. Everything in this crate is deterministic given its inputs
//! (including the [`clock::Clock`]), so it is tested without a server.

pub mod accounts;
pub mod applications;
pub mod audio;
pub mod body;
pub mod calls;
pub mod clock;
pub mod encoding;
pub mod error;
pub mod far_end;
pub mod inventory;
pub mod jobs;
pub mod keys;
pub mod media;
pub mod messaging;
pub mod numbers;
pub mod orders;
pub mod page;
pub mod profiles;
pub mod query;
pub mod time;
pub mod users;
pub mod video;
pub mod webhooks;

pub use error::{ApiError, Code};

/// The timestamp format Telnyx uses in bodies: RFC 3339 with milliseconds and `Z`.
pub fn fmt_time(t: chrono::DateTime<chrono::Utc>) -> String {
    time::rfc3339(t, time::Fraction::Millis)
}
