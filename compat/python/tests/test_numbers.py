"""Phone numbers and messaging profiles through the official SDK, with strict response
validation: profiles (create, list with filters, retrieve, update, delete, list their
numbers), the number search with filters, number orders (create, list, retrieve, update),
owned numbers (list with filters, retrieve, update, delete), messaging settings of numbers
and mobile numbers, and bulk updates."""

from __future__ import annotations

from datetime import datetime
from typing import Iterator

import pytest
import telnyx

from conftest import (
    assert_error_envelope,
    buy_numbers,
    create_profile,
    new_suffix,
    number_id,
    random_id,
    release_numbers,
    wait_until,
)


@pytest.fixture
def bought(client: telnyx.Telnyx) -> Iterator[list[str]]:
    """Numbers a test buys; returned to the inventory afterwards."""
    numbers: list[str] = []
    yield numbers
    release_numbers(client, numbers)


def test_messaging_profile_lifecycle(client: telnyx.Telnyx, sfx: str) -> None:
    name = f"compat-mp-{sfx}"
    created = client.messaging_profiles.create(
        name=name,
        whitelisted_destinations=["US", "CA"],
        webhook_url="https://example.com/hooks",
        webhook_api_version="2",
        number_pool_settings={
            "long_code_weight": 1,
            "toll_free_weight": 0,
            "skip_unhealthy": False,
            "sticky_sender": True,
            "geomatch": False,
        },
    ).data
    assert created is not None and created.id
    assert created.record_type == "messaging_profile"
    assert created.name == name
    assert created.whitelisted_destinations == ["US", "CA"]
    assert created.webhook_url == "https://example.com/hooks"
    assert created.number_pool_settings is not None and created.number_pool_settings.sticky_sender is True
    assert isinstance(created.created_at, datetime)

    got = client.messaging_profiles.retrieve(created.id).data
    assert got is not None and got.id == created.id and got.name == name

    updated = client.messaging_profiles.update(created.id, name=f"{name}-renamed", enabled=False, webhook_url=None).data
    assert updated is not None
    assert updated.name == f"{name}-renamed"
    assert updated.enabled is False
    assert updated.webhook_url is None

    other = create_profile(client, name=f"compat-mp-{sfx}-other")

    contains = client.messaging_profiles.list(filter={"name": {"contains": sfx}})
    assert {p.id for p in contains.data} == {created.id, other.id}
    eq = client.messaging_profiles.list(filter_name_eq=f"{name}-renamed")
    assert [p.id for p in eq.data] == [created.id]
    flat = client.messaging_profiles.list(filter_name_contains=f"{sfx}-other")
    assert [p.id for p in flat.data] == [other.id]
    auto = [p.id for p in client.messaging_profiles.list(filter={"name": {"contains": sfx}}, page_size=1)]
    assert sorted(auto) == sorted([created.id, other.id])

    deleted = client.messaging_profiles.delete(created.id).data
    assert deleted is not None and deleted.id == created.id
    with pytest.raises(telnyx.NotFoundError) as ei:
        client.messaging_profiles.retrieve(created.id)
    assert_error_envelope(ei.value.body)
    client.messaging_profiles.delete(other.id)


def test_messaging_profile_errors(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.update(random_id(), name="x")
    with pytest.raises(telnyx.NotFoundError):
        client.messaging_profiles.delete(random_id())
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.messaging_profiles.create(name=telnyx.omit, whitelisted_destinations=["US"])  # type: ignore[arg-type]
    assert_error_envelope(ei.value.body)


def test_available_phone_numbers(client: telnyx.Telnyx) -> None:
    chicago = client.available_phone_numbers.list(
        filter={"locality": "Chicago", "features": ["sms", "mms"], "limit": 3, "country_code": "US"}
    )
    assert chicago.data is not None and len(chicago.data) == 3
    for a in chicago.data:
        assert a.record_type == "available_phone_number"
        assert a.phone_number and a.phone_number.startswith("+1312")
        assert any(f.name == "sms" for f in (a.features or []))
    assert chicago.meta is not None and chicago.meta.total_results == 3

    ndc = client.available_phone_numbers.list(
        filter={"national_destination_code": "415", "phone_number": {"ends_with": "7"}, "limit": 5}
    )
    assert ndc.data
    for a in ndc.data:
        assert a.phone_number and a.phone_number.startswith("+1415") and a.phone_number.endswith("7")

    toll_free = client.available_phone_numbers.list(filter={"phone_number_type": "toll_free", "limit": 2})
    assert toll_free.data is not None and len(toll_free.data) == 2
    gb = client.available_phone_numbers.list(filter={"country_code": "GB", "phone_number_type": "mobile", "limit": 2})
    assert gb.data is not None and [a.phone_number[:10] for a in gb.data if a.phone_number] == ["+447700900"] * 2
    none = client.available_phone_numbers.list(filter={"national_destination_code": "970", "features": ["sms"]})
    assert none.data == []


def test_number_orders(client: telnyx.Telnyx, bought: list[str]) -> None:
    profile = create_profile(client)
    ref = f"compat-order-{new_suffix()}"
    search = client.available_phone_numbers.list(
        filter={"national_destination_code": "617", "features": ["sms"], "limit": 2}
    )
    numbers = [a.phone_number for a in (search.data or []) if a.phone_number]
    assert len(numbers) == 2
    created = client.number_orders.create(
        phone_numbers=[{"phone_number": p} for p in numbers],
        messaging_profile_id=profile.id,
        customer_reference=ref,
    ).data
    bought.extend(numbers)
    assert created is not None and created.id
    assert created.record_type == "number_order"
    assert created.status == "pending"
    assert created.phone_numbers_count == 2
    assert created.customer_reference == ref
    assert created.messaging_profile_id == profile.id
    assert [p.phone_number for p in (created.phone_numbers or [])] == numbers

    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.number_orders.create(phone_numbers=[{"phone_number": numbers[0]}])
    assert_error_envelope(ei.value.body, "90422")

    def done():
        o = client.number_orders.retrieve(created.id).data  # type: ignore[union-attr]
        return o if o is not None and o.status == "success" else None

    order = wait_until(done, "the order completing")
    assert all(p.status == "success" for p in order.phone_numbers)

    by_ref = client.number_orders.list(filter={"customer_reference": ref})
    assert [o.id for o in by_ref.data] == [created.id]
    by_status = client.number_orders.list(filter={"status": "success", "customer_reference": ref})
    assert len(by_status.data) == 1
    assert client.number_orders.list(filter={"status": "pending", "customer_reference": ref}).data == []

    updated = client.number_orders.update(created.id, customer_reference=f"{ref}-2").data
    assert updated is not None and updated.customer_reference == f"{ref}-2"
    with pytest.raises(telnyx.NotFoundError):
        client.number_orders.retrieve(random_id())


def test_phone_numbers(client: telnyx.Telnyx, bought: list[str]) -> None:
    profile = create_profile(client)
    _, numbers = buy_numbers(client, 2, profile.id, national_destination_code="206")
    bought.extend(numbers)
    pid = number_id(client, numbers[0])

    got = client.phone_numbers.retrieve(pid).data
    assert got is not None
    assert got.record_type == "phone_number"
    assert got.phone_number == numbers[0]
    assert got.status == "active"
    assert got.messaging_profile_id == profile.id

    tag = f"compat-{new_suffix()}"
    updated = client.phone_numbers.update(pid, tags=[tag], customer_reference="ref-1").data
    assert updated is not None and updated.tags == [tag] and updated.customer_reference == "ref-1"

    assert [p.id for p in client.phone_numbers.list(filter={"tag": tag}).data] == [pid]
    by_status = client.phone_numbers.list(filter={"status": "active", "phone_number": numbers[1]})
    assert [p.phone_number for p in by_status.data] == [numbers[1]]
    assert len(client.phone_numbers.list(filter={"number_type": {"eq": "local"}, "tag": tag}).data) == 1
    assert len(client.phone_numbers.list(filter={"customer_reference": "ref-1", "tag": tag}).data) == 1
    listed = [p.phone_number for p in client.phone_numbers.list(sort="phone_number", page_size=250).data]
    assert listed == sorted(listed)  # type: ignore[type-var]

    deleted = client.phone_numbers.delete(pid).data
    assert deleted is not None and deleted.id == pid and deleted.status == "deleted"
    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.retrieve(pid)


def test_messaging_settings_and_bulk_updates(client: telnyx.Telnyx, bought: list[str]) -> None:
    p1 = create_profile(client)
    p2 = create_profile(client)
    _, numbers = buy_numbers(client, 2, p1.id, national_destination_code="305")
    bought.extend(numbers)
    id0, id1 = number_id(client, numbers[0]), number_id(client, numbers[1])

    of_profile = client.messaging_profiles.list_phone_numbers(p1.id)
    assert {n.phone_number for n in of_profile.data} == set(numbers)

    s = client.phone_numbers.messaging.retrieve(id0).data
    assert s is not None and s.id == id0 and s.phone_number == numbers[0] and s.messaging_profile_id == p1.id

    moved = client.phone_numbers.messaging.update(id0, messaging_profile_id=p2.id, messaging_product="A2P").data
    assert moved is not None and moved.messaging_profile_id == p2.id and moved.messaging_product == "A2P"

    assert [n.phone_number for n in client.phone_numbers.messaging.list(filter_messaging_profile_id=p2.id).data] == [
        numbers[0]
    ]
    assert [n.id for n in client.phone_numbers.messaging.list(filter_phone_number=numbers[1]).data] == [id1]
    by_type = client.phone_numbers.messaging.list(
        filter_type="longcode", filter_phone_number_contains=numbers[1][-7:], sort_phone_number="asc"
    )
    assert id1 in [n.id for n in by_type.data]

    off = client.phone_numbers.messaging.update(id0, messaging_profile_id="").data
    assert off is not None and not off.messaging_profile_id

    stranger = "+15005550199"
    job = client.messaging_numbers_bulk_updates.create(messaging_profile_id=p2.id, numbers=[*numbers, stranger]).data
    assert job is not None and job.order_id

    def finished():
        d = client.messaging_numbers_bulk_updates.retrieve(job.order_id).data  # type: ignore[arg-type]
        assert d is not None
        return d if len(d.success or []) + len(d.failed or []) == 3 else None

    status = wait_until(finished, "the bulk update finishing")
    assert set(status.success) == set(numbers)
    assert status.failed == [stranger]
    assert {n.phone_number for n in client.messaging_profiles.list_phone_numbers(p2.id).data} == set(numbers)

    with pytest.raises(telnyx.NotFoundError):
        client.phone_numbers.messaging.retrieve("999999999999")


def test_mobile_phone_numbers_messaging(client: telnyx.Telnyx, bought: list[str]) -> None:
    profile = create_profile(client)
    _, numbers = buy_numbers(client, 1, profile.id, country_code="GB", phone_number_type="mobile", features=["sms"])
    bought.extend(numbers)
    pid = number_id(client, numbers[0])
    got = client.mobile_phone_numbers.messaging.retrieve(pid).data
    assert got is not None and got.id == pid and got.phone_number == numbers[0]
    assert got.messaging_profile_id == profile.id
    listed = list(client.mobile_phone_numbers.messaging.list(page_size=250))
    assert pid in [m.id for m in listed]
    assert all((m.phone_number or "").startswith(("+44", "+49")) for m in listed)
