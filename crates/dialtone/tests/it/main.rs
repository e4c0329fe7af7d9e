//! Dialtone's integration suite: one binary (link time), one module per area. Every test
//! starts its own server on a fresh database; `DIALTONE_TEST_DATABASE` picks the backend.

mod accounts;
mod cli;
mod docs;
mod harness;
mod limits;
mod media_files;
mod messages;
mod numbers;
mod persistence;
mod profiles;
mod receiver;
mod scheduler;
mod spec;
mod surface;
mod users;
mod video;
mod voice;
mod voice_far_end;
mod voice_media;
mod voice_rules;
mod voice_streaming;
mod webhooks;
