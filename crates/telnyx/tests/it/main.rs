//! The SDK against a Dialtone server started in the test (and, for retries, against a
//! scripted local server).

mod core;
mod messaging;
mod server;
mod voice;
mod webhooks;
