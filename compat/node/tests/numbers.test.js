// Phone numbers and messaging profiles through the official SDK: profiles (create, list with
// filters, retrieve, update, delete, list their numbers), the number search with filters,
// number orders (create, list, retrieve, update), owned numbers (list with filters, retrieve,
// update, delete), messaging settings of numbers and mobile numbers, and bulk updates.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { NotFoundError, UnprocessableEntityError } from 'telnyx';
import {
  assertErrorEnvelope,
  assertIsoTime,
  assertUuid,
  buyNumbers,
  client,
  createProfile,
  expectError,
  numberId,
  randomUUID,
  releaseNumbers,
  suffix,
  waitUntil,
} from './helpers.js';

const c = client();
const bought = [];
after(async () => {
  await releaseNumbers(c, bought);
});

function assertProfile(p) {
  const j = JSON.stringify(p);
  assert.equal(p.record_type, 'messaging_profile', `record_type in ${j}`);
  assertUuid(p.id, 'id');
  assert.equal(typeof p.name, 'string', `name in ${j}`);
  assert.equal(typeof p.enabled, 'boolean', `enabled in ${j}`);
  assert.ok(Array.isArray(p.whitelisted_destinations), `whitelisted_destinations in ${j}`);
  assertIsoTime(p.created_at, 'created_at');
  assertIsoTime(p.updated_at, 'updated_at');
}

describe('messaging profiles', () => {
  test('create, retrieve, update, list with filters, delete', async () => {
    const sfx = suffix();
    const name = `compat-mp-${sfx}`;
    const created = (
      await c.messagingProfiles.create({
        name,
        whitelisted_destinations: ['US', 'CA'],
        webhook_url: 'https://example.com/hooks',
        webhook_api_version: '2',
        number_pool_settings: { long_code_weight: 1, toll_free_weight: 0, skip_unhealthy: false, sticky_sender: true, geomatch: false },
      })
    ).data;
    assertProfile(created);
    assert.equal(created.name, name);
    assert.deepEqual(created.whitelisted_destinations, ['US', 'CA']);
    assert.equal(created.webhook_url, 'https://example.com/hooks');
    assert.equal(created.number_pool_settings.sticky_sender, true);

    const got = (await c.messagingProfiles.retrieve(created.id)).data;
    assert.equal(got.id, created.id);
    assert.equal(got.name, name);

    const updated = (
      await c.messagingProfiles.update(created.id, { name: `${name}-renamed`, enabled: false, webhook_url: null })
    ).data;
    assertProfile(updated);
    assert.equal(updated.name, `${name}-renamed`);
    assert.equal(updated.enabled, false);
    assert.equal(updated.webhook_url ?? null, null);

    const other = await createProfile(c, { name: `compat-mp-${sfx}-other` });

    // filter[name][contains] (the SDK's nested filter) and filter[name][eq].
    const contains = await c.messagingProfiles.list({ filter: { name: { contains: sfx } } });
    assert.deepEqual(new Set(contains.data.map((p) => p.id)), new Set([created.id, other.id]));
    for (const p of contains.data) assertProfile(p);
    assert.equal(contains.meta.total_results, 2);
    const eq = await c.messagingProfiles.list({ 'filter[name][eq]': `${name}-renamed` });
    assert.deepEqual(eq.data.map((p) => p.id), [created.id]);
    const flat = await c.messagingProfiles.list({ 'filter[name][contains]': `${sfx}-other` });
    assert.deepEqual(flat.data.map((p) => p.id), [other.id]);
    // Auto-pagination over one-item pages.
    const all = [];
    for await (const p of c.messagingProfiles.list({ filter: { name: { contains: sfx } }, 'page[size]': 1 })) all.push(p.id);
    assert.equal(all.length, 2);

    const deleted = (await c.messagingProfiles.delete(created.id)).data;
    assert.equal(deleted.id, created.id);
    await expectError(c.messagingProfiles.retrieve(created.id), NotFoundError, 404);
    await c.messagingProfiles.delete(other.id);
  });

  test('an unknown profile is a 404 and a profile without a name a 422', async () => {
    const err = await expectError(c.messagingProfiles.retrieve(randomUUID()), NotFoundError, 404);
    assertErrorEnvelope(err.error);
    await expectError(c.messagingProfiles.update(randomUUID(), { name: 'x' }), NotFoundError, 404);
    await expectError(c.messagingProfiles.delete(randomUUID()), NotFoundError, 404);
    const bad = await expectError(
      c.messagingProfiles.create({ whitelisted_destinations: ['US'] }),
      UnprocessableEntityError,
      422,
    );
    assertErrorEnvelope(bad.error);
  });
});

describe('numbers', () => {
  test('search available numbers with filters', async () => {
    const chicago = await c.availablePhoneNumbers.list({
      filter: { locality: 'Chicago', features: ['sms', 'mms'], limit: 3, country_code: 'US' },
    });
    assert.equal(chicago.data.length, 3, JSON.stringify(chicago));
    for (const a of chicago.data) {
      const j = JSON.stringify(a);
      assert.equal(a.record_type, 'available_phone_number', `record_type in ${j}`);
      assert.match(a.phone_number, /^\+1312/, j);
      assert.ok(a.features.some((f) => f.name === 'sms'), `features in ${j}`);
      assert.equal(a.region_information.find((r) => r.region_type === 'country_code')?.region_name, 'US', j);
    }
    assert.equal(typeof chicago.meta.total_results, 'number', JSON.stringify(chicago.meta));

    // The same search answers the same numbers.
    const again = await c.availablePhoneNumbers.list({
      filter: { locality: 'Chicago', features: ['sms', 'mms'], limit: 3, country_code: 'US' },
    });
    assert.deepEqual(again.data.map((a) => a.phone_number), chicago.data.map((a) => a.phone_number));

    const ndc = await c.availablePhoneNumbers.list({
      filter: { national_destination_code: '415', phone_number: { ends_with: '7' }, limit: 5 },
    });
    assert.ok(ndc.data.length > 0);
    for (const a of ndc.data) assert.match(a.phone_number, /^\+1415\d{6}7$/);

    const tollFree = await c.availablePhoneNumbers.list({ filter: { phone_number_type: 'toll_free', limit: 2 } });
    assert.equal(tollFree.data.length, 2);
    for (const a of tollFree.data) assert.match(a.phone_number, /^\+18(00|33|44|55|66|77|88)555\d{4}$/);

    const gb = await c.availablePhoneNumbers.list({ filter: { country_code: 'GB', phone_number_type: 'mobile', limit: 2 } });
    assert.equal(gb.data.length, 2);
    for (const a of gb.data) assert.match(a.phone_number, /^\+447700900\d{3}$/);

    // No SMS in 970: asking for SMS there finds nothing.
    const none = await c.availablePhoneNumbers.list({ filter: { national_destination_code: '970', features: ['sms'] } });
    assert.deepEqual(none.data, []);
  });

  test('order numbers; list, retrieve and update the order', async () => {
    const profile = await createProfile(c);
    const ref = `compat-order-${suffix()}`;
    const search = await c.availablePhoneNumbers.list({ filter: { national_destination_code: '617', features: ['sms'], limit: 2 } });
    const numbers = search.data.map((a) => a.phone_number);
    assert.equal(numbers.length, 2);
    const created = (
      await c.numberOrders.create({
        phone_numbers: numbers.map((phone_number) => ({ phone_number })),
        messaging_profile_id: profile.id,
        customer_reference: ref,
      })
    ).data;
    bought.push(...numbers);
    const j = JSON.stringify(created);
    assert.equal(created.record_type, 'number_order', j);
    assertUuid(created.id, 'order id');
    assert.equal(created.status, 'pending', j);
    assert.equal(created.phone_numbers_count, 2, j);
    assert.equal(created.customer_reference, ref, j);
    assert.equal(created.messaging_profile_id, profile.id, j);
    assert.deepEqual(created.phone_numbers.map((p) => p.phone_number), numbers, j);
    assertIsoTime(created.created_at, 'created_at');

    // A number already bought cannot be bought again.
    const taken = await expectError(
      c.numberOrders.create({ phone_numbers: [{ phone_number: numbers[0] }] }),
      UnprocessableEntityError,
      422,
    );
    assertErrorEnvelope(taken.error, { code: '90422' });

    const done = await waitUntil(async () => {
      const o = (await c.numberOrders.retrieve(created.id)).data;
      return o.status === 'success' ? o : null;
    }, 'the order completing');
    assert.equal(done.id, created.id);
    for (const p of done.phone_numbers) assert.equal(p.status, 'success', JSON.stringify(done));

    const byRef = await c.numberOrders.list({ filter: { customer_reference: ref } });
    assert.deepEqual(byRef.data.map((o) => o.id), [created.id]);
    const byStatus = await c.numberOrders.list({ filter: { status: 'success', customer_reference: ref } });
    assert.equal(byStatus.data.length, 1);
    const pending = await c.numberOrders.list({ filter: { status: 'pending', customer_reference: ref } });
    assert.deepEqual(pending.data, []);

    const ref2 = `${ref}-2`;
    const updated = (await c.numberOrders.update(created.id, { customer_reference: ref2 })).data;
    assert.equal(updated.customer_reference, ref2);
    assert.equal((await c.numberOrders.retrieve(created.id)).data.customer_reference, ref2);

    await expectError(c.numberOrders.retrieve(randomUUID()), NotFoundError, 404);
  });

  test('owned numbers: list with filters, retrieve, update, delete', async () => {
    const profile = await createProfile(c);
    const { numbers } = await buyNumbers(c, { n: 2, messagingProfileId: profile.id, filter: { national_destination_code: '206' } });
    bought.push(...numbers);
    const id = await numberId(c, numbers[0]);

    const got = (await c.phoneNumbers.retrieve(id)).data;
    let j = JSON.stringify(got);
    assert.equal(got.record_type, 'phone_number', j);
    assert.equal(got.id, id, j);
    assert.equal(got.phone_number, numbers[0], j);
    assert.equal(got.status, 'active', j);
    assert.equal(got.messaging_profile_id, profile.id, j);

    const tag = `compat-${suffix()}`;
    const updated = (await c.phoneNumbers.update(id, { tags: [tag], customer_reference: 'ref-1' })).data;
    j = JSON.stringify(updated);
    assert.deepEqual(updated.tags, [tag], j);
    assert.equal(updated.customer_reference, 'ref-1', j);

    const byTag = await c.phoneNumbers.list({ filter: { tag } });
    assert.deepEqual(byTag.data.map((p) => p.id), [id]);
    const byStatus = await c.phoneNumbers.list({ filter: { status: 'active', phone_number: numbers[1] } });
    assert.deepEqual(byStatus.data.map((p) => p.phone_number), [numbers[1]]);
    const byType = await c.phoneNumbers.list({ filter: { number_type: { eq: 'local' }, tag } });
    assert.equal(byType.data.length, 1);
    const byRef = await c.phoneNumbers.list({ filter: { customer_reference: 'ref-1', tag } });
    assert.equal(byRef.data.length, 1);
    const sorted = await c.phoneNumbers.list({ sort: 'phone_number', 'page[size]': 250 });
    const list = sorted.data.map((p) => p.phone_number);
    assert.deepEqual(list, [...list].sort(), 'sort=phone_number');

    const deleted = (await c.phoneNumbers.delete(id)).data;
    assert.equal(deleted.id, id);
    assert.equal(deleted.status, 'deleted', JSON.stringify(deleted));
    await expectError(c.phoneNumbers.retrieve(id), NotFoundError, 404);
    // Back in the inventory.
    const again = await c.availablePhoneNumbers.list({ filter: { phone_number: { contains: numbers[0].slice(2) }, limit: 100 } });
    assert.ok(again.data.some((a) => a.phone_number === numbers[0]), `${numbers[0]} offered again`);
  });

  test('messaging settings of numbers, mobile numbers, and bulk updates', async () => {
    const p1 = await createProfile(c);
    const p2 = await createProfile(c);
    const { numbers } = await buyNumbers(c, { n: 2, messagingProfileId: p1.id, filter: { national_destination_code: '305' } });
    bought.push(...numbers);
    const [id0, id1] = [await numberId(c, numbers[0]), await numberId(c, numbers[1])];

    // The profile's numbers.
    const ofProfile = await c.messagingProfiles.listPhoneNumbers(p1.id);
    assert.deepEqual(new Set(ofProfile.data.map((n) => n.phone_number)), new Set(numbers));

    const s = (await c.phoneNumbers.messaging.retrieve(id0)).data;
    let j = JSON.stringify(s);
    assert.equal(s.id, id0, j);
    assert.equal(s.phone_number, numbers[0], j);
    assert.equal(s.messaging_profile_id, p1.id, j);
    assert.ok(['messaging_phone_number', 'messaging_settings'].includes(s.record_type), j);

    const moved = (await c.phoneNumbers.messaging.update(id0, { messaging_profile_id: p2.id, messaging_product: 'A2P' })).data;
    j = JSON.stringify(moved);
    assert.equal(moved.messaging_profile_id, p2.id, j);
    assert.equal(moved.messaging_product, 'A2P', j);

    const list = await c.phoneNumbers.messaging.list({ 'filter[messaging_profile_id]': p2.id });
    assert.deepEqual(list.data.map((n) => n.phone_number), [numbers[0]]);
    const byNumber = await c.phoneNumbers.messaging.list({ 'filter[phone_number]': numbers[1] });
    assert.deepEqual(byNumber.data.map((n) => n.id), [id1]);
    const byType = await c.phoneNumbers.messaging.list({ 'filter[type]': 'longcode', 'filter[phone_number][contains]': numbers[1].slice(-7) });
    assert.ok(byType.data.some((n) => n.id === id1), JSON.stringify(byType.data));

    // Unassign.
    const off = (await c.phoneNumbers.messaging.update(id0, { messaging_profile_id: '' })).data;
    assert.equal(off.messaging_profile_id ?? null, null, JSON.stringify(off));

    // Bulk: both numbers to p2, plus one the account does not own.
    const stranger = '+15005550199';
    const job = (
      await c.messagingNumbersBulkUpdates.create({ messaging_profile_id: p2.id, numbers: [...numbers, stranger] })
    ).data;
    j = JSON.stringify(job);
    assert.equal(typeof job.order_id, 'string', j);
    const status = await waitUntil(async () => {
      const d = (await c.messagingNumbersBulkUpdates.retrieve(job.order_id)).data;
      return (d.success?.length ?? 0) + (d.failed?.length ?? 0) === 3 ? d : null;
    }, 'the bulk update finishing');
    assert.deepEqual(new Set(status.success), new Set(numbers), JSON.stringify(status));
    assert.deepEqual(status.failed, [stranger], JSON.stringify(status));
    const ofP2 = await c.messagingProfiles.listPhoneNumbers(p2.id);
    assert.deepEqual(new Set(ofP2.data.map((n) => n.phone_number)), new Set(numbers));

    await expectError(c.phoneNumbers.messaging.retrieve('999999999999'), NotFoundError, 404);
  });

  test('mobile numbers and their messaging settings', async () => {
    const profile = await createProfile(c);
    const { numbers } = await buyNumbers(c, {
      n: 1,
      messagingProfileId: profile.id,
      filter: { country_code: 'GB', phone_number_type: 'mobile', features: ['sms'] },
    });
    bought.push(...numbers);
    const id = await numberId(c, numbers[0]);
    const got = (await c.mobilePhoneNumbers.messaging.retrieve(id)).data;
    const j = JSON.stringify(got);
    assert.equal(got.id, id, j);
    assert.equal(got.phone_number, numbers[0], j);
    assert.equal(got.messaging_profile_id, profile.id, j);
    assert.ok(['messaging_phone_number', 'messaging_settings'].includes(got.record_type), j);

    const all = [];
    for await (const m of c.mobilePhoneNumbers.messaging.list({ 'page[size]': 250 })) all.push(m);
    assert.ok(all.some((m) => m.id === id), `mobile ${numbers[0]} listed`);
    for (const m of all) assert.match(m.phone_number, /^\+(44|49)/, JSON.stringify(m));
  });
});
