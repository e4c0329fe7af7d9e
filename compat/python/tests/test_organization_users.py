"""Organization users: list (filters, include_groups), retrieve, remove, groups report.

Every managed account comes with the owner of its organization, so each test creates a
managed account and works in that account's organization with the account's own key.
"""

from __future__ import annotations

from typing import Any

import pytest
import telnyx

from conftest import (
    add_sub_user,
    assert_error_envelope,
    create_managed_account,
    make_client,
    new_suffix,
    random_id,
)


def fresh_org(client: telnyx.Telnyx, tag: str) -> tuple[Any, telnyx.Telnyx]:
    account = create_managed_account(client, tag)
    return account, make_client(api_key=account.api_key)


def owner_of(c: telnyx.Telnyx, email: str):
    page = c.organizations.users.list(filter_email=email)
    assert len(page.data) == 1, f"one user with {email}: {page.data!r}"
    return page.data[0]


def test_new_organization_lists_its_owner(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "owner")
    page = c.organizations.users.list()
    owner = next((u for u in page.data if u.email == account.email), None)
    assert owner is not None, f"the owner {account.email} should be listed: {page.data!r}"
    assert owner.record_type == "organization_owner"
    assert owner.user_status == "enabled"
    assert owner.groups is None, "groups only with include_groups=true"
    assert owner.id and owner.created_at
    assert page.meta is not None and page.meta.page_number == 1


def test_list_filter_email(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "ufilter")
    part = account.email.split("@")[0][-8:].upper()
    hit = c.organizations.users.list(filter_email=part)
    assert [u.email for u in hit.data] == [account.email]
    miss = c.organizations.users.list(filter_email=f"nobody-{new_suffix()}")
    assert miss.data == []


def test_list_filter_user_status(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "ustatus")
    enabled = c.organizations.users.list(filter_user_status="enabled")
    assert any(u.email == account.email for u in enabled.data)
    assert all(u.user_status == "enabled" for u in enabled.data)
    disabled = c.organizations.users.list(filter_user_status="disabled")
    assert not any(u.email == account.email for u in disabled.data)
    assert all(u.user_status == "disabled" for u in disabled.data)


def test_list_include_groups(client: telnyx.Telnyx) -> None:
    _, c = fresh_org(client, "ugroups")
    page = c.organizations.users.list(include_groups=True)
    assert page.data
    for u in page.data:
        assert isinstance(u.groups, list), f"groups with include_groups=true: {u!r}"


def test_list_pages(client: telnyx.Telnyx) -> None:
    _, c = fresh_org(client, "upage")
    first = c.organizations.users.list(page_size=1)
    assert len(first.data) == 1
    ids = [u.id for u in c.organizations.users.list(page_size=1)]
    assert len(ids) == len(set(ids)) >= 1


def test_retrieve(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "uget")
    owner = owner_of(c, account.email)
    res = c.organizations.users.retrieve(owner.id)
    assert res.data is not None
    assert res.data.id == owner.id
    assert res.data.email == account.email
    assert res.data.groups is None, "groups only with include_groups=true"
    with_groups = c.organizations.users.retrieve(owner.id, include_groups=True)
    assert with_groups.data is not None and isinstance(with_groups.data.groups, list)


def test_retrieve_unknown_is_404(client: telnyx.Telnyx) -> None:
    _, c = fresh_org(client, "uget404")
    with pytest.raises(telnyx.NotFoundError) as ei:
        c.organizations.users.retrieve(random_id())
    assert ei.value.status_code == 404
    assert_error_envelope(ei.value.body, "10005")


def test_other_organization_is_invisible(client: telnyx.Telnyx) -> None:
    a, ca = fresh_org(client, "uisoa")
    _, cb = fresh_org(client, "uisob")
    owner_a = owner_of(ca, a.email)
    with pytest.raises(telnyx.NotFoundError):
        cb.organizations.users.retrieve(owner_a.id)
    assert cb.organizations.users.list(filter_email=a.email).data == []


def test_users_groups_report_json(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "ureport")
    res = c.organizations.users.get_groups_report()
    assert res.data is not None, f"expected data: {res!r}"
    owner = next((u for u in res.data if u.email == account.email), None)
    assert owner is not None, f"{res.data!r}"
    assert owner.record_type == "organization_owner"
    assert isinstance(owner.groups, list)
    explicit = c.organizations.users.get_groups_report(accept="application/json")
    assert explicit.data is not None
    assert sorted(u.id for u in explicit.data) == sorted(u.id for u in res.data)


def test_users_groups_report_csv(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "ucsv")
    raw = c.organizations.users.with_raw_response.get_groups_report(accept="text/csv")
    assert raw.headers.get("content-type", "").startswith("text/csv"), raw.headers
    lines = raw.http_response.text.strip().splitlines()
    # The spec's columns: id, email, user_status, created_at, last_sign_in_at, groups.
    assert lines[0] == "id,email,user_status,created_at,last_sign_in_at,groups", raw.http_response.text
    assert any(line.split(",")[1] == account.email for line in lines[1:]), raw.http_response.text


def test_owner_cannot_be_removed(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "uownrm")
    owner = owner_of(c, account.email)
    with pytest.raises(telnyx.PermissionDeniedError) as ei:
        c.organizations.users.actions.remove(owner.id)
    assert_error_envelope(ei.value.body)


def test_remove_unknown_is_404(client: telnyx.Telnyx) -> None:
    _, c = fresh_org(client, "urm404")
    with pytest.raises(telnyx.NotFoundError):
        c.organizations.users.actions.remove(random_id())


def test_remove_sub_user(client: telnyx.Telnyx) -> None:
    account, c = fresh_org(client, "urm")
    email = f"compat-sub-{new_suffix()}@example.com"
    if not add_sub_user(account, email, ["Engineering"]):
        pytest.skip("no way to add an organization sub-user to a running server (set DIALTONE_BIN and a file or postgres DIALTONE_DATABASE)")
    listed = c.organizations.users.list(filter_email=email, include_groups=True)
    assert len(listed.data) == 1
    sub = listed.data[0]
    assert sub.record_type == "organization_sub_user"
    assert [g.name for g in sub.groups or []] == ["Engineering"]

    report = c.organizations.users.get_groups_report()
    row = next((u for u in report.data or [] if u.id == sub.id), None)
    assert row is not None and [g.name for g in row.groups] == ["Engineering"]

    removed = c.organizations.users.actions.remove(sub.id)  # type: ignore[arg-type]
    assert removed.data is not None and removed.data.id == sub.id
    assert c.organizations.users.list(filter_email=email).data == []
    with pytest.raises(telnyx.NotFoundError):
        c.organizations.users.retrieve(sub.id)  # type: ignore[arg-type]
