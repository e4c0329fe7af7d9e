//! Voice against Dialtone: applications and connections with pages, a dialled call through
//! its commands, call control's errors, and the events those calls deliver, typed.

use crate::server::Dialtone;
use telnyx::Error;
use telnyx::voice::*;
use telnyx::webhooks::{CallDirection, CallState, EventKind, HangupCause, HangupSource, QueueLeaveReason};

#[tokio::test]
async fn applications_and_connections_round_trip_with_pages() {
    let d = Dialtone::start().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let app = d
            .client
            .call_control_applications()
            .create(
                CreateCallControlApplication::new(format!("app-{i}"), "https://example.com/hooks")
                    .webhook_timeout_secs(5i64)
                    .first_command_timeout(true),
            )
            .await
            .unwrap();
        assert_eq!(app.webhook_timeout_secs, Some(5));
        ids.push(app.id.unwrap());
    }
    let p = ListCallControlApplications::new().page_size(2);
    let page = d.client.call_control_applications().list(&p).await.unwrap();
    assert_eq!((page.data.len(), page.meta.unwrap().total_pages), (2, Some(2)));
    let all = d.client.call_control_applications().list_all(&p).collect_all().await.unwrap();
    assert_eq!(all.len(), 3);
    let named = d
        .client
        .call_control_applications()
        .list(&ListCallControlApplications::new().application_name_contains("app-1"))
        .await
        .unwrap();
    assert_eq!(named.data.len(), 1);
    let updated = d
        .client
        .call_control_applications()
        .update(&ids[0], UpdateCallControlApplication::new("renamed", "https://example.com/other"))
        .await
        .unwrap();
    assert_eq!(updated.application_name.as_deref(), Some("renamed"));
    let conns = d.client.connections().list_all(&ListConnections::new().page_size(1)).collect_all().await.unwrap();
    assert_eq!(conns.len(), 3);
    let conn = d.client.connections().retrieve(&ids[1]).await.unwrap();
    assert_eq!(conn.connection_name.as_deref(), Some("app-1"));
    d.client.call_control_applications().delete(&ids[2]).await.unwrap();
    let err = d.client.call_control_applications().retrieve(&ids[2]).await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
    // Missing required field in PATCH: the type system makes that impossible, so a bad
    // value stands in for the 422.
    let err = d
        .client
        .call_control_applications()
        .create(CreateCallControlApplication::new("x", "not a url"))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnprocessableEntity(_)), "{err:?}");
    assert!(err.errors()[0].source.as_ref().unwrap().pointer.as_deref().unwrap().contains("webhook_event_url"));
}

#[tokio::test]
async fn a_dialled_call_through_its_commands() {
    let d = Dialtone::start().await;
    let (url, got) = crate::webhooks::receiver().await;
    let app = d.client.call_control_applications().create(CreateCallControlApplication::new("ivr", url)).await.unwrap();
    let app_id = app.id.unwrap();
    let call = d
        .client
        .calls()
        .dial(Dial::new(app_id.clone(), "+15550200001", "+13125550100").client_state("c3RhcnQ=").timeout_secs(30i64))
        .await
        .unwrap();
    let id = call.call_control_id.clone().unwrap();
    assert!(call.call_leg_id.is_some());
    let c = d.client.calls();
    // Ringing: media commands are refused with 90034.
    let err = c.speak(&id, Speak::new("Hello there", "female")).await.unwrap_err();
    assert_eq!(err.code(), Some("90034"));
    d.advance(3).await;
    assert_eq!(c.retrieve(&id).await.unwrap().is_alive, Some(true));
    let active = d.client.connections().list_active_calls(&app_id, &ListActiveCalls::new()).await.unwrap();
    assert_eq!(active.data.len(), 1);
    // Answering an outgoing call is not a thing.
    assert_eq!(c.answer(&id, Answer::new()).await.unwrap_err().code(), Some("90423"));
    let ok = |r: CallCommand| assert_eq!(r.result.as_deref(), Some("ok"));
    ok(c.speak(&id, Speak::new("Hello there", "female").payload_type("text")).await.unwrap());
    ok(c.client_state_update(&id, ClientStateUpdate::new("bmV4dA==")).await.unwrap());
    ok(c.send_dtmf(&id, SendDtmf::new("1234")).await.unwrap());
    ok(c.send_sip_info(&id, SendSipInfo::new("application/json", "{}")).await.unwrap());
    ok(c.gather(&id, Gather::new().maximum_digits(4i64)).await.unwrap());
    ok(c.gather_stop(&id, GatherStop::new()).await.unwrap());
    ok(c.playback_stop(&id, PlaybackStop::new()).await.unwrap());
    let rec = c.record_start(&id, RecordStart::new("wav", "single")).await.unwrap();
    ok(rec.clone());
    ok(c.record_pause(&id, RecordPause::new()).await.unwrap());
    ok(c.record_resume(&id, RecordResume::new()).await.unwrap());
    ok(c.record_stop(&id, RecordStop::new()).await.unwrap());
    ok(c.fork_start(&id, ForkStart::new().rx("udp:127.0.0.1:9000")).await.unwrap());
    ok(c.fork_stop(&id, ForkStop::new()).await.unwrap());
    // Dialtone really opens the media stream: a local socket that accepts and never answers
    // the handshake keeps it opening (for 5 s) without any outside network.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ws = format!("ws://{}/s", silent.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = silent.accept().await {
            held.push(sock);
        }
    });
    ok(c.streaming_start(&id, StreamingStart::new().stream_url(ws)).await.unwrap());
    ok(c.streaming_stop(&id, StreamingStop::new()).await.unwrap());
    ok(c.siprec_start(&id, SiprecStart::new().connector_name("c1")).await.unwrap());
    ok(c.siprec_stop(&id, SiprecStop::new()).await.unwrap());
    ok(c.transcription_start(&id, TranscriptionStart::new()).await.unwrap());
    ok(c.transcription_stop(&id, TranscriptionStop::new()).await.unwrap());
    ok(c.suppression_start(&id, SuppressionStart::new()).await.unwrap());
    ok(c.suppression_stop(&id, SuppressionStop::new()).await.unwrap());
    ok(c.enqueue(&id, Enqueue::new("support")).await.unwrap());
    ok(c.leave_queue(&id, LeaveQueue::new()).await.unwrap());
    ok(c.ai_assistant_start(&id, AiAssistantStart::new()).await.unwrap());
    ok(c.ai_assistant_stop(&id, AiAssistantStop::new()).await.unwrap());
    ok(c.hangup(&id, Hangup::new()).await.unwrap());
    let ended = c.retrieve(&id).await.unwrap();
    assert_eq!(ended.is_alive, Some(false));
    assert_eq!(c.hangup(&id, Hangup::new()).await.unwrap_err().code(), Some("90018"));
    let err = c.retrieve("v3:unknown").await.unwrap_err();
    assert!(matches!(err, Error::UnprocessableEntity(_)), "{err:?}");
    assert_eq!(err.code(), Some("90015"));

    // The call's webhooks, each with its own variant and every enum value known; they
    // arrive in order, `call.hangup` last.
    let mut all = Vec::new();
    for _ in 0..500 {
        all = got.lock().unwrap().clone();
        if all.iter().any(|(_, b)| String::from_utf8_lossy(b).contains(r#""call.hangup""#)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let verifier = d.client.webhooks().unwrap();
    let mut types = Vec::new();
    for (h, body) in &all {
        verifier
            .verify(body, h["telnyx-signature-ed25519"].to_str().unwrap(), h["telnyx-timestamp"].to_str().unwrap())
            .unwrap();
        let ev = telnyx::Event::parse(body).unwrap();
        let shown = format!("{:?}", ev.kind);
        assert!(!matches!(ev.kind, EventKind::Unknown { .. }) && !shown.contains("Unknown("), "{shown}");
        types.push(ev.event_type().to_owned());
        match ev.kind {
            EventKind::CallInitiated(p) => {
                assert_eq!(p.call_control_id.as_deref(), Some(id.as_str()));
                assert_eq!(p.client_state.as_deref(), Some("c3RhcnQ="));
                assert_eq!(p.direction, Some(CallDirection::Outgoing));
                assert_eq!(p.state, Some(CallState::Bridging));
            }
            EventKind::CallAnswered(p) => assert_eq!(p.to.as_deref(), Some("+15550200001")),
            EventKind::CallEnqueued(p) => assert_eq!(p.queue.as_deref(), Some("support")),
            EventKind::CallDequeued(p) => assert_eq!(p.reason, Some(QueueLeaveReason::Leave)),
            EventKind::CallHangup(p) => {
                assert_eq!(p.hangup_cause, Some(HangupCause::NormalClearing));
                assert_eq!(p.hangup_source, Some(HangupSource::Caller));
                assert_eq!(p.state, Some(CallState::Hangup));
            }
            _ => {}
        }
    }
    for t in ["call.initiated", "call.answered", "call.enqueued", "call.dequeued", "call.hangup"] {
        assert!(types.iter().any(|x| x == t), "no {t} in {types:?}");
    }
}

#[tokio::test]
async fn bridge_transfer_and_refer() {
    let d = Dialtone::start().await;
    let app = d
        .client
        .call_control_applications()
        .create(CreateCallControlApplication::new("b", "https://example.com/h"))
        .await
        .unwrap();
    let app_id = app.id.unwrap();
    let c = d.client.calls();
    let a = c.dial(Dial::new(app_id.clone(), "+15550200001", "+13125550100")).await.unwrap().call_control_id.unwrap();
    let b = c.dial(Dial::new(app_id.clone(), "+15550200001", "+13125550100")).await.unwrap().call_control_id.unwrap();
    d.advance(3).await;
    assert_eq!(c.bridge(&a, Bridge::new(b.clone())).await.unwrap().result.as_deref(), Some("ok"));
    assert_eq!(c.refer(&b, Refer::new("sip:+15550200001@example.com")).await.unwrap().result.as_deref(), Some("ok"));
    let t = c.dial(Dial::new(app_id, "+15550200001", "+13125550100")).await.unwrap().call_control_id.unwrap();
    d.advance(3).await;
    assert_eq!(c.transfer(&t, Transfer::new("+15550200001")).await.unwrap().result.as_deref(), Some("ok"));
    let err = c.reject(&t, Reject::new("CALL_REJECTED")).await.unwrap_err();
    assert_eq!(err.status(), Some(422));
}

/// The commands an incoming call takes: answer, reject, and those the dialled call above
/// did not use (prompts with gathers, AI and relay sessions, supervisor role).
#[tokio::test]
async fn an_incoming_call_and_the_remaining_commands() {
    let d = Dialtone::start().await;
    let app = d
        .client
        .call_control_applications()
        .create(CreateCallControlApplication::new("in", "https://example.com/h"))
        .await
        .unwrap();
    let app_id = app.id.unwrap();
    let found = d
        .client
        .available_phone_numbers()
        .list(&telnyx::messaging::SearchPhoneNumbers::new().locality("Chicago").limit(1u32))
        .await
        .unwrap();
    let number = found[0].phone_number.clone().unwrap();
    d.client
        .number_orders()
        .create(telnyx::messaging::CreateNumberOrder::new().numbers(&[&number]).connection_id(app_id.clone()))
        .await
        .unwrap();
    d.advance(1).await;
    let ring = |from: &'static str| {
        let number = number.clone();
        let d = &d;
        async move {
            let v = d
                .sim(reqwest::Method::POST, "/_dialtone/sim/calls", serde_json::json!({"from": from, "to": number}))
                .await;
            v["data"]["call_control_id"].as_str().unwrap().to_owned()
        }
    };
    let c = d.client.calls();
    let rejected = ring("+13125550901").await;
    assert_eq!(c.reject(&rejected, Reject::new("USER_BUSY")).await.unwrap().result.as_deref(), Some("ok"));
    assert_eq!(c.retrieve(&rejected).await.unwrap().is_alive, Some(false));

    let id = ring("+13125550902").await;
    let ok = |r: CallCommand| assert_eq!(r.result.as_deref(), Some("ok"));
    ok(c.answer(&id, Answer::new().client_state("aGk=")).await.unwrap());
    ok(c.gather_using_speak(&id, GatherUsingSpeak::new("female", "Press one").maximum_digits(1i64)).await.unwrap());
    ok(c.gather_using_audio(&id, GatherUsingAudio::new().audio_url("http://127.0.0.1:9/none.wav")).await.unwrap());
    ok(c.playback_start(&id, PlaybackStart::new().audio_url("http://127.0.0.1:9/none.wav")).await.unwrap());
    ok(c.ai_assistant_start(&id, AiAssistantStart::new().greeting("hello")).await.unwrap());
    ok(c.ai_assistant_add_messages(
        &id,
        AiAssistantAddMessages::new().messages(vec![serde_json::json!({"role": "user", "content": "hi"})]),
    )
    .await
    .unwrap());
    let joined =
        c.ai_assistant_join(&id, AiAssistantJoin::new("conv-1", serde_json::json!({"id": "p1", "role": "user"}))).await;
    assert!(joined.is_ok() || joined.as_ref().unwrap_err().status() == Some(422), "{joined:?}");
    ok(c.ai_assistant_stop(&id, AiAssistantStop::new()).await.unwrap());
    ok(c.conversation_relay_start(&id, ConversationRelayStart::new().url("wss://example.com/relay")).await.unwrap());
    ok(c.conversation_relay_stop(&id, ConversationRelayStop::new()).await.unwrap());
    ok(c.gather_using_ai(&id, GatherUsingAi::new(serde_json::json!({"type": "object", "properties": {}})))
        .await
        .unwrap());
    let role = c.switch_supervisor_role(&id, SwitchSupervisorRole::new("barge")).await;
    assert!(role.is_ok() || role.as_ref().unwrap_err().status() == Some(422), "{role:?}");
    ok(c.hangup(&id, Hangup::new()).await.unwrap());
}

/// A dial repeated with the same `command_id` (what a retry sends) dials once; without one
/// given, each dial gets its own.
#[tokio::test]
async fn a_repeated_dial_with_one_command_id_dials_once() {
    let d = Dialtone::start().await;
    let app = d
        .client
        .call_control_applications()
        .create(CreateCallControlApplication::new("dedup", "https://example.com/h"))
        .await
        .unwrap();
    let app_id = app.id.unwrap();
    let dial = Dial::new(app_id.clone(), "+15550200001", "+13125550100").command_id("retry-1");
    let first = d.client.calls().dial(dial.clone()).await.unwrap();
    let again = d.client.calls().dial(dial).await.unwrap();
    assert_eq!(first.call_control_id, again.call_control_id);
    let other = d.client.calls().dial(Dial::new(app_id, "+15550200001", "+13125550100")).await.unwrap();
    assert_ne!(first.call_control_id, other.call_control_id);
}
