use super::*;
use crate::webhooks::Routing;

fn t0() -> DateTime<Utc> {
    "2030-01-01T00:00:00Z".parse().unwrap()
}

fn secs(s: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(s)
}

fn setup(peer: Option<&str>) -> Setup {
    Setup {
        ids: Ids::new(None),
        account_id: "acct".into(),
        connection_id: "123".into(),
        from: "+13125550001".into(),
        to: "+15550200001".into(),
        caller_id_name: None,
        routing: Routing { url: Some("https://app.example/hooks".into()), ..Routing::default() },
        tags: vec![],
        shaken_stir: false,
        peer: peer.map(str::to_owned),
    }
}

fn dial_req(v: Value) -> DialRequest {
    let mut b = json!({"connection_id": "123", "to": "+15550200001", "from": "+13125550001"});
    for (k, x) in v.as_object().unwrap() {
        b[k] = x.clone();
    }
    DialRequest::parse(&Body::from_value(b).unwrap()).unwrap()
}

fn dial(to_behaviour: Behaviour, req: Value) -> (Call, Outcome) {
    Call::dial(setup(None), &dial_req(req), Some(to_behaviour), t0())
}

fn incoming() -> (Call, Outcome) {
    Call::incoming(setup(None), Some(DEFAULT_GIVE_UP_SECS), None, t0())
}

fn types(out: &Outcome) -> Vec<&str> {
    out.events.iter().map(|e| e.event_type).collect()
}

fn hangup_of(out: &Outcome) -> (String, String, String) {
    let p = &out.events.iter().find(|e| e.event_type == "call.hangup").expect("a call.hangup").payload;
    (
        p["hangup_cause"].as_str().unwrap().into(),
        p["hangup_source"].as_str().unwrap().into(),
        p["sip_hangup_cause"].as_str().unwrap().into(),
    )
}

fn cmd(id: Option<&str>, state: Option<&str>) -> Command {
    Command { command_id: id.map(str::to_owned), client_state: state.map(str::to_owned) }
}

fn h(c: &str, s: &str, sip: &str) -> (String, String, String) {
    (c.into(), s.into(), sip.into())
}

#[test]
fn dial_rings_and_sets_the_far_end_and_timeout_timers() {
    let (call, out) = dial(far_end::DEFAULT, json!({"timeout_secs": 20, "client_state": "YWJj"}));
    assert_eq!(call.state, State::Ringing);
    assert_eq!(call.direction, Direction::Outgoing);
    assert_eq!(types(&out), ["call.initiated"]);
    let p = &out.events[0].payload;
    assert_eq!((p["direction"].as_str(), p["state"].as_str()), (Some("outgoing"), Some("bridging")));
    assert_eq!(p["client_state"], "YWJj");
    assert!(out.timers.contains(&(Timer::RingTimeout, secs(20))));
    assert!(out.timers.contains(&(Timer::FarAnswer, t0() + ms(far_end::RING_MS))));
    assert!(call.call_control_id.starts_with("v3:"));
    assert!(call.is_alive() && !call.is_answered());
}

#[test]
fn a_held_channel_is_given_back_once_when_the_call_ends() {
    let (mut call, _) = dial(far_end::DEFAULT, json!({}));
    assert!(!call.release_channel(), "a call that holds no channel gives none back");
    call.holds_channel = true;
    assert!(!call.release_channel(), "a live call keeps its channel");
    call.on_timer(Timer::FarAnswer, secs(3));
    assert!(!call.release_channel());
    call.hangup(&cmd(None, None), secs(5)).unwrap();
    assert!(call.release_channel());
    assert!(!call.holds_channel && !call.release_channel(), "given back only once");
}

#[test]
fn a_scripted_far_end_presses_its_own_digits_instead_of_a_magic_numbers() {
    let req = dial_req(json!({"to": "+15550200007"}));
    let mut s = setup(None);
    s.to = "+15550200007".into();
    let (mut magic, _) = Call::dial(s.clone(), &req, Some(far_end::DEFAULT), t0());
    let out = magic.on_timer(Timer::FarAnswer, secs(3));
    assert!(out.timers.iter().any(|(t, _)| matches!(t, Timer::FarPress { .. })));
    let (mut scripted, _) = Call::dial(s.clone(), &req, Some(far_end::DEFAULT), t0());
    scripted.far_scripted = true;
    let out = scripted.on_timer(Timer::FarAnswer, secs(3));
    assert!(!out.timers.iter().any(|(t, _)| matches!(t, Timer::FarPress { .. })), "the script presses nothing");
    let (mut scripted, _) = Call::dial(s, &req, Some(far_end::DEFAULT), t0());
    scripted.far_scripted = true;
    scripted.far_script_presses = Some((500, "9".into()));
    let out = scripted.on_timer(Timer::FarAnswer, secs(3));
    assert!(out.timers.contains(&(Timer::FarPress { seq: 1 }, secs(3) + ms(500))));
    assert_eq!(scripted.far_presses, [(1, "9".to_owned())]);
}

#[test]
fn far_end_answers_then_the_time_limit_ends_it() {
    let (mut call, _) = dial(far_end::DEFAULT, json!({"time_limit_secs": 60}));
    let out = call.on_timer(Timer::FarAnswer, secs(3));
    assert_eq!(types(&out), ["call.answered"]);
    assert_eq!(out.events[0].payload["state"], "answered");
    assert_eq!(call.state, State::Answered);
    assert_eq!(out.timers, [(Timer::TimeLimit, secs(63))]);
    // The ring timeout fires later: it no longer means anything.
    assert_eq!(call.on_timer(Timer::RingTimeout, secs(30)), Outcome::default());
    let out = call.on_timer(Timer::TimeLimit, secs(63));
    assert_eq!(hangup_of(&out), h("time_limit", "caller", "unspecified"));
    assert!(out.timers.contains(&(Timer::Expire, secs(63) + KEEP_ENDED)));
    assert_eq!(call.duration_secs(secs(500)), 63);
    assert!(call.on_timer(Timer::TimeLimit, secs(64)).events.is_empty(), "an ended call ignores its timers");
}

#[test]
fn far_end_refusals_end_the_ringing_with_their_causes() {
    for (b, want) in [
        (Behaviour::Busy { after_ms: 1000 }, h("user_busy", "callee", "486")),
        (Behaviour::Reject { after_ms: 3000 }, h("call_rejected", "callee", "603")),
        (Behaviour::Unreachable { after_ms: 500 }, h("not_found", "callee", "404")),
    ] {
        let (mut call, out) = dial(b.clone(), json!({}));
        assert!(out.timers.iter().any(|(t, _)| *t == Timer::FarRefuse), "{b:?}");
        let out = call.on_timer(Timer::FarRefuse, secs(1));
        assert_eq!(hangup_of(&out), want);
        assert_eq!(call.state, State::Ended);
        assert!(call.hangup.is_some() && call.end_time == Some(secs(1)));
    }
}

#[test]
fn no_answer_ends_at_the_timeout() {
    let (mut call, out) = dial(Behaviour::NoAnswer, json!({"timeout_secs": 15}));
    assert_eq!(out.timers, [(Timer::RingTimeout, secs(15))]);
    let out = call.on_timer(Timer::RingTimeout, secs(15));
    assert_eq!(hangup_of(&out), h("timeout", "caller", "487"));
}

#[test]
fn the_far_end_hangs_up_after_its_seconds() {
    let (mut call, _) = dial(far_end::behaviour("+15550210010"), json!({}));
    let out = call.on_timer(Timer::FarAnswer, secs(3));
    assert!(out.timers.contains(&(Timer::FarHangup, secs(13))));
    let out = call.on_timer(Timer::FarHangup, secs(13));
    assert_eq!(hangup_of(&out), h("normal_clearing", "callee", "unspecified"));
}

#[test]
fn answering_machine_detection_reports_after_the_answer() {
    let (mut call, _) = dial(far_end::behaviour("+15550200005"), json!({"answering_machine_detection": "detect"}));
    let out = call.on_timer(Timer::FarAnswer, secs(3));
    let (_, at) = out.timers.iter().find(|(t, _)| *t == Timer::MachineDetection).copied().unwrap();
    let out = call.on_timer(Timer::MachineDetection, at);
    assert_eq!(types(&out), ["call.machine.detection.ended"]);
    assert_eq!(out.events[0].payload["result"], "machine");
    let (mut call, _) = dial(far_end::DEFAULT, json!({"answering_machine_detection": "premium"}));
    call.on_timer(Timer::FarAnswer, secs(3));
    let out = call.on_timer(Timer::MachineDetection, secs(7));
    assert_eq!(types(&out), ["call.machine.premium.detection.ended"]);
    assert_eq!(out.events[0].payload["result"], "human_residence");
    let (mut call, _) = dial(far_end::DEFAULT, json!({}));
    assert!(!call.on_timer(Timer::FarAnswer, secs(3)).timers.iter().any(|(t, _)| *t == Timer::MachineDetection));
}

#[test]
fn hanging_up_an_outgoing_call_ringing_or_answered() {
    let (mut call, _) = dial(far_end::DEFAULT, json!({}));
    let out = call.hangup(&cmd(None, Some("Ynll")), secs(1)).unwrap();
    assert_eq!(hangup_of(&out), h("originator_cancel", "caller", "487"));
    assert_eq!(out.events[0].payload["client_state"], "Ynll", "the command's client_state is echoed");
    let e = call.hangup(&cmd(None, None), secs(2)).unwrap_err();
    assert_eq!((e.code, e.status()), (Code::CallEnded, 422));
    assert_eq!(e.body()["errors"][0]["code"], "90018");

    let (mut call, _) = dial(far_end::DEFAULT, json!({}));
    let answered = call.on_timer(Timer::FarAnswer, secs(3));
    assert!(!answered.cancel_timers, "a live call's timers stand");
    let out = call.hangup(&cmd(None, None), secs(10)).unwrap();
    assert_eq!(hangup_of(&out), h("normal_clearing", "caller", "unspecified"));
    assert_eq!(call.duration_secs(secs(99)), 10);
    // Ending voids the timers set before (the ring timeout, the time limit); the expiry is new.
    assert!(out.cancel_timers);
    assert_eq!(out.timers, [(Timer::Expire, secs(10) + KEEP_ENDED)]);
    // A timer that comes after the end changes nothing, and cancels nothing again.
    assert_eq!(call.on_timer(Timer::TimeLimit, secs(20)), Outcome::default());
}

#[test]
fn an_outgoing_call_cannot_be_answered_or_rejected() {
    let (mut call, _) = dial(far_end::DEFAULT, json!({}));
    assert_eq!(call.answer(&cmd(None, None), secs(1)).unwrap_err().code, Code::CallStateConflict);
    assert_eq!(call.reject(&cmd(None, None), "CALL_REJECTED", secs(1)).unwrap_err().code, Code::CallStateConflict);
    assert_eq!(call.state, State::Ringing, "a refused command changes nothing");
}

#[test]
fn incoming_is_parked_until_answered() {
    let (mut call, out) = incoming();
    assert_eq!(types(&out), ["call.initiated"]);
    assert_eq!(out.events[0].payload["state"], "parked");
    assert_eq!(out.events[0].payload["direction"], "incoming");
    assert_eq!(out.timers, [(Timer::CallerGivesUp, secs(DEFAULT_GIVE_UP_SECS))]);
    assert_eq!(call.require_answered().unwrap_err().code, Code::CallNotAnswered);
    let out = call.answer(&cmd(Some("c1"), Some("c3RhdGU=")), secs(2)).unwrap();
    assert_eq!(types(&out), ["call.answered"]);
    assert_eq!(out.events[0].payload["client_state"], "c3RhdGU=");
    assert_eq!(out.timers, [(Timer::TimeLimit, secs(2 + DEFAULT_TIME_LIMIT_SECS))]);
    assert!(out.peer.is_none());
    assert!(call.require_answered().is_ok());
    assert_eq!(call.answer(&cmd(None, None), secs(3)).unwrap_err().code, Code::CallStateConflict);
    assert_eq!(call.reject(&cmd(None, None), "USER_BUSY", secs(3)).unwrap_err().code, Code::CallStateConflict);
    assert!(call.on_timer(Timer::CallerGivesUp, secs(60)).events.is_empty(), "answered: the caller stays");
    let out = call.hangup(&cmd(None, None), secs(30)).unwrap();
    assert_eq!(hangup_of(&out), h("normal_clearing", "callee", "unspecified"));
    assert_eq!(out.events[0].payload["client_state"], "c3RhdGU=", "client_state persists");
}

#[test]
fn incoming_rejected_busy_or_hung_up_unanswered() {
    let (mut call, _) = incoming();
    let out = call.reject(&cmd(None, None), "CALL_REJECTED", secs(1)).unwrap();
    assert_eq!(hangup_of(&out), h("call_rejected", "callee", "603"));
    assert_eq!(call.answer(&cmd(None, None), secs(2)).unwrap_err().code, Code::CallEnded);
    let (mut call, _) = incoming();
    let out = call.reject(&cmd(None, None), "USER_BUSY", secs(1)).unwrap();
    assert_eq!(hangup_of(&out), h("user_busy", "callee", "486"));
    let (mut call, _) = incoming();
    let out = call.hangup(&cmd(None, None), secs(1)).unwrap();
    assert_eq!(hangup_of(&out), h("call_rejected", "callee", "603"));
}

#[test]
fn incoming_caller_gives_up_or_first_command_times_out() {
    let (mut call, _) = incoming();
    let out = call.on_timer(Timer::CallerGivesUp, secs(60));
    assert_eq!(hangup_of(&out), h("originator_cancel", "caller", "487"));
    let (mut call, out) = Call::incoming(setup(None), None, Some(10), t0());
    assert_eq!(out.timers, [(Timer::FirstCommand, secs(10))]);
    let out = call.on_timer(Timer::FirstCommand, secs(10));
    assert_eq!(hangup_of(&out), h("timeout", "callee", "unspecified"));
    // Answered in time: the first-command timer does nothing.
    let (mut call, _) = Call::incoming(setup(None), None, Some(10), t0());
    call.answer(&cmd(None, None), secs(5)).unwrap();
    assert!(call.on_timer(Timer::FirstCommand, secs(10)).events.is_empty());
}

#[test]
fn repeated_command_ids_within_a_minute_are_ignored() {
    let (mut call, _) = incoming();
    assert!(!call.is_repeat(&cmd(Some("a"), None), secs(0)));
    assert!(call.is_repeat(&cmd(Some("a"), None), secs(59)));
    assert!(!call.is_repeat(&cmd(Some("a"), None), secs(61)), "after a minute it counts again");
    assert!(!call.is_repeat(&cmd(Some("b"), None), secs(61)));
    assert!(!call.is_repeat(&cmd(None, None), secs(62)));
    assert!(!call.is_repeat(&cmd(None, None), secs(62)), "no command_id, no deduplication");
    // The dial's own command_id counts for the call's later commands.
    let (mut call, _) = dial(far_end::DEFAULT, json!({"command_id": "d1"}));
    assert!(call.is_repeat(&cmd(Some("d1"), None), secs(1)));
}

#[test]
fn linked_legs_tell_each_other() {
    // Outgoing leg A (no far end: its peer is the incoming leg B).
    let (mut a, out) = Call::dial(setup(Some("B")), &dial_req(json!({})), None, t0());
    assert_eq!(out.timers.len(), 1, "only the ring timeout");
    let (mut b, _) = Call::incoming(setup(Some("A")), None, None, t0());
    let out = b.answer(&cmd(None, None), secs(2)).unwrap();
    assert_eq!(out.peer, Some(PeerSignal::Answered));
    let out = a.on_peer(&PeerSignal::Answered, secs(2));
    assert_eq!(types(&out), ["call.answered"]);
    let out = b.hangup(&cmd(None, None), secs(9)).unwrap();
    let signal = out.peer.clone().unwrap();
    let out = a.on_peer(&signal, secs(9));
    assert_eq!(hangup_of(&out), h("normal_clearing", "callee", "unspecified"));
    assert!(out.peer.is_none(), "the echo stops here");

    // B rejects: A sees the rejection.
    let (mut a, _) = Call::dial(setup(Some("B")), &dial_req(json!({})), None, t0());
    let (mut b, _) = Call::incoming(setup(Some("A")), None, None, t0());
    let out = b.reject(&cmd(None, None), "USER_BUSY", secs(1)).unwrap();
    assert_eq!(hangup_of(&a.on_peer(&out.peer.unwrap(), secs(1))), h("user_busy", "callee", "486"));

    // A times out ringing: B sees the caller cancel.
    let (mut a, _) = Call::dial(setup(Some("B")), &dial_req(json!({"timeout_secs": 10})), None, t0());
    let (mut b, _) = Call::incoming(setup(Some("A")), None, None, t0());
    let out = a.on_timer(Timer::RingTimeout, secs(10));
    assert_eq!(hangup_of(&out), h("timeout", "caller", "487"));
    let out = b.on_peer(&out.peer.unwrap(), secs(10));
    assert_eq!(hangup_of(&out), h("originator_cancel", "caller", "487"));

    // B's application never answers (first command timeout): A sees no answer.
    let (mut a, _) = Call::dial(setup(Some("B")), &dial_req(json!({})), None, t0());
    let (mut b, _) = Call::incoming(setup(Some("A")), None, Some(5), t0());
    let out = b.on_timer(Timer::FirstCommand, secs(5));
    assert_eq!(hangup_of(&a.on_peer(&out.peer.unwrap(), secs(5))), h("no_answer", "callee", "480"));
}

#[test]
fn payloads_have_the_spec_fields() {
    let mut s = setup(None);
    s.shaken_stir = true;
    s.tags = vec!["vip".into()];
    s.caller_id_name = Some("Ada".into());
    let (mut call, out) = Call::incoming(s, None, None, t0());
    let p = &out.events[0].payload;
    for f in ["call_control_id", "call_leg_id", "call_session_id", "connection_id", "from", "to", "start_time"] {
        assert!(p[f].is_string(), "{f} in {p}");
    }
    assert_eq!(p["caller_id_name"], "Ada");
    assert_eq!(p["tags"], json!(["vip"]));
    assert_eq!(p["shaken_stir_attestation"], "A");
    assert!(p.get("client_state").is_none(), "no client_state, no field");
    call.answer(&cmd(None, None), secs(1)).unwrap();
    let j = call.to_json(secs(5));
    assert_eq!((j["is_alive"].as_bool(), j["call_duration"].as_i64()), (Some(true), Some(5)));
    assert!(j.get("end_time").is_none());
    call.hangup(&cmd(None, None), secs(7)).unwrap();
    let j = call.to_json(secs(20));
    assert_eq!((j["is_alive"].as_bool(), j["call_duration"].as_i64()), (Some(false), Some(7)));
    assert!(j["end_time"].is_string());
    assert_eq!(call.to_dial_json(secs(20), Some("r"))["recording_id"], "r");
    assert_eq!(call.to_active_json(secs(20))["client_state"], "");
    assert_eq!(Call::from_value(&call.to_value()), Some(call));
}

#[test]
fn dial_requests_are_checked_with_pointers() {
    let parse = |v: Value| DialRequest::parse(&Body::from_value(v).unwrap());
    let ok = json!({"connection_id": "1", "to": "+15550200001", "from": "+13125550001"});
    let with = |k: &str, v: Value| {
        let mut b = ok.clone();
        b[k] = v;
        parse(b)
    };
    let err = |k: &str, v: Value| with(k, v).unwrap_err();
    assert_eq!(parse(json!({"to": "+1555", "from": "+1312"})).unwrap_err().pointer.as_deref(), Some("/connection_id"));
    let e = err("to", json!("5551234"));
    assert_eq!((e.code, e.pointer.as_deref()), (Code::NotE164, Some("/to")));
    assert_eq!(err("to", json!("")).code, Code::MissingParameter);
    assert_eq!(err("to", json!(["+15550200001", "+15550200002"])).pointer.as_deref(), Some("/to"));
    assert_eq!(with("to", json!(["sip:alice@example.com"])).unwrap().to, "sip:alice@example.com");
    let r = with("to", json!("+18005550100,200#")).unwrap();
    assert_eq!((r.to.as_str(), r.send_digits.as_deref()), ("+18005550100", Some("200#")));
    assert_eq!(err("to", json!("+18005550100,abc")).pointer.as_deref(), Some("/to"));
    assert_eq!(err("from", json!("anonymous")).pointer.as_deref(), Some("/from"));
    let e = err("timeout_secs", json!(4));
    assert_eq!((e.code, e.pointer.as_deref()), (Code::OutOfRange, Some("/timeout_secs")));
    assert_eq!(err("time_limit_secs", json!(14_401)).code, Code::OutOfRange);
    let e = err("answering_machine_detection", json!("maybe"));
    assert_eq!((e.code, e.pointer.as_deref()), (Code::InvalidEnum, Some("/answering_machine_detection")));
    assert_eq!(err("record_channels", json!("triple")).body()["errors"][0]["code"], "10032");
    assert_eq!(err("client_state", json!("not base64!")).pointer.as_deref(), Some("/client_state"));
    let e = err("media_encryption", json!("SRTP"));
    assert_eq!((e.body()["errors"][0]["code"].as_str(), e.status()), (Some("10011"), 422));
    assert!(with("media_encryption", json!("SRTP")).is_err());
    let mut sip = ok.clone();
    sip["to"] = json!("sip:bob@example.com;secure=srtp");
    sip["media_encryption"] = json!("SRTP");
    assert!(parse(sip).is_ok());
    let r = parse(ok.clone()).unwrap();
    assert_eq!((r.timeout_secs, r.time_limit_secs), (DEFAULT_TIMEOUT_SECS, DEFAULT_TIME_LIMIT_SECS));
    assert!(is_destination("sips:x@y.z") && !is_destination("sip:nobody") && !is_destination("+0123"));
}

#[test]
fn the_far_end_hangs_up_on_demand() {
    let (mut call, _) = incoming();
    assert_eq!(hangup_of(&call.far_hangup(secs(1)).unwrap()), h("originator_cancel", "caller", "487"));
    assert_eq!(call.far_hangup(secs(2)).unwrap_err().code, Code::CallEnded);
    let (mut call, _) = incoming();
    call.answer(&cmd(None, None), secs(1)).unwrap();
    assert_eq!(hangup_of(&call.far_hangup(secs(4)).unwrap()), h("normal_clearing", "caller", "unspecified"));
    let (mut call, _) = dial(Behaviour::NoAnswer, json!({}));
    assert_eq!(hangup_of(&call.far_hangup(secs(4)).unwrap()), h("call_rejected", "callee", "603"));
}

fn answered() -> Call {
    let (mut c, _) = dial(far_end::DEFAULT, json!({}));
    c.on_timer(Timer::FarAnswer, secs(3));
    c
}

fn req(action: &str, v: Value) -> Request {
    Request::parse(action, &Body::from_value(v).unwrap()).unwrap()
}

fn req_err(action: &str, v: Value) -> (String, String) {
    let e = Request::parse(action, &Body::from_value(v).unwrap()).unwrap_err();
    (e.error_object()["code"].as_str().unwrap().to_owned(), e.pointer.clone().unwrap_or_default())
}

fn timer_at(out: &Outcome) -> (Timer, DateTime<Utc>) {
    *out.timers.last().expect("a timer")
}

#[test]
fn small_commands_check_the_call_state() {
    let (mut ringing, _) = dial(far_end::DEFAULT, json!({}));
    let out =
        ringing.command(&cmd(None, Some("bmV3")), req("client_state_update", json!({"client_state": "bmV3"})), t0());
    assert_eq!(out.unwrap(), Outcome::default());
    assert_eq!(ringing.client_state.as_deref(), Some("bmV3"));
    let e = ringing.command(&cmd(None, None), req("send_dtmf", json!({"digits": "12"})), t0()).unwrap_err();
    assert_eq!(e.error_object()["code"], "90034");
    let mut c = answered();
    assert!(c.command(&cmd(None, None), req("send_dtmf", json!({"digits": "1w2#"})), secs(4)).is_ok());
    let sip = req("send_sip_info", json!({"content_type": "application/json", "body": "{}"}));
    assert!(c.command(&cmd(None, None), sip.clone(), secs(4)).is_ok());
    c.hangup(&cmd(None, None), secs(5)).unwrap();
    let e = c.command(&cmd(None, None), sip, secs(6)).unwrap_err();
    assert_eq!(e.error_object()["code"], "90018");
    assert_eq!(req_err("send_dtmf", json!({})), ("10004".into(), "/digits".into()));
    assert_eq!(req_err("send_dtmf", json!({"digits": "12x"})), ("10015".into(), "/digits".into()));
    assert_eq!(req_err("send_dtmf", json!({"digits": "1", "duration_millis": 50})).1, "/duration_millis");
    assert_eq!(req_err("send_sip_info", json!({"content_type": "text"})).1, "/content_type");
    assert_eq!(req_err("client_state_update", json!({})).1, "/client_state");
}

#[test]
fn speak_lasts_its_text_at_the_speaking_rate() {
    let mut c = answered();
    let text = "x".repeat(45);
    let out = c.command(&cmd(None, None), req("speak", json!({"payload": text, "voice": "female"})), secs(10)).unwrap();
    assert_eq!(types(&out), ["call.speak.started"]);
    let (timer, due) = timer_at(&out);
    assert_eq!(due, secs(13), "45 characters at 15 a second");
    let out = c.on_timer(timer, due);
    assert_eq!(types(&out), ["call.speak.ended"]);
    assert_eq!(out.events[0].payload["status"], "completed");
    assert_eq!(c.on_timer(timer, due), Outcome::default(), "once");
    // SSML tags are not spoken; a hang-up ends the speech first.
    let out = c
        .command(
            &cmd(None, None),
            req("speak", json!({"payload": "<speak>hi</speak>", "payload_type": "ssml", "voice": "male"})),
            secs(20),
        )
        .unwrap();
    assert_eq!(timer_at(&out).1, secs(21), "at least a second");
    let out = c.hangup(&cmd(None, None), secs(20)).unwrap();
    assert_eq!(types(&out), ["call.speak.ended", "call.hangup"]);
    assert_eq!(out.events[0].payload["status"], "call_hangup");
    assert_eq!(req_err("speak", json!({"payload": "hi"})).1, "/voice");
    assert_eq!(req_err("speak", json!({"voice": "male", "payload": "a".repeat(3001)})).1, "/payload");
}

#[test]
fn playbacks_queue_loop_stop_and_fail() {
    let mut c = answered();
    let mut p = match req("playback_start", json!({"audio_url": "http://a.example/x.wav", "loop": 2})) {
        Request::Playback(p) => p,
        other => panic!("{other:?}"),
    };
    p.length = Some(Ok(1_500));
    let out = c.command(&cmd(None, None), Request::Playback(p.clone()), secs(10)).unwrap();
    assert_eq!(types(&out), ["call.playback.started"]);
    assert_eq!(out.events[0].payload["media_url"], "http://a.example/x.wav");
    let (first, due) = timer_at(&out);
    assert_eq!(due, secs(13), "two loops of 1.5 s");
    // A second one waits its turn, then plays.
    let out = c.command(&cmd(None, None), Request::Playback(p.clone()), secs(11)).unwrap();
    assert!(out.events.is_empty());
    let out = c.on_timer(first, due);
    assert_eq!(types(&out), ["call.playback.ended", "call.playback.started"]);
    // playback_stop cancels it.
    let out = c.command(&cmd(None, None), req("playback_stop", json!({})), secs(14)).unwrap();
    assert_eq!(types(&out), ["call.playback.ended"]);
    assert_eq!(out.events[0].payload["status"], "cancelled");
    // Audio that could not be had ends at once, with why.
    p.length = Some(Err(("file_not_found", "404 from the server".into())));
    let out = c.command(&cmd(None, None), Request::Playback(p), secs(15)).unwrap();
    assert_eq!(types(&out), ["call.playback.ended"]);
    assert_eq!(out.events[0].payload["status"], "file_not_found");
    assert!(c.media.is_empty());
    assert_eq!(req_err("playback_start", json!({})).1, "/audio_url");
    assert_eq!(req_err("playback_start", json!({"audio_url": "ftp://x/y.mp3"})).1, "/audio_url");
    assert_eq!(req_err("playback_start", json!({"media_name": "greeting"})).1, "/media_name");
    assert_eq!(req_err("playback_start", json!({"audio_url": "http://a.example/x", "loop": 0})).1, "/loop");
}

fn gather_status(out: &Outcome) -> (String, String) {
    let p = &out.events.iter().find(|e| e.event_type == "call.gather.ended").expect("call.gather.ended").payload;
    (p["status"].as_str().unwrap().into(), p["digits"].as_str().unwrap().into())
}

#[test]
fn gathers_end_valid_invalid_on_timeout_or_when_stopped() {
    let mut c = answered();
    c.command(&cmd(None, None), req("gather", json!({"minimum_digits": 2, "maximum_digits": 4})), secs(10)).unwrap();
    let out = c.far_dtmf("12#", secs(11)).unwrap();
    assert_eq!(types(&out), ["call.dtmf.received", "call.dtmf.received", "call.dtmf.received", "call.gather.ended"]);
    assert_eq!(out.events[0].payload["digit"], "1");
    assert_eq!(gather_status(&out), ("valid".into(), "12".into()));
    // Too few digits before the terminating one.
    c.command(&cmd(None, None), req("gather", json!({"minimum_digits": 2})), secs(20)).unwrap();
    assert_eq!(gather_status(&c.far_dtmf("1#", secs(21)).unwrap()), ("invalid".into(), "1".into()));
    // The maximum ends it; a digit outside valid_digits makes it invalid.
    c.command(&cmd(None, None), req("gather", json!({"maximum_digits": 3, "valid_digits": "123"})), secs(30)).unwrap();
    assert_eq!(gather_status(&c.far_dtmf("124", secs(31)).unwrap()), ("invalid".into(), "124".into()));
    // No digit within the initial timeout.
    let out = c.command(&cmd(None, None), req("gather", json!({"initial_timeout_millis": 2000})), secs(40)).unwrap();
    let (t, due) = timer_at(&out);
    assert_eq!(due, secs(42));
    assert_eq!(gather_status(&c.on_timer(t, due)), ("timeout".into(), String::new()));
    // The inter-digit timeout ends it with what came.
    c.command(&cmd(None, None), req("gather", json!({"inter_digit_timeout_millis": 3000})), secs(50)).unwrap();
    let out = c.far_dtmf("7", secs(51)).unwrap();
    let (t, due) = timer_at(&out);
    assert_eq!(due, secs(54));
    let out = c.on_timer(Timer::GatherCheck { seq: c.gather.as_ref().unwrap().seq }, secs(53));
    assert!(out.events.is_empty(), "an older deadline does not end it");
    assert_eq!(gather_status(&c.on_timer(t, due)), ("valid".into(), "7".into()));
    // gather_stop cancels; a hang-up ends it with call_hangup.
    c.command(&cmd(None, None), req("gather", json!({})), secs(60)).unwrap();
    c.far_dtmf("9", secs(61)).unwrap();
    let out = c.command(&cmd(None, None), Request::GatherStop, secs(62)).unwrap();
    assert_eq!(gather_status(&out), ("cancelled".into(), "9".into()));
    c.command(&cmd(None, None), req("gather", json!({})), secs(70)).unwrap();
    let out = c.hangup(&cmd(None, None), secs(71)).unwrap();
    assert_eq!(types(&out), ["call.gather.ended", "call.hangup"]);
    assert_eq!(gather_status(&out).0, "call_hangup");
    assert_eq!(req_err("gather", json!({"minimum_digits": 5, "maximum_digits": 2})).1, "/minimum_digits");
    assert_eq!(req_err("gather", json!({"terminating_digit": "##"})).1, "/terminating_digit");
    assert_eq!(req_err("gather", json!({"valid_digits": "12x"})).1, "/valid_digits");
    assert_eq!(req_err("gather", json!({"maximum_digits": 0})).0, "10033");
}

#[test]
fn gather_using_speak_waits_after_its_prompt_and_a_digit_interrupts_it() {
    let mut c = answered();
    let body = json!({"payload": "x".repeat(30), "voice": "female", "timeout_millis": 4000});
    let out = c.command(&cmd(None, None), req("gather_using_speak", body.clone()), secs(10)).unwrap();
    assert_eq!(types(&out), ["call.speak.started"]);
    let (t, due) = timer_at(&out);
    assert_eq!(due, secs(12));
    let out = c.on_timer(t, due);
    assert_eq!(types(&out), ["call.speak.ended"]);
    let (t, due) = timer_at(&out);
    assert_eq!(due, secs(16), "timeout_millis after the prompt");
    assert_eq!(gather_status(&c.on_timer(t, due)), ("timeout".into(), String::new()));
    // A digit during the prompt stops it.
    c.command(&cmd(None, None), req("gather_using_speak", body), secs(20)).unwrap();
    let out = c.far_dtmf("5", secs(21)).unwrap();
    assert_eq!(types(&out), ["call.dtmf.received", "call.speak.ended"]);
    assert!(c.media.is_empty());
    assert_eq!(gather_status(&c.far_dtmf("#", secs(22)).unwrap()), ("valid".into(), "5".into()));
}

#[test]
fn bridged_calls_tell_each_other_and_end_together() {
    let mut a = answered();
    let mut b = answered();
    let b_id = b.call_control_id.clone();
    let a_id = a.call_control_id.clone();
    assert_eq!(
        a.bridge(&cmd(None, None), &a_id, false, secs(5)).unwrap_err().pointer.as_deref(),
        Some("/call_control_id")
    );
    b.bridgeable().unwrap();
    let out = a.bridge(&cmd(None, Some("YnI=")), &b_id, false, secs(5)).unwrap();
    assert_eq!(types(&out), ["call.bridged"]);
    assert_eq!(out.link, Some((b_id.clone(), Link::Bridge)));
    let out_b = b.on_link(&a_id, &Link::Bridge, secs(5));
    assert_eq!(types(&out_b), ["call.bridged"]);
    assert_eq!(b.state, State::Bridged { with: a_id.clone() });
    assert!(b.bridgeable().is_err());
    assert_eq!(a.bridge(&cmd(None, None), &b_id, false, secs(5)).unwrap_err().error_object()["code"], "90423");
    // A hangs up: B, not parked, hangs up with it.
    let out = a.hangup(&cmd(None, None), secs(10)).unwrap();
    assert_eq!(out.link, Some((b_id.clone(), Link::Unbridged)));
    let out_b = b.on_link(&a_id, &Link::Unbridged, secs(10));
    assert_eq!(hangup_of(&out_b), h("normal_clearing", "callee", "unspecified"));
    // With park_after_unbridge the other leg stays up.
    let (mut c, mut d) = (answered(), answered());
    let d_id = d.call_control_id.clone();
    let c_id = c.call_control_id.clone();
    c.bridge(&cmd(None, None), &d_id, true, secs(5)).unwrap();
    d.park_after_unbridge = true;
    d.on_link(&c_id, &Link::Bridge, secs(5));
    c.hangup(&cmd(None, None), secs(6)).unwrap();
    assert_eq!(d.on_link(&c_id, &Link::Unbridged, secs(6)), Outcome::default());
    assert_eq!(d.state, State::Answered);
}

#[test]
fn a_transfer_leg_bridges_on_answer_or_ends_the_original() {
    let mut a = answered();
    a.transfer(&cmd(None, None), false).unwrap();
    let (mut t, _) = dial(far_end::DEFAULT, json!({}));
    t.transfer_of = Some(a.call_control_id.clone());
    let out = t.on_timer(Timer::FarAnswer, secs(3));
    assert_eq!(types(&out), ["call.answered", "call.bridged"]);
    assert_eq!(out.link, Some((a.call_control_id.clone(), Link::Bridge)));
    assert_eq!(types(&a.on_link(&t.call_control_id, &Link::Bridge, secs(3))), ["call.bridged"]);
    // Unanswered: the original leg ends.
    let mut a = answered();
    let (mut t, _) = dial(Behaviour::Busy { after_ms: 1000 }, json!({}));
    t.transfer_of = Some(a.call_control_id.clone());
    let out = t.on_timer(Timer::FarRefuse, secs(1));
    assert_eq!(out.link, Some((a.call_control_id.clone(), Link::TransferFailed)));
    assert_eq!(hangup_of(&a.on_link(&t.call_control_id, &Link::TransferFailed, secs(1))).0, "normal_clearing");
}

#[test]
fn refer_reports_what_the_far_end_answers() {
    let mut a = answered();
    let out = a.refer(&cmd(None, None), "sip:+15550200002@example.com", secs(5)).unwrap();
    assert_eq!(types(&out), ["call.refer.started"]);
    assert!(a.refer(&cmd(None, None), "sip:x@example.com", secs(5)).is_err(), "one at a time");
    let (t, due) = timer_at(&out);
    let out = a.on_timer(t, due);
    assert_eq!(types(&out), ["call.refer.failed"]);
    assert_eq!(out.events[0].payload["sip_notify_response"], 486);
    let out = a.refer(&cmd(None, None), "sip:bob@example.com", secs(10)).unwrap();
    let (t, due) = timer_at(&out);
    let out = a.on_timer(t, due);
    assert_eq!(types(&out), ["call.refer.completed", "call.hangup"]);
    assert_eq!(hangup_of(&out), h("normal_clearing", "callee", "unspecified"));
}

#[test]
fn recordings_pause_resume_and_are_saved_on_stop_or_hang_up() {
    let mut c = answered();
    let rq = RecordRequest::parse(&Body::from_value(json!({"format": "wav", "channels": "single"})).unwrap()).unwrap();
    let e = c.record_stop(&cmd(None, None), None, secs(4)).unwrap_err();
    assert_eq!(e.error_object()["code"], "90423");
    assert_eq!(c.record_start(&cmd(None, None), &rq, "r1", "http://h:1/", secs(10)).unwrap(), Outcome::default());
    assert!(c.record_start(&cmd(None, None), &rq, "r2", "http://h:1", secs(10)).is_err());
    c.record_pause(&cmd(None, None), None, false, secs(12)).unwrap();
    assert!(c.record_pause(&cmd(None, None), None, false, secs(13)).is_err());
    c.far_dtmf("1", secs(14)).unwrap(); // paused: not recorded
    assert_eq!(
        c.record_pause(&cmd(None, None), Some("other"), true, secs(15)).unwrap_err().pointer.as_deref(),
        Some("/recording_id")
    );
    c.record_pause(&cmd(None, None), Some("r1"), true, secs(15)).unwrap();
    c.far_dtmf("12", secs(16)).unwrap();
    let out = c.record_stop(&cmd(None, None), None, secs(20)).unwrap();
    assert_eq!(types(&out), ["call.recording.saved"]);
    let p = &out.events[0].payload;
    assert_eq!(p["recording_urls"]["wav"], "http://h:1/_dialtone/recordings/r1.wav");
    assert_eq!(p["public_recording_urls"], p["recording_urls"]);
    assert_eq!((p["channels"].as_str(), p["recording_started_at"].is_string()), (Some("single"), true));
    let saved = &out.recordings[0];
    assert_eq!(saved.duration_ms, 7_000, "10 s less 3 s paused");
    assert_eq!(saved.tones, vec![(3_000, 3_250), (3_250, 3_500)]);
    assert_eq!(crate::audio::duration_ms(&saved.wav(&crate::audio::Clips::new())), Some(7_000));
    // A hang-up saves a running recording after call.hangup.
    c.record_start(&cmd(None, None), &rq, "r3", "http://h:1", secs(30)).unwrap();
    let out = c.hangup(&cmd(None, None), secs(40)).unwrap();
    assert_eq!(types(&out), ["call.hangup", "call.recording.saved"]);
    assert_eq!(out.recordings[0].duration_ms, 10_000);
    assert!(RecordRequest::parse(&Body::from_value(json!({"format": "wav"})).unwrap()).is_err());
}

fn service_req(action: &str, v: Value) -> ServiceRequest {
    ServiceRequest::parse(action, &Body::from_value(v).unwrap()).unwrap()
}

#[test]
fn services_start_stop_and_stop_with_the_call() {
    let mut c = answered();
    let start = service_req("streaming_start", json!({"stream_url": "wss://media.example/s"}));
    let out = c.service(&cmd(None, None), &start).unwrap();
    assert_eq!(types(&out), ["streaming.started"]);
    assert_eq!(out.events[0].payload["stream_url"], "wss://media.example/s");
    assert_eq!(c.service(&cmd(None, None), &start).unwrap_err().error_object()["code"], "90423");
    let stop = service_req("suppression_stop", json!({}));
    assert_eq!(c.service(&cmd(None, None), &stop).unwrap_err().error_object()["code"], "90423");
    let out = c.service(&cmd(None, None), &service_req("suppression_start", json!({"direction": "both"}))).unwrap();
    assert!(out.events.is_empty(), "noise suppression has no webhooks");
    c.service(&cmd(None, None), &service_req("siprec_start", json!({"connector_name": "rec"}))).unwrap();
    let out = c.hangup(&cmd(None, None), secs(9)).unwrap();
    assert_eq!(types(&out), ["streaming.stopped", "siprec.stopped", "call.hangup"]);
    assert_eq!(out.events[1].payload["hangup_cause"], "normal_clearing");
    let bad = |a: &str, v: Value| ServiceRequest::parse(a, &Body::from_value(v).unwrap()).unwrap_err().pointer;
    assert_eq!(bad("streaming_start", json!({"stream_url": "http://x"})).as_deref(), Some("/stream_url"));
    assert_eq!(bad("fork_start", json!({})).as_deref(), Some("/rx"));
    assert_eq!(bad("fork_start", json!({"rx": "udp:1.2.3.4"})).as_deref(), Some("/rx"));
    assert_eq!(bad("siprec_start", json!({})).as_deref(), Some("/connector_name"));
}

#[test]
fn a_media_stream_opens_hears_digits_and_closes_with_the_call() {
    let mut c = answered();
    let start = service_req(
        "streaming_start",
        json!({"stream_url": "ws://127.0.0.1:9/s", "stream_track": "both_tracks", "stream_codec": "PCMA",
               "stream_bidirectional_mode": "rtp"}),
    );
    let out = c.service(&cmd(None, None), &start).unwrap();
    let spec = c.stream().cloned().expect("a running stream");
    assert_eq!((spec.track.as_str(), spec.codec.as_deref()), ("both_tracks", Some("PCMA")));
    assert_eq!(spec.bidirectional_mode.as_deref(), Some("rtp"));
    let id = spec.stream_id.clone();
    assert_eq!(out.streams, vec![StreamOp::Open { stream_id: id.clone() }]);
    let out = c.far_dtmf("12", secs(5)).unwrap();
    assert_eq!(out.streams, vec![StreamOp::Dtmf { stream_id: id.clone(), digits: "12".into() }]);
    let out = c.hangup(&cmd(None, None), secs(9)).unwrap();
    assert_eq!(types(&out), ["streaming.stopped", "call.hangup"]);
    assert_eq!(out.streams, vec![StreamOp::Close { stream_id: id.clone() }]);
    assert!(c.stream().is_none());
}

#[test]
fn streaming_stop_closes_and_a_failed_stream_says_why() {
    let mut c = answered();
    let start = service_req("streaming_start", json!({"stream_url": "wss://media.example/s"}));
    c.service(&cmd(None, None), &start).unwrap();
    let id = c.stream().unwrap().stream_id.clone();
    assert_eq!(c.stream().unwrap().track, "inbound_track", "Telnyx's default track");
    let out = c.service(&cmd(None, None), &service_req("streaming_stop", json!({}))).unwrap();
    assert_eq!(types(&out), ["streaming.stopped"]);
    assert_eq!(out.streams, vec![StreamOp::Close { stream_id: id.clone() }]);
    // Started again, then the socket cannot be opened.
    c.service(&cmd(None, None), &start).unwrap();
    let id = c.stream().unwrap().stream_id.clone();
    let out = c.stream_ended(&id, Some("connection_failed"));
    assert_eq!(types(&out), ["streaming.failed"]);
    let p = &out.events[0].payload;
    assert_eq!(p["failure_reason"], "connection_failed");
    assert_eq!(p["stream_id"], id.as_str());
    assert_eq!(p["stream_type"], "websocket");
    assert_eq!(p["stream_params"], json!({"stream_url": "wss://media.example/s", "track": "inbound_track"}));
    assert!(out.streams.is_empty() && c.stream().is_none());
    assert_eq!(c.stream_ended(&id, None), Outcome::default(), "an ended stream ends once");
    let bad = |v: Value| ServiceRequest::parse("streaming_start", &Body::from_value(v).unwrap()).unwrap_err().pointer;
    assert_eq!(bad(json!({"stream_url": "ws://x", "stream_codec": "GSM"})).as_deref(), Some("/stream_codec"));
    assert_eq!(bad(json!({})).as_deref(), Some("/stream_url"));
}

#[test]
fn stream_url_on_dial_streams_from_the_answer() {
    let (mut c, out) =
        dial(far_end::DEFAULT, json!({"stream_url": "ws://127.0.0.1:9/d", "stream_track": "outbound_track"}));
    assert!(out.streams.is_empty(), "nothing streams while it rings");
    let out = c.on_timer(Timer::FarAnswer, secs(3));
    assert_eq!(types(&out), ["call.answered", "streaming.started"]);
    assert_eq!(out.events[1].payload["stream_url"], "ws://127.0.0.1:9/d");
    let spec = c.stream().unwrap();
    assert_eq!(spec.track, "outbound_track");
    assert_eq!(out.streams, vec![StreamOp::Open { stream_id: spec.stream_id.clone() }]);
}

#[test]
fn queues_enqueue_leave_time_out_and_end() {
    let mut c = answered();
    let out = c.enqueue(&cmd(None, None), "support", 2, Some(60), secs(10)).unwrap();
    assert_eq!(types(&out), ["call.enqueued"]);
    assert_eq!(
        (out.events[0].payload["queue"].as_str(), out.events[0].payload["current_position"].as_i64()),
        (Some("support"), Some(2))
    );
    assert!(c.enqueue(&cmd(None, None), "support", 2, None, secs(10)).is_err());
    let (t, due) = timer_at(&out);
    let out = c.on_timer(t, due);
    assert_eq!(
        (out.events[0].payload["reason"].as_str(), out.events[0].payload["wait_time_secs"].as_i64()),
        (Some("timeout"), Some(60))
    );
    assert_eq!(c.leave_queue(&cmd(None, None), secs(80)).unwrap_err().error_object()["code"], "90423");
    c.enqueue(&cmd(None, None), "support", 1, None, secs(80)).unwrap();
    let out = c.leave_queue(&cmd(None, None), secs(85)).unwrap();
    assert_eq!(out.events[0].payload["reason"], "leave");
    c.enqueue(&cmd(None, None), "support", 1, None, secs(90)).unwrap();
    let out = c.hangup(&cmd(None, None), secs(95)).unwrap();
    assert_eq!(types(&out), ["call.dequeued", "call.hangup"]);
    assert_eq!(out.events[0].payload["reason"], "hangup");
}

#[test]
fn the_pressing_destination_presses_its_digits_after_the_answer() {
    let (mut c, _) = Call::dial(
        Setup { to: "+15550200007".into(), ..setup(None) },
        &dial_req(json!({"to": "+15550200007"})),
        Some(far_end::behaviour("+15550200007")),
        t0(),
    );
    let out = c.on_timer(Timer::FarAnswer, secs(3));
    let (t, due) = timer_at(&out);
    assert_eq!((t, due), (Timer::FarPress { seq: 1 }, secs(5)));
    c.command(&cmd(None, None), req("gather", json!({})), secs(4)).unwrap();
    let out = c.on_timer(t, due);
    assert_eq!(gather_status(&out), ("valid".into(), "1234".into()));
    assert_eq!(c.on_timer(t, due), Outcome::default(), "pressed once");
    // Live presses can wait too.
    let out = c.far_dtmf_after("9", 1_500, secs(10)).unwrap();
    assert!(out.events.is_empty());
    let (t, due) = timer_at(&out);
    assert_eq!(due, secs(10) + Duration::milliseconds(1_500));
    assert_eq!(types(&c.on_timer(t, due)), ["call.dtmf.received"]);
}

#[test]
fn ai_sessions_are_one_at_a_time_and_end_with_the_call() {
    let mut c = answered();
    let ai = |a: &str, v: Value| AiRequest::parse(a, &Body::from_value(v).unwrap()).unwrap();
    let (out, id) = c
        .ai(&cmd(None, None), &ai("ai_assistant_start", json!({"assistant": {"id": "a1"}})), "conv-1", secs(5))
        .unwrap();
    assert_eq!((out, id.as_deref()), (Outcome::default(), Some("conv-1")));
    let e = c
        .ai(&cmd(None, None), &ai("conversation_relay_start", json!({"url": "wss://r.example"})), "x", secs(6))
        .unwrap_err();
    assert_eq!(e.error_object()["code"], "90423");
    assert!(c.ai(&cmd(None, None), &ai("conversation_relay_stop", json!({})), "x", secs(6)).is_err(), "not a relay");
    let out = c.hangup(&cmd(None, None), secs(15)).unwrap();
    assert_eq!(types(&out), ["call.conversation.ended", "call.hangup"]);
    assert_eq!(out.events[0].payload["duration_sec"], 10);
    assert_eq!(out.events[0].payload["assistant_id"], "a1");
}

#[test]
fn send_digits_are_scheduled_with_their_pauses() {
    assert_eq!(send_schedule("12w3"), [(0, "12".to_owned()), (1_000, "3".to_owned())]);
    assert_eq!(send_schedule("wwww200"), [(2_000, "200".to_owned())]);
    assert_eq!(send_schedule("1W#ww"), [(0, "1".to_owned()), (1_250, "#".to_owned())]);
    assert!(send_schedule("wW").is_empty());
    for (v, at) in [
        (json!({"send_digits_on_answer": "12x"}), "/send_digits_on_answer"),
        (json!({"send_digits_on_answer": "1".repeat(65)}), "/send_digits_on_answer"),
        (json!({"to": "+15550200001,12E"}), "/to"),
    ] {
        let mut b = json!({"connection_id": "123", "to": "+15550200001", "from": "+13125550001"});
        for (k, x) in v.as_object().unwrap() {
            b[k] = x.clone();
        }
        let e = DialRequest::parse(&Body::from_value(b).unwrap()).unwrap_err();
        assert_eq!(e.pointer.as_deref(), Some(at));
    }
    assert_eq!(dial_req(json!({"send_digits_on_answer": "AD*#wW09"})).send_digits.as_deref(), Some("AD*#wW09"));
    assert_eq!(dial_req(json!({"to": "+15550200001,w5"})).send_digits.as_deref(), Some("w5"));
}

#[test]
fn an_outgoing_leg_sends_its_digits_on_the_outbound_track_once_answered() {
    let (mut c, _) = dial(far_end::DEFAULT, json!({"send_digits_on_answer": "12w3"}));
    assert!(c.sounds.is_empty(), "nothing before the answer");
    c.on_timer(Timer::FarAnswer, secs(3));
    let tones: Vec<(Track, u64, u64)> = c.sounds.iter().map(|(t, s)| (*t, s.start_ms, s.end_ms)).collect();
    assert_eq!(tones, [(Track::Outbound, 0, 250), (Track::Outbound, 250, 500), (Track::Outbound, 1_000, 1_250)]);
    // A stream opened 300 ms after the answer hears the rest: the second digit's last
    // 200 ms at once, the third 700 ms on.
    let ahead = c.sounds_ahead(secs(3) + ms(300));
    assert_eq!(ahead.iter().map(|(_, s)| (s.start_ms, s.end_ms)).collect::<Vec<_>>(), [(0, 200), (700, 950)]);
}

#[test]
fn an_incoming_leg_of_this_server_hears_the_callers_digits_after_answering() {
    let (mut b, _) = Call::incoming(setup(Some("A")), None, None, t0());
    b.caller_digits = Some("4w56".into());
    let out = b.answer(&cmd(None, None), secs(2)).unwrap();
    assert_eq!(types(&out), ["call.answered"]);
    let presses: Vec<_> = out.timers.iter().filter(|(t, _)| matches!(t, Timer::FarPress { .. })).cloned().collect();
    assert_eq!(presses, [(Timer::FarPress { seq: 1 }, secs(2)), (Timer::FarPress { seq: 2 }, secs(2) + ms(750))]);
    // A gather running there counts them as the far end's digits.
    b.command(&cmd(None, None), req("gather", json!({"maximum_digits": 3})), secs(2)).unwrap();
    let first = b.on_timer(Timer::FarPress { seq: 1 }, secs(2));
    assert_eq!(types(&first), ["call.dtmf.received"]);
    let out = b.on_timer(Timer::FarPress { seq: 2 }, secs(2) + ms(750));
    assert_eq!(types(&out), ["call.dtmf.received", "call.dtmf.received", "call.gather.ended"]);
    assert_eq!(out.events[2].payload["digits"], "456");
}

#[test]
fn a_scripted_far_ends_audio_is_recorded_where_it_fell() {
    let script = far_end::Script::parse(
        &Body::from_value(json!({"audio": {"tone_hz": 1000, "duration_ms": 2000, "after_ms": 1000}})).unwrap(),
    )
    .unwrap();
    let (mut c, _) = dial(script.behaviour(), json!({}));
    c.follow_script(Some(&script));
    c.on_timer(Timer::FarAnswer, secs(3));
    // Recording from 0.5 s after the answer, paused from 1.5 s to 2.5 s, stopped at 4 s.
    let rq = RecordRequest::parse(&Body::from_value(json!({"format": "mp3", "channels": "single"})).unwrap()).unwrap();
    c.record_start(&cmd(None, None), &rq, "r1", "http://h", secs(3) + ms(500)).unwrap();
    c.record_pause(&cmd(None, None), None, false, secs(4) + ms(500)).unwrap();
    c.record_pause(&cmd(None, None), None, true, secs(5) + ms(500)).unwrap();
    let out = c.record_stop(&cmd(None, None), None, secs(7)).unwrap();
    let saved = &out.recordings[0];
    assert_eq!(saved.duration_ms, 2_500);
    // The tone (1 s to 3 s after the answer): 1-1.5 s in the first stretch, 2.5-3 s in the second.
    assert_eq!(
        saved.sounds,
        [crate::audio::Sound::tone(500, 1_000, 1000), crate::audio::Sound::tone(1_000, 1_500, 1000)]
    );
    let wav = saved.wav(&crate::audio::Clips::new());
    let pcm: Vec<i16> = wav[44..].chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]])).collect();
    assert!(pcm[..4_000].iter().all(|v| *v == 0));
    let hz = crate::audio::crossing_hz(&pcm[4_000..12_000], 8_000);
    assert!((990.0..1_010.0).contains(&hz), "{hz}");
    assert!(pcm[12_000..].iter().all(|v| *v == 0));
    // A stream opened 2 s after the answer plays the tone's last second at once.
    assert_eq!(c.sounds_ahead(secs(5)), [(Track::Inbound, crate::audio::Sound::tone(0, 1_000, 1000))]);
    c.hangup(&cmd(None, None), secs(5)).unwrap();
    assert!(c.sounds_ahead(secs(5)).is_empty(), "an ended call sends nothing");
}

#[test]
fn a_transfer_to_a_leg_of_this_server_bridges_when_that_leg_answers() {
    // A is answered; the transfer dials T, whose peer B is the incoming leg at the number.
    let mut a = answered();
    a.transfer(&cmd(None, None), false).unwrap();
    let (mut t, _) = Call::dial(setup(Some("B")), &dial_req(json!({})), None, t0());
    t.transfer_of = Some(a.call_control_id.clone());
    let (mut b, _) = Call::incoming(setup(Some(&t.call_control_id)), None, None, t0());
    let out = b.answer(&cmd(None, None), secs(2)).unwrap();
    let out = t.on_peer(&out.peer.unwrap(), secs(2));
    assert_eq!(types(&out), ["call.answered", "call.bridged"]);
    assert_eq!(out.link, Some((a.call_control_id.clone(), Link::Bridge)));
    a.on_link(&t.call_control_id, &Link::Bridge, secs(2));
    // B hangs up: T ends, and with it A.
    let out = b.hangup(&cmd(None, None), secs(9)).unwrap();
    let out = t.on_peer(&out.peer.unwrap(), secs(9));
    assert_eq!(out.link, Some((a.call_control_id.clone(), Link::Unbridged)));
    assert_eq!(hangup_of(&a.on_link(&t.call_control_id, &Link::Unbridged, secs(9))).0, "normal_clearing");
}
