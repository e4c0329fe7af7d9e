"""Messaging through the official SDK, with strict response validation: send
(POST /messages), long code, number pool, group MMS, schedule and cancel, retrieve, group
retrieve, WhatsApp, opt-outs, and the errors a sender meets (40310 bad ``to``, 40305 a
``from`` not owned, 40300 after STOP, 404 for an unknown message)."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
import telnyx

from conftest import (
    assert_error_envelope,
    buy_numbers,
    create_profile,
    make_client,
    random_id,
    release_numbers,
    sim_request,
    wait_for_final,
    wait_until,
)

DELIVERED = "+15550100001"
FAILS = "+15550100002"
UNCONFIRMED = "+15550100004"


class Sender:
    def __init__(self, profile: Any, numbers: list[str]) -> None:
        self.profile = profile
        self.numbers = numbers


@pytest.fixture(scope="module")
def sender() -> Iterator[Sender]:
    """A profile with two numbers, shared by this module's tests."""
    c = make_client()
    profile = create_profile(c)
    _, numbers = buy_numbers(c, 2, profile.id, national_destination_code="503")
    yield Sender(profile, numbers)
    release_numbers(c, numbers)


def check_message(m: Any, sender: Sender, type_: str = "SMS", direction: str = "outbound") -> None:
    assert m is not None
    assert m.record_type == "message"
    assert m.id
    assert m.type == type_
    assert m.direction == direction
    assert m.from_ is not None and m.from_.phone_number
    assert m.to and all(t.phone_number for t in m.to)
    assert m.messaging_profile_id == sender.profile.id


def in_minutes(n: float) -> datetime:
    return datetime.now(timezone.utc) + timedelta(minutes=n)


def test_send_retrieve_and_final_states(client: telnyx.Telnyx, sender: Sender) -> None:
    frm = sender.numbers[0]
    m = client.messages.send(from_=frm, to=DELIVERED, text="Hello, World!").data
    check_message(m, sender)
    assert m is not None and m.from_ is not None and m.to
    assert m.from_.phone_number == frm
    assert m.to[0].phone_number == DELIVERED
    assert m.text == "Hello, World!"
    assert m.encoding == "GSM-7"
    assert m.parts == 1
    assert m.cost is not None and m.cost.currency == "USD"

    got = client.messages.retrieve(m.id).data  # type: ignore[arg-type]
    assert got is not None and got.id == m.id
    final = wait_for_final(client, m.id)  # type: ignore[arg-type]
    assert final.to[0].status == "delivered"
    assert isinstance(final.completed_at, datetime)

    failed = client.messages.send(from_=frm, to=FAILS, text="fails").data
    assert failed is not None and failed.id
    f = wait_for_final(client, failed.id)
    assert f.to[0].status == "delivery_failed"
    assert f.errors and f.errors[0].code == "40008"

    unconfirmed = client.messages.send(from_=frm, to=UNCONFIRMED, text="maybe").data
    assert unconfirmed is not None and unconfirmed.id
    assert wait_for_final(client, unconfirmed.id).to[0].status == "delivery_unconfirmed"

    mms = client.messages.send(from_=frm, to=DELIVERED, text="pic", media_urls=["https://example.com/a.png"]).data
    check_message(mms, sender, type_="MMS")


def test_long_code_and_number_pool(client: telnyx.Telnyx, sender: Sender) -> None:
    lc = client.messages.send_long_code(from_=sender.numbers[0], to=DELIVERED, text="long code").data
    check_message(lc, sender)
    assert lc is not None and lc.from_ is not None and lc.from_.phone_number == sender.numbers[0]

    picks = set()
    for i in range(3):
        p = client.messages.send_number_pool(messaging_profile_id=sender.profile.id, to=DELIVERED, text=f"pool {i}").data
        check_message(p, sender)
        assert p is not None and p.from_ is not None
        assert p.from_.phone_number in sender.numbers
        picks.add(p.from_.phone_number)
    assert len(picks) == 1, "the pick is stable for a recipient"

    via_send = client.messages.send(messaging_profile_id=sender.profile.id, to=DELIVERED, text="pool via send").data
    assert via_send is not None and via_send.from_ is not None and via_send.from_.phone_number in sender.numbers


def test_group_mms(client: telnyx.Telnyx, sender: Sender) -> None:
    g = client.messages.send_group_mms(
        from_=sender.numbers[0],
        to=[DELIVERED, UNCONFIRMED],
        text="group",
        media_urls=["https://example.com/a.png"],
    ).data
    assert g is not None and g.id
    assert g.type == "MMS"
    assert [t.phone_number for t in (g.to or [])] == [DELIVERED, UNCONFIRMED]
    group = client.messages.retrieve_group_messages(g.id).data
    assert group is not None and len(group) == 2
    for m in group:
        check_message(m, sender, type_="MMS")
    assert {m.to[0].phone_number for m in group if m.to} == {DELIVERED, UNCONFIRMED}


def test_schedule_and_cancel(client: telnyx.Telnyx, sender: Sender) -> None:
    frm = sender.numbers[0]
    at = in_minutes(30)
    s = client.messages.schedule(from_=frm, to=DELIVERED, text="later", send_at=at).data
    check_message(s, sender)
    assert s is not None and s.id and s.to
    # Dialtone shows a scheduled recipient as `queued` (see the node suite).
    assert s.to[0].status in ("scheduled", "queued")
    assert s.sent_at is None
    raw = client.messages.with_raw_response.retrieve(s.id).http_response.json()["data"]
    assert datetime.fromisoformat(raw["send_at"].replace("Z", "+00:00")) == at.replace(microsecond=at.microsecond // 1000 * 1000)

    s2 = client.messages.send(from_=frm, to=DELIVERED, text="later too", send_at=in_minutes(40)).data
    assert s2 is not None and s2.id and s2.to and s2.to[0].status in ("scheduled", "queued")

    cancelled = client.messages.cancel_scheduled(s.id)
    assert cancelled.id == s.id
    assert cancelled.record_type == "message"
    assert (cancelled.to and cancelled.to[0].status == "cancelled") or cancelled.to_dict().get("status") == "cancelled"
    after = client.messages.retrieve(s.id).data
    assert after is not None and after.to and after.to[0].status not in ("sent", "delivered")
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.messages.cancel_scheduled(s.id)
    assert_error_envelope(ei.value.body)
    client.messages.cancel_scheduled(s2.id)

    with pytest.raises(telnyx.UnprocessableEntityError):
        client.messages.schedule(from_=frm, to=DELIVERED, text="x", send_at=in_minutes(1))
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.messages.schedule(from_=frm, to=DELIVERED, text="x", send_at=in_minutes(6 * 24 * 60))
    now = client.messages.send(from_=frm, to=DELIVERED, text="now").data
    assert now is not None and now.id
    with pytest.raises(telnyx.UnprocessableEntityError):
        client.messages.cancel_scheduled(now.id)
    with pytest.raises(telnyx.NotFoundError):
        client.messages.cancel_scheduled(random_id())


def test_whatsapp(client: telnyx.Telnyx, sender: Sender) -> None:
    w = client.messages.whatsapp(
        from_=sender.numbers[0],
        to=DELIVERED,
        whatsapp_message={"type": "text", "text": {"body": "hola", "preview_url": False}},
    ).data
    assert w is not None and w.id
    assert w.record_type == "message"
    assert w.type == "WHATSAPP"
    assert w.to and w.to[0].phone_number == DELIVERED
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.messages.whatsapp(from_=sender.numbers[0], to=DELIVERED, whatsapp_message={"type": "text"})
    assert_error_envelope(ei.value.body)


def test_opt_outs(client: telnyx.Telnyx, sender: Sender) -> None:
    outside = f"+1415555{random.randint(1000, 9999)}"
    ours = sender.numbers[1]
    r = sim_request("POST", "/_dialtone/sim/messages", {"from": outside, "to": ours, "text": "STOP"})
    assert r.status_code == 201, r.text
    # The inbound message itself, through GET /messages/{id} (InboundMessagePayload).
    inbound = client.messages.retrieve(r.json()["data"]["id"]).data
    assert inbound is not None and inbound.direction == "inbound" and inbound.text == "STOP"
    assert inbound.from_ is not None and inbound.from_.phone_number == outside
    assert inbound.to and inbound.to[0].phone_number == ours

    listed = client.messaging_optouts.list(filter={"from": ours})
    o = next((x for x in listed.data if x.to == outside), None)
    assert o is not None, f"opt-out of {outside} in {listed.data!r}"
    assert o.from_ == ours
    assert o.keyword == "STOP"
    assert o.messaging_profile_id == sender.profile.id
    assert isinstance(o.created_at, datetime)
    redacted = client.messaging_optouts.list(filter={"messaging_profile_id": sender.profile.id}, redaction_enabled="true")
    assert f"{outside[:-4]}****" in [x.to for x in redacted.data]
    since = client.messaging_optouts.list(
        filter={"from": ours}, created_at={"gte": datetime.now(timezone.utc) - timedelta(minutes=1)}
    )
    assert outside in [x.to for x in since.data]

    with pytest.raises(telnyx.BadRequestError) as ei:
        client.messages.send(from_=ours, to=outside, text="promo")
    assert ei.value.status_code == 400
    assert_error_envelope(ei.value.body, "40300")

    r = sim_request("POST", "/_dialtone/sim/messages", {"from": outside, "to": ours, "text": "START"})
    assert r.status_code == 201, r.text
    wait_until(
        lambda: outside not in [x.to for x in client.messaging_optouts.list(filter={"from": ours}).data],
        "opt-out lifted",
    )
    ok = client.messages.send(from_=ours, to=outside, text="welcome back").data
    check_message(ok, sender)


def test_errors(client: telnyx.Telnyx, sender: Sender) -> None:
    with pytest.raises(telnyx.BadRequestError) as ei:
        client.messages.send(from_=sender.numbers[0], to="5551234", text="x")
    e = assert_error_envelope(ei.value.body, "40310")
    assert (e.get("source") or {}).get("pointer") == "/to"

    with pytest.raises(telnyx.BadRequestError) as ei:
        client.messages.send(from_="+15005550006", to=DELIVERED, text="x")
    assert_error_envelope(ei.value.body, "40305")
    with pytest.raises(telnyx.BadRequestError) as ei:
        client.messages.send_long_code(from_="+15005550006", to=DELIVERED, text="x")
    assert_error_envelope(ei.value.body, "40305")
    # The inventory has no short codes: a long code is not a valid short-code sender.
    with pytest.raises(telnyx.BadRequestError) as ei:
        client.messages.send_short_code(from_=sender.numbers[0], to=DELIVERED, text="x")
    assert_error_envelope(ei.value.body, "40305")

    with pytest.raises(telnyx.NotFoundError) as ei:
        client.messages.retrieve(random_id())
    assert ei.value.status_code == 404
    assert_error_envelope(ei.value.body)
    with pytest.raises(telnyx.NotFoundError):
        client.messages.retrieve_group_messages(random_id())
