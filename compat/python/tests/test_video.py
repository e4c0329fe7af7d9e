"""Video rooms through the official SDK, with strict response validation: rooms (create,
retrieve with sessions, update, list with filters, delete), join tokens and their refresh,
sessions and participants (joined through the simulation API), the session actions,
recordings (list, retrieve, delete, bulk delete) and compositions (create, retrieve, list,
delete)."""

from __future__ import annotations

import base64
import json

import pytest
import telnyx

from conftest import new_suffix, sim_request, wait_until


def sim_join(c: telnyx.Telnyx, room_id: str, context: str) -> dict:
    t = c.rooms.actions.generate_join_client_token(room_id)
    r = sim_request("POST", f"/_dialtone/sim/rooms/{room_id}/join", {"token": t.data.token, "context": context})
    assert r.status_code == 201, r.text
    return r.json()["data"]


def test_rooms_crud(client: telnyx.Telnyx) -> None:
    name = f"room-{new_suffix()}"
    room = client.rooms.create(unique_name=name, max_participants=3).data
    assert room.unique_name == name and room.max_participants == 3
    got = client.rooms.retrieve(room.id, include_sessions=True).data
    assert got.sessions == []
    assert client.rooms.update(room.id, enable_recording=True).data.enable_recording is True
    page = client.rooms.list(filter={"unique_name": name})
    assert [r.id for r in page.data] == [room.id]
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.rooms.create(max_participants=100)
    client.rooms.delete(room.id)
    with pytest.raises(telnyx.NotFoundError):
        client.rooms.retrieve(room.id)


def test_tokens(client: telnyx.Telnyx) -> None:
    room = client.rooms.create().data
    t = client.rooms.actions.generate_join_client_token(room.id, token_ttl_secs=60, refresh_token_ttl_secs=120).data
    header = json.loads(base64.urlsafe_b64decode(t.token.split(".")[0] + "=="))
    assert header["alg"] == "Ed25519"
    claims = json.loads(base64.urlsafe_b64decode(t.token.split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 60
    assert claims["grants"]["resources"] == [f"telnyx:video:rooms:{room.id}"]
    r = client.rooms.actions.refresh_client_token(room.id, refresh_token=t.refresh_token).data
    assert r.token and r.token_expires_at
    with pytest.raises(telnyx.PermissionDeniedError):
        client.rooms.actions.refresh_client_token(room.id, refresh_token=t.token)


def test_sessions_actions_recordings_compositions(client: telnyx.Telnyx) -> None:
    room = client.rooms.create(enable_recording=True).data
    a = sim_join(client, room.id, "alice")
    b = sim_join(client, room.id, "bob")
    sid = a["session_id"]
    s = client.rooms.sessions.retrieve(sid, include_participants=True).data
    assert s.active is True and len(s.participants) == 2
    assert any(x.id == sid for x in client.rooms.sessions.list_0(filter={"room_id": room.id}).data)
    assert [x.id for x in client.rooms.sessions.list_1(room.id).data] == [sid]
    parts = client.rooms.sessions.retrieve_participants(sid, filter={"context": "bob"}).data
    assert [p.id for p in parts] == [b["id"]]
    assert len(client.room_participants.list(filter={"session_id": sid}).data) == 2
    assert client.room_participants.retrieve(a["id"]).data.context == "alice"

    assert client.rooms.sessions.actions.mute(sid, participants=[a["id"]]).data.result == "ok"
    assert sim_request("GET", f"/_dialtone/sim/room_participants/{a['id']}").json()["data"]["muted"] is True
    client.rooms.sessions.actions.unmute(sid, participants="all")
    assert sim_request("GET", f"/_dialtone/sim/room_participants/{a['id']}").json()["data"]["muted"] is False
    client.rooms.sessions.actions.kick(sid, participants="all", exclude=[a["id"]])
    assert sim_request("GET", f"/_dialtone/sim/room_participants/{b['id']}").json()["data"]["present"] is False
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.room_compositions.create(session_id=sid)
    client.rooms.sessions.actions.end(sid)
    assert client.rooms.sessions.retrieve(sid).data.active is False

    recs = wait_until(
        lambda: (l := client.room_recordings.list(filter={"session_id": sid, "status": "completed"}).data)
        and len(l) == 4
        and l,
        "recordings completed",
    )
    assert {r.type for r in recs} == {"audio", "video"}
    assert client.room_recordings.retrieve(recs[0].id).data.download_url
    client.room_recordings.delete(recs[0].id)
    with pytest.raises(telnyx.NotFoundError):
        client.room_recordings.retrieve(recs[0].id)
    assert client.room_recordings.delete_bulk(filter={"session_id": sid}).data.room_recordings == 3

    comp = client.room_compositions.create(session_id=sid, resolution="640x360").data
    assert comp.status == "enqueued"
    done = wait_until(
        lambda: (x := client.room_compositions.retrieve(comp.id).data).status == "completed" and x,
        "composition completed",
    )
    assert done.resolution == "640x360" and done.download_url
    assert any(x.id == comp.id for x in client.room_compositions.list(filter={"session_id": sid}).data)
    client.room_compositions.delete(comp.id)
    with pytest.raises(telnyx.NotFoundError):
        client.room_compositions.retrieve(comp.id)
    client.rooms.delete(room.id)
