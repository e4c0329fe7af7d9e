// Organization users: list (filters, include_groups), retrieve, remove, groups report.
// Every managed account comes with the owner of its organization, so each test creates a
// managed account and works in that account's organization with the account's own key.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NotFoundError, PermissionDeniedError } from 'telnyx';
import {
  addSubUser,
  assertErrorEnvelope,
  assertGroups,
  assertOrganizationUser,
  client,
  createManagedAccount,
  expectError,
  randomUUID,
  suffix,
} from './helpers.js';

const root = client();

/** A fresh managed account and a client that uses its own API key. */
async function freshOrg(tag) {
  const account = await createManagedAccount(root, { tag });
  return { account, c: client({ apiKey: account.api_key }) };
}

describe('organization users', () => {
  test('a new account\'s organization lists its owner', async () => {
    const { account, c } = await freshOrg('owner');
    const page = await c.organizations.users.list();
    assert.ok(Array.isArray(page.data), JSON.stringify(page));
    for (const u of page.data) assertOrganizationUser(u);
    const owner = page.data.find((u) => u.email === account.email);
    assert.ok(owner, `the owner ${account.email} should be listed: ${JSON.stringify(page.data)}`);
    assert.equal(owner.record_type, 'organization_owner');
    assert.equal(owner.user_status, 'enabled');
    assert.equal(owner.groups, undefined, 'groups only with include_groups=true');
    assert.equal(page.meta.page_number, 1, JSON.stringify(page.meta));
    assert.ok(Number.isInteger(page.meta.total_pages), JSON.stringify(page.meta));
  });

  test('list with filter[email] matches part of the address', async () => {
    const { account, c } = await freshOrg('ufilter');
    const part = account.email.split('@')[0].slice(-8).toUpperCase();
    const hit = await c.organizations.users.list({ 'filter[email]': part });
    assert.deepEqual(hit.data.map((u) => u.email), [account.email]);
    const miss = await c.organizations.users.list({ 'filter[email]': `nobody-${suffix()}` });
    assert.deepEqual(miss.data, []);
  });

  test('list with filter[user_status]', async () => {
    const { account, c } = await freshOrg('ustatus');
    const enabled = await c.organizations.users.list({ 'filter[user_status]': 'enabled' });
    assert.ok(enabled.data.some((u) => u.email === account.email), JSON.stringify(enabled.data));
    for (const u of enabled.data) assert.equal(u.user_status, 'enabled');
    const disabled = await c.organizations.users.list({ 'filter[user_status]': 'disabled' });
    assert.ok(!disabled.data.some((u) => u.email === account.email), JSON.stringify(disabled.data));
    for (const u of disabled.data) assert.equal(u.user_status, 'disabled');
  });

  test('list with include_groups=true adds groups to every user', async () => {
    const { c } = await freshOrg('ugroups');
    const page = await c.organizations.users.list({ include_groups: true });
    assert.ok(page.data.length >= 1);
    for (const u of page.data) assertGroups(u.groups, JSON.stringify(u));
  });

  test('list walks pages with page[size]=1', async () => {
    const { c } = await freshOrg('upage');
    const first = await c.organizations.users.list({ 'page[size]': 1 });
    assert.equal(first.data.length, 1);
    assert.equal(first.meta.page_size, 1, JSON.stringify(first.meta));
    const all = [];
    for await (const u of c.organizations.users.list({ 'page[size]': 1 })) all.push(u.id);
    assert.equal(all.length, first.meta.total_results, JSON.stringify(first.meta));
    assert.equal(new Set(all).size, all.length);
  });

  test('retrieve returns one user, with groups when asked', async () => {
    const { account, c } = await freshOrg('uget');
    const owner = (await c.organizations.users.list({ 'filter[email]': account.email })).data[0];
    assert.ok(owner, 'owner listed');
    const res = await c.organizations.users.retrieve(owner.id);
    assertOrganizationUser(res.data);
    assert.equal(res.data.id, owner.id);
    assert.equal(res.data.email, account.email);
    assert.equal(res.data.groups, undefined, 'groups only with include_groups=true');
    const withGroups = await c.organizations.users.retrieve(owner.id, { include_groups: true });
    assertGroups(withGroups.data.groups, JSON.stringify(withGroups));
  });

  test('retrieve of an unknown user is a 404', async () => {
    const { c } = await freshOrg('uget404');
    const err = await expectError(c.organizations.users.retrieve(randomUUID()), NotFoundError, 404);
    assertErrorEnvelope(err.error, { code: '10005' });
  });

  test('a user of another organization is not visible', async () => {
    const a = await freshOrg('uisoa');
    const b = await freshOrg('uisob');
    const ownerA = (await a.c.organizations.users.list({ 'filter[email]': a.account.email })).data[0];
    await expectError(b.c.organizations.users.retrieve(ownerA.id), NotFoundError, 404);
    const seen = await b.c.organizations.users.list({ 'filter[email]': a.account.email });
    assert.deepEqual(seen.data, []);
  });

  test('users_groups_report answers JSON with every user and groups', async () => {
    const { account, c } = await freshOrg('ureport');
    const res = await c.organizations.users.getGroupsReport();
    assert.ok(res && Array.isArray(res.data), `expected {"data":[..]}, got ${JSON.stringify(res)}`);
    const owner = res.data.find((u) => u.email === account.email);
    assert.ok(owner, JSON.stringify(res.data));
    for (const u of res.data) {
      assertOrganizationUser(u);
      assertGroups(u.groups, JSON.stringify(u));
    }
    const explicit = await c.organizations.users.getGroupsReport({ Accept: 'application/json' });
    assert.deepEqual(explicit.data.map((u) => u.id).sort(), res.data.map((u) => u.id).sort());
  });

  test('users_groups_report answers CSV for Accept: text/csv', async () => {
    const { account, c } = await freshOrg('ucsv');
    const { data: text, response } = await c.organizations.users
      .getGroupsReport({ Accept: 'text/csv' })
      .withResponse();
    assert.match(response.headers.get('content-type') ?? '', /^text\/csv/, 'Content-Type');
    assert.equal(typeof text, 'string', `CSV comes back as text: ${JSON.stringify(text)}`);
    const lines = text.trim().split(/\r?\n/);
    // The spec's columns: id, email, user_status, created_at, last_sign_in_at, groups.
    assert.equal(lines[0], 'id,email,user_status,created_at,last_sign_in_at,groups', `CSV header in:\n${text}`);
    assert.ok(lines.some((l) => l.split(',')[1] === account.email), `a row for the owner in:\n${text}`);
  });

  test('users_groups_report CSV joins group names as the spec shows', async (t) => {
    const { account, c } = await freshOrg('ucsvg');
    const email = `compat-csv-${suffix()}@example.com`;
    const added = addSubUser(account, email, ['Engineering', 'Sales']);
    if (!added) return t.skip('no way to add an organization sub-user to a running server (set DIALTONE_BIN and a file or postgres DIALTONE_DATABASE)');
    const text = await c.organizations.users.getGroupsReport({ Accept: 'text/csv' });
    const row = text.split(/\r?\n/).find((l) => l.includes(email));
    assert.ok(row, `a row for ${email} in:\n${text}`);
    // Spec example: ...,"Engineering, Sales"
    assert.ok(row.endsWith(',"Engineering, Sales"'), `groups cell in: ${row}`);
  });

  test('the owner cannot be removed', async () => {
    const { account, c } = await freshOrg('uownrm');
    const owner = (await c.organizations.users.list({ 'filter[email]': account.email })).data[0];
    const err = await expectError(c.organizations.users.actions.remove(owner.id), PermissionDeniedError, 403);
    assertErrorEnvelope(err.error);
  });

  test('remove of an unknown user is a 404', async () => {
    const { c } = await freshOrg('urm404');
    await expectError(c.organizations.users.actions.remove(randomUUID()), NotFoundError, 404);
  });

  test('remove takes a sub-user out of the organization', async (t) => {
    const { account, c } = await freshOrg('urm');
    const email = `compat-sub-${suffix()}@example.com`;
    const added = addSubUser(account, email, ['Engineering']);
    if (!added) return t.skip('no way to add an organization sub-user to a running server (set DIALTONE_BIN and a file or postgres DIALTONE_DATABASE)');

    const listed = await c.organizations.users.list({ 'filter[email]': email, include_groups: true });
    assert.equal(listed.data.length, 1, JSON.stringify(listed));
    const sub = listed.data[0];
    assert.equal(sub.record_type, 'organization_sub_user');
    assert.deepEqual(sub.groups.map((g) => g.name), ['Engineering']);

    const report = await c.organizations.users.getGroupsReport();
    const row = report.data.find((u) => u.id === sub.id);
    assert.deepEqual(row?.groups.map((g) => g.name), ['Engineering'], JSON.stringify(report));

    const removed = await c.organizations.users.actions.remove(sub.id);
    assertOrganizationUser(removed.data);
    assert.equal(removed.data.id, sub.id);
    const after = await c.organizations.users.list({ 'filter[email]': email });
    assert.deepEqual(after.data, []);
    await expectError(c.organizations.users.retrieve(sub.id), NotFoundError, 404);
  });
});
