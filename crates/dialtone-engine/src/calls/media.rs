//! The media commands of a call (speak, playback, DTMF, gathers, and the commands that
//! only change its state), and digits the simulated far end presses. Playback audio is
//! fetched here, before the call is touched, so the state machine stays free of I/O.

use super::*;
use dialtone_domain::calls::{AudioLength, AudioSource, Request};
use std::sync::OnceLock;
use std::time::Duration as StdDuration;

/// A playback's audio larger than this is refused (`failed`).
pub const MAX_AUDIO_BYTES: usize = 20 * 1024 * 1024;
/// How long fetching a playback's audio may take.
pub const FETCH_TIMEOUT: StdDuration = StdDuration::from_secs(10);

fn http() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .unwrap_or_default()
    })
}

fn length_of(bytes: &[u8]) -> AudioLength {
    dialtone_domain::audio::duration_ms(bytes)
        .filter(|ms| *ms > 0)
        .ok_or(("failed", "The audio is neither a readable WAV nor MP3 file.".to_owned()))
}

/// Fetches `audio_url` (or decodes `playback_content`) and measures it.
async fn fetch(source: &AudioSource) -> AudioLength {
    match source {
        AudioSource::Content(bytes) => length_of(bytes),
        AudioSource::Url(u) => length_of(&fetch_bytes(u).await?),
    }
}

/// The bytes at `url` (at most [`MAX_AUDIO_BYTES`]); `Err` is a playback failure status
/// (`file_not_found` for a 404, else `failed`) and why.
pub(super) async fn fetch_bytes(url: &str) -> std::result::Result<Vec<u8>, (&'static str, String)> {
    let resp = match http().get(url).send().await {
        Ok(r) => r,
        Err(e) => return Err(("failed", format!("The audio could not be fetched: {e}"))),
    };
    let status = resp.status();
    if status == reqwest::StatusCode::NOT_FOUND {
        return Err(("file_not_found", format!("The audio URL answered {status}.")));
    }
    if !status.is_success() {
        return Err(("failed", format!("The audio URL answered {status}.")));
    }
    if resp.content_length().is_some_and(|n| n as usize > MAX_AUDIO_BYTES) {
        return Err(("failed", "The audio is larger than 20 MB.".to_owned()));
    }
    let mut resp = resp;
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => {
                bytes.extend_from_slice(&c);
                if bytes.len() > MAX_AUDIO_BYTES {
                    return Err(("failed", "The audio is larger than 20 MB.".to_owned()));
                }
            }
            Ok(None) => break,
            Err(e) => return Err(("failed", format!("The audio could not be fetched: {e}"))),
        }
    }
    Ok(bytes)
}

impl Engine {
    /// `actions/{action}` for the actions of [`Request`]. A repeated `command_id` within a
    /// minute is accepted and ignored.
    pub async fn media_action(&self, caller: &Account, id: &str, action: &str, body: &Body) -> Result<()> {
        let cmd = Command::parse(body)?;
        let mut req = Request::parse(action, body)?;
        // Refuse a command the call cannot take before fetching anything.
        let (_, call) = self.load_call(&caller.id, id).await?;
        match req {
            Request::ClientStateUpdate => {
                if !call.is_alive() {
                    return Err(ApiError::new(Code::CallEnded));
                }
            }
            _ => call.require_answered()?,
        }
        let playback = match &mut req {
            Request::Playback(p) => Some(p),
            Request::Gather(g) => g.playback.as_mut(),
            _ => None,
        };
        if let Some(p) = playback {
            p.length = Some(fetch(&p.source).await);
        }
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            let out = call.command(&cmd, req.clone(), now)?;
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// The far end of one of the account's answered calls presses `digits` now, or
    /// `delay_ms` from now (simulation API).
    pub async fn far_end_dtmf(&self, caller: &Account, id: &str, digits: &str, delay_ms: u64) -> Result<Call> {
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            let out = call.far_dtmf_after(digits, delay_ms, now)?;
            let cs = self.transition(ChangeSet::new(), doc, call.clone(), out, now).await?;
            self.commit(&cs).await.map(|_| call.clone())
        })
    }
}
