#![doc = include_str!("../README.md")]
// The shared plumbing (request helpers, macros) serves the product modules; a build with
// some products turned off leaves parts of it unused, which is fine.
#![cfg_attr(
    not(all(feature = "messaging", feature = "voice", feature = "video", feature = "accounts")),
    allow(dead_code, unused_imports, unused_macros)
)]

mod client;
mod error;
mod model;
mod pagination;
mod query;
mod resource;
mod retry;
#[cfg(any(feature = "rustls-graviola", feature = "rustls-ring"))]
mod tls;
pub mod webhooks;

#[cfg(feature = "accounts")]
pub mod accounts;
#[cfg(feature = "messaging")]
pub mod messaging;
#[cfg(feature = "video")]
pub mod video;
#[cfg(feature = "voice")]
pub mod voice;

pub use client::{Client, ClientBuilder, DEFAULT_BASE_URL};
pub use error::{ApiError, Error, ErrorObject, ErrorSource, Result};
pub use pagination::{ListParams, Page, PageMeta, Pages};
pub use query::{Query, QueryValue};
pub use webhooks::{Event, EventKind, WebhookVerifier};

/// Re-exported so callers can name the `Stream` trait [`Pages`] implements.
pub use futures_core::Stream;
