// End to end: an IVR application built on the official Node SDK. Its webhook server verifies
// every delivery with `client.webhooks.unwrap` and drives the call from the webhooks alone:
// it answers an inbound call, speaks a greeting, gathers a 4-digit code, transfers the caller
// to a second number, records the bridged call, and when the caller presses 9 stops the
// recording and hangs up. The test plays the caller (`POST /_dialtone/sim/calls` and its
// DTMF) and checks the sequence of webhooks on both legs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { client, releaseNumbers, waitUntil } from './helpers.js';
import { Receiver, createApplication, inboundCall, numberFor, pressDigits, webhookKey } from './voice-helpers.js';

const AGENT = '+15550200001'; // the second number: answers after a 3 s ring
const CALLER = '+14155550199';
const b64 = (s) => Buffer.from(s).toString('base64');

/** The IVR: what it does on each verified webhook. */
class Ivr {
  constructor(sdk, rx) {
    this.sdk = sdk;
    this.rx = rx;
    this.inbound = null; // the caller's leg
    this.code = null; // the digits gathered
    this.gathering = false;
    this.recording = false;
    this.errors = [];
    rx.onEvent = (e) => this.on(e).catch((err) => this.errors.push(`${e.event_type}: ${err?.stack ?? err}`));
  }

  async on(e) {
    const p = e.payload;
    const a = this.sdk.calls.actions;
    switch (e.event_type) {
      case 'call.initiated':
        if (p.direction === 'incoming') {
          this.inbound = p.call_control_id;
          await a.answer(p.call_control_id, { client_state: b64('greeting') });
        }
        break;
      case 'call.answered':
        if (p.call_control_id === this.inbound) {
          await a.speak(p.call_control_id, { payload: 'Welcome to Dialtone. Please enter your code.', voice: 'female', language: 'en-US' });
        }
        break;
      case 'call.speak.ended':
        if (p.call_control_id === this.inbound && this.code === null) {
          await a.gather(p.call_control_id, {
            minimum_digits: 4,
            maximum_digits: 4,
            valid_digits: '0123456789',
            client_state: b64('gathering'),
          });
          this.gathering = true;
        }
        break;
      case 'call.gather.ended':
        if (p.status === 'valid') {
          this.code = p.digits;
          await a.transfer(p.call_control_id, { to: AGENT, target_leg_client_state: b64(`agent:${p.digits}`) });
        }
        break;
      case 'call.bridged':
        if (p.call_control_id === this.inbound && !this.recording) {
          await a.startRecording(p.call_control_id, { format: 'mp3', channels: 'single', client_state: b64('recording') });
          this.recording = true;
        }
        break;
      case 'call.dtmf.received':
        if (p.call_control_id === this.inbound && this.recording && p.digit === '9') {
          await a.stopRecording(p.call_control_id, {});
          await a.hangup(p.call_control_id, { client_state: b64('goodbye') });
        }
        break;
      default:
    }
  }
}

describe('end to end: an IVR on the Node SDK', () => {
  const c = client();
  let rx;
  let app;
  let number;

  before(async () => {
    rx = new Receiver(await webhookKey(), c);
    await rx.start();
    app = await createApplication(c, rx.url);
    number = await numberFor(c, app.id);
  });
  after(async () => {
    if (number) await releaseNumbers(c, [number]);
    if (app) await c.callControlApplications.delete(app.id).catch(() => {});
    await rx?.close();
  });

  test('answer, speak, gather 4 digits, transfer, record, hang up', async () => {
    const ivr = new Ivr(c, rx);
    const call = await inboundCall(number, CALLER);
    const ccid = call.call_control_id;

    // The caller enters the code once the IVR is gathering.
    await waitUntil(() => ivr.gathering, 'the IVR starting its gather', 20_000);
    await pressDigits(ccid, '4321');
    // The agent answers; once the IVR records the bridged call, the caller presses 9.
    await waitUntil(() => ivr.recording, 'the IVR recording the bridged call', 20_000);
    await pressDigits(ccid, '9');

    const saved = await rx.waitFor(ccid, 'call.recording.saved');
    const hangup = await rx.waitFor(ccid, 'call.hangup');
    const agentLeg = rx.events.find(
      (e) => e.event_type === 'call.initiated' && e.payload.direction === 'outgoing' && e.payload.call_session_id === hangup.payload.call_session_id,
    );
    assert.ok(agentLeg, 'the transfer dialled a new leg in the same call session');
    const agent = agentLeg.payload.call_control_id;
    const agentHangup = await rx.waitFor(agent, 'call.hangup');

    assert.deepEqual(ivr.errors, [], 'every SDK command of the IVR succeeded');
    assert.deepEqual(rx.rejected, [], 'every webhook verified');
    assert.equal(ivr.code, '4321');

    // The caller's leg: the expected sequence, in arrival order.
    assert.deepEqual(
      rx.of(ccid).map((e) => e.event_type),
      [
        'call.initiated',
        'call.answered',
        'call.speak.started',
        'call.speak.ended',
        'call.dtmf.received',
        'call.dtmf.received',
        'call.dtmf.received',
        'call.dtmf.received',
        'call.gather.ended',
        'call.bridged',
        'call.dtmf.received',
        'call.recording.saved',
        'call.hangup',
      ],
    );
    const ev = (type) => rx.of(ccid, type)[0].payload;
    assert.equal(ev('call.initiated').direction, 'incoming');
    assert.equal(ev('call.initiated').from, CALLER);
    assert.equal(ev('call.initiated').to, number);
    assert.equal(ev('call.answered').client_state, b64('greeting'));
    assert.equal(ev('call.speak.ended').status, 'completed');
    assert.deepEqual(rx.of(ccid, 'call.dtmf.received').map((e) => e.payload.digit), ['4', '3', '2', '1', '9']);
    assert.equal(ev('call.gather.ended').digits, '4321');
    assert.equal(ev('call.gather.ended').status, 'valid');
    assert.equal(ev('call.gather.ended').client_state, b64('gathering'));
    assert.equal(ev('call.bridged').call_session_id, rx.of(agent, 'call.bridged')[0].payload.call_session_id);

    // The recording: a real MP3 served at the URL of the webhook.
    assert.equal(saved.payload.client_state, b64('recording'));
    const mp3 = saved.payload.recording_urls.mp3;
    assert.equal(typeof mp3, 'string', JSON.stringify(saved.payload));
    const res = await fetch(mp3);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.ok(bytes.length > 0);
    assert.ok(bytes[0] === 0xff || bytes.subarray(0, 3).toString() === 'ID3', 'an MPEG audio file');

    // The hang-up: by the IVR, with its client_state; the agent leg follows.
    assert.equal(hangup.payload.hangup_cause, 'normal_clearing');
    assert.equal(hangup.payload.hangup_source, 'callee');
    assert.equal(hangup.payload.client_state, b64('goodbye'));
    assert.equal(agentHangup.payload.hangup_cause, 'normal_clearing');

    // The agent leg: dialled by the transfer, answered, bridged, ended.
    assert.deepEqual(
      rx.of(agent).map((e) => e.event_type),
      ['call.initiated', 'call.answered', 'call.bridged', 'call.hangup'],
    );
    assert.equal(rx.of(agent, 'call.answered')[0].payload.client_state, b64('agent:4321'));
    assert.equal(rx.of(agent, 'call.initiated')[0].payload.to, AGENT);

    const status = (await c.calls.retrieveStatus(ccid)).data;
    assert.equal(status.is_alive, false);
  });
});
