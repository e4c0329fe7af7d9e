// Messaging through the official SDK: send (POST /messages), long code, number pool, group
// MMS, schedule and cancel, retrieve, group retrieve, WhatsApp, opt-outs, and the errors a
// sender meets (40310 bad `to`, 40305 a `from` not owned, 40300 after STOP, 404).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { BadRequestError, NotFoundError, UnprocessableEntityError } from 'telnyx';
import {
  assertErrorEnvelope,
  assertIsoTime,
  assertUuid,
  buyNumbers,
  client,
  createProfile,
  dialtoneRequest,
  expectError,
  randomUUID,
  releaseNumbers,
  waitForFinal,
  waitUntil,
} from './helpers.js';

const c = client();
const DELIVERED = '+15550100001';
const FAILS = '+15550100002';

let profile;
let numbers = [];
before(async () => {
  profile = await createProfile(c);
  ({ numbers } = await buyNumbers(c, { n: 2, messagingProfileId: profile.id, filter: { national_destination_code: '512' } }));
});
after(async () => {
  await releaseNumbers(c, numbers);
});

function assertMessage(m, { type = 'SMS', direction = 'outbound' } = {}) {
  const j = JSON.stringify(m);
  assert.equal(m.record_type, 'message', `record_type in ${j}`);
  assertUuid(m.id, 'id');
  assert.equal(m.type, type, `type in ${j}`);
  assert.equal(m.direction, direction, `direction in ${j}`);
  assert.equal(typeof m.from?.phone_number, 'string', `from in ${j}`);
  assert.ok(Array.isArray(m.to) && m.to.length > 0, `to in ${j}`);
  for (const t of m.to) assert.equal(typeof t.phone_number, 'string', `to[].phone_number in ${j}`);
  assert.equal(m.messaging_profile_id, profile.id, `messaging_profile_id in ${j}`);
}

/** An inbound message from the outside number `from` to our number `to` (Dialtone's sim API). */
async function inbound(from, to, text) {
  const { status, body } = await dialtoneRequest('POST', '/_dialtone/sim/messages', { from, to, text });
  assert.equal(status, 201, `sim/messages answered ${status}: ${JSON.stringify(body)}`);
  return body;
}

describe('messages', () => {
  test('send, retrieve, and the carrier delivers (and fails) as documented', async () => {
    const m = (await c.messages.send({ from: numbers[0], to: DELIVERED, text: 'Hello, World!' })).data;
    assertMessage(m);
    assert.equal(m.from.phone_number, numbers[0]);
    assert.equal(m.to[0].phone_number, DELIVERED);
    assert.equal(m.text, 'Hello, World!');
    assert.equal(m.encoding, 'GSM-7');
    assert.equal(m.parts, 1);
    assertIsoTime(m.received_at, 'received_at');

    const got = (await c.messages.retrieve(m.id)).data;
    assert.equal(got.id, m.id);
    assert.ok(['queued', 'sending', 'sent', 'delivered'].includes(got.to[0].status), JSON.stringify(got));
    const final = await waitForFinal(c, m.id);
    assert.equal(final.to[0].status, 'delivered', JSON.stringify(final));
    assertIsoTime(final.completed_at, 'completed_at');

    const failed = (await c.messages.send({ from: numbers[0], to: FAILS, text: 'fails' })).data;
    const f = await waitForFinal(c, failed.id);
    assert.equal(f.to[0].status, 'delivery_failed', JSON.stringify(f));
    assert.equal(f.errors[0].code, '40008', JSON.stringify(f));

    // An MMS, by media.
    const mms = (
      await c.messages.send({ from: numbers[0], to: DELIVERED, text: 'pic', media_urls: ['https://example.com/a.png'] })
    ).data;
    assertMessage(mms, { type: 'MMS' });
  });

  test('long code and number pool', async () => {
    const lc = (await c.messages.sendLongCode({ from: numbers[0], to: DELIVERED, text: 'long code' })).data;
    assertMessage(lc);
    assert.equal(lc.from.phone_number, numbers[0]);

    const picks = new Set();
    for (let i = 0; i < 3; i++) {
      const p = (await c.messages.sendNumberPool({ messaging_profile_id: profile.id, to: DELIVERED, text: `pool ${i}` })).data;
      assertMessage(p);
      assert.ok(numbers.includes(p.from.phone_number), `pool sender ${p.from.phone_number}`);
      picks.add(p.from.phone_number);
    }
    assert.equal(picks.size, 1, 'the pick is stable for a recipient');

    // POST /messages with a profile and no `from` is a number-pool send.
    const viaSend = (await c.messages.send({ messaging_profile_id: profile.id, to: DELIVERED, text: 'pool via send' })).data;
    assert.ok(numbers.includes(viaSend.from.phone_number));
  });

  test('group MMS and the group retrieve', async () => {
    const g = (
      await c.messages.sendGroupMms({
        from: numbers[0],
        to: [DELIVERED, '+15550100004'],
        text: 'group',
        media_urls: ['https://example.com/a.png'],
      })
    ).data;
    const j = JSON.stringify(g);
    assert.equal(g.record_type, 'message', j);
    assert.equal(g.type, 'MMS', j);
    assert.deepEqual(g.to.map((t) => t.phone_number), [DELIVERED, '+15550100004'], j);
    const group = (await c.messages.retrieveGroupMessages(g.id)).data;
    assert.equal(group.length, 2, JSON.stringify(group));
    for (const m of group) assertMessage(m, { type: 'MMS' });
    assert.deepEqual(new Set(group.map((m) => m.to[0].phone_number)), new Set([DELIVERED, '+15550100004']));
  });

  test('schedule, then cancel', async () => {
    const at = new Date(Date.now() + 30 * 60_000).toISOString();
    const s = (await c.messages.schedule({ from: numbers[0], to: DELIVERED, text: 'later', send_at: at })).data;
    assertMessage(s);
    // Dialtone shows a scheduled recipient as `queued` (OutboundMessagePayload's status enum
    // has no `scheduled`) with `send_at`; Telnyx documents `scheduled`. Either is accepted.
    const pending = ['scheduled', 'queued'];
    assert.ok(pending.includes(s.to[0].status), JSON.stringify(s));
    assert.equal(Date.parse(s.send_at), Date.parse(at), JSON.stringify(s));
    assert.equal(s.sent_at ?? null, null, JSON.stringify(s));

    // send with send_at is scheduled too.
    const s2 = (await c.messages.send({ from: numbers[0], to: DELIVERED, text: 'later too', send_at: at })).data;
    assert.ok(pending.includes(s2.to[0].status), JSON.stringify(s2));
    assert.equal(Date.parse(s2.send_at), Date.parse(at), JSON.stringify(s2));

    // DELETE /messages/{id} answers the message itself, not enveloped.
    const cancelled = await c.messages.cancelScheduled(s.id);
    const j = JSON.stringify(cancelled);
    assert.equal(cancelled.id, s.id, j);
    assert.equal(cancelled.record_type, 'message', j);
    // The spec's OutboundMessagePayloadCancelled has `cancelled` among to[].status; Dialtone
    // answers to[].status `queued` plus a top-level `status: "cancelled"`.
    assert.ok(cancelled.to[0].status === 'cancelled' || cancelled.status === 'cancelled', j);
    const after = (await c.messages.retrieve(s.id)).data;
    assert.ok(!['sent', 'delivered'].includes(after.to[0].status), JSON.stringify(after));
    assert.equal(after.sent_at ?? null, null, JSON.stringify(after));
    // Cancelling twice is refused.
    assertErrorEnvelope((await expectError(c.messages.cancelScheduled(s.id), UnprocessableEntityError, 422)).error);
    await c.messages.cancelScheduled(s2.id);

    // Outside the 5 min .. 5 days window.
    const soon = new Date(Date.now() + 60_000).toISOString();
    await expectError(c.messages.schedule({ from: numbers[0], to: DELIVERED, text: 'x', send_at: soon }), UnprocessableEntityError, 422);
    const late = new Date(Date.now() + 6 * 86_400_000).toISOString();
    await expectError(c.messages.schedule({ from: numbers[0], to: DELIVERED, text: 'x', send_at: late }), UnprocessableEntityError, 422);
    // A sent message cannot be cancelled; an unknown one is a 404.
    const now = (await c.messages.send({ from: numbers[0], to: DELIVERED, text: 'now' })).data;
    const e = await expectError(c.messages.cancelScheduled(now.id), UnprocessableEntityError, 422);
    assertErrorEnvelope(e.error);
    await expectError(c.messages.cancelScheduled(randomUUID()), NotFoundError, 404);
  });

  test('WhatsApp', async () => {
    const w = (
      await c.messages.whatsapp({
        from: numbers[0],
        to: '+15550100001',
        whatsapp_message: { type: 'text', text: { body: 'hola', preview_url: false } },
      })
    ).data;
    const j = JSON.stringify(w);
    assert.equal(w.record_type, 'message', j);
    assertUuid(w.id, 'id');
    assert.equal(w.type, 'WHATSAPP', j);
    assert.equal(w.to[0].phone_number, '+15550100001', j);
    assert.deepEqual(w.body?.text, { body: 'hola', preview_url: false }, j);
    const bad = await expectError(
      c.messages.whatsapp({ from: numbers[0], to: '+15550100001', whatsapp_message: { type: 'text' } }),
      UnprocessableEntityError,
      422,
    );
    assertErrorEnvelope(bad.error);
  });

  test('opt-outs: STOP lists the sender and blocks sends with 40300', async () => {
    const outside = `+1415555${String(Math.floor(Math.random() * 9000) + 1000)}`;
    const ours = numbers[1];
    const stop = await inbound(outside, ours, 'STOP');
    // The inbound message itself, through GET /messages/{id}.
    const got = (await c.messages.retrieve(stop.data.id)).data;
    assert.equal(got.direction, 'inbound', JSON.stringify(got));
    assert.equal(got.text, 'STOP');
    assert.equal(got.from.phone_number, outside);
    assert.equal(got.to[0].phone_number, ours);
    const list = await c.messagingOptouts.list({ filter: { from: ours } });
    const o = list.data.find((x) => x.to === outside);
    assert.ok(o, `opt-out of ${outside} in ${JSON.stringify(list.data)}`);
    assert.equal(o.from, ours);
    assert.equal(o.keyword, 'STOP');
    assert.equal(o.messaging_profile_id, profile.id);
    assertIsoTime(o.created_at, 'created_at');
    const byProfile = await c.messagingOptouts.list({ filter: { messaging_profile_id: profile.id }, redaction_enabled: 'true' });
    assert.ok(byProfile.data.some((x) => x.to === `${outside.slice(0, -4)}****`), JSON.stringify(byProfile.data));
    const since = await c.messagingOptouts.list({ filter: { from: ours }, created_at: { gte: new Date(Date.now() - 60_000).toISOString() } });
    assert.ok(since.data.some((x) => x.to === outside));

    const err = await expectError(c.messages.send({ from: ours, to: outside, text: 'promo' }), BadRequestError, 400);
    assertErrorEnvelope(err.error, { code: '40300' });

    // START lifts it.
    await inbound(outside, ours, 'START');
    await waitUntil(async () => !(await c.messagingOptouts.list({ filter: { from: ours } })).data.some((x) => x.to === outside), 'opt-out lifted');
    const ok = (await c.messages.send({ from: ours, to: outside, text: 'welcome back' })).data;
    assertMessage(ok);
  });

  test('errors: 40310 bad to, 40305 from not owned, 404 unknown message', async () => {
    const badTo = await expectError(c.messages.send({ from: numbers[0], to: '5551234', text: 'x' }), BadRequestError, 400);
    const e = assertErrorEnvelope(badTo.error, { code: '40310' });
    assert.equal(e.source?.pointer, '/to', JSON.stringify(badTo.error));

    const notOurs = await expectError(c.messages.send({ from: '+15005550006', to: DELIVERED, text: 'x' }), BadRequestError, 400);
    assertErrorEnvelope(notOurs.error, { code: '40305' });
    const notOursLc = await expectError(c.messages.sendLongCode({ from: '+15005550006', to: DELIVERED, text: 'x' }), BadRequestError, 400);
    assertErrorEnvelope(notOursLc.error, { code: '40305' });
    // The inventory has no short codes: a long code is not a valid short-code sender.
    const notShort = await expectError(c.messages.sendShortCode({ from: numbers[0], to: DELIVERED, text: 'x' }), BadRequestError, 400);
    assertErrorEnvelope(notShort.error, { code: '40305' });

    const missing = await expectError(c.messages.retrieve(randomUUID()), NotFoundError, 404);
    assertErrorEnvelope(missing.error);
    await expectError(c.messages.retrieveGroupMessages(randomUUID()), NotFoundError, 404);
  });
});
