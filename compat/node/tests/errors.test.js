// Errors as the SDK sees them: each status maps to the SDK's own error class.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  APIError,
  AuthenticationError,
  NotFoundError,
  PermissionDeniedError,
  UnprocessableEntityError,
} from 'telnyx';
import {
  BASE_URL,
  assertErrorEnvelope,
  client,
  createManagedAccount,
  expectError,
  randomUUID,
  suffix,
} from './helpers.js';

const c = client();

describe('errors', () => {
  test('a wrong API key is a 401 AuthenticationError', async () => {
    const bad = client({ apiKey: `KEYwrong${suffix()}` });
    const err = await expectError(bad.managedAccounts.list(), AuthenticationError, 401);
    assertErrorEnvelope(err.error, { code: '10009' });
    const err2 = await expectError(bad.organizations.users.list(), AuthenticationError, 401);
    assertErrorEnvelope(err2.error, { code: '10009' });
  });

  test('an unknown managed account id is a 404 NotFoundError', async () => {
    const err = await expectError(c.managedAccounts.retrieve(randomUUID()), NotFoundError, 404);
    assertErrorEnvelope(err.error, { code: '10005' });
    await expectError(c.managedAccounts.update(randomUUID(), { managed_account_allow_custom_pricing: true }), NotFoundError, 404);
    await expectError(c.managedAccounts.actions.disable(randomUUID()), NotFoundError, 404);
    await expectError(c.managedAccounts.actions.enable(randomUUID()), NotFoundError, 404);
    await expectError(c.managedAccounts.updateGlobalChannelLimit(randomUUID(), { channel_limit: 0 }), NotFoundError, 404);
  });

  test('a disabled managed account\'s own key is a 403 PermissionDeniedError', async () => {
    const a = await createManagedAccount(c, { tag: 'e403' });
    await c.managedAccounts.actions.disable(a.id);
    const own = client({ apiKey: a.api_key });
    const err = await expectError(own.organizations.users.list(), PermissionDeniedError, 403);
    assertErrorEnvelope(err.error, { code: '10010' });
  });

  test('a managed account may not manage accounts (403)', async () => {
    const a = await createManagedAccount(c, { tag: 'enotmgr' });
    const own = client({ apiKey: a.api_key });
    await expectError(own.managedAccounts.list(), PermissionDeniedError, 403);
  });

  test('create without business_name is a 422 UnprocessableEntityError', async () => {
    const err = await expectError(
      c.managedAccounts.create({ email: `compat-e422-${suffix()}@example.com` }),
      UnprocessableEntityError,
      422,
    );
    const e = assertErrorEnvelope(err.error);
    assert.equal(e.source?.pointer, '/business_name', JSON.stringify(err.error));
  });

  test('create with an email already taken is refused', async () => {
    const a = await createManagedAccount(c, { tag: 'edup' });
    let err;
    try {
      await c.managedAccounts.create({ business_name: 'Dup LLC', email: a.email });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof APIError, 'a second account with the same email must fail');
    assert.ok([409, 422].includes(err.status), `409 or 422, got ${err.status}: ${err.message}`);
  });

  test('/_stainless_unknown_path is a 404', async () => {
    await expectError(c.get('/_stainless_unknown_path'), NotFoundError, 404);
    const atRoot = client({ baseURL: BASE_URL.replace(/\/v2\/?$/, '') });
    await expectError(atRoot.get('/_stainless_unknown_path'), NotFoundError, 404);
  });

  test('an operation not built yet is a 501', async () => {
    const err = await expectError(c.rooms.list(), APIError, 501);
    assert.equal(err.status, 501);
  });

  test('routes answer at the root as well as under /v2', async () => {
    const atRoot = client({ baseURL: BASE_URL.replace(/\/v2\/?$/, '') });
    const a = await createManagedAccount(atRoot, { tag: 'root' });
    const res = await c.managedAccounts.retrieve(a.id);
    assert.equal(res.data.id, a.id);
  });
});
