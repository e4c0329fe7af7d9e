// Signed webhooks as the SDK sees them: Dialtone POSTs events to a receiver this test runs,
// and the SDK's own verifier (`client.webhooks.unwrap(body, { headers, key })`, Ed25519 over
// `"{telnyx-timestamp}|{raw body}"`, 300 s tolerance) must accept them, and must reject a
// tampered body, a wrong key and a stale timestamp. Retries show in the SDK's
// `webhookDeliveries` resource.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import { afterEach, describe, mock, test } from 'node:test';
import { TelnyxWebhookVerificationError } from 'telnyx/lib/webhooks';
import { client, dialtoneRequest, suffix } from './helpers.js';

const c = client();

/**
 * An HTTP receiver on 127.0.0.1 (free port) that records each request's raw body bytes and
 * headers. `statuses` gives the status to answer for the 1st, 2nd, ... request (200 after
 * the list runs out).
 */
async function startReceiver(statuses = []) {
  const requests = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (ch) => chunks.push(ch));
    req.on('end', () => {
      const status = statuses[requests.length] ?? 200;
      requests.push({ method: req.method, url: req.url, headers: { ...req.headers }, body: Buffer.concat(chunks) });
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(status === 200 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  return {
    requests,
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    /** Waits (at most `ms`) until `n` requests have arrived; returns them. */
    async waitFor(n, ms = 10_000) {
      const deadline = Date.now() + ms;
      while (requests.length < n) {
        if (Date.now() > deadline) {
          assert.fail(`receiver got ${requests.length} request(s) within ${ms} ms, expected ${n}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return requests.slice(0, n);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** The account's webhook public key (base64 of the raw 32-byte Ed25519 key). */
async function publicKey() {
  const { status, body } = await dialtoneRequest('GET', '/_dialtone/webhooks/public_key');
  assert.equal(status, 200, `public_key answered ${status}: ${JSON.stringify(body)}`);
  const d = body.data;
  assert.equal(typeof d.public_key, 'string', `public_key in ${JSON.stringify(body)}`);
  assert.equal(Buffer.from(d.public_key, 'base64').length, 32, `public_key should be 32 bytes: ${d.public_key}`);
  return d.public_key;
}

/** Asks the server to emit `event_type` with `payload` to `url`; returns {event, delivery_id}. */
async function emit(eventType, payload, url) {
  const { status, body } = await dialtoneRequest('POST', '/_dialtone/sim/webhooks', {
    event_type: eventType,
    payload,
    url,
  });
  assert.equal(status, 202, `sim/webhooks answered ${status}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.data.delivery_id, 'string', `delivery_id in ${JSON.stringify(body)}`);
  return body.data;
}

/** Another valid Ed25519 public key (base64 of its raw 32 bytes), not the server's. */
function otherPublicKey() {
  const { publicKey: pk } = generateKeyPairSync('ed25519');
  return Buffer.from(pk.export({ format: 'jwk' }).x, 'base64url').toString('base64');
}

/** Awaits `promise`, which must reject with the SDK's TelnyxWebhookVerificationError. */
async function expectRejected(promise, pattern, what) {
  await assert.rejects(
    promise,
    (err) => {
      assert.ok(err instanceof TelnyxWebhookVerificationError, `${what}: expected TelnyxWebhookVerificationError, got ${err}`);
      assert.match(err.message, pattern, `${what}: message`);
      return true;
    },
    `${what}: the SDK verifier accepted it`,
  );
}

function callPayload(tag) {
  const sfx = suffix();
  return {
    call_control_id: `v3:compat-${tag}-${sfx}`,
    call_leg_id: `leg-${sfx}`,
    call_session_id: `session-${sfx}`,
    client_state: Buffer.from(`compat ${tag} ${sfx}`).toString('base64'),
    connection_id: `conn-${sfx}`,
    direction: 'outgoing',
    from: '+15550001111',
    to: '+15550002222',
    state: 'bridging',
    // Non-ASCII, so the body's bytes must reach the verifier exactly as signed.
    custom_note: `héllo ☎ ${sfx}`,
  };
}

describe('webhooks', () => {
  let receiver = null;
  afterEach(async () => {
    mock.restoreAll();
    if (receiver) await receiver.close();
    receiver = null;
  });

  test('a delivered event verifies with client.webhooks.unwrap and parses to what was emitted', async () => {
    receiver = await startReceiver();
    const key = await publicKey();
    const payload = callPayload('wh');
    const emitted = await emit('call.initiated', payload, receiver.url('/events/ok'));

    const [req] = await receiver.waitFor(1);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/events/ok');
    assert.match(req.headers['content-type'] ?? '', /^application\/json/);
    assert.match(req.headers['telnyx-timestamp'] ?? '', /^\d+$/, 'telnyx-timestamp header');
    assert.ok(Math.abs(Number(req.headers['telnyx-timestamp']) - Date.now() / 1000) < 60, 'telnyx-timestamp is now');
    assert.equal(Buffer.from(req.headers['telnyx-signature-ed25519'] ?? '', 'base64').length, 64, 'signature header');

    const body = req.body.toString('utf8');
    // Key passed per call ...
    const event = await c.webhooks.unwrap(body, { headers: req.headers, key });
    assert.equal(event.data.event_type, 'call.initiated');
    assert.equal(event.data.record_type, 'event');
    assert.equal(event.data.id, emitted.event.id);
    assert.deepEqual(event.data.payload, payload);
    assert.equal(event.meta.attempt, 1);
    assert.equal(event.meta.delivered_to, receiver.url('/events/ok'));
    // ... and as the client's publicKey option (TELNYX_PUBLIC_KEY).
    const again = await client({ publicKey: key }).webhooks.unwrap(body, { headers: req.headers });
    assert.deepEqual(again, event);
  });

  test('the verifier rejects a tampered body, a wrong key and a stale timestamp', async () => {
    receiver = await startReceiver();
    const key = await publicKey();
    const payload = callPayload('neg');
    await emit('call.answered', payload, receiver.url());
    const [req] = await receiver.waitFor(1);
    const body = req.body.toString('utf8');
    // The genuine delivery verifies: every failure below comes from the one change made.
    await c.webhooks.unwrap(body, { headers: req.headers, key });

    // Tampered body: one byte of the payload changed.
    const bytes = Buffer.from(req.body);
    const at = bytes.indexOf(Buffer.from(payload.call_control_id)) + 'v3:'.length;
    assert.ok(at >= 3, 'call_control_id in the body');
    bytes[at] = bytes[at] === 0x63 ? 0x64 : 0x63;
    const tampered = bytes.toString('utf8');
    assert.notEqual(tampered, body);
    await expectRejected(c.webhooks.unwrap(tampered, { headers: req.headers, key }), /signature does not match/, 'tampered body');

    // A different, valid 32-byte Ed25519 key.
    const wrong = otherPublicKey();
    assert.notEqual(wrong, key);
    await expectRejected(c.webhooks.unwrap(body, { headers: req.headers, key: wrong }), /signature does not match/, 'wrong key');

    // The received signature replayed with a timestamp 10 minutes old.
    const old = String(Number(req.headers['telnyx-timestamp']) - 600);
    const stale = { ...req.headers, 'telnyx-timestamp': old };
    await expectRejected(c.webhooks.unwrap(body, { headers: stale, key }), /timestamp too old or too new/, 'stale timestamp');

    // Staleness alone: the untouched, genuinely signed delivery read 10 minutes later.
    const later = Date.now() + 600_000;
    mock.method(Date, 'now', () => later);
    await expectRejected(c.webhooks.unwrap(body, { headers: req.headers, key }), /timestamp too old or too new/, 'verified 10 min late');
    // And the replayed signature is also wrong on its own: at the replayed timestamp's own
    // time, the staleness check passes and the signature check fails.
    mock.restoreAll();
    const then = Number(old) * 1000;
    mock.method(Date, 'now', () => then);
    await expectRejected(c.webhooks.unwrap(body, { headers: stale, key }), /signature does not match/, 'replayed signature');
  });

  test('a 500 is retried; both attempts verify and the SDK sees the delivery with 2 attempts', async () => {
    receiver = await startReceiver([500, 200]);
    const key = await publicKey();
    const payload = callPayload('retry');
    const emitted = await emit('call.hangup', payload, receiver.url('/events/retry'));

    const [first, second] = await receiver.waitFor(2);
    const e1 = await c.webhooks.unwrap(first.body.toString('utf8'), { headers: first.headers, key });
    const e2 = await c.webhooks.unwrap(second.body.toString('utf8'), { headers: second.headers, key });
    assert.equal(e1.meta.attempt, 1);
    assert.equal(e2.meta.attempt, 2);
    for (const e of [e1, e2]) {
      assert.equal(e.data.id, emitted.event.id);
      assert.equal(e.data.event_type, 'call.hangup');
      assert.deepEqual(e.data.payload, payload);
    }

    // The delivery record, once the 200 has been recorded.
    const id = emitted.delivery_id;
    let rec;
    const deadline = Date.now() + 10_000;
    for (;;) {
      rec = (await c.webhookDeliveries.retrieve(id)).data;
      if (rec.status === 'delivered' || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const j = JSON.stringify(rec);
    assert.equal(rec.id, id, `id in ${j}`);
    assert.equal(rec.status, 'delivered', `status in ${j}`);
    assert.equal(rec.record_type, 'webhook_delivery', `record_type in ${j}`);
    assert.equal(rec.webhook.id, emitted.event.id, `webhook.id in ${j}`);
    assert.equal(rec.webhook.event_type, 'call.hangup', `webhook.event_type in ${j}`);
    assert.deepEqual(rec.webhook.payload, payload, `webhook.payload in ${j}`);
    assert.equal(rec.attempts.length, 2, `attempts in ${j}`);
    const [newest, oldest] = rec.attempts;
    assert.equal(newest.status, 'delivered', `attempts[0].status in ${j}`);
    assert.equal(newest.http.response.status, 200, `attempts[0].http.response.status in ${j}`);
    assert.equal(newest.http.request.url, receiver.url('/events/retry'), `attempts[0].http.request.url in ${j}`);
    assert.equal(oldest.status, 'failed', `attempts[1].status in ${j}`);
    assert.equal(oldest.http.response.status, 500, `attempts[1].http.response.status in ${j}`);
    assert.ok(Date.parse(newest.started_at) >= Date.parse(oldest.finished_at), `attempts ordered newest first in ${j}`);

    // The list, filtered by status and by this event's unique text.
    const found = [];
    for await (const d of c.webhookDeliveries.list({
      filter: { status: { eq: 'delivered' }, webhook: { contains: payload.call_control_id } },
    })) {
      found.push(d);
    }
    assert.deepEqual(found.map((d) => d.id), [id], `list by status and text: ${JSON.stringify(found)}`);
    assert.equal(found[0].attempts.length, 2);
    const failed = await c.webhookDeliveries.list({
      filter: { status: { eq: 'failed' }, webhook: { contains: payload.call_control_id } },
    });
    assert.deepEqual(failed.data, [], 'a delivered delivery is not listed as failed');
  });
});
