//! Video rooms: rooms CRUD, join tokens checked by an independent JWT implementation,
//! joins and leaves through the simulation API, sessions and their grace period on the
//! manual clock, session actions, recordings and compositions with their downloads, and
//! every room webhook signed and in order.

use crate::harness::{Client, Server};
use crate::numbers::{advance, managed_key};
use crate::receiver::Receiver;
use crate::webhooks::verify;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::{Value, json};

async fn public_key(c: &Client) -> String {
    let r = c.get("/_dialtone/webhooks/public_key").await;
    assert_eq!(r.status, 200);
    r.body["data"]["public_key"].as_str().unwrap().to_owned()
}

async fn room(c: &Client, body: Value) -> Value {
    let r = c.post("/v2/rooms", body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["data"].clone()
}

async fn token(c: &Client, room_id: &str, body: Value) -> Value {
    let r = c.post(&format!("/v2/rooms/{room_id}/actions/generate_join_client_token"), body).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["data"].clone()
}

async fn join(c: &Client, room_id: &str, context: &str) -> Value {
    let t = token(c, room_id, json!({})).await;
    let r =
        c.post(&format!("/_dialtone/sim/rooms/{room_id}/join"), json!({"token": t["token"], "context": context})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.body["data"].clone()
}

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_owned()
}

/// Event types the receiver got, in order, each signature checked.
fn event_types(rx: &Receiver, key: &str) -> Vec<String> {
    rx.received()
        .iter()
        .map(|r| {
            assert!(verify(key, r), "webhook signature verifies");
            r.json["data"]["event_type"].as_str().unwrap().to_owned()
        })
        .collect()
}

async fn wait_events(rx: &Receiver, n: usize) {
    rx.wait_for(n).await;
}

#[tokio::test]
async fn rooms_crud_with_unique_names_and_video_errors() {
    let s = Server::start().await;
    let r = room(&s, json!({"unique_name": "standup", "max_participants": 5})).await;
    assert_eq!(r["max_participants"], 5);
    assert_eq!(r["enable_recording"], false);
    assert_eq!(r["webhook_event_failover_url"], "");
    let dup = s.post("/v2/rooms", json!({"unique_name": "standup"})).await;
    assert_eq!(dup.status, 422, "{}", dup.text);
    assert_eq!(dup.body["errors"][0]["source"]["pointer"], "/unique_name");
    // Another account may use the same name.
    let other = s.with_key(&managed_key(&s).await);
    room(&other, json!({"unique_name": "standup"})).await;
    let bad = s.post("/v2/rooms", json!({"max_participants": 51})).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["errors"][0]["source"]["pointer"], "/max_participants");
    room(&s, json!({"unique_name": "other"})).await;
    let l = s.get("/v2/rooms?filter[unique_name]=standup&include_sessions=true").await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(l.body["meta"]["total_results"], 1);
    assert_eq!(l.body["data"][0]["sessions"], json!([]));
    let rid = id(&r);
    let u = s.patch(&format!("/v2/rooms/{rid}"), json!({"enable_recording": true})).await;
    assert_eq!(u.status, 200, "{}", u.text);
    assert_eq!(
        (u.body["data"]["enable_recording"].clone(), u.body["data"]["max_participants"].clone()),
        (json!(true), json!(5))
    );
    // Another account's room is not found; video 404s are a bare error object.
    let g = other.get(&format!("/v2/rooms/{rid}")).await;
    assert_eq!(g.status, 404);
    assert_eq!(g.body["code"], "10005");
    let d = s.delete(&format!("/v2/rooms/{rid}")).await;
    assert_eq!(d.status, 204);
    assert!(d.text.is_empty());
    assert_eq!(s.get(&format!("/v2/rooms/{rid}")).await.status, 404);
    // A bad list filter: video's 4XX shape.
    let e = s.get("/v2/rooms?filter[date_created_at][eq]=soon").await;
    assert_eq!(e.status, 422);
    assert_eq!(e.body["success"], false);
    assert!(e.body["message"].is_string());
}

#[tokio::test]
async fn join_tokens_verify_with_an_independent_jwt_implementation() {
    let s = Server::start().await;
    let rid = id(&room(&s, json!({})).await);
    let t = token(&s, &rid, json!({"token_ttl_secs": 120, "refresh_token_ttl_secs": 300})).await;
    let jwt = t["token"].as_str().unwrap();
    let parts: Vec<&str> = jwt.split('.').collect();
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
    assert_eq!(header["alg"], "Ed25519");
    let pk = STANDARD.decode(public_key(&s).await).unwrap();
    let key = jsonwebtoken::DecodingKey::from_ed_der(&pk);
    let signing_input = format!("{}.{}", parts[0], parts[1]);
    assert!(
        jsonwebtoken::crypto::verify(parts[2], signing_input.as_bytes(), &key, jsonwebtoken::Algorithm::EdDSA).unwrap(),
        "the token verifies with the account's public key"
    );
    let other_pk = STANDARD.decode(public_key(&s.with_key(&managed_key(&s).await)).await).unwrap();
    let other = jsonwebtoken::DecodingKey::from_ed_der(&other_pk);
    assert!(
        !jsonwebtoken::crypto::verify(parts[2], signing_input.as_bytes(), &other, jsonwebtoken::Algorithm::EdDSA)
            .unwrap_or(false)
    );
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    assert_eq!(claims["aud"], "telnyx_access_token");
    assert_eq!(claims["iss"], "telnyx_access_token");
    assert_eq!(claims["grants"]["resources"][0], format!("telnyx:video:rooms:{rid}"));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 120);

    let path = format!("/v2/rooms/{rid}/actions/refresh_client_token");
    let r = s.post(&path, json!({"refresh_token": t["refresh_token"]})).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["data"]["token"].is_string());
    // The access token is not a refresh token; another account's room refuses it.
    let r = s.post(&path, json!({"refresh_token": t["token"]})).await;
    assert_eq!(r.status, 403, "{}", r.text);
    assert_eq!(r.body["code"], "90440");
    let rid2 = id(&room(&s, json!({})).await);
    let r = s
        .post(&format!("/v2/rooms/{rid2}/actions/refresh_client_token"), json!({"refresh_token": t["refresh_token"]}))
        .await;
    assert_eq!(r.status, 403);
    let r = s.post(&path, json!({"token_ttl_secs": 5, "refresh_token": t["refresh_token"]})).await;
    assert_eq!(r.status, 422);
    // Expired client token: refused on join; expired refresh token: refused.
    advance(&s, 121_000).await;
    let j = s.post(&format!("/_dialtone/sim/rooms/{rid}/join"), json!({"token": jwt})).await;
    assert_eq!(j.status, 403, "{}", j.text);
    advance(&s, 180_000).await;
    let r = s.post(&path, json!({"refresh_token": t["refresh_token"]})).await;
    assert_eq!(r.status, 403);
}

#[tokio::test]
async fn sessions_participants_actions_and_the_grace_period() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let key = public_key(&s).await;
    let rid = id(&room(&s, json!({"max_participants": 2, "webhook_event_url": rx.url})).await);
    let a = join(&s, &rid, "alice").await;
    let r = s.get(&format!("/v2/rooms/{rid}")).await;
    let sid = r.body["data"]["active_session_id"].as_str().unwrap().to_owned();
    assert_eq!(a["session_id"], sid);
    let b = join(&s, &rid, "bob").await;
    // Capacity is enforced on join.
    let t = token(&s, &rid, json!({})).await;
    let full = s.post(&format!("/_dialtone/sim/rooms/{rid}/join"), json!({"token": t["token"]})).await;
    assert_eq!(full.status, 422, "{}", full.text);
    assert_eq!(full.body["errors"][0]["code"], "90441");
    // Another room's token does not open this one.
    let rid2 = id(&room(&s, json!({})).await);
    let t2 = token(&s, &rid2, json!({})).await;
    assert_eq!(s.post(&format!("/_dialtone/sim/rooms/{rid}/join"), json!({"token": t2["token"]})).await.status, 403);

    // Mute one: visible through the simulation API.
    let m = s
        .post(&format!("/v2/room_sessions/{sid}/actions/mute"), json!({"participants": "all", "exclude": [id(&b)]}))
        .await;
    assert_eq!(m.status, 200, "{}", m.text);
    assert_eq!(m.body["data"]["result"], "ok");
    let pa = s.get(&format!("/_dialtone/sim/room_participants/{}", id(&a))).await;
    assert_eq!(pa.body["data"]["muted"], true);
    assert_eq!(s.get(&format!("/_dialtone/sim/room_participants/{}", id(&b))).await.body["data"]["muted"], false);
    s.post(&format!("/v2/room_sessions/{sid}/actions/unmute"), json!({"participants": [id(&a)]})).await;
    assert_eq!(s.get(&format!("/_dialtone/sim/room_participants/{}", id(&a))).await.body["data"]["muted"], false);
    assert_eq!(s.post(&format!("/v2/room_sessions/{sid}/actions/kick"), json!({})).await.status, 422);

    // Kick one, the other leaves: the session waits out the grace period, then ends.
    advance(&s, 10_000).await;
    let k = s.post(&format!("/v2/room_sessions/{sid}/actions/kick"), json!({"participants": [id(&a)]})).await;
    assert_eq!(k.status, 200, "{}", k.text);
    assert_eq!(s.get(&format!("/_dialtone/sim/room_participants/{}", id(&a))).await.body["data"]["present"], false);
    let l = s.post(&format!("/_dialtone/sim/rooms/{rid}/leave"), json!({"participant_id": id(&b)})).await;
    assert_eq!(l.status, 200, "{}", l.text);
    advance(&s, 29_000).await;
    let v = s.get(&format!("/v2/room_sessions/{sid}")).await;
    assert_eq!(v.body["data"]["active"], true, "still within the grace period");
    advance(&s, 1_000).await;
    let v = s.get(&format!("/v2/room_sessions/{sid}?include_participants=true")).await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["data"]["active"], false);
    assert!(v.body["data"]["ended_at"].is_string());
    assert_eq!(v.body["data"]["participants"].as_array().unwrap().len(), 2);
    assert!(s.get(&format!("/v2/rooms/{rid}")).await.body["data"].get("active_session_id").is_none());

    // Lists and their filters.
    let l = s.get(&format!("/v2/rooms/{rid}/sessions?filter[active]=false")).await;
    assert_eq!(l.body["meta"]["total_results"], 1);
    assert_eq!(s.get("/v2/room_sessions?filter[active]=true").await.body["meta"]["total_results"], 0);
    let p = s.get(&format!("/v2/room_sessions/{sid}/participants?filter[context]=bob")).await;
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["data"][0]["id"], id(&b));
    assert_eq!(s.get("/v2/room_participants").await.body["meta"]["total_results"], 2);
    let one = s.get(&format!("/v2/room_participants/{}", id(&a))).await;
    assert_eq!(one.body["data"]["session_id"], sid);
    assert!(one.body["data"]["left_at"].is_string());
    // Actions on an ended session are refused.
    let e = s.post_empty(&format!("/v2/room_sessions/{sid}/actions/end")).await;
    assert_eq!(e.status, 422);
    assert_eq!(e.body["success"], false);

    wait_events(&rx, 6).await;
    let got = event_types(&rx, &key);
    assert_eq!(
        got,
        [
            "video.room.session.started",
            "video.room.participant.joined",
            "video.room.participant.joined",
            "video.room.participant.left",
            "video.room.participant.left",
            "video.room.session.ended",
        ]
    );
    let rec = rx.received();
    assert_eq!(rec[3].json["data"]["payload"]["left_reason"], "kicked");
    assert_eq!(rec[3].json["data"]["payload"]["duration_secs"], 10);
    assert_eq!(rec[5].json["data"]["payload"]["session_id"], sid);
    assert_eq!(rec[5].json["data"]["payload"]["ended_reason"], "empty");
}

#[tokio::test]
async fn a_join_within_the_grace_period_keeps_the_session() {
    let s = Server::start().await;
    let rid = id(&room(&s, json!({})).await);
    let a = join(&s, &rid, "a").await;
    let sid = a["session_id"].as_str().unwrap().to_owned();
    s.post(&format!("/_dialtone/sim/rooms/{rid}/leave"), json!({"participant_id": id(&a)})).await;
    advance(&s, 20_000).await;
    let b = join(&s, &rid, "b").await;
    assert_eq!(b["session_id"], sid);
    advance(&s, 60_000).await;
    assert_eq!(s.get(&format!("/v2/room_sessions/{sid}")).await.body["data"]["active"], true);
    // Ending kicks everyone; a new join starts a new session.
    let e = s.post_empty(&format!("/v2/room_sessions/{sid}/actions/end")).await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(
        s.get(&format!("/_dialtone/sim/room_participants/{}", id(&b))).await.body["data"]["left_reason"],
        "kicked"
    );
    let c = join(&s, &rid, "c").await;
    assert_ne!(c["session_id"], sid);
}

#[tokio::test]
async fn recordings_and_compositions_are_served() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let key = public_key(&s).await;
    let rid = id(&room(&s, json!({"enable_recording": true, "webhook_event_url": rx.url})).await);
    let a = join(&s, &rid, "a").await;
    let sid = a["session_id"].as_str().unwrap().to_owned();
    advance(&s, 4_000).await;
    // A composition needs a finished session.
    let c = s.post("/v2/room_compositions", json!({"session_id": sid})).await;
    assert_eq!(c.status, 422, "{}", c.text);
    assert_eq!(c.body["errors"][0]["source"]["pointer"], "/session_id");
    let e = s.post_empty(&format!("/v2/room_sessions/{sid}/actions/end")).await;
    assert_eq!(e.status, 200);
    let l = s.get(&format!("/v2/room_recordings?filter[session_id]={sid}")).await;
    assert_eq!(l.status, 200, "{}", l.text);
    assert_eq!(l.body["meta"]["total_results"], 2);
    assert!(l.body["data"].as_array().unwrap().iter().all(|r| r["status"] == "processing"));
    advance(&s, 5_000).await;
    let audio = s.get("/v2/room_recordings?filter[type]=audio&filter[status]=completed").await;
    assert_eq!(audio.body["meta"]["total_results"], 1, "{}", audio.text);
    let rec = audio.body["data"][0].clone();
    assert_eq!((rec["codec"].clone(), rec["duration_secs"].clone()), (json!("opus"), json!(4)));
    let url = rec["download_url"].as_str().unwrap();
    let bytes = reqwest::get(url).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"OggS");
    let video = s.get("/v2/room_recordings?filter[type]=video").await.body["data"][0].clone();
    let bytes = reqwest::get(video["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert!(video["size_mb"].as_f64().unwrap() > 0.0);

    let c = s.post("/v2/room_compositions", json!({"session_id": sid, "resolution": "640x360"})).await;
    assert_eq!(c.status, 202, "{}", c.text);
    assert_eq!(c.body["data"]["status"], "enqueued");
    let cid = id(&c.body["data"]);
    advance(&s, 1_000).await;
    assert_eq!(s.get(&format!("/v2/room_compositions/{cid}")).await.body["data"]["status"], "processing");
    advance(&s, 3_000).await;
    let c = s.get(&format!("/v2/room_compositions/{cid}")).await.body["data"].clone();
    assert_eq!(c["status"], "completed");
    assert_eq!(c["duration_secs"], 4);
    let bytes = reqwest::get(c["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_eq!(s.get("/v2/room_compositions?filter[status]=completed").await.body["meta"]["total_results"], 1);
    assert_eq!(s.post("/v2/room_compositions", json!({"session_id": sid, "resolution": "1280x721"})).await.status, 422);

    wait_events(&rx, 9).await;
    let got = event_types(&rx, &key);
    assert_eq!(
        got,
        [
            "video.room.session.started",
            "video.room.participant.joined",
            "video.room.recording.started",
            "video.room.recording.started",
            "video.room.participant.left",
            "video.room.session.ended",
            "video.room.recording.completed",
            "video.room.recording.completed",
            "video.room.composition.completed",
        ]
    );
    let done = &rx.received()[8].json["data"]["payload"];
    assert_eq!((done["composition_id"].as_str(), done["resolution"].as_str()), (Some(cid.as_str()), Some("640x360")));

    // Deletes: one, then the rest in bulk with a count.
    let d = s.delete(&format!("/v2/room_recordings/{}", id(&rec))).await;
    assert_eq!(d.status, 204);
    assert_eq!(s.get(&format!("/v2/room_recordings/{}", id(&rec))).await.status, 404);
    let b = s.delete(&format!("/v2/room_recordings?filter[room_id]={rid}")).await;
    assert_eq!(b.status, 201, "{}", b.text);
    assert_eq!(b.body["data"]["room_recordings"], 1);
    assert_eq!(s.delete(&format!("/v2/room_compositions/{cid}")).await.status, 204);
    assert_eq!(s.get(&format!("/v2/room_compositions/{cid}")).await.status, 404);
}

#[tokio::test]
async fn deleting_a_room_ends_its_session_and_its_recordings_complete() {
    let s = Server::start().await;
    let rx = Receiver::start().await;
    let key = public_key(&s).await;
    let body = json!({"unique_name": "doomed", "enable_recording": true, "webhook_event_url": rx.url});
    let rid = id(&room(&s, body).await);
    let a = join(&s, &rid, "alice").await;
    let sid = a["session_id"].as_str().unwrap().to_owned();
    advance(&s, 2_000).await;
    let b = join(&s, &rid, "bob").await;
    let spare = token(&s, &rid, json!({})).await;
    advance(&s, 3_000).await;

    let d = s.delete(&format!("/v2/rooms/{rid}")).await;
    assert_eq!(d.status, 204, "{}", d.text);
    // The session ended with the delete; it, its participants and recordings stay readable.
    let v = s.get(&format!("/v2/room_sessions/{sid}?include_participants=true")).await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["data"]["active"], false);
    assert!(v.body["data"]["ended_at"].is_string());
    assert!(v.body["data"]["participants"].as_array().unwrap().iter().all(|p| p["left_at"].is_string()));
    for p in [&a, &b] {
        let sim = s.get(&format!("/_dialtone/sim/room_participants/{}", id(p))).await;
        assert_eq!(
            (sim.body["data"]["present"].clone(), sim.body["data"]["left_reason"].clone()),
            (json!(false), json!("kicked"))
        );
        assert_eq!(s.get(&format!("/v2/room_participants/{}", id(p))).await.status, 200);
    }
    assert_eq!(s.get(&format!("/v2/room_sessions?filter[room_id]={rid}")).await.body["meta"]["total_results"], 1);
    let recs = s.get(&format!("/v2/room_recordings?filter[session_id]={sid}&filter[status]=processing")).await;
    assert_eq!(recs.body["meta"]["total_results"], 4, "{}", recs.text);
    // The room is gone: no joins, no leaves; its unique name is free again.
    assert_eq!(s.get(&format!("/v2/rooms/{rid}")).await.status, 404);
    let j = s.post(&format!("/_dialtone/sim/rooms/{rid}/join"), json!({"token": spare["token"]})).await;
    assert_eq!(j.status, 404, "{}", j.text);
    let l = s.post(&format!("/_dialtone/sim/rooms/{rid}/leave"), json!({"participant_id": id(&a)})).await;
    assert_eq!(l.status, 404);
    assert_eq!(s.delete(&format!("/v2/rooms/{rid}")).await.status, 404);
    room(&s, json!({"unique_name": "doomed"})).await;
    // The grace period's timer has nothing left to do; the recordings complete as usual,
    // their webhooks to the deleted room's URL.
    advance(&s, 60_000).await;
    let done = s.get(&format!("/v2/room_recordings?filter[session_id]={sid}&filter[status]=completed")).await;
    assert_eq!(done.body["meta"]["total_results"], 4);
    assert!(done.body["data"].as_array().unwrap().iter().all(|r| r["duration_secs"] == 5 || r["duration_secs"] == 3));

    wait_events(&rx, 14).await;
    let got = event_types(&rx, &key);
    assert_eq!(
        got,
        [
            "video.room.session.started",
            "video.room.participant.joined",
            "video.room.recording.started",
            "video.room.recording.started",
            "video.room.participant.joined",
            "video.room.recording.started",
            "video.room.recording.started",
            "video.room.participant.left",
            "video.room.participant.left",
            "video.room.session.ended",
            "video.room.recording.completed",
            "video.room.recording.completed",
            "video.room.recording.completed",
            "video.room.recording.completed",
        ]
    );
    let rec = rx.received();
    assert_eq!(rec[7].json["data"]["payload"]["left_reason"], "kicked");
    assert_eq!(rec[9].json["data"]["payload"]["ended_reason"], "room_deleted");
    assert_eq!(rec[9].json["data"]["payload"]["duration_secs"], 5);
}

#[tokio::test]
async fn a_participant_is_found_by_id_in_its_own_account_only() {
    let s = Server::start().await;
    let other = s.with_key(&managed_key(&s).await);
    let rid = id(&room(&s, json!({})).await);
    let a = join(&s, &rid, "alice").await;
    let orid = id(&room(&other, json!({})).await);
    let o = join(&other, &orid, "olga").await;
    let mine = s.get(&format!("/v2/room_participants/{}", id(&a))).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(
        (mine.body["data"]["context"].as_str(), mine.body["data"]["session_id"].clone()),
        (Some("alice"), a["session_id"].clone())
    );
    assert!(mine.body["data"].get("left_at").is_none());
    // Another account's participant, and no participant at all: video's bare 404.
    let theirs = s.get(&format!("/v2/room_participants/{}", id(&o))).await;
    assert_eq!(theirs.status, 404);
    assert_eq!(theirs.body["code"], "10005");
    assert_eq!(s.get(&format!("/_dialtone/sim/room_participants/{}", id(&o))).await.status, 404);
    assert_eq!(s.get("/v2/room_participants/0ccc7b54-4df3-4bca-a65a-3da1ecc777f0").await.status, 404);
    assert_eq!(other.get(&format!("/v2/room_participants/{}", id(&o))).await.body["data"]["context"], "olga");
    // After leaving, the same lookup shows it left.
    s.post(&format!("/_dialtone/sim/rooms/{rid}/leave"), json!({"participant_id": id(&a)})).await;
    assert!(s.get(&format!("/v2/room_participants/{}", id(&a))).await.body["data"]["left_at"].is_string());
    // A participant of an older database has no document of its own: still found, in its
    // own account only.
    let no_doc = dialtone_store::ChangeSet::new().delete(dialtone_domain::video::sessions::PARTICIPANT_KIND, &id(&a));
    s.engine.store.apply(&no_doc).await.unwrap();
    let old = s.get(&format!("/v2/room_participants/{}", id(&a))).await;
    assert_eq!((old.status, old.body["data"]["context"].as_str()), (200, Some("alice")), "{}", old.text);
    assert_eq!(other.get(&format!("/v2/room_participants/{}", id(&a))).await.status, 404);
}

#[tokio::test]
async fn a_composition_places_each_video_track_where_its_layout_says() {
    use crate::media_files::{frame_rgb, rgb_on};
    let s = Server::start().await;
    let rid = id(&room(&s, json!({"enable_recording": true})).await);
    let a = join(&s, &rid, "a").await;
    let sid = a["session_id"].as_str().unwrap().to_owned();
    advance(&s, 1_000).await;
    let b = join(&s, &rid, "b").await;
    advance(&s, 1_000).await;
    s.post_empty(&format!("/v2/room_sessions/{sid}/actions/end")).await;
    let video_of = |p: &Value| {
        let p = p.clone();
        let s = &s;
        async move {
            let l = s.get(&format!("/v2/room_recordings?filter[participant_id]={}&filter[type]=video", id(&p))).await;
            assert_eq!(l.body["meta"]["total_results"], 1, "{}", l.text);
            id(&l.body["data"][0])
        }
    };
    let (va, vb) = (video_of(&a).await, video_of(&b).await);

    // Bad regions are refused with a pointer into the layout.
    for (layout, pointer) in [
        (json!({"main": {"z_pos": 100}}), "/video_layout/main/z_pos"),
        (json!({"main": {"video_sources": ["not-a-recording"]}}), "/video_layout/main/video_sources/0"),
        (json!({"main": {"max_columns": 0}}), "/video_layout/main/max_columns"),
        (json!(["main"]), "/video_layout"),
    ] {
        let r = s.post("/v2/room_compositions", json!({"session_id": sid, "video_layout": layout})).await;
        assert_eq!(r.status, 422, "{}", r.text);
        assert_eq!(r.body["errors"][0]["source"]["pointer"], pointer, "{}", r.text);
    }
    // "b" on the left half, "a" in a corner inset above it.
    let layout = json!({
        "left": {"width": 80, "height": 96, "video_sources": [vb]},
        "inset": {"x_pos": 112, "y_pos": 64, "width": 48, "height": 32, "z_pos": 5, "video_sources": [va]},
    });
    let c = s
        .post("/v2/room_compositions", json!({"session_id": sid, "resolution": "160x96", "video_layout": layout}))
        .await;
    assert_eq!(c.status, 202, "{}", c.text);
    assert_eq!(c.body["data"]["video_layout"], layout);
    let cid = id(&c.body["data"]);
    advance(&s, 1_000).await;
    advance(&s, 3_000).await;
    let c = s.get(&format!("/v2/room_compositions/{cid}")).await.body["data"].clone();
    assert_eq!(c["status"], "completed");
    let mp4 = reqwest::get(c["download_url"].as_str().unwrap()).await.unwrap().bytes().await.unwrap();
    // Source colours: the first to join white, the second yellow; black elsewhere.
    let (white, yellow, black) = ((1, 1, 1), (1, 1, 0), (0, 0, 0));
    let early = frame_rgb(&mp4, 0.5, 160, 96);
    assert_eq!(
        (rgb_on(&early, 160, 40, 48), rgb_on(&early, 160, 130, 80), rgb_on(&early, 160, 100, 20)),
        (black, white, black),
        "before b joined: the inset only"
    );
    let late = frame_rgb(&mp4, 1.5, 160, 96);
    assert_eq!(
        (rgb_on(&late, 160, 40, 48), rgb_on(&late, 160, 130, 80), rgb_on(&late, 160, 100, 20)),
        (yellow, white, black)
    );
}

#[tokio::test]
async fn room_webhooks_fail_over_to_the_rooms_failover_url() {
    use crate::receiver::Answer;
    let s = Server::start().await;
    let key = public_key(&s).await;
    let primary = Receiver::start().await;
    primary.always(Answer::Status(503));
    let failover = Receiver::start().await;
    let body = json!({"webhook_event_url": primary.url, "webhook_event_failover_url": failover.url, "webhook_timeout_secs": 5});
    let rid = id(&room(&s, body).await);
    join(&s, &rid, "a").await;
    // Each event gets three attempts on the room's URL (retried on the manual clock after
    // 1 s and 2 s, each up to 25 % longer), then goes to its failover URL. Only the first
    // attempts of one session's events are ordered (README, "Order"), so the session's two
    // events reach the failover URL in either order.
    primary.wait_for(2).await;
    advance(&s, 1_300).await;
    primary.wait_for(4).await;
    advance(&s, 2_600).await;
    failover.wait_for(2).await;
    assert_eq!(primary.received().len(), 6, "three attempts each on the room's URL");
    let mut got = event_types(&failover, &key);
    got.sort();
    assert_eq!(got, ["video.room.participant.joined", "video.room.session.started"]);
    for r in failover.received() {
        assert_eq!(r.json["meta"], json!({"attempt": 4, "delivered_to": failover.url}));
    }
}
