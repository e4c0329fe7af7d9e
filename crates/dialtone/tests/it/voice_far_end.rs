//! What the far end hears and sends, on the manual clock: a scripted destination's audio
//! (a tone, a WAV) in recordings and on a media stream's inbound track, digits sent on
//! answer (tones on the outbound track off-net, `call.dtmf.received` on-net), and transfers
//! to numbers of this server.

use crate::harness::{Client, Server};
use crate::numbers::{advance, own};
use crate::receiver::Receiver;
use crate::voice::{application, dial_ok, h, hangup, nth_initiated, path, pointer, types, wait_events};
use crate::voice_streaming::WsApp;
use base64::Engine as _;
use dialtone_domain::audio::{Sound, crossing_hz};
use dialtone_domain::media::stream::Codec;
use serde_json::{Value, json};

/// A local server for `/tone.wav` (1 s of 440 Hz at 16 kHz), `/junk.wav` (not a WAV).
async fn wav_server() -> String {
    use axum::routing::get;
    let wav = dialtone_domain::audio::wav(1_000, 16_000, &[(0, 1_000)]);
    let app = axum::Router::new()
        .route("/tone.wav", get(move || async move { ([("content-type", "audio/wav")], wav.clone()) }))
        .route("/junk.wav", get(|| async { "RIFF but not really" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// The 16-bit samples of a downloaded WAV recording (8 kHz mono).
async fn recording_pcm(url: &str) -> Vec<i16> {
    let resp = reqwest::get(url).await.unwrap();
    assert_eq!(resp.status(), 200, "{url}");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    bytes[44..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect()
}

/// The samples between two times (ms) of 8 kHz audio.
fn at(pcm: &[i16], from_ms: usize, to_ms: usize) -> &[i16] {
    &pcm[from_ms * 8..to_ms * 8]
}

fn silent(pcm: &[i16]) -> bool {
    pcm.iter().all(|v| v.unsigned_abs() < 16)
}

/// The next `n` media frames of `track`, decoded (µ-law), one `Vec` each.
async fn frames(ws: &mut WsApp, track: &str, n: usize) -> Vec<Vec<i16>> {
    let mut out = Vec::new();
    while out.len() < n {
        let (_, f) = ws.next().await;
        if f["event"] == "media" && f["media"]["track"] == track {
            let bytes =
                base64::engine::general_purpose::STANDARD.decode(f["media"]["payload"].as_str().unwrap()).unwrap();
            out.push(Codec::Pcmu.decode(&bytes));
        }
    }
    out
}

fn saved_url(ev: &[(String, Value)], format: &str) -> String {
    let (_, p) = ev.iter().find(|(t, _)| t == "call.recording.saved").expect("a call.recording.saved");
    p["recording_urls"][format].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_scripted_tone_is_in_the_recording_and_on_the_streams_inbound_track() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let mut ws = WsApp::start().await;
    let script = json!({"ring_ms": 1000, "audio": {"tone_hz": 1000, "duration_ms": 1000, "after_ms": 500}});
    let r = s.put("/_dialtone/sim/destinations/+15557770002", script).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["data"]["audio"],
        json!({"tone_hz": 1000, "duration_ms": 1000, "after_ms": 500, "repeat": 1, "gap_ms": 0})
    );
    let extra = json!({"record": "record-from-answer", "record_format": "mp3", "stream_url": ws.url});
    let id = dial_ok(&s, &app, "+15557770002", extra).await;
    advance(&s, 1_000).await;
    assert_eq!(wait_events(&rx, &id, 2).await[1].0, "call.answered");

    // The stream opened on the answer: 500 ms of silence, 1 s of 1 kHz, silence again.
    let f = frames(&mut ws, "inbound", 80).await;
    assert!(f[..25].iter().all(|x| silent(x)), "silence before the tone");
    let tone: Vec<i16> = f[25..75].concat();
    let hz = crossing_hz(&tone, 8_000);
    assert!((980.0..1_020.0).contains(&hz), "{hz} Hz");
    assert!(f[75..].iter().all(|x| silent(x)), "silence after it");

    // Recorded from the answer for 3 s: the tone from 0.5 s to 1.5 s.
    advance(&s, 3_000).await;
    assert_eq!(s.post(&path(&id, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 6).await;
    assert_eq!(types(&ev)[3..], ["streaming.stopped", "call.hangup", "call.recording.saved"]);
    let pcm = recording_pcm(&saved_url(&ev, "wav")).await;
    assert_eq!(pcm.len(), 3 * 8_000);
    assert!(silent(at(&pcm, 0, 500)));
    let hz = crossing_hz(at(&pcm, 500, 1_500), 8_000);
    assert!((995.0..1_005.0).contains(&hz), "{hz} Hz");
    assert!(at(&pcm, 600, 1_400).iter().any(|v| v.unsigned_abs() > 7_000), "at the tone's level");
    assert!(silent(at(&pcm, 1_500, 3_000)));
    // The MP3 codes the same tone (on its nearest spectral line).
    let mp3 = reqwest::get(saved_url(&ev, "mp3")).await.unwrap().bytes().await.unwrap();
    assert_eq!(mp3, dialtone_domain::media::mp3::mp3(3_000, &[Sound::tone(500, 1_500, 1_000)]));
}

#[tokio::test]
async fn a_scripted_wav_is_fetched_when_set_and_heard_in_the_recording() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let audio = wav_server().await;
    let dest = "/_dialtone/sim/destinations/+15557770003";
    let r = s.put(dest, json!({"audio": {"wav_url": format!("{audio}/tone.wav"), "repeat": 2, "gap_ms": 500}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["data"]["audio"]["duration_ms"], 1_000, "the WAV's length");
    assert_eq!(s.get(dest).await.body["data"]["audio"]["wav_url"], format!("{audio}/tone.wav"));

    let mut ws = WsApp::start().await;
    let extra = json!({"record": "record-from-answer", "record_format": "wav", "stream_url": ws.url});
    let id = dial_ok(&s, &app, "+15557770003", extra).await;
    advance(&s, 3_000).await;
    // The stream's inbound track carries the WAV's audio from the answer.
    let f = frames(&mut ws, "inbound", 55).await;
    let hz = crossing_hz(&f[..50].concat(), 8_000);
    assert!((430.0..450.0).contains(&hz), "{hz} Hz");
    assert!(f[50..].iter().all(|x| silent(x)), "then the gap");
    advance(&s, 3_000).await;
    assert_eq!(s.post(&path(&id, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 6).await;
    let pcm = recording_pcm(&saved_url(&ev, "wav")).await;
    assert_eq!(pcm.len(), 3 * 8_000);
    // Played twice, 0.5 s apart: 0-1 s and 1.5-2.5 s, resampled to 8 kHz.
    for (a, b) in [(0, 1_000), (1_500, 2_500)] {
        let hz = crossing_hz(at(&pcm, a, b), 8_000);
        assert!((435.0..445.0).contains(&hz), "{a} ms: {hz} Hz");
    }
    assert!(silent(at(&pcm, 1_000, 1_500)) && silent(at(&pcm, 2_500, 3_000)));

    // A WAV that cannot be fetched or read refuses the script; so do bad fields.
    for (audio_field, at) in [
        (json!({"wav_url": format!("{audio}/missing.wav")}), "/audio/wav_url"),
        (json!({"wav_url": format!("{audio}/junk.wav")}), "/audio/wav_url"),
        (json!({"wav_url": "file:///etc/passwd"}), "/audio/wav_url"),
        (json!({"tone_hz": 5_000, "duration_ms": 100}), "/audio/tone_hz"),
        (json!({"tone_hz": 1_000}), "/audio/duration_ms"),
        (json!({"tone_hz": 1_000, "duration_ms": 100, "repeat": 0}), "/audio/repeat"),
        (json!({}), "/audio"),
    ] {
        let r = s.put(dest, json!({"audio": audio_field})).await;
        assert_eq!((r.status, pointer(&r)), (422, Some(at)), "{}", r.text);
    }
    let r = s.put(dest, json!({"audio": "beep"})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/audio")), "{}", r.text);
    assert_eq!(s.get(dest).await.body["data"]["audio"]["repeat"], 2, "the script kept is unchanged");
}

#[tokio::test]
async fn digits_sent_on_answer_to_an_outside_number_are_tones_on_the_outbound_track() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let mut ws = WsApp::start().await;
    // `to`'s suffix sends 1, a 0.5 s pause, then 2.
    let extra = json!({"record": "record-from-answer", "record_format": "wav", "stream_url": ws.url, "stream_track": "outbound_track"});
    let id = dial_ok(&s, &app, "+14155550199,1w2", extra).await;
    advance(&s, 3_000).await;
    assert_eq!(wait_events(&rx, &id, 2).await[1].0, "call.answered");
    let f = frames(&mut ws, "outbound", 60).await;
    let digit = |frames: &[Vec<i16>]| crossing_hz(&frames.concat(), 8_000);
    assert!((430.0..450.0).contains(&digit(&f[..12])), "1 at once");
    assert!(f[13..37].iter().all(|x| silent(x)), "the pause");
    assert!((430.0..450.0).contains(&digit(&f[38..50])), "2 after it");
    assert!(f[51..].iter().all(|x| silent(x)));
    advance(&s, 2_000).await;
    assert_eq!(s.post(&path(&id, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 6).await;
    assert!(!types(&ev).contains(&"call.dtmf.received"), "the far end outside sends no webhooks");
    let pcm = recording_pcm(&saved_url(&ev, "wav")).await;
    assert!(!silent(at(&pcm, 0, 250)) && !silent(at(&pcm, 750, 1_000)));
    assert!(silent(at(&pcm, 260, 740)) && silent(at(&pcm, 1_000, 2_000)));
}

/// Routes a new number of the account to a new application sending to `rx`; answers the
/// number and the application.
async fn routed_number(s: &Client, rx: &Receiver, number: &str) -> String {
    let app = application(s, &rx.url).await;
    let nid = own(s, &[number]).await.remove(0);
    assert_eq!(s.patch(&format!("/v2/phone_numbers/{nid}"), json!({"connection_id": app})).await.status, 200);
    app
}

#[tokio::test]
async fn digits_sent_on_answer_to_a_number_of_this_server_are_received_there() {
    let s = Server::start().await;
    let rx_a = Receiver::start().await;
    let rx_b = Receiver::start().await;
    let app_a = application(&s, &rx_a.url).await;
    routed_number(&s, &rx_b, "+13122007001").await;
    let a = dial_ok(&s, &app_a, "+13122007001", json!({"send_digits_on_answer": "w12W#"})).await;
    let b = nth_initiated(&rx_b, 1).await;
    assert_eq!(s.post(&path(&b, "answer"), json!({})).await.status, 200);
    assert_eq!(wait_events(&rx_a, &a, 2).await[1].0, "call.answered");
    // B gathers two digits: the first two arrive 0.5 s after the answer, then # 1 s later.
    let r = s.post(&path(&b, "gather"), json!({"maximum_digits": 2})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 499).await;
    assert_eq!(types(&wait_events(&rx_b, &b, 2).await), ["call.initiated", "call.answered"]);
    advance(&s, 1).await;
    let ev = wait_events(&rx_b, &b, 5).await;
    assert_eq!(types(&ev)[2..], ["call.dtmf.received", "call.dtmf.received", "call.gather.ended"]);
    assert_eq!((ev[2].1["digit"].as_str(), ev[4].1["digits"].as_str()), (Some("1"), Some("12")));
    advance(&s, 1_500).await;
    let ev = wait_events(&rx_b, &b, 6).await;
    assert_eq!((ev[5].0.as_str(), ev[5].1["digit"].as_str()), ("call.dtmf.received", Some("#")));
}

#[tokio::test]
async fn a_transfer_to_a_number_of_this_server_arrives_there_and_bridges_on_answer() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let rx_b = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    routed_number(&s, &rx_b, "+13122007002").await;
    let a = dial_ok(&s, &app, "+14155550199", json!({})).await;
    advance(&s, 3_000).await;
    wait_events(&rx, &a, 2).await;
    let r = s.post(&path(&a, "transfer"), json!({"to": "+13122007002", "send_digits_on_answer": "7"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The new leg rings (A's application) and the number's application gets the call.
    let t = nth_initiated(&rx, 2).await;
    let b = nth_initiated(&rx_b, 1).await;
    let p = &wait_events(&rx_b, &b, 1).await[0].1;
    assert_eq!((p["direction"].as_str(), p["from"].as_str()), (Some("incoming"), Some("+13125550100")));
    // Nothing is bridged until the number's application answers.
    advance(&s, 10_000).await;
    assert_eq!(types(&wait_events(&rx, &t, 1).await), ["call.initiated"]);
    assert_eq!(s.post(&path(&b, "answer"), json!({})).await.status, 200);
    assert_eq!(types(&wait_events(&rx, &t, 3).await), ["call.initiated", "call.answered", "call.bridged"]);
    assert_eq!(wait_events(&rx, &a, 3).await[2].0, "call.bridged");
    let ev = wait_events(&rx_b, &b, 3).await;
    assert_eq!((ev[2].0.as_str(), ev[2].1["digit"].as_str()), ("call.dtmf.received", Some("7")));
    // The number's side hangs up: the transfer leg ends, and the original with it.
    assert_eq!(s.post(&path(&b, "hangup"), json!({})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx, &t, 4).await), h("normal_clearing", "callee", "unspecified"));
    assert_eq!(hangup(&wait_events(&rx, &a, 4).await).0, "normal_clearing");

    // Rejected there: the original call ends.
    let a = dial_ok(&s, &app, "+14155550199", json!({})).await;
    advance(&s, 3_000).await;
    wait_events(&rx, &a, 2).await;
    assert_eq!(s.post(&path(&a, "transfer"), json!({"to": "+13122007002"})).await.status, 200);
    let b = nth_initiated(&rx_b, 2).await;
    assert_eq!(s.post(&path(&b, "reject"), json!({"cause": "USER_BUSY"})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx, &a, 3).await).0, "normal_clearing");

    // The original hangs up while bridged: both other legs end.
    let a = dial_ok(&s, &app, "+14155550199", json!({})).await;
    advance(&s, 3_000).await;
    wait_events(&rx, &a, 2).await;
    assert_eq!(s.post(&path(&a, "transfer"), json!({"to": "+13122007002"})).await.status, 200);
    let b = nth_initiated(&rx_b, 3).await;
    assert_eq!(s.post(&path(&b, "answer"), json!({})).await.status, 200);
    wait_events(&rx, &a, 3).await;
    assert_eq!(s.post(&path(&a, "hangup"), json!({})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx_b, &b, 3).await), h("normal_clearing", "caller", "unspecified"));
}

#[tokio::test]
async fn send_dtmf_reaches_the_far_end_on_this_server_and_outside() {
    let s = Server::start().await;
    let rx_a = Receiver::start().await;
    let rx_b = Receiver::start().await;
    let app_a = application(&s, &rx_a.url).await;
    routed_number(&s, &rx_b, "+13122007002").await;

    // A number of this server: the other leg's far end presses them, pauses kept.
    let a = dial_ok(&s, &app_a, "+13122007002", json!({})).await;
    let b = nth_initiated(&rx_b, 1).await;
    assert_eq!(s.post(&path(&b, "answer"), json!({})).await.status, 200);
    assert_eq!(wait_events(&rx_a, &a, 2).await[1].0, "call.answered");
    let r = s.post(&path(&b, "gather"), json!({"maximum_digits": 3})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = s.post(&path(&a, "send_dtmf"), json!({"digits": "4W5", "duration_millis": 100})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 0).await;
    let ev = wait_events(&rx_b, &b, 3).await;
    assert_eq!((ev[2].0.as_str(), ev[2].1["digit"].as_str()), ("call.dtmf.received", Some("4")));
    // 5 comes after the 100 ms tone and the 1 s pause.
    advance(&s, 1_099).await;
    assert_eq!(wait_events(&rx_b, &b, 3).await.len(), 3);
    advance(&s, 1).await;
    let ev = wait_events(&rx_b, &b, 4).await;
    assert_eq!((ev[3].0.as_str(), ev[3].1["digit"].as_str()), ("call.dtmf.received", Some("5")));
    assert!(!types(&wait_events(&rx_a, &a, 2).await).contains(&"call.dtmf.received"), "the sender hears nothing");

    // An outside number: tones on the outbound track, where the command was given.
    let app_c = application(&s, &rx_a.url).await;
    let extra = json!({"record": "record-from-answer", "record_format": "wav"});
    let c = dial_ok(&s, &app_c, "+14155550188", extra).await;
    advance(&s, 3_000).await;
    assert_eq!(wait_events(&rx_a, &c, 2).await[1].0, "call.answered");
    advance(&s, 1_000).await;
    assert_eq!(s.post(&path(&c, "send_dtmf"), json!({"digits": "7"})).await.status, 200);
    advance(&s, 2_000).await;
    assert_eq!(s.post(&path(&c, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx_a, &c, 4).await;
    let pcm = recording_pcm(&saved_url(&ev, "wav")).await;
    assert!(silent(at(&pcm, 0, 990)), "nothing before the command");
    assert!((430.0..450.0).contains(&crossing_hz(at(&pcm, 1_000, 1_250), 8_000)), "the digit at 1 s");
    assert!(silent(at(&pcm, 1_260, 3_000)));
}
