// End to end: a small "application" built on the official Node SDK. It runs an HTTP server
// for its webhooks and verifies every delivery with `client.webhooks.unwrap`; it sets up a
// messaging profile pointing at that server, buys a number, sends a message and follows it
// to `message.finalized`; then a person replies, the app gets `message.received` and, in
// its webhook handler, answers the sender with the SDK, and that answer is followed to
// `message.finalized` too.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import {
  buyNumbers,
  client,
  createProfile,
  dialtoneRequest,
  releaseNumbers,
  waitUntil,
} from './helpers.js';

const DELIVERED = '+15550100001';
const REPLIER = '+14155550177';

/** The application: its SDK client, its webhook server, and what it has seen and done. */
class App {
  constructor(key) {
    this.telnyx = client();
    this.key = key;
    this.events = []; // every verified event, in arrival order: the `data` of the webhook
    this.rejected = []; // deliveries that failed verification
    this.replies = []; // {to, inReplyTo, id} of the answers the app sent
    this.replyErrors = [];
    this.number = null;
  }

  async start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (ch) => chunks.push(ch));
      req.on('end', () => {
        this.handle(Buffer.concat(chunks).toString('utf8'), req.headers).then(
          (status) => {
            res.writeHead(status, { 'content-type': 'text/plain' });
            res.end(status === 200 ? 'ok' : 'rejected');
          },
          (err) => {
            this.replyErrors.push(String(err?.stack ?? err));
            res.writeHead(500);
            res.end('error');
          },
        );
      });
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    this.url = `http://127.0.0.1:${this.server.address().port}/telnyx/webhooks`;
  }

  async handle(body, headers) {
    let event;
    try {
      event = await this.telnyx.webhooks.unwrap(body, { headers, key: this.key });
    } catch (err) {
      this.rejected.push({ err: String(err), body });
      return 400;
    }
    const data = event.data;
    if (this.events.some((e) => e.id === data.id)) return 200; // at-least-once: dedupe on data.id
    this.events.push(data);
    if (data.event_type === 'message.received') {
      const p = data.payload;
      // Answer the sender from the number they wrote to.
      try {
        const sent = await this.telnyx.messages.send({
          from: p.to[0].phone_number,
          to: p.from.phone_number,
          text: `Thanks for "${p.text}"!`,
        });
        this.replies.push({ to: p.from.phone_number, inReplyTo: p.id, id: sent.data.id });
      } catch (err) {
        this.replyErrors.push(String(err));
      }
    }
    return 200;
  }

  /** The event types received for message `id`, in arrival order. */
  typesFor(id) {
    return this.events.filter((e) => e.payload?.id === id).map((e) => e.event_type);
  }

  async waitForEvents(id, types, ms = 15_000) {
    await waitUntil(() => this.typesFor(id).length >= types.length, `events ${types} for message ${id}`, ms);
    return this.events.filter((e) => e.payload?.id === id);
  }

  close() {
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}

describe('end to end: an application on the SDK', () => {
  let app;
  before(async () => {
    const { status, body } = await dialtoneRequest('GET', '/_dialtone/webhooks/public_key');
    assert.equal(status, 200, JSON.stringify(body));
    app = new App(body.data.public_key);
    await app.start();
  });
  after(async () => {
    if (app?.number) await releaseNumbers(app.telnyx, [app.number]);
    await app?.close();
  });

  test('send, get delivered, receive a reply and answer it', async () => {
    const c = app.telnyx;
    // Set-up: a profile whose webhooks go to the app, and a number bought for it.
    const profile = await createProfile(c, { webhook_url: app.url });
    const { order, numbers } = await buyNumbers(c, { n: 1, messagingProfileId: profile.id, filter: { national_destination_code: '702' } });
    app.number = numbers[0];
    // The order's completion reaches the profile's webhook URL as well.
    await waitUntil(
      () => app.events.find((e) => e.event_type === 'number_order.complete' && e.payload?.id === order.id),
      'number_order.complete',
    );

    // 1. The app sends a message; the carrier delivers it.
    const out = (await c.messages.send({ from: app.number, to: DELIVERED, text: 'Your code is 1234' })).data;
    const outEvents = await app.waitForEvents(out.id, ['message.sent', 'message.finalized']);
    assert.deepEqual(outEvents.map((e) => e.event_type), ['message.sent', 'message.finalized']);
    const [sent, finalized] = outEvents;
    assert.equal(sent.payload.to[0].status, 'sent', JSON.stringify(sent));
    assert.equal(finalized.payload.to[0].status, 'delivered', JSON.stringify(finalized));
    assert.equal(finalized.payload.to[0].phone_number, DELIVERED);
    assert.equal(finalized.payload.from.phone_number, app.number);
    assert.equal(finalized.payload.text, 'Your code is 1234');
    assert.ok(Date.parse(sent.occurred_at) <= Date.parse(finalized.occurred_at), 'sent before finalized');
    assert.equal((await c.messages.retrieve(out.id)).data.to[0].status, 'delivered');

    // 2. Someone replies; the app receives it and answers in its webhook handler.
    const { status, body } = await dialtoneRequest('POST', '/_dialtone/sim/messages', {
      from: REPLIER,
      to: app.number,
      text: 'Who is this?',
    });
    assert.equal(status, 201, JSON.stringify(body));
    const received = await waitUntil(
      () => app.events.find((e) => e.event_type === 'message.received' && e.payload?.from?.phone_number === REPLIER),
      'message.received',
    );
    const rp = received.payload;
    assert.equal(rp.direction, 'inbound', JSON.stringify(rp));
    assert.equal(rp.to[0].phone_number, app.number, JSON.stringify(rp));
    assert.equal(rp.text, 'Who is this?', JSON.stringify(rp));
    assert.equal(rp.messaging_profile_id, profile.id, JSON.stringify(rp));
    assert.deepEqual(app.typesFor(rp.id), ['message.received'], 'one event for the inbound message');

    const reply = await waitUntil(() => app.replies.find((r) => r.inReplyTo === rp.id), 'the app answering');
    assert.deepEqual(app.replyErrors, []);
    assert.equal(reply.to, REPLIER);
    const replyEvents = await app.waitForEvents(reply.id, ['message.sent', 'message.finalized']);
    assert.deepEqual(replyEvents.map((e) => e.event_type), ['message.sent', 'message.finalized']);
    assert.equal(replyEvents[1].payload.to[0].status, 'delivered', JSON.stringify(replyEvents[1]));
    assert.equal(replyEvents[1].payload.to[0].phone_number, REPLIER);
    assert.equal(replyEvents[1].payload.from.phone_number, app.number);
    assert.equal(replyEvents[1].payload.text, 'Thanks for "Who is this?"!');

    // The whole conversation, in order, and every delivery verified.
    const sequence = app.events
      .filter((e) => e.event_type.startsWith('message.'))
      .map((e) => `${e.event_type}:${e.payload.id === out.id ? 'out' : e.payload.id === rp.id ? 'in' : e.payload.id === reply.id ? 'reply' : e.payload.id}`);
    assert.deepEqual(sequence, [
      'message.sent:out',
      'message.finalized:out',
      'message.received:in',
      'message.sent:reply',
      'message.finalized:reply',
    ]);
    assert.deepEqual(app.rejected, [], 'every delivery verified');
    assert.ok(app.events.length >= 6);
  });
});
