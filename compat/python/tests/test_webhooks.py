"""Signed webhooks as the SDK sees them.

Dialtone POSTs events to a receiver this module runs, and the SDK's own verifier
(``client.webhooks.unwrap(payload, headers=..., key=...)``: Ed25519 over
``"{telnyx-timestamp}|{raw body}"`` with PyNaCl, 300 s tolerance) must accept them and must
reject a tampered body, a wrong key and a stale timestamp. Retries show in the SDK's
``webhook_deliveries`` resource (strict response validation, as every client here).
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator, Optional

import httpx
import pytest
import telnyx
from nacl.signing import SigningKey

from conftest import API_KEY, make_client, new_suffix, root_base_url


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")


@dataclass
class Receiver:
    """An HTTP receiver on 127.0.0.1 (free port) that records each request's raw body bytes
    and headers. ``statuses`` gives the status to answer for the 1st, 2nd, ... request
    (200 after the list runs out)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: Optional[ThreadingHTTPServer] = None

    def start(self) -> "Receiver":
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with rec.lock:
                    n = len(rec.requests)
                    status = rec.statuses[n] if n < len(rec.statuses) else 200
                    rec.requests.append(
                        Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                    )
                answer = b"ok" if status == 200 else b"receiver says no"
                self.send_response(status)
                self.send_header("content-type", "text/plain")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def url(self, path: str = "/hook") -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def wait_for(self, n: int, timeout: float = 10.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests[:n])
                got = len(self.requests)
            assert time.monotonic() < deadline, f"receiver got {got} request(s) within {timeout} s, expected {n}"
            time.sleep(0.05)

    def close(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture
def failing_once_receiver() -> Iterator[Receiver]:
    r = Receiver(statuses=[500, 200]).start()
    try:
        yield r
    finally:
        r.close()


def dialtone_request(method: str, path: str, body: Any = None) -> httpx.Response:
    """A request to one of Dialtone's own routes (outside the Telnyx API, so not through the
    SDK), with the root key."""
    with httpx.Client(timeout=15.0) as h:
        return h.request(
            method,
            root_base_url() + path,
            headers={"authorization": f"Bearer {API_KEY}", "accept": "application/json"},
            json=body,
        )


def public_key() -> str:
    r = dialtone_request("GET", "/_dialtone/webhooks/public_key")
    assert r.status_code == 200, f"public_key answered {r.status_code}: {r.text}"
    key = r.json()["data"]["public_key"]
    assert isinstance(key, str) and len(base64.b64decode(key, validate=True)) == 32, f"public_key: {r.text}"
    return key


def emit(event_type: str, payload: dict[str, Any], url: str) -> dict[str, Any]:
    r = dialtone_request("POST", "/_dialtone/sim/webhooks", {"event_type": event_type, "payload": payload, "url": url})
    assert r.status_code == 202, f"sim/webhooks answered {r.status_code}: {r.text}"
    data = r.json()["data"]
    assert isinstance(data.get("delivery_id"), str), f"delivery_id in {r.text}"
    return data


def other_public_key() -> str:
    """Another valid Ed25519 public key (base64 of its raw 32 bytes), not the server's."""
    return base64.b64encode(SigningKey.generate().verify_key.encode()).decode("ascii")


def call_payload(tag: str) -> dict[str, Any]:
    sfx = new_suffix()
    return {
        "call_control_id": f"v3:compat-{tag}-{sfx}",
        "call_leg_id": f"leg-{sfx}",
        "call_session_id": f"session-{sfx}",
        "client_state": base64.b64encode(f"compat {tag} {sfx}".encode()).decode(),
        "connection_id": f"conn-{sfx}",
        "direction": "outgoing",
        "from": "+15550001111",
        "to": "+15550002222",
        "state": "bridging",
        # Non-ASCII, so the body's bytes must reach the verifier exactly as signed.
        "custom_note": f"héllo ☎ {sfx}",
    }


def dump(model: Any) -> dict[str, Any]:
    return model.to_dict() if hasattr(model, "to_dict") else model


def test_delivered_event_verifies_and_parses(client: telnyx.Telnyx, receiver: Receiver) -> None:
    key = public_key()
    payload = call_payload("wh")
    emitted = emit("call.initiated", payload, receiver.url("/events/ok"))

    (req,) = receiver.wait_for(1)
    assert req.method == "POST" and req.path == "/events/ok"
    assert req.headers.get("content-type", "").startswith("application/json")
    ts = req.headers.get("telnyx-timestamp", "")
    assert ts.isdigit() and abs(int(ts) - time.time()) < 60, f"telnyx-timestamp: {ts!r}"
    assert len(base64.b64decode(req.headers.get("telnyx-signature-ed25519", ""), validate=True)) == 64

    # Key passed per call ...
    event = client.webhooks.unwrap(req.text, headers=req.headers, key=key)
    assert event.data is not None
    assert event.data.event_type == "call.initiated"
    assert event.data.record_type == "event"
    assert event.data.id == emitted["event"]["id"]
    assert dump(event.data.payload) == payload
    raw = json.loads(req.body)
    assert raw["meta"] == {"attempt": 1, "delivered_to": receiver.url("/events/ok")}
    assert event.to_dict()["meta"] == raw["meta"]
    # ... and as the client's public_key (TELNYX_PUBLIC_KEY).
    again = make_client(public_key=key).webhooks.unwrap(req.text, headers=req.headers)
    assert again.to_dict() == event.to_dict()


def test_verifier_rejects_tampered_wrong_key_and_stale(
    client: telnyx.Telnyx, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = public_key()
    payload = call_payload("neg")
    emit("call.answered", payload, receiver.url())
    (req,) = receiver.wait_for(1)
    # The genuine delivery verifies: every failure below comes from the one change made.
    client.webhooks.unwrap(req.text, headers=req.headers, key=key)

    # Tampered body: one byte of the payload changed.
    body = bytearray(req.body)
    at = body.find(payload["call_control_id"].encode()) + len("v3:")
    assert at >= 3, "call_control_id in the body"
    body[at] = ord("d") if body[at] == ord("c") else ord("c")
    tampered = body.decode("utf-8")
    assert tampered != req.text
    with pytest.raises(ValueError, match="signature does not match"):
        client.webhooks.unwrap(tampered, headers=req.headers, key=key)

    # A different, valid 32-byte Ed25519 key.
    wrong = other_public_key()
    assert wrong != key
    with pytest.raises(ValueError, match="signature does not match"):
        client.webhooks.unwrap(req.text, headers=req.headers, key=wrong)

    # The received signature replayed with a timestamp 10 minutes old.
    old = int(req.headers["telnyx-timestamp"]) - 600
    stale = {**req.headers, "telnyx-timestamp": str(old)}
    with pytest.raises(ValueError, match="too old or too new"):
        client.webhooks.unwrap(req.text, headers=stale, key=key)

    # Staleness alone: the untouched, genuinely signed delivery read 10 minutes later.
    later = time.time() + 600
    monkeypatch.setattr(time, "time", lambda: later)
    with pytest.raises(ValueError, match="too old or too new"):
        client.webhooks.unwrap(req.text, headers=req.headers, key=key)
    # And the replayed signature is also wrong on its own: at the replayed timestamp's own
    # time, the staleness check passes and the signature check fails.
    monkeypatch.setattr(time, "time", lambda: float(old))
    with pytest.raises(ValueError, match="signature does not match"):
        client.webhooks.unwrap(req.text, headers=stale, key=key)
    monkeypatch.undo()


def test_retry_after_500_is_visible_through_the_sdk(client: telnyx.Telnyx, failing_once_receiver: Receiver) -> None:
    rcv = failing_once_receiver
    key = public_key()
    payload = call_payload("retry")
    emitted = emit("call.hangup", payload, rcv.url("/events/retry"))

    first, second = rcv.wait_for(2)
    e1 = client.webhooks.unwrap(first.text, headers=first.headers, key=key)
    e2 = client.webhooks.unwrap(second.text, headers=second.headers, key=key)
    assert json.loads(first.body)["meta"]["attempt"] == 1
    assert json.loads(second.body)["meta"]["attempt"] == 2
    for e in (e1, e2):
        assert e.data is not None
        assert e.data.id == emitted["event"]["id"]
        assert e.data.event_type == "call.hangup"
        assert dump(e.data.payload) == payload

    # The delivery record, once the 200 has been recorded.
    delivery_id = emitted["delivery_id"]
    deadline = time.monotonic() + 10
    while True:
        rec = client.webhook_deliveries.retrieve(delivery_id).data
        assert rec is not None
        if rec.status == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    j = rec.to_json()
    assert rec.id == delivery_id, j
    assert rec.status == "delivered", j
    assert rec.record_type == "webhook_delivery", j
    assert rec.webhook is not None and rec.webhook.id == emitted["event"]["id"], j
    assert rec.webhook.event_type == "call.hangup", j
    assert rec.webhook.payload == payload, j
    assert rec.attempts is not None and len(rec.attempts) == 2, j
    newest, oldest = rec.attempts
    assert newest.status == "delivered", j
    assert newest.http and newest.http.response and newest.http.response.status == 200, j
    assert newest.http.request and newest.http.request.url == rcv.url("/events/retry"), j
    assert oldest.status == "failed", j
    assert oldest.http and oldest.http.response and oldest.http.response.status == 500, j
    assert isinstance(newest.started_at, datetime) and isinstance(oldest.finished_at, datetime), j
    assert newest.started_at >= oldest.finished_at, f"attempts should be newest first: {j}"

    # The list, filtered by status and by this event's unique text.
    found = list(
        client.webhook_deliveries.list(
            filter={"status": {"eq": "delivered"}, "webhook": {"contains": payload["call_control_id"]}}
        )
    )
    assert [d.id for d in found] == [delivery_id], found
    assert found[0].attempts is not None and len(found[0].attempts) == 2
    failed = client.webhook_deliveries.list(
        filter={"status": {"eq": "failed"}, "webhook": {"contains": payload["call_control_id"]}}
    )
    assert failed.data == [], "a delivered delivery is not listed as failed"
