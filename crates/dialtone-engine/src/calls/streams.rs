//! Media streams: the WebSocket client speaking Telnyx's media-streaming protocol.
//!
//! A call's transition that starts, feeds or stops a stream carries [`StreamOp`]s; the
//! call service turns each into a job (kind [`STREAM_JOB`], ordered per stream) in the
//! same commit. The job's handler only hands the op to this process's [`StreamHub`]: an
//! `open` spawns the stream's task and returns at once, so no request and no scheduler
//! slot waits on a socket. The task connects (a failure ends the stream with
//! `streaming.failed`), sends `connected` and `start`, then every 20 ms of real time the
//! `media` frames [`Stream`] decides, with `dtmf` frames as digits arrive, and `stop`
//! when closed. Once a second it also checks the call's document, so a stream whose call
//! ended or whose stream was stopped elsewhere (another process) stops too.
//!
//! On shutdown the tasks close their sockets with 1001 (going away) and no `stop`: the
//! call lives on in the store. At start, [`Engine::resume_streams`] reopens the stream of
//! every live call that has one: the application sees a new connection with `connected`
//! and `start` for the same `stream_id`, chunks counted from 1 again.

use super::*;
use dialtone_domain::calls::{STREAM_JOB, StreamOp};
use dialtone_domain::media::stream::{Stream, StreamSpec, Track};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration as StdDuration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_util::sync::CancellationToken;

/// How long opening the socket (TCP, TLS, WebSocket handshake) may take.
pub const CONNECT_TIMEOUT: StdDuration = StdDuration::from_secs(5);
/// The largest frame an application may send: 30 s of 16 kHz L16 audio in base64 (the
/// longest chunk Telnyx documents) fits, with room for an MP3.
const MAX_APP_MESSAGE: usize = 4 << 20;
/// How often a stream task checks that its call still streams.
const CHECK_EVERY: StdDuration = StdDuration::from_secs(1);

enum Control {
    Dtmf(String),
    Stop,
}

/// The stream tasks of this process, by stream id.
#[derive(Debug, Default)]
pub struct StreamHub {
    live: Mutex<HashMap<String, mpsc::UnboundedSender<Control>>>,
    shutdown: CancellationToken,
}

impl std::fmt::Debug for Control {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Control::Dtmf(_) => "Dtmf",
            Control::Stop => "Stop",
        })
    }
}

impl StreamHub {
    fn send(&self, stream_id: &str, c: Control) {
        if let Some(tx) = self.live.lock().ok().and_then(|m| m.get(stream_id).cloned()) {
            let _ = tx.send(c);
        }
    }

    fn forget(&self, stream_id: &str) {
        if let Ok(mut m) = self.live.lock() {
            m.remove(stream_id);
        }
    }

    /// How many streams this process is running.
    pub fn len(&self) -> usize {
        self.live.lock().map(|m| m.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The jobs for an outcome's stream ops: one per op, ordered per stream.
pub(super) fn jobs(mut cs: ChangeSet, call: &Call, out: &Outcome, now: DateTime<Utc>) -> ChangeSet {
    for op in &out.streams {
        cs = cs.job(NewJob {
            id: format!("stream:{}", uuid::Uuid::now_v7()),
            kind: STREAM_JOB.into(),
            payload: json!({ "call_control_id": call.call_control_id, "op": op }).into(),
            due_at: now,
            ordering_key: Some(format!("stream:{}", op.stream_id())),
        });
    }
    cs
}

/// The scheduler's handler for [`STREAM_JOB`]: hands the op to this process's stream.
pub async fn run_stream_op(engine: Engine, job: Job) -> HandlerResult {
    let p = job.payload.value();
    let Ok(op) = serde_json::from_value::<StreamOp>(p["op"].clone()) else {
        return Err(format!("stream job {} has no known op", job.id));
    };
    match op {
        StreamOp::Open { stream_id } => {
            let id = p["call_control_id"].as_str().unwrap_or_default();
            let call = engine.store.get(calls::KIND, id).await.map_err(|e| e.to_string())?;
            let call = call.and_then(|d| Call::from_value(&d.data));
            // A call that ended (or a stream stopped) before the job ran streams nothing.
            if let Some(call) = call.filter(|c| c.is_alive())
                && let Some(spec) = call.stream().filter(|s| s.stream_id == stream_id).cloned()
            {
                engine.open_stream(&call, spec).await.map_err(|e| e.detail)?;
            }
        }
        StreamOp::Dtmf { stream_id, digits } => engine.streams.send(&stream_id, Control::Dtmf(digits)),
        StreamOp::Close { stream_id } => engine.streams.send(&stream_id, Control::Stop),
    }
    Ok(ChangeSet::new())
}

impl Engine {
    /// Starts the task of `spec` on `call`, unless this process already runs it. The
    /// stream plays the call's sounds still to come (a far end's audio, digits sent on
    /// answer) from its first frame on.
    async fn open_stream(&self, call: &Call, spec: StreamSpec) -> Result<()> {
        let sounds = call.sounds_ahead(self.clock.now());
        let ids: Vec<String> = sounds.iter().filter_map(|(_, s)| s.clip_id().map(str::to_owned)).collect();
        let clips = self.clips(&ids).await?;
        let (tx, rx) = mpsc::unbounded_channel();
        {
            let Ok(mut live) = self.streams.live.lock() else { return Ok(()) };
            if live.contains_key(&spec.stream_id) {
                return Ok(());
            }
            live.insert(spec.stream_id.clone(), tx);
        }
        let url = spec.url.clone();
        let mut stream = Stream::new(spec, call.stream_call_info());
        for track in [Track::Inbound, Track::Outbound] {
            let on: Vec<_> = sounds.iter().filter(|(t, _)| *t == track).map(|(_, s)| s.clone()).collect();
            stream.play(track, &on, &clips);
        }
        let task = StreamTask { engine: self.clone(), call_control_id: call.call_control_id.clone(), url };
        tokio::spawn(task.run(stream, rx));
        Ok(())
    }

    /// Reopens the streams of live calls (at start: the tasks of a previous run are gone).
    /// Answers how many were reopened.
    pub async fn resume_streams(&self) -> Result<usize> {
        let docs = self.store.list(calls::KIND, None, None).await.map_err(store_err)?;
        let mut n = 0;
        for call in docs.iter().filter_map(|d| Call::from_value(&d.data)) {
            if call.is_alive()
                && let Some(spec) = call.stream().cloned()
            {
                // One call's stream that cannot be reopened (its audio unreadable) must not
                // keep the others closed.
                match self.open_stream(&call, spec).await {
                    Ok(()) => n += 1,
                    Err(e) => tracing::warn!(call = %call.call_control_id, error = %e, "media stream not reopened"),
                }
            }
        }
        Ok(n)
    }

    /// Closes every stream socket of this process without `stop` (shutting down).
    pub fn close_streams(&self) {
        self.streams.shutdown.cancel();
    }

    /// The stream ended from the socket's side: `streaming.failed` with `failure`, or
    /// `streaming.stopped` when the application closed it normally.
    async fn stream_ended(&self, call_control_id: &str, stream_id: &str, failure: Option<&str>) -> Result<()> {
        retry_on_conflict!({
            let Some(doc) = self.store.get(calls::KIND, call_control_id).await.map_err(store_err)? else {
                return Ok(());
            };
            let Some(mut call) = Call::from_value(&doc.data) else { return Ok(()) };
            let now = self.clock.now();
            let out = call.stream_ended(stream_id, failure);
            if out == Outcome::default() {
                return Ok(());
            }
            let cs = self.transition(ChangeSet::new(), doc, call, out, now).await?;
            self.commit(&cs).await
        })
    }

    /// Whether the call still runs this stream.
    async fn still_streams(&self, call_control_id: &str, stream_id: &str) -> bool {
        match self.store.get(calls::KIND, call_control_id).await {
            Ok(Some(doc)) => Call::from_value(&doc.data)
                .is_some_and(|c| c.is_alive() && c.stream().is_some_and(|s| s.stream_id == stream_id)),
            Ok(None) => false,
            // The store is unreachable for a moment: keep streaming.
            Err(_) => true,
        }
    }
}

struct StreamTask {
    engine: Engine,
    call_control_id: String,
    url: String,
}

/// How a stream task ended.
enum End {
    /// Stopped (streaming_stop, hangup): `stop` was sent.
    Stopped,
    /// The process is shutting down.
    Shutdown,
    /// The socket could not be opened, or was lost.
    Failed(&'static str),
    /// The application closed the socket normally.
    ClosedByApp,
}

impl StreamTask {
    async fn run(self, mut stream: Stream, rx: mpsc::UnboundedReceiver<Control>) {
        let stream_id = stream.stream_id().to_owned();
        let end = self.stream(&mut stream, rx).await;
        self.engine.streams.forget(&stream_id);
        let failure = match end {
            End::Stopped | End::Shutdown => return,
            End::Failed(reason) => Some(reason),
            End::ClosedByApp => None,
        };
        tracing::info!(stream_id, reason = failure.unwrap_or("closed by the application"), "media stream ended");
        if let Err(e) = self.engine.stream_ended(&self.call_control_id, &stream_id, failure).await {
            tracing::warn!(stream_id, error = %e.detail, "could not record the end of a media stream");
        }
    }

    async fn stream(&self, stream: &mut Stream, mut rx: mpsc::UnboundedReceiver<Control>) -> End {
        let shutdown = self.engine.streams.shutdown.clone();
        // Small buffers: a stream reads little (marks, now and then audio) and sends one
        // small frame at a time, and a server may hold thousands of streams.
        let config = WebSocketConfig::default()
            .read_buffer_size(4 * 1024)
            .write_buffer_size(0)
            .max_message_size(Some(MAX_APP_MESSAGE))
            .max_frame_size(Some(MAX_APP_MESSAGE));
        let connect = tokio::time::timeout(
            CONNECT_TIMEOUT,
            tokio_tungstenite::connect_async_with_config(self.url.as_str(), Some(config), true),
        );
        let ws = tokio::select! {
            _ = shutdown.cancelled() => return End::Shutdown,
            r = connect => match r {
                Ok(Ok((ws, _response))) => ws,
                Ok(Err(e)) => {
                    tracing::info!(url = %self.url, error = %e, "media stream could not connect");
                    return End::Failed("connection_failed");
                }
                Err(_) => return End::Failed("connection_timeout"),
            },
        };
        let (mut sink, mut source) = ws.split();
        let text = |v: serde_json::Value| Message::Text(v.to_string().into());
        let opening = [stream.connected(), stream.start()];
        for frame in opening {
            if sink.send(text(frame)).await.is_err() {
                return End::Failed("connection_lost");
            }
        }
        let mut pace = tokio::time::interval(StdDuration::from_millis(dialtone_domain::media::stream::FRAME_MS));
        // A late tick is caught up: chunks and timestamps follow the clock.
        pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut check = tokio::time::interval(CHECK_EVERY);
        check.tick().await;
        loop {
            let frames = tokio::select! {
                biased;
                _ = shutdown.cancelled() => {
                    let close = CloseFrame { code: CloseCode::Away, reason: "Dialtone is restarting".into() };
                    let _ = sink.send(Message::Close(Some(close))).await;
                    return End::Shutdown;
                }
                c = rx.recv() => match c {
                    Some(Control::Dtmf(digits)) => {
                        stream.dtmf(&digits, &dialtone_domain::fmt_time(self.engine.clock.now()))
                    }
                    Some(Control::Stop) | None => {
                        let _ = sink.send(text(stream.stop())).await;
                        close_normally(&mut sink).await;
                        return End::Stopped;
                    }
                },
                m = source.next() => match m {
                    Some(Ok(Message::Text(t))) => stream.from_app(t.as_str()),
                    Some(Ok(Message::Close(frame))) => {
                        return match frame.map(|f| f.code) {
                            Some(CloseCode::Normal) | None => End::ClosedByApp,
                            Some(_) => End::Failed("connection_lost"),
                        };
                    }
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(_)) | None => return End::Failed("connection_lost"),
                },
                _ = check.tick() => {
                    if !self.engine.still_streams(&self.call_control_id, stream.stream_id()).await {
                        let _ = sink.send(text(stream.stop())).await;
                        close_normally(&mut sink).await;
                        return End::Stopped;
                    }
                    Vec::new()
                }
                _ = pace.tick() => stream.tick(),
            };
            for frame in frames {
                if sink.send(text(frame)).await.is_err() {
                    return End::Failed("connection_lost");
                }
            }
        }
    }
}

/// Closes the socket with 1000 (normal closure) after the `stop` frame.
async fn close_normally<S>(sink: &mut S)
where
    S: futures_util::Sink<Message> + Unpin,
{
    let frame = CloseFrame { code: CloseCode::Normal, reason: "stream stopped".into() };
    let _ = sink.send(Message::Close(Some(frame))).await;
    let _ = sink.close().await;
}
