//! The SDK against a Dialtone server started in the test (and, for retries, against a
//! scripted local server).

mod accounts;
mod core;
mod env;
mod messaging;
mod server;
mod video;
mod voice;
mod webhooks;
