"""Shared set-up for the Python compatibility suite.

Every client is the official ``telnyx`` SDK with strict response validation on, so each
response is checked against the SDK's own types. The server is named by
DIALTONE_BASE_URL / DIALTONE_API_KEY; each test creates its own data with a random suffix.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import uuid
from typing import Any, Callable, Optional

import pytest
import telnyx

BASE_URL = os.environ.get("DIALTONE_BASE_URL", "")
API_KEY = os.environ.get("DIALTONE_API_KEY", "")

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def make_client(
    api_key: Optional[str] = None, base_url: Optional[str] = None, public_key: Optional[str] = None
) -> telnyx.Telnyx:
    """A client of the official SDK. Retries are off so that a failing call is reported
    once, with the server's own answer, and a create is never sent twice. ``public_key``
    (the webhook verification key, TELNYX_PUBLIC_KEY) is passed on only when given."""
    if not BASE_URL or not API_KEY:
        pytest.fail("DIALTONE_BASE_URL and DIALTONE_API_KEY must be set (see scripts/compat.sh)")
    extra: dict[str, Any] = {} if public_key is None else {"public_key": public_key}
    return telnyx.Telnyx(
        api_key=api_key or API_KEY,
        base_url=base_url or BASE_URL,
        max_retries=0,
        timeout=15.0,
        _strict_response_validation=True,
        **extra,
    )


def root_base_url() -> str:
    """The server without the /v2 prefix (the SDKs' own test suites use it that way)."""
    return re.sub(r"/v2/?$", "", BASE_URL)


def new_suffix() -> str:
    return secrets.token_hex(6)


def unique_email(tag: str, sfx: Optional[str] = None) -> str:
    return f"compat-{tag}-{sfx or new_suffix()}@example.com"


def random_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def client() -> telnyx.Telnyx:
    return make_client()


@pytest.fixture
def sfx() -> str:
    return new_suffix()


def create_managed_account(c: telnyx.Telnyx, tag: str = "ma", sfx: Optional[str] = None, **body: Any):
    sfx = sfx or new_suffix()
    params: dict[str, Any] = {
        "business_name": f"Compat {tag} {sfx} LLC",
        "email": unique_email(tag, sfx),
    }
    params.update(body)
    res = c.managed_accounts.create(**params)
    assert res.data is not None, f"create response has no data: {res!r}"
    return res.data


@pytest.fixture
def new_account(client: telnyx.Telnyx) -> Callable[..., Any]:
    def make(tag: str = "ma", **kw: Any):
        return create_managed_account(client, tag, **kw)

    return make


def assert_iso(v: Any, what: str) -> None:
    assert isinstance(v, str) and ISO.match(v), f"{what} should be ISO 8601, got {v!r}"


def assert_error_envelope(body: Any, code: Optional[str] = None) -> dict:
    """The Telnyx error envelope: {"errors":[{"code","title",...}]} with string code and title."""
    assert isinstance(body, dict) and isinstance(body.get("errors"), list) and body["errors"], (
        f'error body should be {{"errors":[..]}}: {body!r}'
    )
    e = body["errors"][0]
    assert isinstance(e.get("code"), str), f"errors[0].code should be a string: {body!r}"
    assert isinstance(e.get("title"), str), f"errors[0].title should be a string: {body!r}"
    if code is not None:
        assert e["code"] == code, f"errors[0].code should be {code}: {body!r}"
    return e


def add_sub_user(account: Any, email: str, groups: list[str]) -> Optional[dict]:
    """Adds an organization sub-user (with groups) to ``account``'s organization. The API
    has no operation for it: Dialtone's CLI does it on the database (``dialtone users add``),
    which this suite can reach only when DIALTONE_BIN and a DIALTONE_DATABASE shared with
    the server (not ``sqlite::memory:``) are set. Returns the user the CLI printed, or None
    when that is not possible (the test that needs it is then skipped)."""
    binary = os.environ.get("DIALTONE_BIN")
    db = os.environ.get("DIALTONE_DATABASE")
    if not binary or not db or db in ("sqlite::memory:", ":memory:"):
        return None
    args = [binary, "users", "add", "--database", db, "--email", email, "--account", account.id]
    for g in groups:
        args += ["--group", g]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ensure_free_channels(c: telnyx.Telnyx, n: int = 1) -> None:
    """Makes sure the root manager has at least ``n`` unallocated outbound channels. Each
    managed account gets some channels at creation while the pool lasts, so a server that
    has run these suites many times may have none left; this takes channels back from the
    oldest accounts these suites made (emails starting with ``compat-``)."""

    def free() -> int:
        d = c.managed_accounts.get_allocatable_global_outbound_channels().data
        assert d is not None
        return (d.allocatable_global_outbound_channels or 0) - (d.total_global_channels_allocated or 0)

    if free() >= n:
        return
    old = c.managed_accounts.list(filter={"email": {"contains": "compat-"}}, sort="created_at", page_size=250)
    for a in old.data:
        c.managed_accounts.update_global_channel_limit(a.id, channel_limit=0)
        if free() >= n:
            return


# --- numbers and messaging ------------------------------------------------------------------

import time  # noqa: E402

import httpx  # noqa: E402

FINAL_STATUSES = ("delivered", "sending_failed", "delivery_failed", "delivery_unconfirmed")


def wait_until(fn: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
    """Calls ``fn`` every 100 ms until it answers something truthy (returned), failing after
    ``timeout`` s. The server runs on the real clock, so scheduler work (an order completing,
    a message reaching its final state) shows up within a second or two."""
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)


def sim_request(method: str, path: str, body: Any = None) -> httpx.Response:
    """A request to one of Dialtone's own routes (outside the Telnyx API, so not through the
    SDK), with the root key, at the server root."""
    with httpx.Client(timeout=15.0) as h:
        return h.request(
            method,
            root_base_url() + path,
            headers={"authorization": f"Bearer {API_KEY}", "accept": "application/json"},
            json=body,
        )


def create_profile(c: telnyx.Telnyx, **body: Any):
    """Creates a messaging profile with a unique name (whitelisted to US and GB by default)."""
    params: dict[str, Any] = {"name": f"compat-profile-{new_suffix()}", "whitelisted_destinations": ["US", "GB"]}
    params.update(body)
    res = c.messaging_profiles.create(**params)
    assert res.data is not None and res.data.id, f"profile create answered {res!r}"
    return res.data


def buy_numbers(
    c: telnyx.Telnyx, n: int = 1, messaging_profile_id: Optional[str] = None, **filter: Any
) -> tuple[Any, list[str]]:
    """Buys ``n`` numbers matching ``filter`` (default: US numbers with SMS and MMS) for the
    profile, and waits until the order completes. Returns (order, E.164 numbers)."""
    f: dict[str, Any] = {"country_code": "US", "features": ["sms", "mms"], "limit": n}
    f.update(filter)
    search = c.available_phone_numbers.list(filter=f)  # type: ignore[arg-type]
    numbers = [a.phone_number for a in (search.data or [])][:n]
    assert len(numbers) == n and all(numbers), f"search offered {search!r}"
    kw: dict[str, Any] = {"phone_numbers": [{"phone_number": p} for p in numbers]}
    if messaging_profile_id:
        kw["messaging_profile_id"] = messaging_profile_id
    created = c.number_orders.create(**kw).data
    assert created is not None and created.id

    def done() -> Any:
        o = c.number_orders.retrieve(created.id).data  # type: ignore[union-attr]
        return o if o is not None and o.status == "success" else None

    order = wait_until(done, f"number order {created.id} completing")
    return order, numbers  # type: ignore[return-value]


def number_id(c: telnyx.Telnyx, e164: str) -> str:
    res = c.phone_numbers.list(filter={"phone_number": e164})
    assert len(res.data) == 1, f"{e164} in {res.data!r}"
    assert res.data[0].id
    return res.data[0].id


def release_numbers(c: telnyx.Telnyx, numbers: list[str]) -> None:
    """Deletes the account's numbers (back to the inventory), ignoring those already gone."""
    for e164 in numbers:
        for p in c.phone_numbers.list(filter={"phone_number": e164}).data:
            assert p.id
            c.phone_numbers.delete(p.id)


def wait_for_final(c: telnyx.Telnyx, message_id: str, timeout: float = 10.0) -> Any:
    def final() -> Any:
        m = c.messages.retrieve(message_id).data
        assert m is not None and m.to
        return m if m.to[0].status in FINAL_STATUSES else None

    return wait_until(final, f"message {message_id} reaching a final state", timeout)
