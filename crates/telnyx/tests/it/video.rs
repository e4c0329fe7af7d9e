//! Video against Dialtone: rooms, tokens, sessions, participants, recordings and compositions.

use crate::server::Dialtone;
use telnyx::Error;
use telnyx::video::*;

#[tokio::test]
async fn rooms_tokens_and_pages() {
    let d = Dialtone::start().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let r = d
            .client
            .rooms()
            .create(CreateRoom::new().unique_name(format!("room-{i}")).max_participants(10i64))
            .await
            .unwrap();
        assert_eq!(r.max_participants, Some(10));
        ids.push(r.id.unwrap());
    }
    let all = d.client.rooms().list_all(&ListRooms::new().page_size(2)).collect_all().await.unwrap();
    assert_eq!(all.len(), 3);
    let named = d.client.rooms().list(&ListRooms::new().unique_name("room-1")).await.unwrap();
    assert_eq!(named.data.len(), 1);
    let r = d.client.rooms().update(&ids[0], UpdateRoom::new().max_participants(5i64)).await.unwrap();
    assert_eq!(r.max_participants, Some(5));
    let t = d
        .client
        .rooms()
        .generate_join_client_token(&ids[0], GenerateClientToken::new().token_ttl_secs(600i64))
        .await
        .unwrap();
    assert!(t.token.is_some());
    let refreshed = d
        .client
        .rooms()
        .refresh_client_token(&ids[0], RefreshClientToken::new(t.refresh_token.unwrap()))
        .await
        .unwrap();
    assert!(refreshed.token.is_some());
    let sessions = d.client.rooms().list_sessions(&ids[0], &ListRoomSessions::new()).await.unwrap();
    assert!(sessions.data.is_empty());
    d.client.rooms().delete(&ids[2]).await.unwrap();
    assert!(matches!(d.client.rooms().retrieve(&ids[2]).await, Err(Error::NotFound(_))));
}

#[tokio::test]
async fn sessions_participants_recordings_compositions_lists() {
    let d = Dialtone::start().await;
    assert!(d.client.room_sessions().list(&ListRoomSessions::new().active(true)).await.unwrap().data.is_empty());
    assert!(d.client.room_participants().list(&ListRoomParticipants::new()).await.unwrap().data.is_empty());
    assert!(
        d.client.room_recordings().list(&ListRoomRecordings::new().status("completed")).await.unwrap().data.is_empty()
    );
    assert!(d.client.room_compositions().list(&ListRoomCompositions::new()).await.unwrap().data.is_empty());
    let deleted = d.client.room_recordings().delete_many(&ListRoomRecordings::new().room_id("x")).await.unwrap();
    assert_eq!(deleted.room_recordings, Some(0));
    let err = d.client.room_sessions().retrieve("00000000-0000-0000-0000-000000000000").await.unwrap_err();
    assert!(matches!(err, Error::NotFound(_)), "{err:?}");
}

/// The rest of the video operations, on a session that really ran: two simulated joins,
/// mute and unmute, kick, end, the recordings the tracks left, a composition of the session.
#[tokio::test]
async fn a_session_with_actions_recordings_and_a_composition() {
    use reqwest::Method;
    use serde_json::json;
    let d = Dialtone::start().await;
    let (url, hooks) = crate::webhooks::receiver().await;
    let room = d
        .client
        .rooms()
        .create(CreateRoom::new().unique_name("full").enable_recording(true).webhook_event_url(url))
        .await
        .unwrap();
    let room_id = room.id.unwrap();
    let mut joined = Vec::new();
    for who in ["alice", "bob"] {
        let t = d.client.rooms().generate_join_client_token(&room_id, GenerateClientToken::new()).await.unwrap();
        let p = d
            .sim(
                Method::POST,
                &format!("/_dialtone/sim/rooms/{room_id}/join"),
                json!({"token": t.token, "context": who}),
            )
            .await;
        joined.push(p["data"]["id"].as_str().or(p["id"].as_str()).unwrap().to_owned());
    }
    let session_id = d.client.rooms().retrieve(&room_id).await.unwrap().active_session_id.unwrap();
    let session = d.client.room_sessions().retrieve(&session_id).await.unwrap();
    assert_eq!(session.active, Some(true));
    let listed = d.client.room_sessions().list_participants(&session_id, &ListRoomParticipants::new()).await.unwrap();
    assert_eq!(listed.data.len(), 2);
    let alice = d.client.room_participants().retrieve(&joined[0]).await.unwrap();
    assert_eq!(alice.context.as_deref(), Some("alice"));
    assert_eq!(alice.session_id.as_deref(), Some(session_id.as_str()));

    let state = |id: String| {
        let d = &d;
        async move { d.sim(Method::GET, &format!("/_dialtone/sim/room_participants/{id}"), json!({})).await }
    };
    d.client
        .room_sessions()
        .mute(&session_id, ParticipantsAction::new().participants(json!("all")).exclude(vec![joined[1].clone()]))
        .await
        .unwrap();
    let a = state(joined[0].clone()).await;
    let b = state(joined[1].clone()).await;
    assert_eq!(a["data"]["muted"].as_bool().or(a["muted"].as_bool()), Some(true), "{a}");
    assert_eq!(b["data"]["muted"].as_bool().or(b["muted"].as_bool()), Some(false), "{b}");
    d.client.room_sessions().unmute(&session_id, ParticipantsAction::new().participants(json!("all"))).await.unwrap();
    let a = state(joined[0].clone()).await;
    assert_eq!(a["data"]["muted"].as_bool().or(a["muted"].as_bool()), Some(false), "{a}");

    d.advance(10).await;
    d.client
        .room_sessions()
        .kick(&session_id, ParticipantsAction::new().participants(json!([joined[1].clone()])))
        .await
        .unwrap();
    let b = state(joined[1].clone()).await;
    assert_eq!(b["data"]["present"].as_bool().or(b["present"].as_bool()), Some(false), "{b}");
    d.client.room_sessions().end(&session_id).await.unwrap();
    assert_eq!(d.client.room_sessions().retrieve(&session_id).await.unwrap().active, Some(false));

    // Each participant left an audio and a video recording, completed 5 s later.
    d.advance(6).await;
    let recs = d
        .client
        .room_recordings()
        .list(&ListRoomRecordings::new().session_id(session_id.clone()).status("completed"))
        .await
        .unwrap();
    assert_eq!(recs.data.len(), 4, "{:?}", recs.data);
    let one = recs.data[0].id.clone().unwrap();
    let got = d.client.room_recordings().retrieve(&one).await.unwrap();
    assert!(got.download_url.is_some());
    d.client.room_recordings().delete(&one).await.unwrap();
    assert!(matches!(d.client.room_recordings().retrieve(&one).await, Err(Error::NotFound(_))));
    let bulk = d
        .client
        .room_recordings()
        .delete_many(&ListRoomRecordings::new().session_id(session_id.clone()))
        .await
        .unwrap();
    assert_eq!(bulk.room_recordings, Some(3));

    let c = d
        .client
        .room_compositions()
        .create(CreateRoomComposition::new().session_id(session_id.clone()).resolution("640x360").format("mp4"))
        .await
        .unwrap();
    assert_eq!(c.status.as_deref(), Some("enqueued"));
    let cid = c.id.unwrap();
    // Enqueued → processing after 1 s, completed 3 s after that.
    d.advance(1).await;
    assert_eq!(d.client.room_compositions().retrieve(&cid).await.unwrap().status.as_deref(), Some("processing"));
    d.advance(3).await;
    let done = d.client.room_compositions().retrieve(&cid).await.unwrap();
    assert_eq!(done.status.as_deref(), Some("completed"));
    assert!(done.download_url.is_some());
    let all = d.client.room_compositions().list(&ListRoomCompositions::new()).await.unwrap();
    assert_eq!(all.data.len(), 1);
    d.client.room_compositions().delete(&cid).await.unwrap();
    assert!(matches!(d.client.room_compositions().retrieve(&cid).await, Err(Error::NotFound(_))));

    // Its webhooks, verified and typed, every field Dialtone sends in a field of its own:
    // the session, two joins with two tracks each, a kick and an end, four recordings
    // completed, the composition.
    use telnyx::webhooks::EventKind as K;
    let all = crate::webhooks::wait_for(&hooks, 15).await;
    let verifier = d.client.webhooks().unwrap();
    let mut counts = std::collections::BTreeMap::new();
    for (h, body) in &all {
        verifier
            .verify(body, h["telnyx-signature-ed25519"].to_str().unwrap(), h["telnyx-timestamp"].to_str().unwrap())
            .unwrap();
        let ev = telnyx::Event::parse(body).unwrap();
        let shown = format!("{:?}", ev.kind);
        assert!(!shown.contains("extra: {\""), "a field Dialtone sends is not typed: {shown}");
        *counts.entry(ev.event_type().to_owned()).or_insert(0) += 1;
        match ev.kind {
            K::VideoRoomSessionStarted(p) => assert_eq!(p.session_id.as_deref(), Some(session_id.as_str())),
            K::VideoRoomParticipantJoined(p) => assert!(matches!(p.context.as_deref(), Some("alice" | "bob"))),
            K::VideoRoomParticipantLeft(p) => {
                assert_eq!(p.room_id.as_deref(), Some(room_id.as_str()));
                assert!(p.duration_secs.is_some());
                assert!(matches!(p.left_reason.as_deref(), Some("kicked")), "{p:?}");
            }
            K::VideoRoomSessionEnded(p) => assert_eq!(p.ended_reason.as_deref(), Some("ended")),
            K::VideoRoomRecordingStarted(p) => assert!(matches!(p.kind.as_deref(), Some("audio" | "video"))),
            K::VideoRoomRecordingCompleted(p) => {
                assert!(p.size_mb.is_some() && p.download_url.is_some() && p.codec.is_some(), "{p:?}");
            }
            K::VideoRoomCompositionCompleted(p) => {
                assert_eq!(p.composition_id.as_deref(), Some(cid.as_str()));
                assert_eq!(p.resolution.as_deref(), Some("640x360"));
            }
            other => panic!("{other:?}"),
        }
    }
    let expected = [
        ("video.room.composition.completed", 1),
        ("video.room.participant.joined", 2),
        ("video.room.participant.left", 2),
        ("video.room.recording.completed", 4),
        ("video.room.recording.started", 4),
        ("video.room.session.ended", 1),
        ("video.room.session.started", 1),
    ];
    assert_eq!(counts, expected.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
}
