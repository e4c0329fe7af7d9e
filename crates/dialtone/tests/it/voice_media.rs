//! Voice media commands on the manual clock: client_state_update, send_dtmf, send_sip_info,
//! speak, playback (audio served from a local server), gathers with digits the simulated
//! far end presses, and their errors.

use crate::harness::{Client, Server};
use crate::numbers::advance;
use crate::receiver::Receiver;
use crate::voice::{application, dial_ok, events_of, h, hangup, path, pointer, types, wait_events};
use serde_json::{Value, json};

/// A local audio server: `/tone.wav` (2.5 s), `/missing.wav` (404), `/junk.mp3` (not audio).
async fn audio_server() -> String {
    use axum::routing::get;
    let wav = dialtone_domain::audio::wav(2_500, 8_000, &[(0, 2_500)]);
    let app = axum::Router::new()
        .route("/tone.wav", get(move || async move { ([("content-type", "audio/wav")], wav.clone()) }))
        .route("/junk.mp3", get(|| async { "this is not audio" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// An answered call to an ordinary destination (answers after its 3 s ring).
async fn answered_call(s: &Client, rx: &Receiver) -> String {
    let app = application(s, &rx.url).await;
    let id = dial_ok(s, &app, "+14155550199", json!({})).await;
    advance(s, 3_000).await;
    assert_eq!(wait_events(rx, &id, 2).await[1].0, "call.answered");
    id
}

async fn press(s: &Client, id: &str, digits: &str) {
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": digits})).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn last(ev: &[(String, Value)]) -> &Value {
    &ev.last().unwrap().1
}

#[tokio::test]
async fn small_commands_answer_ok_and_refuse_what_does_not_fit() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    // Ringing (no answer): client_state_update works, send_dtmf needs an answer.
    let id = dial_ok(&s, &app, "+15550200003", json!({"timeout_secs": 10})).await;
    let r = s.put(&path(&id, "client_state_update"), json!({"client_state": "cmluZ2luZw=="})).await;
    assert_eq!((r.status, r.body["data"]["result"].as_str()), (200, Some("ok")), "{}", r.text);
    let r = s.post(&path(&id, "send_dtmf"), json!({"digits": "123"})).await;
    assert_eq!((r.status, r.code()), (422, "90034"), "{}", r.text);
    // The new client_state is echoed in the hang-up.
    advance(&s, 10_000).await;
    let ev = wait_events(&rx, &id, 2).await;
    assert_eq!(last(&ev)["client_state"], "cmluZ2luZw==");
    for (verb, action, body) in [
        ("put", "client_state_update", json!({"client_state": "YQ=="})),
        ("post", "send_dtmf", json!({"digits": "1"})),
        ("post", "send_sip_info", json!({"content_type": "text/plain", "body": "hi"})),
        ("post", "speak", json!({"payload": "hi", "voice": "female"})),
        ("post", "gather", json!({})),
    ] {
        let r =
            if verb == "put" { s.put(&path(&id, action), body).await } else { s.post(&path(&id, action), body).await };
        assert_eq!((r.status, r.code()), (422, "90018"), "{action}: {}", r.text);
    }

    let id = answered_call(&s, &rx).await;
    for (action, body) in [
        ("send_dtmf", json!({"digits": "1w2#", "duration_millis": 250, "command_id": "d1"})),
        ("send_dtmf", json!({"digits": "1w2#", "command_id": "d1"})),
        ("send_sip_info", json!({"content_type": "application/json", "body": "{\"a\":1}"})),
    ] {
        let r = s.post(&path(&id, action), body).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
    }
    assert_eq!(events_of(&rx, &id).len(), 2, "no webhooks for these");
    for (action, body, at) in [
        ("send_dtmf", json!({}), "/digits"),
        ("send_dtmf", json!({"digits": "12z"}), "/digits"),
        ("send_dtmf", json!({"digits": "1", "duration_millis": 5000}), "/duration_millis"),
        ("send_sip_info", json!({"body": "x"}), "/content_type"),
        ("send_sip_info", json!({"content_type": "text/plain"}), "/body"),
        ("client_state_update", json!({"client_state": "not base64!"}), "/client_state"),
        ("speak", json!({"voice": "female"}), "/payload"),
        ("speak", json!({"payload": "hi", "voice": "female", "payload_type": "html"}), "/payload_type"),
        ("playback_start", json!({}), "/audio_url"),
        ("playback_start", json!({"audio_url": "http://x.example/a.wav", "loop": "forever"}), "/loop"),
        ("gather", json!({"maximum_digits": 500}), "/maximum_digits"),
        ("gather", json!({"terminating_digit": "x"}), "/terminating_digit"),
    ] {
        let r = if action == "client_state_update" {
            s.put(&path(&id, action), body).await
        } else {
            s.post(&path(&id, action), body).await
        };
        assert!(r.status == 422 || r.status == 400, "{action}: {}", r.text);
        assert_eq!(pointer(&r), Some(at), "{action}: {}", r.text);
    }
    let r = s.post("/v2/calls/v3:nope/actions/speak", json!({"payload": "hi", "voice": "female"})).await;
    assert_eq!((r.status, r.code()), (422, "90015"));
}

#[tokio::test]
async fn speak_ends_after_its_text_and_playback_after_its_audio() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let audio = audio_server().await;
    let id = answered_call(&s, &rx).await;

    // 45 characters at 15 a second: 3 s.
    let r = s
        .post(
            &path(&id, "speak"),
            json!({"payload": "x".repeat(45), "voice": "Telnyx.KokoroTTS.af", "client_state": "c3A="}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &id, 3).await;
    assert_eq!((ev[2].0.as_str(), ev[2].1["client_state"].as_str()), ("call.speak.started", Some("c3A=")));
    advance(&s, 2_999).await;
    assert_eq!(events_of(&rx, &id).len(), 3);
    advance(&s, 1).await;
    let ev = wait_events(&rx, &id, 4).await;
    assert_eq!((ev[3].0.as_str(), ev[3].1["status"].as_str()), ("call.speak.ended", Some("completed")));

    // A 2.5 s WAV played twice.
    let url = format!("{audio}/tone.wav");
    let r = s.post(&path(&id, "playback_start"), json!({"audio_url": url, "loop": 2})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &id, 5).await;
    assert_eq!((ev[4].0.as_str(), ev[4].1["media_url"].as_str()), ("call.playback.started", Some(url.as_str())));
    assert_eq!(ev[4].1["overlay"], false);
    advance(&s, 4_999).await;
    assert_eq!(events_of(&rx, &id).len(), 5);
    advance(&s, 1).await;
    let ev = wait_events(&rx, &id, 6).await;
    assert_eq!((ev[5].0.as_str(), ev[5].1["status"].as_str()), ("call.playback.ended", Some("completed")));

    // Not found, not audio, nobody listening: ended at once with why.
    for (url, status) in [
        (format!("{audio}/missing.wav"), "file_not_found"),
        (format!("{audio}/junk.mp3"), "failed"),
        ("http://127.0.0.1:1/nothing.mp3".to_owned(), "failed"),
    ] {
        let n = events_of(&rx, &id).len();
        let r = s.post(&path(&id, "playback_start"), json!({"audio_url": url})).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let ev = wait_events(&rx, &id, n + 1).await;
        assert_eq!((ev[n].0.as_str(), ev[n].1["status"].as_str()), ("call.playback.ended", Some(status)), "{url}");
        assert!(ev[n].1["status_detail"].is_string());
    }

    // Looping until stopped; playback_stop cancels; the hang-up ends a speech in progress.
    let n = events_of(&rx, &id).len();
    let r = s
        .post(&path(&id, "playback_start"), json!({"audio_url": format!("{audio}/tone.wav"), "loop": "infinity"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 60_000).await;
    assert_eq!(types(&wait_events(&rx, &id, n + 1).await)[n], "call.playback.started");
    assert_eq!(s.post(&path(&id, "playback_stop"), json!({"stop": "all"})).await.status, 200);
    let ev = wait_events(&rx, &id, n + 2).await;
    assert_eq!((ev[n + 1].0.as_str(), ev[n + 1].1["status"].as_str()), ("call.playback.ended", Some("cancelled")));
    assert_eq!(s.post(&path(&id, "speak"), json!({"payload": "goodbye", "voice": "male"})).await.status, 200);
    assert_eq!(s.post(&path(&id, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, n + 5).await;
    assert_eq!(types(&ev)[n + 2..], ["call.speak.started", "call.speak.ended", "call.hangup"]);
    assert_eq!(ev[n + 3].1["status"], "call_hangup");
    assert_eq!(hangup(&ev), h("normal_clearing", "caller", "unspecified"));
}

#[tokio::test]
async fn gathers_collect_the_far_ends_digits() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let audio = audio_server().await;
    let id = answered_call(&s, &rx).await;

    // Four digits and the terminating digit: a call.dtmf.received each, then valid.
    let r =
        s.post(&path(&id, "gather"), json!({"minimum_digits": 4, "maximum_digits": 4, "client_state": "Zw=="})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    press(&s, &id, "1234").await;
    let ev = wait_events(&rx, &id, 7).await;
    assert_eq!(
        types(&ev)[2..],
        ["call.dtmf.received"; 4].iter().copied().chain(["call.gather.ended"]).collect::<Vec<_>>()
    );
    assert_eq!((ev[2].1["digit"].as_str(), ev[5].1["digit"].as_str()), (Some("1"), Some("4")));
    let g = last(&ev);
    assert_eq!(
        (g["status"].as_str(), g["digits"].as_str(), g["client_state"].as_str()),
        (Some("valid"), Some("1234"), Some("Zw=="))
    );

    // Nothing pressed: timeout after the initial timeout.
    assert_eq!(s.post(&path(&id, "gather"), json!({"initial_timeout_millis": 3000})).await.status, 200);
    advance(&s, 2_999).await;
    assert_eq!(events_of(&rx, &id).len(), 7);
    advance(&s, 1).await;
    let ev = wait_events(&rx, &id, 8).await;
    assert_eq!((last(&ev)["status"].as_str(), last(&ev)["digits"].as_str()), (Some("timeout"), Some("")));

    // A digit outside valid_digits: invalid.
    assert_eq!(s.post(&path(&id, "gather"), json!({"valid_digits": "123"})).await.status, 200);
    press(&s, &id, "19#").await;
    let ev = wait_events(&rx, &id, 12).await;
    assert_eq!((last(&ev)["status"].as_str(), last(&ev)["digits"].as_str()), (Some("invalid"), Some("19")));

    // gather_using_audio: the prompt plays, a digit stops it, the inter-digit timeout ends it.
    let r = s
        .post(
            &path(&id, "gather_using_audio"),
            json!({"audio_url": format!("{audio}/tone.wav"), "inter_digit_timeout_millis": 2000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(wait_events(&rx, &id, 13).await[12].0, "call.playback.started");
    advance(&s, 1_000).await;
    press(&s, &id, "5").await;
    let ev = wait_events(&rx, &id, 15).await;
    assert_eq!(types(&ev)[13..], ["call.dtmf.received", "call.playback.ended"]);
    assert_eq!(ev[14].1["status"], "cancelled");
    advance(&s, 2_000).await;
    let ev = wait_events(&rx, &id, 16).await;
    assert_eq!((last(&ev)["status"].as_str(), last(&ev)["digits"].as_str()), (Some("valid"), Some("5")));

    // gather_using_speak: the wait starts when the prompt ends; gather_stop cancels.
    let r = s
        .post(
            &path(&id, "gather_using_speak"),
            json!({"payload": "x".repeat(30), "voice": "female", "timeout_millis": 10000}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 2_000).await;
    let ev = wait_events(&rx, &id, 18).await;
    assert_eq!(types(&ev)[16..], ["call.speak.started", "call.speak.ended"]);
    advance(&s, 9_000).await;
    assert_eq!(s.post(&path(&id, "gather_stop"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 19).await;
    assert_eq!(last(&ev)["status"], "cancelled");

    // A hang-up ends a running gather first.
    assert_eq!(s.post(&path(&id, "gather"), json!({})).await.status, 200);
    press(&s, &id, "8").await;
    s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await;
    let ev = wait_events(&rx, &id, 22).await;
    assert_eq!(types(&ev)[19..], ["call.dtmf.received", "call.gather.ended", "call.hangup"]);
    assert_eq!((ev[20].1["status"].as_str(), ev[20].1["digits"].as_str()), (Some("call_hangup"), Some("8")));
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": "1"})).await;
    assert_eq!((r.status, r.code()), (422, "90018"));
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": "xyz"})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/digits")));
}

/// The call control id of the `n`th (from 1) `call.initiated` the receiver got.
async fn initiated(rx: &Receiver, n: usize) -> String {
    crate::voice::nth_initiated(rx, n).await
}

#[tokio::test]
async fn bridge_joins_two_calls_and_a_hang_up_ends_both() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let a = answered_call(&s, &rx).await;
    let b = answered_call(&s, &rx).await;
    for (body, code, at) in [
        (json!({}), "10004", Some("/call_control_id")),
        (json!({"call_control_id": "v3:nope"}), "90015", Some("/call_control_id")),
        (json!({"call_control_id": a}), "10015", Some("/call_control_id")),
        (json!({"call_control_id": b, "park_after_unbridge": "other"}), "10032", Some("/park_after_unbridge")),
    ] {
        let r = s.post(&path(&a, "bridge"), body).await;
        assert_eq!((r.status, r.code(), pointer(&r)), (422, code, at), "{}", r.text);
    }
    let r = s.post(&path(&a, "bridge"), json!({"call_control_id": b, "client_state": "YnJpZGdl"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ea = wait_events(&rx, &a, 3).await;
    let eb = wait_events(&rx, &b, 3).await;
    assert_eq!((ea[2].0.as_str(), ea[2].1["client_state"].as_str()), ("call.bridged", Some("YnJpZGdl")));
    assert_eq!(eb[2].0, "call.bridged");
    let c = answered_call(&s, &rx).await;
    let r = s.post(&path(&c, "bridge"), json!({"call_control_id": a})).await;
    assert_eq!((r.status, r.code(), pointer(&r)), (422, "90423", Some("/call_control_id")), "already bridged");
    // The far end of A hangs up: B hangs up with it.
    s.post(&format!("/_dialtone/sim/calls/{a}/hangup"), json!({})).await;
    assert_eq!(hangup(&wait_events(&rx, &a, 4).await), h("normal_clearing", "callee", "unspecified"));
    assert_eq!(hangup(&wait_events(&rx, &b, 4).await), h("normal_clearing", "callee", "unspecified"));
    let r = s.post(&path(&c, "bridge"), json!({"call_control_id": a})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "{}", r.text);
    let r = s.post(&path(&a, "bridge"), json!({"call_control_id": c})).await;
    assert_eq!((r.status, r.code()), (422, "90018"), "{}", r.text);
}

#[tokio::test]
async fn transfer_dials_a_new_leg_bridged_on_answer() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let a = answered_call(&s, &rx).await;
    let r = s.post(&path(&a, "transfer"), json!({"to": "+14155550123", "target_leg_client_state": "dGFyZ2V0"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = initiated(&rx, 2).await;
    let et = wait_events(&rx, &t, 1).await;
    assert_eq!(et[0].1["client_state"], "dGFyZ2V0");
    assert_eq!(et[0].1["from"], "+13125550100", "the original call's from");
    let sa = crate::voice::status(&s, &a).await;
    assert_eq!(sa["call_session_id"], crate::voice::status(&s, &t).await["call_session_id"]);
    advance(&s, 3_000).await;
    assert_eq!(types(&wait_events(&rx, &t, 3).await), ["call.initiated", "call.answered", "call.bridged"]);
    assert_eq!(wait_events(&rx, &a, 3).await[2].0, "call.bridged");
    // The transferred leg hangs up: the original follows.
    assert_eq!(s.post(&path(&t, "hangup"), json!({})).await.status, 200);
    assert_eq!(hangup(&wait_events(&rx, &a, 4).await).0, "normal_clearing");

    // A busy target: the original leg ends.
    let a = answered_call(&s, &rx).await;
    assert_eq!(s.post(&path(&a, "transfer"), json!({"to": "+15550200002"})).await.status, 200);
    advance(&s, 1_000).await;
    let ev = wait_events(&rx, &a, 3).await;
    assert_eq!(hangup(&ev), h("normal_clearing", "caller", "unspecified"));
    let r = s.post(&path(&a, "transfer"), json!({"to": "+14155550123"})).await;
    assert_eq!((r.status, r.code()), (422, "90018"));
    let b = answered_call(&s, &rx).await;
    for (body, at) in [
        (json!({}), "/to"),
        (json!({"to": "nowhere"}), "/to"),
        (json!({"to": "+14155550123", "timeout_secs": 1}), "/timeout_secs"),
    ] {
        let r = s.post(&path(&b, "transfer"), body).await;
        assert_eq!((r.status, pointer(&r)), (422, Some(at)), "{}", r.text);
    }
}

#[tokio::test]
async fn refer_reports_started_then_completed_or_failed() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let a = answered_call(&s, &rx).await;
    let r = s.post(&path(&a, "refer"), json!({"sip_address": "sip:+15550200004@pbx.example.com"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ev = wait_events(&rx, &a, 3).await;
    assert_eq!((ev[2].0.as_str(), ev[2].1["sip_notify_response"].as_i64()), ("call.refer.started", Some(100)));
    advance(&s, 1_000).await;
    let ev = wait_events(&rx, &a, 4).await;
    assert_eq!((ev[3].0.as_str(), ev[3].1["sip_notify_response"].as_i64()), ("call.refer.failed", Some(603)));
    assert_eq!(s.post(&path(&a, "refer"), json!({"sip_address": "sip:alice@pbx.example.com"})).await.status, 200);
    advance(&s, 1_000).await;
    let ev = wait_events(&rx, &a, 7).await;
    assert_eq!(types(&ev)[4..], ["call.refer.started", "call.refer.completed", "call.hangup"]);
    let r = s.post(&path(&a, "refer"), json!({"sip_address": "sip:alice@pbx.example.com"})).await;
    assert_eq!((r.status, r.code()), (422, "90018"));
    let r = s.post(&path(&a, "refer"), json!({"sip_address": "+14155550100"})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/sip_address")));
}

#[tokio::test]
async fn recordings_are_saved_with_a_wav_dialtone_serves() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = answered_call(&s, &rx).await;
    let r = s.post(&path(&id, "record_stop"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "nothing to stop: {}", r.text);
    for (body, at) in [
        (json!({"channels": "single"}), "/format"),
        (json!({"format": "ogg", "channels": "single"}), "/format"),
        (json!({"format": "wav"}), "/channels"),
    ] {
        let r = s.post(&path(&id, "record_start"), body).await;
        assert_eq!((r.status, pointer(&r)), (422, Some(at)), "{}", r.text);
    }
    let r = s
        .post(&path(&id, "record_start"), json!({"format": "wav", "channels": "single", "client_state": "cmVj"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        s.post(&path(&id, "record_start"), json!({"format": "wav", "channels": "single"})).await.code(),
        "90423"
    );
    advance(&s, 2_000).await;
    assert_eq!(s.post(&path(&id, "record_pause"), json!({})).await.status, 200);
    assert_eq!(s.post(&path(&id, "record_pause"), json!({})).await.code(), "90423");
    advance(&s, 5_000).await;
    assert_eq!(s.post(&path(&id, "record_resume"), json!({})).await.status, 200);
    press(&s, &id, "1").await;
    advance(&s, 1_000).await;
    assert_eq!(s.post(&path(&id, "record_stop"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 4).await;
    let p = last(&ev);
    assert_eq!(
        (ev[3].0.as_str(), p["client_state"].as_str(), p["channels"].as_str()),
        ("call.recording.saved", Some("cmVj"), Some("single"))
    );
    let url = p["recording_urls"]["wav"].as_str().unwrap().to_owned();
    assert_eq!(p["public_recording_urls"]["wav"], url.as_str());
    // The URL needs no API key and serves 3 s of PCM WAV (2 s, paused 5 s, then 1 s).
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "audio/wav");
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"RIFF");
    assert_eq!(dialtone_domain::audio::duration_ms(&bytes), Some(3_000));
    assert!(bytes[44..].iter().any(|b| *b != 0), "the digit's tone is in it");
    assert_eq!(reqwest::get(format!("{url}x")).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(url.replace(".wav", ".mp3")).await.unwrap().status(), 404, "a WAV recording has no MP3");

    // Recording through the hang-up: saved after call.hangup.
    let r = s.post(&path(&id, "record_start"), json!({"format": "mp3", "channels": "dual"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 4_000).await;
    s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await;
    let ev = wait_events(&rx, &id, 6).await;
    assert_eq!(types(&ev)[4..], ["call.hangup", "call.recording.saved"]);
    let url = last(&ev)["recording_urls"]["wav"].as_str().unwrap().to_owned();
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(dialtone_domain::audio::duration_ms(&bytes), Some(4_000));
    // An MP3 recording is served as MP3 too: MPEG-1 Layer III frames.
    let mp3_url = last(&ev)["recording_urls"]["mp3"].as_str().unwrap().to_owned();
    assert!(mp3_url.ends_with(".mp3"), "{mp3_url}");
    let resp = reqwest::get(&mp3_url).await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (200, "audio/mpeg"));
    let bytes = resp.bytes().await.unwrap();
    assert_eq!(&bytes[..3], &[0xFF, 0xFB, 0x14], "MPEG-1 Layer III, 32 kbit/s, 48 kHz");
    assert_eq!(bytes, dialtone_domain::media::mp3::mp3(4_000, &[]));

    assert_eq!(s.post(&path(&id, "record_stop"), json!({})).await.code(), "90018");
}

#[tokio::test]
async fn services_and_queues_report_their_webhooks() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = answered_call(&s, &rx).await;
    // Streams connect for real: to a WebSocket server of the test's own.
    let ws = crate::voice_streaming::WsApp::start().await;
    for (action, body, event) in [
        ("fork_start", json!({"rx": "udp:10.0.0.1:5000", "tx": "udp:10.0.0.1:5001"}), Some("call.fork.started")),
        ("fork_stop", json!({}), Some("call.fork.stopped")),
        ("siprec_start", json!({"connector_name": "recorder", "sip_transport": "tls"}), Some("siprec.started")),
        ("siprec_stop", json!({}), Some("siprec.stopped")),
        ("streaming_start", json!({"stream_url": ws.url, "stream_track": "both_tracks"}), Some("streaming.started")),
        ("streaming_stop", json!({}), Some("streaming.stopped")),
        ("transcription_start", json!({"transcription_engine": "Telnyx"}), None),
        ("transcription_stop", json!({}), None),
        ("suppression_start", json!({"direction": "both"}), None),
        ("suppression_stop", json!({}), None),
        ("switch_supervisor_role", json!({"role": "whisper"}), None),
    ] {
        let n = events_of(&rx, &id).len();
        let r = s.post(&path(&id, action), body).await;
        assert_eq!(r.status, 200, "{action}: {}", r.text);
        if let Some(e) = event {
            assert_eq!(wait_events(&rx, &id, n + 1).await[n].0, e, "{action}");
        }
    }
    let r = s.post(&path(&id, "fork_stop"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "not running: {}", r.text);
    for (action, body, at) in [
        ("streaming_start", json!({}), "/stream_url"),
        ("fork_start", json!({"rx": "10.0.0.1"}), "/rx"),
        ("switch_supervisor_role", json!({"role": "boss"}), "/role"),
        ("enqueue", json!({}), "/queue_name"),
        ("enqueue", json!({"queue_name": "q", "max_wait_time_secs": 0}), "/max_wait_time_secs"),
    ] {
        let r = s.post(&path(&id, action), body).await;
        assert_eq!((r.status, pointer(&r)), (422, Some(at)), "{action}: {}", r.text);
    }

    // Two calls in one queue: positions 1 and 2; the second times out, the first leaves.
    let other = answered_call(&s, &rx).await;
    assert_eq!(s.post(&path(&id, "enqueue"), json!({"queue_name": "support"})).await.status, 200);
    let r = s.post(&path(&other, "enqueue"), json!({"queue_name": "support", "max_wait_time_secs": 30})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The enqueue's webhook may still be on its way: wait for it.
    let mut ev = events_of(&rx, &id);
    for _ in 0..2000 {
        if ev.last().is_some_and(|(t, _)| t == "call.enqueued") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        ev = events_of(&rx, &id);
    }
    let n = ev.len();
    let e = last(&ev).clone();
    assert_eq!((e["queue"].as_str(), e["current_position"].as_i64()), (Some("support"), Some(1)));
    let eo = wait_events(&rx, &other, 3).await;
    assert_eq!((eo[2].0.as_str(), eo[2].1["current_position"].as_i64()), ("call.enqueued", Some(2)));
    let r = s.post(&path(&id, "enqueue"), json!({"queue_name": "support"})).await;
    assert_eq!((r.status, r.code()), (422, "90423"));
    advance(&s, 30_000).await;
    let eo = wait_events(&rx, &other, 4).await;
    assert_eq!(
        (eo[3].0.as_str(), eo[3].1["reason"].as_str(), eo[3].1["wait_time_secs"].as_i64()),
        ("call.dequeued", Some("timeout"), Some(30))
    );
    assert_eq!(s.post(&path(&id, "leave_queue"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, n + 1).await;
    assert_eq!((last(&ev)["reason"].as_str(), last(&ev)["wait_time_secs"].as_i64()), (Some("leave"), Some(30)));
    assert_eq!(s.post(&path(&id, "leave_queue"), json!({})).await.code(), "90423");

    // The hang-up stops running services.
    let n = events_of(&rx, &id).len();
    assert_eq!(s.post(&path(&id, "streaming_start"), json!({"stream_url": ws.url})).await.status, 200);
    assert_eq!(s.post(&path(&id, "hangup"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, n + 3).await;
    assert_eq!(types(&ev)[n..], ["streaming.started", "streaming.stopped", "call.hangup"]);
    let r = s.post(&path(&id, "streaming_stop"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90018"));
}

#[tokio::test]
async fn the_far_end_presses_digits_on_its_script() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    // +15550200007 answers after 3 s and presses 1234# 2 s later.
    let id = dial_ok(&s, &app, "+15550200007", json!({})).await;
    advance(&s, 3_000).await;
    wait_events(&rx, &id, 2).await;
    assert_eq!(s.post(&path(&id, "gather"), json!({"maximum_digits": 4, "terminating_digit": "#"})).await.status, 200);
    advance(&s, 2_000).await;
    let ev = wait_events(&rx, &id, 7).await;
    let (_, g) = ev.iter().find(|(t, _)| t == "call.gather.ended").unwrap();
    assert_eq!((g["status"].as_str(), g["digits"].as_str()), (Some("valid"), Some("1234")));
    // A live press can be scheduled.
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": "5", "delay_ms": 1000})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let n = events_of(&rx, &id).len();
    advance(&s, 999).await;
    assert_eq!(events_of(&rx, &id).len(), n);
    advance(&s, 1).await;
    let ev = wait_events(&rx, &id, n + 1).await;
    assert_eq!((ev[n].0.as_str(), ev[n].1["digit"].as_str()), ("call.dtmf.received", Some("5")));
    let r = s.post(&format!("/_dialtone/sim/calls/{id}/dtmf"), json!({"digits": "5", "delay_ms": -1})).await;
    assert_eq!((r.status, pointer(&r)), (422, Some("/delay_ms")));
}

#[tokio::test]
async fn ai_sessions_run_one_at_a_time_and_report_their_end() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let id = answered_call(&s, &rx).await;
    let r = s.post(&path(&id, "ai_assistant_stop"), json!({})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "none running: {}", r.text);
    let r =
        s.post(&path(&id, "ai_assistant_start"), json!({"assistant": {"id": "assistant-1"}, "greeting": "Hi"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let conv = r.body["data"]["conversation_id"].as_str().unwrap().to_owned();
    let r = s.post(&path(&id, "conversation_relay_start"), json!({"url": "wss://relay.example/ws"})).await;
    assert_eq!((r.status, r.code()), (422, "90423"), "one at a time: {}", r.text);
    let r =
        s.post(&path(&id, "ai_assistant_add_messages"), json!({"messages": [{"role": "user", "content": "hi"}]})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    advance(&s, 12_000).await;
    assert_eq!(s.post(&path(&id, "ai_assistant_stop"), json!({})).await.status, 200);
    let ev = wait_events(&rx, &id, 3).await;
    let p = last(&ev);
    assert_eq!((ev[2].0.as_str(), p["conversation_id"].as_str()), ("call.conversation.ended", Some(conv.as_str())));
    assert_eq!(
        (p["duration_sec"].as_i64(), p["assistant_id"].as_str(), p["calling_party_type"].as_str()),
        (Some(12), Some("assistant-1"), Some("pstn"))
    );

    // A relay, ended by the hang-up.
    let r = s.post(&path(&id, "conversation_relay_start"), json!({"url": "wss://relay.example/ws"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["data"]["conversation_relay_id"].is_string());
    s.post(&format!("/_dialtone/sim/calls/{id}/hangup"), json!({})).await;
    let ev = wait_events(&rx, &id, 5).await;
    assert_eq!(types(&ev)[3..], ["call.conversation.ended", "call.hangup"]);
    assert_eq!(ev[3].1["reason"], "call_hangup");

    let b = answered_call(&s, &rx).await;
    for (action, body, at) in [
        ("gather_using_ai", json!({}), "/parameters"),
        ("conversation_relay_start", json!({"url": "https://x.example"}), "/url"),
        ("ai_assistant_join", json!({"participant": {"id": "x"}}), "/conversation_id"),
        ("ai_assistant_join", json!({"conversation_id": "c"}), "/participant"),
    ] {
        let r = s.post(&path(&b, action), body).await;
        assert_eq!((r.status, pointer(&r)), (422, Some(at)), "{action}: {}", r.text);
    }
    let r = s.post(&path(&b, "gather_using_ai"), json!({"parameters": {"type": "object"}})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["data"]["conversation_id"].is_string());
    let r = s.post(&path(&b, "ai_assistant_stop"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(wait_events(&rx, &b, 3).await[2].0, "call.conversation.ended");
    let r = s
        .post(
            &path(&b, "ai_assistant_join"),
            json!({"conversation_id": conv, "participant": {"id": "x", "role": "user"}}),
        )
        .await;
    assert_eq!((r.status, r.body["data"]["conversation_id"].as_str()), (200, Some(conv.as_str())), "{}", r.text);
}

#[tokio::test]
async fn a_dial_with_record_records_from_the_answer() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let app = application(&s, &rx.url).await;
    let r = crate::voice::dial(
        &s,
        json!({"connection_id": app, "to": "+15550210010", "from": "+13125550100", "record": "record-from-answer",
            "record_format": "wav", "record_channels": "single"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.body["data"]["call_control_id"].as_str().unwrap().to_owned();
    let rid = r.body["data"]["recording_id"].as_str().unwrap().to_owned();
    // Answers after 3 s, hangs up 10 s later: 10 s recorded.
    advance(&s, 3_000).await;
    advance(&s, 10_000).await;
    let ev = wait_events(&rx, &id, 4).await;
    assert_eq!(types(&ev), ["call.initiated", "call.answered", "call.hangup", "call.recording.saved"]);
    let url = last(&ev)["recording_urls"]["wav"].as_str().unwrap().to_owned();
    assert!(url.ends_with(&format!("/_dialtone/recordings/{rid}.wav")), "{url}");
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap();
    assert_eq!(dialtone_domain::audio::duration_ms(&bytes), Some(10_000));
}
