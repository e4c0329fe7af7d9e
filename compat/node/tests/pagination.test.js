// Pagination of GET /managed_accounts with page[size]=2, by hand and with the SDK's
// auto-pagination (`for await` over the list, and page.getNextPage()).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { client, createManagedAccount, suffix } from './helpers.js';

const c = client();

describe('pagination', () => {
  test('page[size]=2 over five accounts', async () => {
    const sfx = suffix();
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await createManagedAccount(c, { tag: `page${i}`, sfx }));
    const ids = new Set(created.map((a) => a.id));
    const query = { filter: { email: { contains: sfx } }, 'page[size]': 2 };

    const first = await c.managedAccounts.list(query);
    assert.equal(first.data.length, 2);
    assert.deepEqual(first.meta, { page_number: 1, page_size: 2, total_pages: 3, total_results: 5 });
    assert.ok(first.hasNextPage());

    // Page by page with the SDK.
    const seen = [];
    let page = first;
    let pages = 1;
    seen.push(...page.data.map((a) => a.id));
    while (page.hasNextPage()) {
      page = await page.getNextPage();
      pages += 1;
      assert.equal(page.meta.page_number, pages, JSON.stringify(page.meta));
      seen.push(...page.data.map((a) => a.id));
    }
    assert.equal(pages, 3);
    assert.equal(page.data.length, 1);
    assert.deepEqual(new Set(seen), ids);
    assert.equal(seen.length, 5, 'no account on two pages');

    // Auto-pagination.
    const auto = [];
    for await (const a of c.managedAccounts.list(query)) auto.push(a.id);
    assert.deepEqual(auto, seen, 'auto-pagination gives the same order');

    // Explicit page numbers.
    const third = await c.managedAccounts.list({ ...query, 'page[number]': 3 });
    assert.equal(third.data.length, 1);
    assert.equal(third.meta.page_number, 3);
    const beyond = await c.managedAccounts.list({ ...query, 'page[number]': 4 });
    assert.deepEqual(beyond.data, []);
    assert.equal(beyond.meta.total_results, 5);
  });

  test('page[size] over 250 is refused', async () => {
    await assert.rejects(c.managedAccounts.list({ 'page[size]': 251 }), (err) => {
      assert.ok([400, 422].includes(err.status), `400 or 422, got ${err.status}: ${err.message}`);
      return true;
    });
  });
});
