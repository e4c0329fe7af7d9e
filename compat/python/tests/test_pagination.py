"""Pagination of GET /managed_accounts with page[size]=2, by hand and with the SDK's
auto-pagination (iterating the page, iter_pages(), get_next_page())."""

from __future__ import annotations

import pytest
import telnyx

from conftest import create_managed_account


def test_page_size_two_over_five_accounts(client: telnyx.Telnyx, sfx: str) -> None:
    created = [create_managed_account(client, f"page{i}", sfx) for i in range(5)]
    ids = {a.id for a in created}
    flt = {"email": {"contains": sfx}}

    first = client.managed_accounts.list(filter=flt, page_size=2)
    assert len(first.data) == 2
    assert first.meta is not None
    assert (first.meta.page_number, first.meta.total_pages) == (1, 3)
    assert first.has_next_page()

    seen: list[str] = []
    pages = 0
    for page in first.iter_pages():
        pages += 1
        assert page.meta is not None and page.meta.page_number == pages
        seen.extend(a.id for a in page.data)
    assert pages == 3
    assert len(seen) == 5, "no account on two pages"
    assert set(seen) == ids

    auto = [a.id for a in client.managed_accounts.list(filter=flt, page_size=2)]
    assert auto == seen, "auto-pagination gives the same order"

    second = first.get_next_page()
    assert second.meta is not None and second.meta.page_number == 2
    assert [a.id for a in second.data] == seen[2:4]

    third = client.managed_accounts.list(filter=flt, page_size=2, page_number=3)
    assert len(third.data) == 1
    beyond = client.managed_accounts.list(filter=flt, page_size=2, page_number=4)
    assert beyond.data == []


def test_page_size_over_250_is_refused(client: telnyx.Telnyx) -> None:
    with pytest.raises(telnyx.APIStatusError) as ei:
        client.managed_accounts.list(page_size=251)
    assert ei.value.status_code in (400, 422), ei.value
