// Shared set-up for the Node compatibility suite: a client of the official Telnyx SDK
// pointed at the Dialtone server named by DIALTONE_BASE_URL / DIALTONE_API_KEY, plus
// helpers that create each test's own data with unique names.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import Telnyx, { APIError } from 'telnyx';

export const BASE_URL = process.env.DIALTONE_BASE_URL;
export const API_KEY = process.env.DIALTONE_API_KEY;

if (!BASE_URL || !API_KEY) {
  throw new Error('DIALTONE_BASE_URL and DIALTONE_API_KEY must be set (see scripts/compat.sh)');
}

/**
 * A client of the official SDK. Retries are off so that a failing call is reported once,
 * with the server's own answer, and a create is never sent twice.
 */
export function client({ apiKey = API_KEY, baseURL = BASE_URL, ...options } = {}) {
  return new Telnyx({ apiKey, baseURL, maxRetries: 0, timeout: 15_000, ...options });
}

/** The server without the /v2 prefix, where Dialtone's own `/_dialtone/...` routes live. */
export const ROOT_URL = BASE_URL.replace(/\/v2\/?$/, '');

/**
 * A request to one of Dialtone's own routes (outside the Telnyx API, so not through the
 * SDK), with the root key. Returns `{ status, body }` with the body parsed as JSON.
 */
export async function dialtoneRequest(method, path, json, { apiKey = API_KEY } = {}) {
  const headers = { authorization: `Bearer ${apiKey}`, accept: 'application/json' };
  if (json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${ROOT_URL}${path}`, {
    method,
    headers,
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body };
}

/** A random lowercase hex suffix that keeps this run's data apart from earlier runs'. */
export function suffix() {
  return randomBytes(6).toString('hex');
}

export function uniqueEmail(tag, sfx = suffix()) {
  return `compat-${tag}-${sfx}@example.com`;
}

export { randomUUID };

/** Creates a managed account with a unique email and business name. */
export async function createManagedAccount(c, { tag = 'ma', sfx = suffix(), ...body } = {}) {
  const params = {
    business_name: `Compat ${tag} ${sfx} LLC`,
    email: uniqueEmail(tag, sfx),
    ...body,
  };
  const res = await c.managedAccounts.create(params);
  assert.ok(res && typeof res === 'object', `create returned ${JSON.stringify(res)}`);
  assert.ok(res.data, `create response has no data: ${JSON.stringify(res)}`);
  return res.data;
}

/** Lists every managed account matching `query`, walking pages with the SDK's auto-pagination. */
export async function listAll(c, query) {
  const out = [];
  for await (const item of c.managedAccounts.list(query)) out.push(item);
  return out;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function assertIsoTime(v, what) {
  assert.equal(typeof v, 'string', `${what} should be a string, got ${JSON.stringify(v)}`);
  assert.match(v, ISO, `${what} should be ISO 8601`);
}

export function assertUuid(v, what) {
  assert.equal(typeof v, 'string', `${what} should be a string, got ${JSON.stringify(v)}`);
  assert.match(v, UUID, `${what} should be a UUID`);
}

/** The fields the spec requires of `ManagedAccount` (create, retrieve, update, actions). */
export function assertManagedAccount(a, { withKeys = true } = {}) {
  const j = JSON.stringify(a);
  assert.equal(a.record_type, 'managed_account', `record_type in ${j}`);
  assertUuid(a.id, 'id');
  assert.equal(typeof a.email, 'string', `email in ${j}`);
  assert.match(a.email, /@/, `email in ${j}`);
  assert.equal(typeof a.api_user, 'string', `api_user in ${j}`);
  assert.equal(typeof a.manager_account_id, 'string', `manager_account_id in ${j}`);
  assert.ok(a.manager_account_id.length > 0, `manager_account_id in ${j}`);
  assertIsoTime(a.created_at, 'created_at');
  assertIsoTime(a.updated_at, 'updated_at');
  if (withKeys) {
    assert.equal(typeof a.api_key, 'string', `api_key in ${j}`);
    assert.ok(a.api_key.length > 0, `api_key in ${j}`);
    assert.equal(typeof a.api_token, 'string', `api_token in ${j}`);
  }
  for (const f of ['managed_account_allow_custom_pricing', 'rollup_billing']) {
    if (a[f] !== undefined) assert.equal(typeof a[f], 'boolean', `${f} in ${j}`);
  }
  if (a.organization_name !== undefined) assert.equal(typeof a.organization_name, 'string', `organization_name in ${j}`);
}

/** The fields of `OrganizationUser`, with the types the spec gives them. */
export function assertOrganizationUser(u) {
  const j = JSON.stringify(u);
  assert.equal(typeof u.id, 'string', `id in ${j}`);
  assert.equal(typeof u.email, 'string', `email in ${j}`);
  assertIsoTime(u.created_at, 'created_at');
  assert.ok(['organization_owner', 'organization_sub_user'].includes(u.record_type), `record_type in ${j}`);
  assert.ok(['enabled', 'disabled', 'blocked'].includes(u.user_status), `user_status in ${j}`);
  if (u.last_sign_in_at !== undefined && u.last_sign_in_at !== null) assertIsoTime(u.last_sign_in_at, 'last_sign_in_at');
  if (u.organization_user_bypasses_sso !== undefined) {
    assert.equal(typeof u.organization_user_bypasses_sso, 'boolean', `organization_user_bypasses_sso in ${j}`);
  }
}

export function assertGroups(groups, j) {
  assert.ok(Array.isArray(groups), `groups should be an array in ${j}`);
  for (const g of groups) {
    assert.equal(typeof g.id, 'string', `group id in ${j}`);
    assert.equal(typeof g.name, 'string', `group name in ${j}`);
  }
}

/** The Telnyx error envelope: `{"errors":[{"code","title",...}]}` with string code and title. */
export function assertErrorEnvelope(body, { code } = {}) {
  const j = JSON.stringify(body);
  assert.ok(body && Array.isArray(body.errors) && body.errors.length > 0, `error body should be {"errors":[..]}: ${j}`);
  const e = body.errors[0];
  assert.equal(typeof e.code, 'string', `errors[0].code should be a string: ${j}`);
  assert.equal(typeof e.title, 'string', `errors[0].title should be a string: ${j}`);
  if (code !== undefined) assert.equal(e.code, code, `errors[0].code in ${j}`);
  return e;
}

/**
 * Awaits `promise`, which must reject with the SDK error class `cls` and HTTP `status`.
 * Returns the error so the caller can look at `err.error` (the parsed body).
 */
export async function expectError(promise, cls, status) {
  let result;
  try {
    result = await promise;
  } catch (err) {
    if (!(err instanceof APIError)) throw err;
    assert.equal(err.status, status, `expected HTTP ${status}, got ${err.status}: ${err.message}`);
    assert.ok(err instanceof cls, `expected ${cls.name}, got ${err.constructor.name}: ${err.message}`);
    return err;
  }
  assert.fail(`expected ${cls.name} (HTTP ${status}), but the call succeeded with ${JSON.stringify(result)}`);
}

/**
 * Adds an organization sub-user (with groups) to `account`'s organization. The API has no
 * operation for it: Dialtone's CLI does it on the database (`dialtone users add`), which
 * this suite can reach only when DIALTONE_BIN and a DIALTONE_DATABASE shared with the
 * server (not `sqlite::memory:`) are set. Returns the user the CLI printed, or null when
 * that is not possible (the test that needs it is then skipped).
 */
export function addSubUser(account, email, groups = []) {
  const bin = process.env.DIALTONE_BIN;
  const db = process.env.DIALTONE_DATABASE;
  if (!bin || !db || db === 'sqlite::memory:' || db === ':memory:') return null;
  const args = ['users', 'add', '--database', db, '--email', email, '--account', account.id];
  for (const g of groups) args.push('--group', g);
  const out = execFileSync(bin, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(out);
}

/**
 * Makes sure the root manager has at least `n` unallocated outbound channels. Each managed
 * account gets some channels at creation while the pool lasts, so a server that has run
 * these suites many times may have none left; this takes channels back from the oldest
 * accounts these suites made (emails starting with `compat-`).
 */
export async function ensureFreeChannels(c, n = 1) {
  const free = async () => {
    const d = (await c.managedAccounts.getAllocatableGlobalOutboundChannels()).data;
    return d.allocatable_global_outbound_channels - d.total_global_channels_allocated;
  };
  if ((await free()) >= n) return;
  const old = await c.managedAccounts.list({ filter: { email: { contains: 'compat-' } }, sort: 'created_at', 'page[size]': 250 });
  for (const a of old.data) {
    await c.managedAccounts.updateGlobalChannelLimit(a.id, { channel_limit: 0 });
    if ((await free()) >= n) return;
  }
}

// --- numbers and messaging ----------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls `fn` every 100 ms until it answers something truthy (returned), failing after `ms`.
 * The server runs on the real clock, so scheduler work (an order completing, a message
 * reaching its final state) shows up within a second or two.
 */
export async function waitUntil(fn, what, ms = 10_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

/** Creates a messaging profile with a unique name (whitelisted to US and GB by default). */
export async function createProfile(c, body = {}) {
  const res = await c.messagingProfiles.create({
    name: `compat-profile-${suffix()}`,
    whitelisted_destinations: ['US', 'GB'],
    ...body,
  });
  assert.ok(res.data?.id, `profile create answered ${JSON.stringify(res)}`);
  return res.data;
}

/**
 * Buys `n` numbers matching `filter` (default: US numbers with SMS and MMS) for the profile
 * `messagingProfileId`, and waits until the order completes. Returns
 * `{ order, numbers }` where `numbers` are the E.164 strings, in the order's order.
 */
export async function buyNumbers(c, { n = 1, filter = {}, messagingProfileId, customerReference } = {}) {
  const search = await c.availablePhoneNumbers.list({
    filter: { country_code: 'US', features: ['sms', 'mms'], limit: n, ...filter },
  });
  const numbers = search.data.slice(0, n).map((a) => a.phone_number);
  assert.equal(numbers.length, n, `search offered ${JSON.stringify(search.data)}`);
  const body = { phone_numbers: numbers.map((phone_number) => ({ phone_number })) };
  if (messagingProfileId) body.messaging_profile_id = messagingProfileId;
  if (customerReference) body.customer_reference = customerReference;
  const created = (await c.numberOrders.create(body)).data;
  const order = await waitUntil(async () => {
    const o = (await c.numberOrders.retrieve(created.id)).data;
    return o.status === 'success' ? o : null;
  }, `number order ${created.id} completing`);
  return { order, numbers };
}

/** The id of the account's number `e164` (GET /phone_numbers?filter[phone_number]=...). */
export async function numberId(c, e164) {
  const res = await c.phoneNumbers.list({ filter: { phone_number: e164 } });
  assert.equal(res.data.length, 1, `${e164} in ${JSON.stringify(res.data)}`);
  return res.data[0].id;
}

/** Deletes the account's numbers (back to the inventory), ignoring those already gone. */
export async function releaseNumbers(c, numbers) {
  for (const e164 of numbers) {
    const res = await c.phoneNumbers.list({ filter: { phone_number: e164 } });
    for (const p of res.data) await c.phoneNumbers.delete(p.id);
  }
}

/** A message's first recipient's status (GET /messages/{id}). */
export async function messageStatus(c, id) {
  return (await c.messages.retrieve(id)).data.to[0].status;
}

/** Waits until message `id` has reached one of the final states; returns the message. */
export async function waitForFinal(c, id, ms = 10_000) {
  const final = ['delivered', 'sending_failed', 'delivery_failed', 'delivery_unconfirmed'];
  return waitUntil(async () => {
    const m = (await c.messages.retrieve(id)).data;
    return final.includes(m.to[0].status) ? m : null;
  }, `message ${id} reaching a final state`, ms);
}
