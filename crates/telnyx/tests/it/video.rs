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
