// Managed accounts: all eight operations, through the official Node SDK.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PermissionDeniedError, UnprocessableEntityError } from 'telnyx';
import {
  assertErrorEnvelope,
  assertManagedAccount,
  client,
  createManagedAccount,
  ensureFreeChannels,
  expectError,
  listAll,
  suffix,
  uniqueEmail,
} from './helpers.js';

const c = client();

describe('managed accounts', () => {
  test('create returns the whole ManagedAccount', async () => {
    const sfx = suffix();
    const email = uniqueEmail('create', sfx);
    const business = `Compat Create ${sfx} LLC`;
    const a = await createManagedAccount(c, {
      sfx,
      email,
      business_name: business,
      managed_account_allow_custom_pricing: true,
      rollup_billing: false,
      password: `Pw-${sfx}!x`,
    });
    assertManagedAccount(a);
    assert.equal(a.email, email);
    assert.equal(a.organization_name, business);
    assert.equal(a.managed_account_allow_custom_pricing, true);
    assert.equal(a.rollup_billing, false);
    assert.ok(!JSON.stringify(a).includes(`Pw-${sfx}`), 'the password must not be echoed');
  });

  test('create without email generates one', async () => {
    const sfx = suffix();
    const res = await c.managedAccounts.create({ business_name: `Compat NoEmail ${sfx} LLC` });
    assertManagedAccount(res.data);
    assert.equal(res.data.organization_name, `Compat NoEmail ${sfx} LLC`);
  });

  test('two accounts get different ids and api keys, one manager', async () => {
    const a = await createManagedAccount(c, { tag: 'two' });
    const b = await createManagedAccount(c, { tag: 'two' });
    assert.notEqual(a.id, b.id);
    assert.notEqual(a.api_key, b.api_key);
    assert.equal(a.manager_account_id, b.manager_account_id);
  });

  test('retrieve returns the account created', async () => {
    const a = await createManagedAccount(c, { tag: 'get' });
    const res = await c.managedAccounts.retrieve(a.id);
    assertManagedAccount(res.data);
    assert.equal(res.data.id, a.id);
    assert.equal(res.data.email, a.email);
    assert.equal(res.data.organization_name, a.organization_name);
    assert.equal(res.data.manager_account_id, a.manager_account_id);
    assert.equal(res.data.created_at, a.created_at);
  });

  test('update changes managed_account_allow_custom_pricing', async () => {
    const a = await createManagedAccount(c, { tag: 'upd', managed_account_allow_custom_pricing: false });
    const res = await c.managedAccounts.update(a.id, { managed_account_allow_custom_pricing: true });
    assertManagedAccount(res.data);
    assert.equal(res.data.id, a.id);
    assert.equal(res.data.managed_account_allow_custom_pricing, true);
    assert.ok(Date.parse(res.data.updated_at) >= Date.parse(a.updated_at), 'updated_at must not go back');
    const again = await c.managedAccounts.retrieve(a.id);
    assert.equal(again.data.managed_account_allow_custom_pricing, true);
    const back = await c.managedAccounts.update(a.id, { managed_account_allow_custom_pricing: false });
    assert.equal(back.data.managed_account_allow_custom_pricing, false);
  });

  test('list with filter[email][contains] finds only this test\'s accounts, case-insensitively', async () => {
    const sfx = suffix();
    const a = await createManagedAccount(c, { tag: 'lista', sfx });
    const b = await createManagedAccount(c, { tag: 'listb', sfx });
    const page = await c.managedAccounts.list({ filter: { email: { contains: sfx } } });
    assert.ok(Array.isArray(page.data), `data should be an array: ${JSON.stringify(page.data)}`);
    for (const item of page.data) assertManagedAccount(item, { withKeys: false });
    assert.deepEqual(new Set(page.data.map((x) => x.id)), new Set([a.id, b.id]));
    assert.equal(page.meta.total_results, 2);
    assert.equal(page.meta.page_number, 1);
    assert.equal(page.meta.total_pages, 1);

    const upper = await c.managedAccounts.list({ filter: { email: { contains: `LISTA-${sfx.toUpperCase()}` } } });
    assert.deepEqual(upper.data.map((x) => x.id), [a.id]);

    const none = await c.managedAccounts.list({ filter: { email: { contains: `nobody-${suffix()}` } } });
    assert.deepEqual(none.data, []);
    assert.equal(none.meta.total_results, 0);
  });

  test('list with filter[organization_name][eq] matches the whole name only', async () => {
    const sfx = suffix();
    const a = await createManagedAccount(c, { tag: 'org', sfx, business_name: `Compat Org ${sfx} LLC` });
    await createManagedAccount(c, { tag: 'org2', sfx, business_name: `Compat Org ${sfx} LLC Two` });
    const res = await c.managedAccounts.list({ filter: { organization_name: { eq: `Compat Org ${sfx} LLC` } } });
    assert.deepEqual(res.data.map((x) => x.id), [a.id]);
    assert.equal(res.data[0].organization_name, `Compat Org ${sfx} LLC`);
    const partial = await c.managedAccounts.list({ filter: { organization_name: { eq: `Compat Org ${sfx}` } } });
    assert.deepEqual(partial.data, []);
  });

  test('list sorts by email, created_at, and by default newest first', async () => {
    const sfx = suffix();
    // Created in the order b, c, a so that creation order and email order differ.
    const b = await createManagedAccount(c, { sfx, email: `compat-sort-${sfx}-b@example.com` });
    const cc = await createManagedAccount(c, { sfx, email: `compat-sort-${sfx}-c@example.com` });
    const a = await createManagedAccount(c, { sfx, email: `compat-sort-${sfx}-a@example.com` });
    const filter = { email: { contains: `compat-sort-${sfx}` } };
    const ids = async (q) => (await c.managedAccounts.list({ filter, ...q })).data.map((x) => x.id);

    assert.deepEqual(await ids({ sort: 'email' }), [a.id, b.id, cc.id], 'sort=email is ascending');
    assert.deepEqual(await ids({ sort: '-email' }), [cc.id, b.id, a.id], 'sort=-email is descending');
    assert.deepEqual(await ids({ sort: 'created_at' }), [b.id, cc.id, a.id], 'sort=created_at is ascending');
    assert.deepEqual(await ids({}), [a.id, cc.id, b.id], 'no sort: created_at descending');
  });

  test('disable then enable with reenable_all_connections', async () => {
    const a = await createManagedAccount(c, { tag: 'dis' });
    const own = client({ apiKey: a.api_key });
    await own.organizations.users.list(); // works while enabled

    const dis = await c.managedAccounts.actions.disable(a.id);
    assertManagedAccount(dis.data);
    assert.equal(dis.data.id, a.id);
    const err = await expectError(own.organizations.users.list(), PermissionDeniedError, 403);
    assertErrorEnvelope(err.error);

    const en = await c.managedAccounts.actions.enable(a.id, { reenable_all_connections: true });
    assertManagedAccount(en.data);
    assert.equal(en.data.id, a.id);
    const users = await own.organizations.users.list();
    assert.ok(Array.isArray(users.data));
  });

  test('list with filter[status][eq] tells disabled from enabled accounts', async () => {
    const sfx = suffix();
    const a = await createManagedAccount(c, { sfx, email: `compat-stat-${sfx}-a@example.com` });
    const b = await createManagedAccount(c, { sfx, email: `compat-stat-${sfx}-b@example.com` });
    await c.managedAccounts.actions.disable(a.id);
    const filter = (status) => ({ filter: { email: { contains: `compat-stat-${sfx}` }, status: { eq: status } } });
    const disabled = await c.managedAccounts.list(filter('disabled'));
    assert.deepEqual(disabled.data.map((x) => x.id), [a.id], 'filter[status][eq]=disabled');
    const enabled = await c.managedAccounts.list(filter('enabled'));
    assert.deepEqual(enabled.data.map((x) => x.id), [b.id], 'filter[status][eq]=enabled');
  });

  test('enable with no body is accepted', async () => {
    const a = await createManagedAccount(c, { tag: 'en0' });
    await c.managedAccounts.actions.disable(a.id);
    const en = await c.managedAccounts.actions.enable(a.id);
    assert.equal(en.data.id, a.id);
  });

  test('allocatable_global_outbound_channels and update_global_channel_limit', async () => {
    const before = await c.managedAccounts.getAllocatableGlobalOutboundChannels();
    const d0 = before.data;
    const j0 = JSON.stringify(before);
    assert.equal(d0.record_type, 'allocatable_global_outbound_channels', j0);
    assert.ok(Number.isInteger(d0.allocatable_global_outbound_channels), j0);
    assert.ok(Number.isInteger(d0.total_global_channels_allocated), j0);
    assert.ok(d0.allocatable_global_outbound_channels >= 1, `the root manager needs channels to allocate: ${j0}`);

    const a = await createManagedAccount(c, { tag: 'chan' });
    await ensureFreeChannels(c, 1);
    const zero = await c.managedAccounts.updateGlobalChannelLimit(a.id, { channel_limit: 0 });
    assert.equal(zero.data.channel_limit, 0, JSON.stringify(zero));
    const mid = await c.managedAccounts.getAllocatableGlobalOutboundChannels();

    const res = await c.managedAccounts.updateGlobalChannelLimit(a.id, { channel_limit: 1 });
    const j = JSON.stringify(res);
    assert.equal(res.data.id, a.id, j);
    assert.equal(res.data.channel_limit, 1, j);
    assert.equal(res.data.email, a.email, j);
    assert.equal(res.data.manager_account_id, a.manager_account_id, j);
    assert.equal(res.data.record_type, 'managed_account_global_outbound_settings', j);

    const after = await c.managedAccounts.getAllocatableGlobalOutboundChannels();
    assert.equal(
      after.data.total_global_channels_allocated,
      mid.data.total_global_channels_allocated + 1,
      `total allocated goes up by one: before ${JSON.stringify(mid)}, after ${JSON.stringify(after)}`,
    );
  });

  test('update_global_channel_limit beyond what can be allocated is a 422', async () => {
    const a = await createManagedAccount(c, { tag: 'chan422' });
    const cur = await c.managedAccounts.getAllocatableGlobalOutboundChannels();
    const tooMany = cur.data.allocatable_global_outbound_channels + 1;
    const err = await expectError(
      c.managedAccounts.updateGlobalChannelLimit(a.id, { channel_limit: tooMany }),
      UnprocessableEntityError,
      422,
    );
    assertErrorEnvelope(err.error);
  });

  test('update_global_channel_limit below zero is a 422', async () => {
    const a = await createManagedAccount(c, { tag: 'channeg' });
    const err = await expectError(
      c.managedAccounts.updateGlobalChannelLimit(a.id, { channel_limit: -1 }),
      UnprocessableEntityError,
      422,
    );
    assertErrorEnvelope(err.error);
  });

  test('listAll sees an account created a moment ago', async () => {
    const a = await createManagedAccount(c, { tag: 'all' });
    const all = await listAll(c, { filter: { email: { eq: a.email } } });
    assert.deepEqual(all.map((x) => x.id), [a.id]);
  });
});
