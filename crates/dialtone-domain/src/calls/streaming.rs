//! Media streams of a call: which are running (a `streaming` [`Service`] holding its
//! [`StreamSpec`]) and what the engine's stream task must do, as [`StreamOp`]s that the
//! engine turns into jobs ordered per stream. The WebSocket itself is the engine's; the
//! frames are [`crate::media::stream`]'s.

use super::*;

/// The job kind carrying one [`StreamOp`] to the stream's task.
pub const STREAM_JOB: &str = "call.stream";

/// What a call's transition asks of one of its media streams.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum StreamOp {
    /// Connect to the stream's URL and start streaming.
    Open { stream_id: String },
    /// The far end pressed these digits.
    Dtmf { stream_id: String, digits: String },
    /// Send `stop` and close (streaming_stop, or the call ended).
    Close { stream_id: String },
}

impl StreamOp {
    pub fn stream_id(&self) -> &str {
        match self {
            StreamOp::Open { stream_id } | StreamOp::Dtmf { stream_id, .. } | StreamOp::Close { stream_id } => {
                stream_id
            }
        }
    }
}

impl StreamSpec {
    /// `stream_url` and its options from a command's body (`required` for
    /// `streaming_start`; on dial and answer a stream is optional).
    pub fn parse(body: &Body, required: bool) -> Result<Option<StreamSpec>> {
        let url = if required { Some(body.req_str("stream_url")?) } else { body.opt_str("stream_url")? };
        let Some(url) = url else { return Ok(None) };
        let host = url.strip_prefix("ws://").or_else(|| url.strip_prefix("wss://"));
        if host.is_none_or(|h| h.is_empty() || h.contains(char::is_whitespace)) {
            return Err(ApiError::invalid("stream_url", "'stream_url' is a ws:// or wss:// URL."));
        }
        let track = body.opt_enum("stream_track", &["inbound_track", "outbound_track", "both_tracks"])?;
        let codec = body.opt_enum("stream_codec", &["PCMU", "PCMA", "G722", "OPUS", "AMR-WB", "L16", "default"])?;
        let mode = body.opt_enum("stream_bidirectional_mode", &["mp3", "rtp"])?;
        let bidi_codec =
            body.opt_enum("stream_bidirectional_codec", &["PCMU", "PCMA", "G722", "OPUS", "AMR-WB", "L16"])?;
        body.opt_enum("stream_bidirectional_target_legs", &["both", "self", "opposite"])?;
        Ok(Some(StreamSpec {
            stream_id: uuid::Uuid::new_v4().to_string(),
            url: url.to_owned(),
            track: track.unwrap_or("inbound_track").to_owned(),
            codec: codec.map(str::to_owned),
            bidirectional_mode: mode.map(str::to_owned),
            bidirectional_codec: bidi_codec.map(str::to_owned),
        }))
    }
}

impl Call {
    /// The running media stream, if any.
    pub fn stream(&self) -> Option<&StreamSpec> {
        self.services.iter().find_map(|s| s.stream.as_ref())
    }

    /// What the stream's `start` and `stop` frames say about the call.
    pub fn stream_call_info(&self) -> crate::media::stream::CallInfo {
        crate::media::stream::CallInfo {
            user_id: self.account_id.clone(),
            call_control_id: self.call_control_id.clone(),
            call_session_id: self.call_session_id.clone(),
            from: self.from.clone(),
            to: self.to.clone(),
            tags: self.tags.clone(),
            client_state: self.client_state.clone(),
        }
    }

    /// Starts `spec`: `streaming.started`, and the stream task connects.
    pub(super) fn start_stream(&mut self, out: &mut Outcome, spec: StreamSpec) {
        let s = Service { name: "streaming".into(), detail: json!({"stream_url": spec.url}), stream: Some(spec) };
        self.emit_service(out, &s, true, None);
        if let Some(spec) = &s.stream {
            out.streams.push(StreamOp::Open { stream_id: spec.stream_id.clone() });
        }
        self.services.push(s);
    }

    /// The stream task lost or could not open its socket (`failure`: `streaming.failed`
    /// with that reason), or the application closed it normally (`streaming.stopped`). A
    /// stream that no longer runs changes nothing.
    pub fn stream_ended(&mut self, stream_id: &str, failure: Option<&str>) -> Outcome {
        let mut out = Outcome::default();
        let Some(i) = self.services.iter().position(|s| s.stream.as_ref().is_some_and(|st| st.stream_id == stream_id))
        else {
            return out;
        };
        let s = self.services.remove(i);
        match (failure, &s.stream) {
            (Some(reason), Some(spec)) => {
                let mut p = self.base_payload();
                if let Some(o) = p.as_object_mut() {
                    o.remove("from");
                    o.remove("to");
                }
                p["failure_reason"] = json!(reason);
                p["stream_id"] = json!(spec.stream_id);
                p["stream_type"] = json!("websocket");
                p["stream_params"] = json!({"stream_url": spec.url, "track": spec.track});
                out.events.push(Emit { event_type: "streaming.failed", payload: p });
            }
            _ => self.emit_service(&mut out, &s, false, None),
        }
        out
    }
}
