"""Voice call control through the official Python SDK, with strict response validation:
call control applications (create, retrieve, update, list with filters, delete), connections
(list, retrieve), active calls, dial, retrieve call, and every ``/calls/{id}/actions/*`` of
the subset. Each action's webhooks arrive at a receiver on 127.0.0.1, are verified with
``client.webhooks.unwrap`` and validated strictly against the SDK's own event type."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Optional

import pytest
import telnyx
import telnyx.types as types
from telnyx._models import validate_type

from conftest import buy_numbers, new_suffix, number_id, release_numbers, sim_request, wait_until
from test_webhooks import public_key

ANSWERS = "+15550200001"
BUSY = "+15550200002"


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


def wav_second() -> bytes:
    """One second of 8 kHz 8-bit mono silence as a WAV file."""
    data = b"\x80" * 8000
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 8000, 1, 8)
    return b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data" + struct.pack("<I", len(data)) + data


# The SDK's event type for each event type Dialtone sends to call control applications.
SPECIAL = {"call.dequeued": "CallLeftQueueWebhookEvent"}


def event_class(event_type: str) -> Any:
    name = SPECIAL.get(event_type)
    if name is None:
        parts = event_type.split(".")
        if parts[0] == "call":
            parts = parts[1:]
        name = "Call" + "".join(p[:1].upper() + p[1:] for p in parts) + "WebhookEvent"
    return getattr(types, name, None)


class Hooks:
    """Receives webhooks (verified with the SDK and validated strictly, then kept by call),
    serves a WAV at /audio.wav and answers WebSocket upgrades at /stream."""

    def __init__(self, client: telnyx.Telnyx, key: str) -> None:
        self.client = client
        self.key = key
        self.events: list[dict[str, Any]] = []  # `data` of each verified webhook
        self.failures: list[str] = []
        self.unvalidated: set[str] = set()
        self.sockets = 0
        self.paths: dict[str, str] = {}  # event id -> the path it was posted to
        self.lock = threading.Lock()
        hooks = self
        wav = wav_second()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.headers.get("upgrade", "").lower() == "websocket":
                    accept = base64.b64encode(
                        hashlib.sha1((self.headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
                    ).decode()
                    self.wfile.write(
                        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode()
                    )
                    self.wfile.flush()
                    with hooks.lock:
                        hooks.sockets += 1
                    try:
                        while self.connection.recv(65536):
                            pass
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                if self.path == "/audio.wav":
                    self.send_response(200)
                    self.send_header("content-type", "audio/wav")
                    self.send_header("content-length", str(len(wav)))
                    self.end_headers()
                    self.wfile.write(wav)
                    return
                self.send_response(404)
                self.send_header("content-length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status = hooks.receive(body.decode("utf-8"), headers, self.path)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/webhooks"
        self.audio_url = f"http://127.0.0.1:{port}/audio.wav"
        self.missing_url = f"http://127.0.0.1:{port}/missing.wav"
        self.ws_url = f"ws://127.0.0.1:{port}/stream"

    def receive(self, text: str, headers: dict[str, str], path: str = "") -> int:
        try:
            self.client.webhooks.unwrap(text, headers=headers, key=self.key)
        except Exception as err:  # noqa: BLE001
            with self.lock:
                self.failures.append(f"unwrap: {err}")
            return 400
        body = json.loads(text)
        data = body["data"]
        cls = event_class(data["event_type"])
        if cls is None:
            with self.lock:
                self.unvalidated.add(data["event_type"])
        else:
            try:
                validate_type(type_=cls, value=body)
            except Exception as err:  # noqa: BLE001
                with self.lock:
                    self.failures.append(f"{data['event_type']} against {cls.__name__}: {err}")
        with self.lock:
            if not any(e["id"] == data["id"] for e in self.events):
                self.events.append(data)
                self.paths[data["id"]] = path
        return 200

    def of(self, ccid: str, event_type: Optional[str] = None) -> list[dict[str, Any]]:
        with self.lock:
            return [
                e
                for e in self.events
                if (e.get("payload") or {}).get("call_control_id") == ccid and (event_type is None or e["event_type"] == event_type)
            ]

    def wait(self, ccid: str, event_type: str, n: int = 1, timeout: float = 20.0) -> dict[str, Any]:
        got = wait_until(lambda: (lambda l: l[n - 1] if len(l) >= n else None)(self.of(ccid, event_type)), f"{event_type} #{n} on {ccid}", timeout)
        return got["payload"]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def setup() -> Iterator[tuple[telnyx.Telnyx, Hooks, Any, str]]:
    from conftest import make_client

    c = make_client()
    hooks = Hooks(c, public_key())
    app = c.call_control_applications.create(application_name=f"compat-voice-{new_suffix()}", webhook_event_url=hooks.url).data
    assert app is not None and app.id
    _, numbers = buy_numbers(c, 1, features=["voice"])
    upd = c.phone_numbers.update(number_id(c, numbers[0]), connection_id=app.id).data
    assert upd is not None and upd.connection_id == app.id
    try:
        yield c, hooks, app, numbers[0]
    finally:
        release_numbers(c, numbers)
        c.call_control_applications.delete(app.id)
        hooks.close()
        assert hooks.failures == [], hooks.failures
        # Every event type Dialtone sent has an SDK type to validate against.
        assert hooks.unvalidated == set(), hooks.unvalidated


def inbound(number: str, caller: str = "+14155550124") -> str:
    r = sim_request("POST", "/_dialtone/sim/calls", {"from": caller, "to": number})
    assert r.status_code == 201, r.text
    body = r.json()
    return (body.get("data") or body)["call_control_id"]


def press(ccid: str, digits: str) -> None:
    r = sim_request("POST", f"/_dialtone/sim/calls/{ccid}/dtmf", {"digits": digits})
    assert 200 <= r.status_code < 300, r.text


def answered(setup: Any, caller: str = "+14155550124") -> str:
    c, hooks, _, number = setup
    ccid = inbound(number, caller)
    init = hooks.wait(ccid, "call.initiated")
    assert init["direction"] == "incoming" and init["state"] == "parked"
    assert c.calls.actions.answer(ccid, client_state=b64("answered")).data.result == "ok"
    assert hooks.wait(ccid, "call.answered")["client_state"] == b64("answered")
    return ccid


def hang_up(setup: Any, ccid: str) -> dict[str, Any]:
    c, hooks, _, _ = setup
    assert c.calls.actions.hangup(ccid).data.result == "ok"
    return hooks.wait(ccid, "call.hangup")


def code_of(err: telnyx.APIStatusError) -> str:
    return err.body["errors"][0]["code"]  # type: ignore[index]


def test_applications_crud_and_filters(client: telnyx.Telnyx) -> None:
    name = f"compat-voice-app-{new_suffix()}"
    app = client.call_control_applications.create(
        application_name=name,
        webhook_event_url="https://example.com/hooks",
        webhook_event_failover_url="https://example.com/failover",
        webhook_timeout_secs=12,
        first_command_timeout=True,
        first_command_timeout_secs=20,
        inbound={"channel_limit": 7, "shaken_stir_enabled": True},
        outbound={"channel_limit": 9},
        active=True,
    ).data
    assert app is not None and app.application_name == name
    assert app.webhook_event_failover_url == "https://example.com/failover"
    assert app.webhook_timeout_secs == 12 and app.first_command_timeout is True and app.first_command_timeout_secs == 20
    assert app.inbound is not None and app.inbound.channel_limit == 7 and app.inbound.shaken_stir_enabled is True
    assert app.outbound is not None and app.outbound.channel_limit == 9
    got = client.call_control_applications.retrieve(app.id).data
    assert got is not None and got.id == app.id
    upd = client.call_control_applications.update(app.id, application_name=f"{name}-x", webhook_event_url="https://example.com/h2", active=False).data
    assert upd is not None and upd.application_name == f"{name}-x" and upd.active is False
    page = client.call_control_applications.list(filter={"application_name": {"contains": f"{name}-x"}})
    assert [a.id for a in page.data] == [app.id]
    assert client.call_control_applications.list(filter={"application_name": {"contains": f"none-{new_suffix()}"}}).data == []
    client.call_control_applications.delete(app.id)
    with pytest.raises(telnyx.NotFoundError):
        client.call_control_applications.retrieve(app.id)


def test_applications_sort_and_pages(client: telnyx.Telnyx) -> None:
    tag = f"compat-sort-{new_suffix()}"
    b = client.call_control_applications.create(application_name=f"{tag}-b", webhook_event_url="https://example.com/h", active=True).data
    a = client.call_control_applications.create(application_name=f"{tag}-a", webhook_event_url="https://example.com/h", active=False).data
    assert a is not None and b is not None
    try:
        f = {"application_name": {"contains": tag}}
        assert [x.id for x in client.call_control_applications.list(filter=f, sort="connection_name").data] == [a.id, b.id]
        assert [x.id for x in client.call_control_applications.list(filter=f, sort="created_at").data] == [b.id, a.id]
        assert [x.active for x in client.call_control_applications.list(filter=f, sort="active").data] == [False, True]
        page2 = client.call_control_applications.list(filter=f, sort="connection_name", page_number=2, page_size=1)
        assert [x.id for x in page2.data] == [b.id]
        conns = client.connections.list(filter={"connection_name": {"contains": tag}}, sort="connection_name")
        assert [x.id for x in conns.data] == [a.id, b.id]
    finally:
        client.call_control_applications.delete(a.id)
        client.call_control_applications.delete(b.id)


def test_connections_list_and_retrieve(client: telnyx.Telnyx) -> None:
    app = client.call_control_applications.create(application_name=f"compat-conn-{new_suffix()}", webhook_event_url="https://example.com/h").data
    assert app is not None
    try:
        got = client.connections.retrieve(app.id).data
        assert got is not None and got.id == app.id and got.connection_name == app.application_name
        page = client.connections.list(filter={"connection_name": {"contains": app.application_name}})
        assert [x.id for x in page.data] == [app.id]
        with pytest.raises(telnyx.NotFoundError):
            client.connections.retrieve("999999999999999")
    finally:
        client.call_control_applications.delete(app.id)


def test_dial_retrieve_active_calls_hangup(setup: Any) -> None:
    c, hooks, app, number = setup
    d = c.calls.dial(connection_id=app.id, to=ANSWERS, from_=number, client_state=b64("dial"), timeout_secs=30).data
    assert d is not None and d.call_control_id and d.call_leg_id and d.call_session_id
    assert d.is_alive is False  # the spec: always false for dial (dialling is asynchronous)
    ccid = d.call_control_id
    assert hooks.wait(ccid, "call.initiated")["direction"] == "outgoing"
    assert hooks.wait(ccid, "call.answered")["client_state"] == b64("dial")
    s = c.calls.retrieve_status(ccid).data
    assert s is not None and s.is_alive is True and s.call_control_id == ccid
    active = c.connections.list_active_calls(app.id)
    assert any(x.call_control_id == ccid for x in active.data)
    cmd = f"cmd-{new_suffix()}"
    assert c.calls.actions.hangup(ccid, command_id=cmd).data.result == "ok"
    assert c.calls.actions.hangup(ccid, command_id=cmd).data.result == "ok"  # repeated: ignored
    hup = hooks.wait(ccid, "call.hangup")
    assert hup["hangup_cause"] == "normal_clearing" and hup["hangup_source"] == "caller"
    s = c.calls.retrieve_status(ccid).data
    assert s is not None and s.is_alive is False and s.end_time and s.start_time
    assert s.call_duration is not None and s.call_duration >= 3  # the 3 s ring counts
    with pytest.raises(telnyx.UnprocessableEntityError) as e:
        c.calls.actions.speak(ccid, payload="late", voice="female")
    assert code_of(e.value) == "90018"
    with pytest.raises(telnyx.UnprocessableEntityError) as e:
        c.calls.retrieve_status("v3:no-such-call")
    assert code_of(e.value) == "90015"


def test_dial_options_amd_record_webhook_url_stream(setup: Any) -> None:
    c, hooks, app, number = setup
    d = c.calls.dial(
        connection_id=app.id,
        to=ANSWERS,
        from_=number,
        answering_machine_detection="detect",
        record="record-from-answer",
        record_format="wav",
        webhook_url=hooks.url.replace("/webhooks", "/per-call"),
        stream_url=hooks.ws_url,
        stream_track="inbound_track",
    ).data
    assert d is not None and d.recording_id, d
    ccid = d.call_control_id
    hooks.wait(ccid, "call.answered")
    assert hooks.wait(ccid, "streaming.started")["stream_url"] == hooks.ws_url
    # The dial's webhook_url replaces the application's for this call.
    assert {hooks.paths[e["id"]] for e in hooks.of(ccid)} == {"/per-call"}
    amd = hooks.wait(ccid, "call.machine.detection.ended")
    assert amd["result"] == "human"
    hang_up(setup, ccid)
    saved = hooks.wait(ccid, "call.recording.saved")
    assert saved["recording_urls"]["wav"].endswith(f"{d.recording_id}.wav")


def test_dial_busy(setup: Any) -> None:
    c, hooks, app, number = setup
    d = c.calls.dial(connection_id=app.id, to=BUSY, from_=number).data
    assert d is not None
    hup = hooks.wait(d.call_control_id, "call.hangup")
    assert hup["hangup_cause"] == "user_busy" and hup["sip_hangup_cause"] == "486"


def test_reject(setup: Any) -> None:
    c, hooks, _, number = setup
    ccid = inbound(number)
    hooks.wait(ccid, "call.initiated")
    assert c.calls.actions.reject(ccid, cause="CALL_REJECTED").data.result == "ok"
    hup = hooks.wait(ccid, "call.hangup")
    assert hup["hangup_cause"] == "call_rejected" and hup["hangup_source"] == "callee"


def test_state_errors(setup: Any) -> None:
    c, hooks, _, number = setup
    ccid = answered(setup)
    with pytest.raises(telnyx.UnprocessableEntityError) as e:
        c.calls.actions.answer(ccid)
    assert code_of(e.value) == "90423"
    hang_up(setup, ccid)
    ringing = inbound(number)
    hooks.wait(ringing, "call.initiated")
    with pytest.raises(telnyx.UnprocessableEntityError) as e:
        c.calls.actions.speak(ringing, payload="early", voice="female")
    assert code_of(e.value) == "90034"
    hang_up(setup, ringing)


def test_speak_and_playback(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.speak(ccid, payload="Hello from Python", voice="female", language="en-US").data.result == "ok"
    hooks.wait(ccid, "call.speak.started")
    assert hooks.wait(ccid, "call.speak.ended")["status"] == "completed"
    assert c.calls.actions.start_playback(ccid, audio_url=hooks.audio_url).data.result == "ok"
    hooks.wait(ccid, "call.playback.started")
    assert hooks.wait(ccid, "call.playback.ended")["status"] == "completed"
    assert c.calls.actions.start_playback(ccid, audio_url=hooks.audio_url, loop="infinity").data.result == "ok"
    hooks.wait(ccid, "call.playback.started", n=2)
    assert c.calls.actions.stop_playback(ccid, stop="all").data.result == "ok"
    assert hooks.wait(ccid, "call.playback.ended", n=2)["status"] == "cancelled"
    assert c.calls.actions.start_playback(ccid, audio_url=hooks.missing_url).data.result == "ok"
    assert hooks.wait(ccid, "call.playback.ended", n=3)["status"] == "file_not_found"
    hang_up(setup, ccid)


def test_gathers(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.gather(ccid, minimum_digits=1, maximum_digits=4, terminating_digit="#").data.result == "ok"
    press(ccid, "12#")
    g = hooks.wait(ccid, "call.gather.ended")
    assert g["digits"] == "12" and g["status"] == "valid"
    assert [e["payload"]["digit"] for e in hooks.of(ccid, "call.dtmf.received")] == ["1", "2", "#"]
    assert c.calls.actions.gather_using_speak(ccid, payload="Your PIN", voice="female", maximum_digits=4).data.result == "ok"
    press(ccid, "9876")
    g = hooks.wait(ccid, "call.gather.ended", n=2)
    assert g["digits"] == "9876" and g["status"] == "valid"
    assert c.calls.actions.gather_using_audio(ccid, audio_url=hooks.audio_url, maximum_digits=2, valid_digits="12").data.result == "ok"
    hooks.wait(ccid, "call.playback.started")
    press(ccid, "35")
    assert hooks.wait(ccid, "call.gather.ended", n=3)["status"] == "invalid"
    assert c.calls.actions.gather(ccid, maximum_digits=5).data.result == "ok"
    assert c.calls.actions.stop_gather(ccid).data.result == "ok"
    assert hooks.wait(ccid, "call.gather.ended", n=4)["status"] == "cancelled"
    hang_up(setup, ccid)


def test_dtmf_sip_info_client_state_services(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.send_dtmf(ccid, digits="1www2", duration_millis=250).data.result == "ok"
    assert c.calls.actions.send_sip_info(ccid, content_type="application/json", body='{"a":1}').data.result == "ok"
    cs = b64("updated")
    assert c.calls.actions.update_client_state(ccid, client_state=cs).data.result == "ok"
    assert c.calls.actions.start_noise_suppression(ccid, direction="both").data.result == "ok"
    assert c.calls.actions.stop_noise_suppression(ccid).data.result == "ok"
    with pytest.raises(telnyx.UnprocessableEntityError):
        c.calls.actions.stop_noise_suppression(ccid)
    assert c.calls.actions.start_transcription(ccid, transcription_engine="B").data.result == "ok"
    assert c.calls.actions.stop_transcription(ccid).data.result == "ok"
    assert c.calls.actions.switch_supervisor_role(ccid, role="monitor").data.result == "ok"
    assert hang_up(setup, ccid)["client_state"] == cs


def test_recording(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.start_recording(ccid, format="mp3", channels="single").data.result == "ok"
    assert c.calls.actions.pause_recording(ccid).data.result == "ok"
    assert c.calls.actions.resume_recording(ccid).data.result == "ok"
    assert c.calls.actions.stop_recording(ccid).data.result == "ok"
    saved = hooks.wait(ccid, "call.recording.saved")
    import httpx

    r = httpx.get(saved["recording_urls"]["mp3"])
    assert r.status_code == 200 and len(r.content) > 0
    with pytest.raises(telnyx.UnprocessableEntityError):
        c.calls.actions.stop_recording(ccid)
    hang_up(setup, ccid)


def test_fork_siprec_streaming(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.start_forking(ccid, rx="udp:127.0.0.1:9", stream_type="decrypted").data.result == "ok"
    hooks.wait(ccid, "call.fork.started")
    assert c.calls.actions.stop_forking(ccid).data.result == "ok"
    hooks.wait(ccid, "call.fork.stopped")
    assert c.calls.actions.start_siprec(ccid, connector_name="compat").data.result == "ok"
    hooks.wait(ccid, "siprec.started")
    assert c.calls.actions.stop_siprec(ccid).data.result == "ok"
    hooks.wait(ccid, "siprec.stopped")
    before = hooks.sockets
    assert c.calls.actions.start_streaming(ccid, stream_url=hooks.ws_url, stream_track="both_tracks").data.result == "ok"
    assert hooks.wait(ccid, "streaming.started")["stream_url"] == hooks.ws_url
    assert hooks.sockets > before
    assert c.calls.actions.stop_streaming(ccid).data.result == "ok"
    hooks.wait(ccid, "streaming.stopped")
    hang_up(setup, ccid)


def test_enqueue_leave_queue(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    q = f"compat-q-{new_suffix()}"
    assert c.calls.actions.enqueue(ccid, queue_name=q).data.result == "ok"
    enq = hooks.wait(ccid, "call.enqueued")
    assert enq["queue"] == q and enq["current_position"] == 1
    assert c.calls.actions.leave_queue(ccid).data.result == "ok"
    assert hooks.wait(ccid, "call.dequeued")["reason"] == "leave"
    hang_up(setup, ccid)


def test_bridge(setup: Any) -> None:
    c, hooks, _, _ = setup
    a = answered(setup, "+14155550141")
    b = answered(setup, "+14155550142")
    assert c.calls.actions.bridge(a, call_control_id_to_bridge_with=b).data.result == "ok"
    hooks.wait(a, "call.bridged")
    hooks.wait(b, "call.bridged")
    hang_up(setup, a)
    assert hooks.wait(b, "call.hangup")["hangup_cause"] == "normal_clearing"


def test_transfer(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    cs = b64("target-py")
    assert c.calls.actions.transfer(ccid, to=ANSWERS, target_leg_client_state=cs).data.result == "ok"
    bridged = hooks.wait(ccid, "call.bridged")

    def target() -> Any:
        with hooks.lock:
            for e in hooks.events:
                p = e["payload"]
                if e["event_type"] == "call.answered" and p.get("client_state") == cs:
                    return p
        return None

    t = wait_until(target, "the transferred leg answering")
    assert t["call_session_id"] == bridged["call_session_id"] and t["call_control_id"] != ccid
    hang_up(setup, ccid)
    hooks.wait(t["call_control_id"], "call.hangup")


def test_refer(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    assert c.calls.actions.refer(ccid, sip_address=f"sip:{ANSWERS}@example.com").data.result == "ok"
    hooks.wait(ccid, "call.refer.started")
    hooks.wait(ccid, "call.refer.completed")
    assert hooks.wait(ccid, "call.hangup")["hangup_cause"] == "normal_clearing"


def test_ai_and_conversation_relay(setup: Any) -> None:
    c, hooks, _, _ = setup
    ccid = answered(setup)
    ai = c.calls.actions.start_ai_assistant(ccid, assistant={"instructions": "Be brief"}).data
    assert ai is not None and ai.result == "ok" and ai.conversation_id
    assert c.calls.actions.add_ai_assistant_messages(ccid, messages=[{"role": "user", "content": "hi"}]).data.result == "ok"
    assert c.calls.actions.stop_ai_assistant(ccid).data.result == "ok"
    assert hooks.wait(ccid, "call.conversation.ended")["conversation_id"] == ai.conversation_id
    g = c.calls.actions.gather_using_ai(ccid, parameters={"type": "object", "properties": {"age": {"type": "integer"}}}).data
    assert g is not None and g.result == "ok"
    with pytest.raises(telnyx.UnprocessableEntityError) as e:
        c.calls.actions.start_conversation_relay(ccid, url="wss://example.com/relay")
    assert code_of(e.value) == "90423"
    assert c.calls.actions.stop_ai_assistant(ccid).data.result == "ok"
    relay = c.calls.actions.start_conversation_relay(ccid, url="wss://example.com/relay").data
    assert relay is not None and relay.result == "ok"
    assert c.calls.actions.stop_conversation_relay(ccid).data.result == "ok"
    j = c.calls.actions.join_ai_assistant(ccid, conversation_id=ai.conversation_id, participant={"id": ccid, "role": "user"}).data
    assert j is not None and j.result == "ok"
    assert c.calls.actions.stop_ai_assistant(ccid).data.result == "ok"
    hang_up(setup, ccid)


def test_failure_events(setup: Any) -> None:
    """The failure webhooks, each validated against the SDK's type: a refer to a busy
    destination, a stream to a port nobody listens on, premium machine detection of an
    answering machine, a gather that times out, and a transfer to a busy number."""
    c, hooks, app, number = setup
    ccid = answered(setup)
    assert c.calls.actions.refer(ccid, sip_address=f"sip:{BUSY}@example.com").data.result == "ok"
    failed = hooks.wait(ccid, "call.refer.failed")
    assert failed["sip_notify_response"] == 486
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = f"ws://127.0.0.1:{s.getsockname()[1]}/nobody"
    s.close()
    assert c.calls.actions.start_streaming(ccid, stream_url=closed).data.result == "ok"
    assert hooks.wait(ccid, "streaming.failed")["failure_reason"] == "connection_failed"
    assert c.calls.actions.gather(ccid, initial_timeout_millis=1000, maximum_digits=3).data.result == "ok"
    g = hooks.wait(ccid, "call.gather.ended")
    assert g["status"] == "timeout" and g["digits"] == ""
    assert c.calls.actions.transfer(ccid, to=BUSY).data.result == "ok"
    hup = hooks.wait(ccid, "call.hangup")
    assert hup["hangup_cause"] == "normal_clearing"

    d = c.calls.dial(connection_id=app.id, to="+15550200005", from_=number, answering_machine_detection="premium").data
    assert d is not None
    amd = hooks.wait(d.call_control_id, "call.machine.premium.detection.ended")
    assert amd["result"] == "machine"
    hang_up(setup, d.call_control_id)
