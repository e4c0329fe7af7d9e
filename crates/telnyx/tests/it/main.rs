//! The SDK against a Dialtone server started in the test (and, for retries, against a
//! scripted local server).

mod accounts;
mod core;
mod deps;
mod env;
mod messaging;
mod server;
#[cfg(all(feature = "rustls-graviola", feature = "messaging", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tls;
mod video;
mod voice;
mod webhooks;
