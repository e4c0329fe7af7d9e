"""Errors as the SDK sees them: each status maps to the SDK's own exception class."""

from __future__ import annotations

import httpx
import pytest
import telnyx

from conftest import (
    assert_error_envelope,
    create_managed_account,
    make_client,
    new_suffix,
    random_id,
    root_base_url,
)


def test_wrong_api_key_is_401() -> None:
    bad = make_client(api_key=f"KEYwrong{new_suffix()}")
    with pytest.raises(telnyx.AuthenticationError) as ei:
        bad.managed_accounts.list()
    assert ei.value.status_code == 401
    assert_error_envelope(ei.value.body, "10009")
    with pytest.raises(telnyx.AuthenticationError) as ei2:
        bad.organizations.users.list()
    assert_error_envelope(ei2.value.body, "10009")


def test_unknown_managed_account_is_404(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError) as ei:
        client.managed_accounts.retrieve(random_id())
    assert ei.value.status_code == 404
    assert_error_envelope(ei.value.body, "10005")
    with pytest.raises(telnyx.NotFoundError):
        client.managed_accounts.update(random_id(), managed_account_allow_custom_pricing=True)
    with pytest.raises(telnyx.NotFoundError):
        client.managed_accounts.actions.disable(random_id())
    with pytest.raises(telnyx.NotFoundError):
        client.managed_accounts.actions.enable(random_id(), reenable_all_connections=True)
    with pytest.raises(telnyx.NotFoundError):
        client.managed_accounts.update_global_channel_limit(random_id(), channel_limit=0)


def test_disabled_account_key_is_403(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "e403")
    client.managed_accounts.actions.disable(a.id)
    own = make_client(api_key=a.api_key)
    with pytest.raises(telnyx.PermissionDeniedError) as ei:
        own.organizations.users.list()
    assert ei.value.status_code == 403
    assert_error_envelope(ei.value.body, "10010")


def test_managed_account_may_not_manage_accounts(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "enotmgr")
    own = make_client(api_key=a.api_key)
    with pytest.raises(telnyx.PermissionDeniedError):
        own.managed_accounts.list()


def test_create_without_business_name_is_422(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.UnprocessableEntityError) as ei:
        client.managed_accounts.create(business_name=telnyx.omit, email=f"compat-e422-{new_suffix()}@example.com")  # type: ignore[arg-type]
    assert ei.value.status_code == 422
    e = assert_error_envelope(ei.value.body)
    assert (e.get("source") or {}).get("pointer") == "/business_name", ei.value.body


def test_duplicate_email_is_refused(client: telnyx.Telnyx) -> None:
    a = create_managed_account(client, "edup")
    with pytest.raises(telnyx.APIStatusError) as ei:
        client.managed_accounts.create(business_name="Dup LLC", email=a.email)
    assert ei.value.status_code in (409, 422), ei.value


def test_stainless_unknown_path_is_404(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.NotFoundError):
        client.get("/_stainless_unknown_path", cast_to=httpx.Response)
    at_root = make_client(base_url=root_base_url())
    with pytest.raises(telnyx.NotFoundError):
        at_root.get("/_stainless_unknown_path", cast_to=httpx.Response)


def test_operation_not_built_is_501(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.APIStatusError) as ei:
        client.rooms.list()
    assert ei.value.status_code == 501, ei.value
    assert isinstance(ei.value, telnyx.InternalServerError)


def test_routes_answer_at_the_root(client: telnyx.Telnyx) -> None:
    at_root = make_client(base_url=root_base_url())
    a = create_managed_account(at_root, "root")
    got = client.managed_accounts.retrieve(a.id)
    assert got.data is not None and got.data.id == a.id
