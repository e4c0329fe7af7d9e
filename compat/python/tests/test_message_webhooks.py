"""Messaging webhooks as the Python SDK sees them.

A profile's webhook URL points at a receiver this module runs; the number order's
``number_order.complete``, an outbound message's ``message.sent`` and ``message.finalized``
and an inbound ``message.received`` must verify with ``client.webhooks.unwrap`` and, since
``unwrap`` only constructs its models, each body is also validated strictly against the
SDK's own event type (``NumberOrderStatusUpdateWebhookEvent``,
``DeliveryUpdateWebhookEvent``, ``InboundMessageWebhookEvent``).
"""

from __future__ import annotations

import json
from typing import Any, Iterator

import pydantic
import pytest
import telnyx
from telnyx._models import validate_type
from telnyx.types import (
    DeliveryUpdateWebhookEvent,
    InboundMessageWebhookEvent,
    NumberOrderStatusUpdateWebhookEvent,
)

from conftest import buy_numbers, create_profile, release_numbers, sim_request, wait_until
from test_webhooks import Receiver, public_key

DELIVERED = "+15550100001"
REPLIER = "+14155550178"


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    r = Receiver().start()
    try:
        yield r
    finally:
        r.close()


def verified(client: telnyx.Telnyx, hooks: Receiver, key: str) -> list[dict[str, Any]]:
    """Every delivery so far, verified with the SDK; answers their parsed bodies."""
    out = []
    for req in list(hooks.requests):
        client.webhooks.unwrap(req.text, headers=req.headers, key=key)
        out.append(json.loads(req.body))
    return out


def events_for(bodies: list[dict[str, Any]], payload_id: str) -> list[dict[str, Any]]:
    return [b for b in bodies if (b["data"].get("payload") or {}).get("id") == payload_id]


def test_message_webhooks_verify_and_validate(client: telnyx.Telnyx, hooks: Receiver) -> None:
    key = public_key()
    profile = create_profile(client, webhook_url=hooks.url("/messaging"))
    order, numbers = buy_numbers(client, 1, profile.id, national_destination_code="404")
    try:
        # number_order.complete, to the profile's URL.
        done = wait_until(lambda: events_for(verified(client, hooks, key), order.id), "number_order.complete")
        ev = validate_type(type_=NumberOrderStatusUpdateWebhookEvent, value=done[0])
        assert ev.data.event_type == "number_order.complete"
        assert ev.data.payload.id == order.id

        # message.sent then message.finalized.
        m = client.messages.send(from_=numbers[0], to=DELIVERED, text="webhooks please").data
        assert m is not None and m.id
        mid = m.id
        bodies = wait_until(
            lambda: (lambda b: b if len(b) >= 2 else None)(events_for(verified(client, hooks, key), mid)),
            "message.sent and message.finalized",
        )
        assert [b["data"]["event_type"] for b in bodies] == ["message.sent", "message.finalized"]
        for b in bodies:
            e = validate_type(type_=DeliveryUpdateWebhookEvent, value=b)
            assert e.data is not None and e.data.payload is not None and e.data.payload.id == mid
        final = validate_type(type_=DeliveryUpdateWebhookEvent, value=bodies[1])
        assert final.data is not None and final.data.payload is not None and final.data.payload.to
        assert final.data.payload.to[0].status == "delivered"

        # message.received.
        r = sim_request("POST", "/_dialtone/sim/messages", {"from": REPLIER, "to": numbers[0], "text": "hello back"})
        assert r.status_code == 201, r.text

        def received() -> Any:
            for b in verified(client, hooks, key):
                if b["data"]["event_type"] == "message.received":
                    return b
            return None

        body = wait_until(received, "message.received")
        inbound = validate_type(type_=InboundMessageWebhookEvent, value=body)
        assert inbound.data is not None and inbound.data.payload is not None
        p = inbound.data.payload
        assert p.direction == "inbound"
        assert p.text == "hello back"
        assert p.from_ is not None and p.from_.phone_number == REPLIER
        assert p.to and p.to[0].phone_number == numbers[0]
    finally:
        release_numbers(client, numbers)


def whatsapp_events(client: telnyx.Telnyx, hooks: Receiver, key: str) -> list[dict[str, Any]]:
    """Sends a WhatsApp text from a new number whose profile posts to ``hooks``; answers the
    verified bodies of its message.sent and message.finalized."""
    profile = create_profile(client)
    _, numbers = buy_numbers(client, 1, profile.id, national_destination_code="404")
    try:
        client.messaging_profiles.update(profile.id, webhook_url=hooks.url("/whatsapp"))
        w = client.messages.whatsapp(
            from_=numbers[0], to=DELIVERED, whatsapp_message={"type": "text", "text": {"body": "hola"}}
        ).data
        assert w is not None and w.id
        wid = w.id
        return wait_until(
            lambda: (lambda b: b if len(b) >= 2 else None)(events_for(verified(client, hooks, key), wid)),
            "the WhatsApp message's webhooks",
        )
    finally:
        release_numbers(client, numbers)


def test_whatsapp_webhooks_verify(client: telnyx.Telnyx, hooks: Receiver) -> None:
    bodies = whatsapp_events(client, hooks, public_key())
    assert [b["data"]["event_type"] for b in bodies] == ["message.sent", "message.finalized"]
    assert [b["data"]["payload"]["to"][0]["status"] for b in bodies] == ["sent", "delivered"]
    for b in bodies:
        assert b["data"]["payload"]["type"] == "WHATSAPP"
        assert b["data"]["payload"]["body"] == {"type": "text", "text": {"body": "hola"}}


@pytest.mark.xfail(
    strict=True,
    raises=pydantic.ValidationError,
    reason="the payload's `body` is the WhatsappMessageContent (as in the send response), so a text "
    "message's body.text is an object; the SDK's OutboundMessagePayload.body.text is a string",
)
def test_whatsapp_webhooks_validate_against_the_sdk(client: telnyx.Telnyx, hooks: Receiver) -> None:
    for b in whatsapp_events(client, hooks, public_key()):
        validate_type(type_=DeliveryUpdateWebhookEvent, value=b)
