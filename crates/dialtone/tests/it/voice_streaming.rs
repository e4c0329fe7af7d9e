//! Media streaming over a real WebSocket: a server in the test on 127.0.0.1 plays the
//! application, receives Telnyx's frames in order and checks their JSON, sends audio back
//! in bidirectional mode, and sees the stream stop with the call, fail to connect, and
//! come back after a restart.

use crate::harness::{Options, Server};
use crate::numbers::advance;
use crate::receiver::Receiver;
use crate::voice::{application, dial_ok, path, status, types, wait_events};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the application's WebSocket server saw: (connection number from 0, frame). A
/// closed connection gives `{"closed": code}`.
pub(crate) struct WsApp {
    pub(crate) url: String,
    frames: mpsc::UnboundedReceiver<(usize, Value)>,
    /// Frames to send on each connection, by number.
    out: std::sync::Arc<std::sync::Mutex<Vec<mpsc::UnboundedSender<Message>>>>,
}

impl WsApp {
    pub(crate) async fn start() -> WsApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("ws://{}/media", listener.local_addr().unwrap());
        let (tx, frames) = mpsc::unbounded_channel();
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let senders = out.clone();
        tokio::spawn(async move {
            let mut n = 0;
            while let Ok((tcp, _)) = listener.accept().await {
                let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else { continue };
                let (mut sink, mut source) = ws.split();
                let (send_tx, mut send_rx) = mpsc::unbounded_channel::<Message>();
                senders.lock().unwrap().push(send_tx);
                tokio::spawn(async move {
                    while let Some(m) = send_rx.recv().await {
                        if sink.send(m).await.is_err() {
                            break;
                        }
                    }
                });
                let tx = tx.clone();
                let conn = n;
                n += 1;
                tokio::spawn(async move {
                    while let Some(m) = source.next().await {
                        match m {
                            Ok(Message::Text(t)) => {
                                let _ = tx.send((conn, serde_json::from_str(t.as_str()).expect("frames are JSON")));
                            }
                            Ok(Message::Close(f)) => {
                                let code = f.map(|f| u16::from(f.code));
                                let _ = tx.send((conn, json!({ "closed": code })));
                                return;
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                    let _ = tx.send((conn, json!({ "closed": null })));
                });
            }
        });
        WsApp { url, frames, out }
    }

    /// The next frame (waits at most 20 s, so a broken stream fails instead of hanging).
    pub(crate) async fn next(&mut self) -> (usize, Value) {
        tokio::time::timeout(Duration::from_secs(20), self.frames.recv())
            .await
            .expect("a frame within 20 s")
            .expect("the server runs")
    }

    /// Frames up to and including the first that is not `media`, answering it and the
    /// media frames skipped.
    async fn next_event(&mut self) -> ((usize, Value), Vec<Value>) {
        let mut media = Vec::new();
        loop {
            let (c, f) = self.next().await;
            if f["event"] == "media" {
                media.push(f);
            } else {
                return ((c, f), media);
            }
        }
    }

    fn send(&self, conn: usize, v: Value) {
        self.out.lock().unwrap()[conn].send(Message::Text(v.to_string().into())).unwrap();
    }
}

fn payload(frame: &Value) -> Vec<u8> {
    B64.decode(frame["media"]["payload"].as_str().expect("a payload")).expect("base64")
}

fn seq(frame: &Value) -> u64 {
    frame["sequence_number"].as_str().and_then(|s| s.parse().ok()).expect("a sequence_number")
}

async fn answered(s: &Server, rx: &Receiver, extra: Value) -> String {
    let app = application(s, &rx.url).await;
    let id = dial_ok(s, &app, "+14155550199", extra).await;
    advance(s, 3_000).await;
    assert_eq!(wait_events(rx, &id, 2).await[1].0, "call.answered");
    id
}

async fn press(s: &Server, id: &str, digits: &str) {
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": digits})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn streaming_start_sends_connected_start_media_dtmf_then_stop_in_order() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = answered(&s, &rx, json!({})).await;
    let mut ws = WsApp::start().await;
    let r = s
        .post(
            &path(&id, "streaming_start"),
            json!({"stream_url": ws.url, "stream_track": "both_tracks", "stream_codec": "PCMA", "client_state": "c3RyZWFt"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    assert_eq!(ws.next().await, (0, json!({"event": "connected", "version": "1.0.0"})));
    let (_, start) = ws.next().await;
    assert_eq!(start["event"], "start");
    assert_eq!(start["sequence_number"], "1");
    let stream_id = start["stream_id"].as_str().expect("a stream_id").to_owned();
    assert_eq!(start["start"]["call_control_id"], id.as_str());
    assert_eq!(start["start"]["client_state"], "c3RyZWFt");
    assert_eq!(start["start"]["to"], "+14155550199");
    assert_eq!(start["start"]["media_format"], json!({"encoding": "PCMA", "sample_rate": 8000, "channels": 1}));
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!(ev[2].0, "streaming.started");
    assert_eq!(ev[2].1["stream_url"], ws.url.as_str());

    // 20 ms frames, inbound and outbound each, numbered without gaps; A-law silence.
    let mut last = 1;
    for i in 0..6u64 {
        let (_, m) = ws.next().await;
        assert_eq!(m["event"], "media");
        assert_eq!(m["stream_id"], stream_id.as_str());
        assert_eq!(seq(&m), last + 1);
        last = seq(&m);
        assert_eq!(m["media"]["track"], if i % 2 == 0 { "inbound" } else { "outbound" });
        assert_eq!(m["media"]["chunk"], (i / 2 + 1).to_string());
        assert_eq!(m["media"]["timestamp"], (i / 2 * 20).to_string());
        assert_eq!(payload(&m), vec![0xD5; 160]);
    }

    // A digit from the far end: a dtmf frame, then its tone on the inbound track.
    press(&s, &id, "7").await;
    let ((_, dtmf), skipped) = ws.next_event().await;
    assert_eq!(dtmf["event"], "dtmf");
    assert_eq!(dtmf["dtmf"]["digit"], "7");
    assert_eq!(dtmf["stream_id"], stream_id.as_str());
    assert!(dtmf["occurred_at"].is_string());
    for m in &skipped {
        assert_eq!(seq(m), last + 1);
        last = seq(m);
    }
    assert_eq!(seq(&dtmf), last + 1);
    let (_, m) = ws.next().await;
    assert_eq!(m["media"]["track"], "inbound");
    assert!(payload(&m).iter().any(|b| *b != 0xD5), "the tone is heard");

    let r = s.post(&path(&id, "streaming_stop"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ((_, stop), _) = ws.next_event().await;
    assert_eq!(stop["event"], "stop");
    assert_eq!(stop["stream_id"], stream_id.as_str());
    assert_eq!(stop["stop"]["call_control_id"], id.as_str());
    assert_eq!(ws.next().await.1["closed"], 1000, "then the socket closes");
    let ev = wait_events(&rx, &id, 5).await;
    assert_eq!(&types(&ev)[3..], ["call.dtmf.received", "streaming.stopped"]);
    assert_eq!(ev[4].1["client_state"], "c3RyZWFt");
}

#[tokio::test]
async fn stream_url_on_dial_plays_the_apps_audio_back_and_stops_on_hangup() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let mut ws = WsApp::start().await;
    let id = answered(
        &s,
        &rx,
        json!({"stream_url": ws.url, "stream_track": "outbound_track", "stream_bidirectional_mode": "rtp"}),
    )
    .await;
    assert_eq!(ws.next().await.1["event"], "connected");
    let (conn, start) = ws.next().await;
    assert_eq!(start["start"]["media_format"]["encoding"], "PCMU");
    assert_eq!(wait_events(&rx, &id, 3).await[2].0, "streaming.started");

    // 30 ms of µ-law from the application, then a mark: the next outbound frames carry
    // exactly those bytes, then the mark comes back.
    let sent: Vec<u8> = (0..240).map(|i| (i % 120) as u8).collect();
    ws.send(conn, json!({"event": "media", "media": {"payload": B64.encode(&sent)}}));
    ws.send(conn, json!({"event": "mark", "mark": {"name": "greeting"}}));
    let mut heard = Vec::new();
    loop {
        let (_, f) = ws.next().await;
        match f["event"].as_str() {
            Some("media") => {
                assert_eq!(f["media"]["track"], "outbound");
                heard.extend(payload(&f));
            }
            Some("mark") => {
                assert_eq!(f["mark"]["name"], "greeting");
                break;
            }
            other => panic!("unexpected {other:?}: {f}"),
        }
    }
    let at = heard.windows(sent.len()).position(|w| w == sent.as_slice()).expect("the app's audio is played");
    assert!(heard[..at].iter().all(|b| *b == 0xFF), "silence before it");

    // An error frame answers media the stream cannot take.
    ws.send(conn, json!({"event": "media", "media": {"payload": "%%%"}}));
    let ((_, err), _) = ws.next_event().await;
    assert_eq!(err["event"], "error");

    let r = s.post(&path(&id, "hangup"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ((_, stop), _) = ws.next_event().await;
    assert_eq!(stop["event"], "stop");
    let ev = wait_events(&rx, &id, 5).await;
    assert_eq!(&types(&ev)[3..], ["streaming.stopped", "call.hangup"]);
}

#[tokio::test]
async fn a_stream_that_cannot_connect_sends_streaming_failed_and_the_call_goes_on() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = answered(&s, &rx, json!({})).await;
    // A port nobody listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("ws://127.0.0.1:{closed}/media");
    let r = s.post(&path(&id, "streaming_start"), json!({"stream_url": url})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &id, 4).await;
    assert_eq!(&types(&ev)[2..], ["streaming.started", "streaming.failed"]);
    let p = &ev[3].1;
    assert_eq!(p["failure_reason"], "connection_failed");
    assert_eq!(p["stream_type"], "websocket");
    assert_eq!(p["stream_params"], json!({"stream_url": url, "track": "inbound_track"}));
    assert!(p["stream_id"].is_string());
    assert_eq!(status(&s, &id).await["is_alive"], true);
    // The failed stream no longer runs: stopping it is refused, starting another works.
    let r = s.post(&path(&id, "streaming_stop"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "{}", r.text);
    let r = s.post(&path(&id, "streaming_start"), json!({"stream_url": "wss"})).await;
    assert_eq!(r.status, 422, "{}", r.text);
}

#[tokio::test]
async fn a_live_stream_reopens_after_a_restart_and_stops_with_the_call() {
    let first = Server::start().await;
    let database = first.database.clone();
    let rx = Receiver::start().await;
    let mut ws = WsApp::start().await;
    let id = answered(&first, &rx, json!({"stream_url": ws.url})).await;
    assert_eq!(ws.next().await.1["event"], "connected");
    let (_, start) = ws.next().await;
    let stream_id = start["stream_id"].clone();
    first.stop().await;
    // The socket closes as "going away", with no stop: the call lives on.
    let ((conn, closed), _) = ws.next_event().await;
    assert_eq!((conn, &closed["closed"]), (0, &json!(1001)));

    let second = Server::start_with(Options { database: Some(database), ..Options::default() }).await;
    let (conn, connected) = ws.next().await;
    assert_eq!((conn, &connected["event"]), (1, &json!("connected")));
    let (_, start) = ws.next().await;
    assert_eq!(start["event"], "start");
    assert_eq!(start["stream_id"], stream_id, "the same stream, reopened");
    let (_, m) = ws.next().await;
    assert_eq!(m["media"]["chunk"], "1");

    let r = second.post(&path(&id, "hangup"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ((conn, stop), _) = ws.next_event().await;
    assert_eq!((conn, &stop["event"]), (1, &json!("stop")));
}

#[tokio::test]
async fn stream_url_on_answer_streams_an_inbound_call_and_the_far_ends_hang_up_stops_it() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let nid = crate::numbers::own(&s, &["+13122004321"]).await.remove(0);
    let r = s.patch(&format!("/v2/phone_numbers/{nid}"), json!({"connection_id": app, "tags": ["line"]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post("/_dialtone/sim/calls", json!({"from": "+14155550100", "to": "+13122004321"})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    let mut ws = WsApp::start().await;
    // A bad stream option refuses the answer; the call still rings.
    let r = s.post(&path(&id, "answer"), json!({"stream_url": ws.url, "stream_codec": "MP3"})).await;
    assert_eq!((r.status, r.error()["source"]["pointer"].as_str()), (422, Some("/stream_codec")), "{}", r.text);
    let r = s.post(&path(&id, "answer"), json!({"stream_url": ws.url, "stream_codec": "L16"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(ws.next().await.1["event"], "connected");
    let (_, start) = ws.next().await;
    assert_eq!(start["start"]["from"], "+14155550100");
    assert_eq!(start["start"]["tags"], json!(["line"]));
    assert_eq!(start["start"]["media_format"], json!({"encoding": "L16", "sample_rate": 16000, "channels": 1}));
    let (_, m) = ws.next().await;
    assert_eq!(payload(&m), vec![0; 640], "20 ms of 16 kHz 16-bit silence");
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!(types(&ev), ["call.initiated", "call.answered", "streaming.started"]);

    let r = s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ((_, stop), _) = ws.next_event().await;
    assert_eq!(stop["event"], "stop");
    let ev = wait_events(&rx, &id, 5).await;
    assert_eq!(&types(&ev)[3..], ["streaming.stopped", "call.hangup"]);
}
