"""Managed accounts: all eight operations, through the official Python SDK."""

from __future__ import annotations

import pytest
import telnyx

from conftest import (
    assert_error_envelope,
    assert_iso,
    create_managed_account,
    ensure_free_channels,
    make_client,
    new_suffix,
    unique_email,
)


def test_create_returns_the_whole_managed_account(client: telnyx.Telnyx, sfx: str) -> None:
    email = unique_email("create", sfx)
    a = create_managed_account(
        client,
        "create",
        sfx,
        email=email,
        business_name=f"Compat Create {sfx} LLC",
        managed_account_allow_custom_pricing=True,
        rollup_billing=False,
        password=f"Pw-{sfx}!x",
    )
    assert a.record_type == "managed_account"
    assert a.email == email
    assert a.organization_name == f"Compat Create {sfx} LLC"
    assert a.managed_account_allow_custom_pricing is True
    assert a.rollup_billing is False
    assert a.api_key and a.api_token and a.api_user and a.manager_account_id
    assert_iso(a.created_at, "created_at")
    assert_iso(a.updated_at, "updated_at")
    assert f"Pw-{sfx}" not in a.to_json(), "the password must not be echoed"


def test_create_without_email_generates_one(client: telnyx.Telnyx, sfx: str) -> None:
    res = client.managed_accounts.create(business_name=f"Compat NoEmail {sfx} LLC")
    assert res.data is not None
    assert "@" in res.data.email
    assert res.data.organization_name == f"Compat NoEmail {sfx} LLC"


def test_retrieve(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "get")
    res = client.managed_accounts.retrieve(a.id)
    assert res.data is not None
    assert res.data.id == a.id
    assert res.data.email == a.email
    assert res.data.organization_name == a.organization_name
    assert res.data.created_at == a.created_at


def test_update_custom_pricing(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "upd", managed_account_allow_custom_pricing=False)
    res = client.managed_accounts.update(a.id, managed_account_allow_custom_pricing=True)
    assert res.data is not None
    assert res.data.id == a.id
    assert res.data.managed_account_allow_custom_pricing is True
    got = client.managed_accounts.retrieve(a.id)
    assert got.data is not None and got.data.managed_account_allow_custom_pricing is True


def test_list_filter_email_contains(client: telnyx.Telnyx, sfx: str) -> None:
    a = create_managed_account(client, "lista", sfx)
    b = create_managed_account(client, "listb", sfx)
    page = client.managed_accounts.list(filter={"email": {"contains": sfx}})
    assert {x.id for x in page.data} == {a.id, b.id}
    assert page.meta is not None and page.meta.page_number == 1 and page.meta.total_pages == 1
    upper = client.managed_accounts.list(filter={"email": {"contains": f"LISTA-{sfx.upper()}"}})
    assert [x.id for x in upper.data] == [a.id]
    none = client.managed_accounts.list(filter={"email": {"contains": f"nobody-{new_suffix()}"}})
    assert none.data == []


def test_list_filter_organization_name_eq(client: telnyx.Telnyx, sfx: str) -> None:
    a = create_managed_account(client, "org", sfx, business_name=f"Compat Org {sfx} LLC")
    create_managed_account(client, "org2", sfx, business_name=f"Compat Org {sfx} LLC Two")
    res = client.managed_accounts.list(filter={"organization_name": {"eq": f"Compat Org {sfx} LLC"}})
    assert [x.id for x in res.data] == [a.id]
    partial = client.managed_accounts.list(filter={"organization_name": {"eq": f"Compat Org {sfx}"}})
    assert partial.data == []


def test_list_sort(client: telnyx.Telnyx, sfx: str) -> None:
    # Created in the order b, c, a so that creation order and email order differ.
    b = create_managed_account(client, sfx=sfx, email=f"compat-sort-{sfx}-b@example.com")
    c = create_managed_account(client, sfx=sfx, email=f"compat-sort-{sfx}-c@example.com")
    a = create_managed_account(client, sfx=sfx, email=f"compat-sort-{sfx}-a@example.com")
    flt = {"email": {"contains": f"compat-sort-{sfx}"}}

    def ids(**kw):
        return [x.id for x in client.managed_accounts.list(filter=flt, **kw).data]

    assert ids(sort="email") == [a.id, b.id, c.id], "sort=email is ascending"
    assert ids(sort="-email") == [c.id, b.id, a.id], "sort=-email is descending"  # type: ignore[arg-type]
    assert ids(sort="created_at") == [b.id, c.id, a.id], "sort=created_at is ascending"
    assert ids() == [a.id, c.id, b.id], "no sort: created_at descending"


def test_disable_then_enable(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "dis")
    own = make_client(api_key=a.api_key)
    own.organizations.users.list()  # works while enabled

    dis = client.managed_accounts.actions.disable(a.id)
    assert dis.data is not None and dis.data.id == a.id
    with pytest.raises(telnyx.PermissionDeniedError) as ei:
        own.organizations.users.list()
    assert ei.value.status_code == 403
    assert_error_envelope(ei.value.body)

    en = client.managed_accounts.actions.enable(a.id, reenable_all_connections=True)
    assert en.data is not None and en.data.id == a.id
    own.organizations.users.list()


def test_list_filter_status(client: telnyx.Telnyx, sfx: str) -> None:
    a = create_managed_account(client, sfx=sfx, email=f"compat-stat-{sfx}-a@example.com")
    b = create_managed_account(client, sfx=sfx, email=f"compat-stat-{sfx}-b@example.com")
    client.managed_accounts.actions.disable(a.id)

    def ids(status: str):
        flt = {"email": {"contains": f"compat-stat-{sfx}"}, "status": {"eq": status}}
        return [x.id for x in client.managed_accounts.list(filter=flt).data]  # type: ignore[arg-type]

    assert ids("disabled") == [a.id]
    assert ids("enabled") == [b.id]


def test_enable_without_body(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "en0")
    client.managed_accounts.actions.disable(a.id)
    en = client.managed_accounts.actions.enable(a.id)
    assert en.data is not None and en.data.id == a.id


def test_allocatable_channels_and_update_limit(client: telnyx.Telnyx) -> None:
    before = client.managed_accounts.get_allocatable_global_outbound_channels()
    d0 = before.data
    assert d0 is not None
    assert d0.record_type == "allocatable_global_outbound_channels"
    assert isinstance(d0.allocatable_global_outbound_channels, int)
    assert isinstance(d0.total_global_channels_allocated, int)
    assert d0.allocatable_global_outbound_channels >= 1, f"the root manager needs channels: {before!r}"

    a = create_managed_account(client, "chan")
    ensure_free_channels(client, 1)
    zero = client.managed_accounts.update_global_channel_limit(a.id, channel_limit=0)
    assert zero.data is not None and zero.data.channel_limit == 0
    mid = client.managed_accounts.get_allocatable_global_outbound_channels()
    assert mid.data is not None

    res = client.managed_accounts.update_global_channel_limit(a.id, channel_limit=1)
    assert res.data is not None
    assert res.data.id == a.id
    assert res.data.channel_limit == 1
    assert res.data.email == a.email
    assert res.data.manager_account_id == a.manager_account_id
    assert res.data.record_type == "managed_account_global_outbound_settings"

    after = client.managed_accounts.get_allocatable_global_outbound_channels()
    assert after.data is not None
    assert after.data.total_global_channels_allocated == (mid.data.total_global_channels_allocated or 0) + 1


def test_update_limit_beyond_allocatable_is_422(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "chan422")
    cur = client.managed_accounts.get_allocatable_global_outbound_channels()
    assert cur.data is not None and cur.data.allocatable_global_outbound_channels is not None
    too_many = cur.data.allocatable_global_outbound_channels + 1
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.managed_accounts.update_global_channel_limit(a.id, channel_limit=too_many)
    assert ei.value.status_code == 422
    assert_error_envelope(ei.value.body)


def test_update_limit_negative_is_422(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "channeg")
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.managed_accounts.update_global_channel_limit(a.id, channel_limit=-1)
    assert ei.value.status_code == 422
    assert_error_envelope(ei.value.body)
