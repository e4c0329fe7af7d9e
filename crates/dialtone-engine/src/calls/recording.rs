//! Recording commands, and the recordings kept for download.

use super::*;
use dialtone_domain::calls::{RECORDING_KIND, RecordRequest, SavedRecording};

/// The recording actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordAction {
    Start,
    Pause,
    Resume,
    Stop,
}

impl Engine {
    /// `actions/record_*`. `base_url` is where this server is reached (the recording's
    /// download URL starts with it).
    pub async fn record_action(
        &self,
        caller: &Account,
        id: &str,
        action: RecordAction,
        body: &Body,
        base_url: &str,
    ) -> Result<()> {
        let cmd = Command::parse(body)?;
        let start = match action {
            RecordAction::Start => Some(RecordRequest::parse(body)?),
            _ => None,
        };
        let recording_id = body.opt_str("recording_id")?.map(str::to_owned);
        let new_id = uuid::Uuid::now_v7().to_string();
        retry_on_conflict!({
            let (doc, mut call) = self.load_call(&caller.id, id).await?;
            let now = self.clock.now();
            if call.is_repeat(&cmd, now) {
                return Ok(());
            }
            let rid = recording_id.as_deref();
            let out = match (action, &start) {
                (RecordAction::Start, Some(req)) => call.record_start(&cmd, req, &new_id, base_url, now)?,
                (RecordAction::Pause, _) => call.record_pause(&cmd, rid, false, now)?,
                (RecordAction::Resume, _) => call.record_pause(&cmd, rid, true, now)?,
                _ => call.record_stop(&cmd, rid, now)?,
            };
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// A saved recording by id (its URL is the credential, as Telnyx's pre-signed URLs are).
    pub async fn recording(&self, id: &str) -> Result<SavedRecording> {
        let doc = self.store.get(RECORDING_KIND, id).await.map_err(store_err)?.ok_or_else(ApiError::not_found)?;
        serde_json::from_value(doc.data).map_err(|_| ApiError::unexpected())
    }

    /// A saved recording's WAV file, with the clips it plays.
    pub async fn recording_wav(&self, r: &SavedRecording) -> Result<Vec<u8>> {
        let clips = self.clips(&r.clip_ids()).await?;
        Ok(r.wav(&clips))
    }
}

/// Keeps the recordings an outcome finished.
pub(super) fn keep(mut cs: ChangeSet, call: &Call, out: &Outcome, now: DateTime<Utc>) -> ChangeSet {
    for r in &out.recordings {
        let data = serde_json::to_value(r).unwrap_or_default();
        cs = cs.insert(Doc::new(RECORDING_KIND, &r.id, &call.account_id, data, now).parent(&call.call_control_id));
    }
    cs
}
