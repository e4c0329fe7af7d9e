// Voice call control through the official Node SDK: call control applications, connections,
// active calls, dial, retrieve, and every `/calls/{id}/actions/*` of the subset, with the
// webhooks that follow each (received and verified on a local receiver).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnprocessableEntityError, NotFoundError } from 'telnyx';
import { assertUuid, client, expectError, releaseNumbers, suffix, waitUntil } from './helpers.js';
import { Receiver, createApplication, inboundCall, numberFor, pressDigits, webhookKey } from './voice-helpers.js';

const ANSWERS = '+15550200001'; // answers after a 3 s ring
const BUSY = '+15550200002';

describe('voice: call control applications', () => {
  const c = client();

  test('create, retrieve, update, list with filters, delete', async () => {
    const name = `compat-voice-app-${suffix()}`;
    const created = (
      await c.callControlApplications.create({
        application_name: name,
        webhook_event_url: 'https://example.com/hooks',
        webhook_event_failover_url: 'https://example.com/failover',
        webhook_timeout_secs: 12,
        first_command_timeout: true,
        first_command_timeout_secs: 20,
        anchorsite_override: 'Latency',
        inbound: { channel_limit: 7, shaken_stir_enabled: true },
        outbound: { channel_limit: 9 },
        active: true,
      })
    ).data;
    assert.equal(created.record_type, 'call_control_application');
    assert.equal(created.application_name, name);
    assert.equal(created.webhook_event_url, 'https://example.com/hooks');
    assert.equal(created.webhook_event_failover_url, 'https://example.com/failover');
    assert.equal(created.webhook_timeout_secs, 12);
    assert.equal(created.first_command_timeout, true);
    assert.equal(created.first_command_timeout_secs, 20);
    assert.equal(created.active, true);
    assert.equal(created.inbound.channel_limit, 7);
    assert.equal(created.inbound.shaken_stir_enabled, true);
    assert.equal(created.outbound.channel_limit, 9);

    const got = (await c.callControlApplications.retrieve(created.id)).data;
    assert.equal(got.id, created.id);
    assert.equal(got.application_name, name);

    const updated = (
      await c.callControlApplications.update(created.id, {
        application_name: `${name}-x`,
        webhook_event_url: 'https://example.com/hooks2',
        active: false,
      })
    ).data;
    assert.equal(updated.application_name, `${name}-x`);
    assert.equal(updated.webhook_event_url, 'https://example.com/hooks2');
    assert.equal(updated.active, false);

    const byName = await c.callControlApplications.list({ filter: { application_name: { contains: `${name}-x` } } });
    assert.deepEqual(byName.data.map((a) => a.id), [created.id]);
    const none = await c.callControlApplications.list({ filter: { application_name: { contains: `nomatch-${suffix()}` } } });
    assert.equal(none.data.length, 0);
    assert.ok(none.meta, 'list has meta');

    const del = (await c.callControlApplications.delete(created.id)).data;
    assert.equal(del.id, created.id);
    await expectError(c.callControlApplications.retrieve(created.id), NotFoundError, 404);
  });

  test('list sorts by connection_name and active, and pages', async () => {
    const tag = `compat-sort-${suffix()}`;
    const b = await createApplication(c, 'https://example.com/h', { application_name: `${tag}-b`, active: true });
    const a = await createApplication(c, 'https://example.com/h', { application_name: `${tag}-a`, active: false });
    try {
      const filter = { application_name: { contains: tag } };
      const byName = await c.callControlApplications.list({ filter, sort: 'connection_name' });
      assert.deepEqual(byName.data.map((x) => x.id), [a.id, b.id]);
      const byCreated = await c.callControlApplications.list({ filter, sort: 'created_at' });
      assert.deepEqual(byCreated.data.map((x) => x.id), [b.id, a.id]);
      const byActive = await c.callControlApplications.list({ filter, sort: 'active' });
      assert.deepEqual(byActive.data.map((x) => x.active), [false, true]);
      const page2 = await c.callControlApplications.list({ filter, sort: 'connection_name', 'page[number]': 2, 'page[size]': 1 });
      assert.deepEqual(page2.data.map((x) => x.id), [b.id]);
      const conns = await c.connections.list({ filter: { connection_name: { contains: tag } }, sort: 'connection_name' });
      assert.deepEqual(conns.data.map((x) => x.id), [a.id, b.id]);
    } finally {
      await c.callControlApplications.delete(a.id);
      await c.callControlApplications.delete(b.id);
    }
  });

  test('connections list and retrieve show the application', async () => {
    const app = await createApplication(c, 'https://example.com/hooks');
    try {
      const got = (await c.connections.retrieve(app.id)).data;
      assert.equal(got.id, app.id);
      assert.equal(got.connection_name, app.application_name);
      const list = await c.connections.list({ filter: { connection_name: { contains: app.application_name } } });
      assert.deepEqual(list.data.map((x) => x.id), [app.id]);
      await expectError(c.connections.retrieve('999999999999999'), NotFoundError, 404);
    } finally {
      await c.callControlApplications.delete(app.id);
    }
  });
});

describe('voice: calls and actions', () => {
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
    assert.deepEqual(rx?.rejected ?? [], [], 'every webhook verified');
  });

  /** An inbound call to our number, answered; returns its call_control_id. */
  async function answeredInbound(from) {
    const call = await inboundCall(number, from);
    const ccid = call.call_control_id;
    const init = await rx.waitFor(ccid, 'call.initiated');
    assert.equal(init.payload.direction, 'incoming');
    assert.equal(init.payload.state, 'parked');
    const r = await c.calls.actions.answer(ccid, { client_state: Buffer.from('answered').toString('base64') });
    assert.equal(r.data.result, 'ok');
    const ans = await rx.waitFor(ccid, 'call.answered');
    assert.equal(ans.payload.client_state, Buffer.from('answered').toString('base64'));
    return ccid;
  }

  test('dial, retrieve, active calls, hangup', async () => {
    const dialed = (
      await c.calls.dial({
        connection_id: app.id,
        to: ANSWERS,
        from: number,
        client_state: Buffer.from('dial').toString('base64'),
        timeout_secs: 30,
      })
    ).data;
    assertUuid(dialed.call_session_id, 'call_session_id');
    assert.equal(typeof dialed.call_control_id, 'string');
    assert.equal(typeof dialed.call_leg_id, 'string');
    // The spec: "For Dial command it will always be `false` (dialing is asynchronous)".
    assert.equal(dialed.is_alive, false);
    assert.equal(dialed.record_type, 'call');
    const ccid = dialed.call_control_id;

    const init = await rx.waitFor(ccid, 'call.initiated');
    assert.equal(init.payload.direction, 'outgoing');
    assert.equal(init.payload.to, ANSWERS);
    const ans = await rx.waitFor(ccid, 'call.answered');
    assert.equal(ans.payload.client_state, Buffer.from('dial').toString('base64'));

    const status = (await c.calls.retrieveStatus(ccid)).data;
    assert.equal(status.call_control_id, ccid);
    assert.equal(status.is_alive, true);
    assert.equal(status.record_type, 'call');
    assert.ok(!Number.isNaN(Date.parse(status.start_time)), JSON.stringify(status));
    assert.equal(status.end_time, undefined, 'no end_time while alive');

    const active = await c.connections.listActiveCalls(app.id);
    assert.ok(active.data.some((x) => x.call_control_id === ccid), JSON.stringify(active.data));

    // A command repeated with the same command_id is done once.
    const cs = Buffer.from('second').toString('base64');
    const cmd = `cmd-${suffix()}`;
    assert.equal((await c.calls.actions.updateClientState(ccid, { client_state: cs })).data.result, 'ok');
    assert.equal((await c.calls.actions.hangup(ccid, { command_id: cmd })).data.result, 'ok');
    assert.equal((await c.calls.actions.hangup(ccid, { command_id: cmd })).data.result, 'ok');
    const hup = await rx.waitFor(ccid, 'call.hangup');
    assert.equal(hup.payload.hangup_cause, 'normal_clearing');
    assert.equal(hup.payload.hangup_source, 'caller');
    assert.equal(hup.payload.client_state, cs, 'client_state_update is echoed');

    const ended = (await c.calls.retrieveStatus(ccid)).data;
    assert.equal(ended.is_alive, false);
    assert.equal(typeof ended.call_duration, 'number');
    assert.ok(ended.call_duration >= 3, `the 3 s ring counts: ${JSON.stringify(ended)}`);
    assert.ok(Date.parse(ended.start_time) < Date.parse(ended.end_time), JSON.stringify(ended));
    const after = await c.connections.listActiveCalls(app.id);
    assert.ok(!after.data.some((x) => x.call_control_id === ccid));
    // Acting on an ended call: 90018.
    const err = await expectError(c.calls.actions.speak(ccid, { payload: 'hi', voice: 'female' }), UnprocessableEntityError, 422);
    assert.equal(err.error.errors[0].code, '90018');
  });

  test('dial options: answering machine detection, record from answer, webhook_url, stream_url', async () => {
    const perCall = rx.url.replace('/webhooks', '/per-call');
    const dialed = (
      await c.calls.dial({
        connection_id: app.id,
        to: ANSWERS,
        from: number,
        answering_machine_detection: 'detect',
        record: 'record-from-answer',
        record_format: 'wav',
        webhook_url: perCall,
        stream_url: rx.wsUrl,
        stream_track: 'inbound_track',
      })
    ).data;
    assertUuid(dialed.recording_id, 'recording_id');
    const ccid = dialed.call_control_id;
    await rx.waitFor(ccid, 'call.answered');
    const streaming = await rx.waitFor(ccid, 'streaming.started');
    assert.equal(streaming.payload.stream_url, rx.wsUrl);
    const amd = await rx.waitFor(ccid, 'call.machine.detection.ended');
    assert.equal(amd.payload.result, 'human');
    // The dial's webhook_url replaces the application's for this call.
    assert.deepEqual([...new Set(rx.of(ccid).map((e) => rx.paths.get(e.id)))], ['/per-call']);
    await c.calls.actions.hangup(ccid, {});
    const saved = await rx.waitFor(ccid, 'call.recording.saved');
    assert.ok(saved.payload.recording_urls.wav.endsWith(`${dialed.recording_id}.wav`), JSON.stringify(saved.payload));
  });

  test('dial a busy destination ends with user_busy', async () => {
    const ccid = (await c.calls.dial({ connection_id: app.id, to: BUSY, from: number })).data.call_control_id;
    const hup = await rx.waitFor(ccid, 'call.hangup');
    assert.equal(hup.payload.hangup_cause, 'user_busy');
    assert.equal(hup.payload.sip_hangup_cause, '486');
  });

  test('reject an inbound call', async () => {
    const ccid = (await inboundCall(number)).call_control_id;
    await rx.waitFor(ccid, 'call.initiated');
    assert.equal((await c.calls.actions.reject(ccid, { cause: 'USER_BUSY' })).data.result, 'ok');
    const hup = await rx.waitFor(ccid, 'call.hangup');
    assert.equal(hup.payload.hangup_cause, 'user_busy');
    assert.equal(hup.payload.hangup_source, 'callee');
  });

  test('speak, playback start/stop, a playback that cannot be fetched', async () => {
    const ccid = await answeredInbound();
    assert.equal((await c.calls.actions.speak(ccid, { payload: 'Hello from the compat suite', voice: 'female', language: 'en-US' })).data.result, 'ok');
    await rx.waitFor(ccid, 'call.speak.started');
    const spoke = await rx.waitFor(ccid, 'call.speak.ended');
    assert.equal(spoke.payload.status, 'completed');

    assert.equal((await c.calls.actions.startPlayback(ccid, { audio_url: rx.audioUrl })).data.result, 'ok');
    const pe = await rx.waitFor(ccid, 'call.playback.ended');
    assert.equal(pe.payload.status, 'completed');
    assert.equal(rx.of(ccid, 'call.playback.started').length, 1);

    assert.equal((await c.calls.actions.startPlayback(ccid, { audio_url: rx.audioUrl, loop: 'infinity' })).data.result, 'ok');
    await rx.waitFor(ccid, 'call.playback.started', { n: 2 });
    assert.equal((await c.calls.actions.stopPlayback(ccid, { stop: 'all' })).data.result, 'ok');
    const stopped = await rx.waitFor(ccid, 'call.playback.ended', { n: 2 });
    assert.equal(stopped.payload.status, 'cancelled');

    assert.equal((await c.calls.actions.startPlayback(ccid, { audio_url: rx.missingAudioUrl })).data.result, 'ok');
    const missing = await rx.waitFor(ccid, 'call.playback.ended', { n: 3 });
    assert.equal(missing.payload.status, 'file_not_found');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('gather, gather_using_speak, gather_using_audio, gather_stop', async () => {
    const ccid = await answeredInbound();
    assert.equal((await c.calls.actions.gather(ccid, { minimum_digits: 1, maximum_digits: 4, terminating_digit: '#' })).data.result, 'ok');
    await pressDigits(ccid, '12#');
    const g1 = await rx.waitFor(ccid, 'call.gather.ended');
    assert.equal(g1.payload.digits, '12');
    assert.equal(g1.payload.status, 'valid');
    assert.equal(rx.of(ccid, 'call.dtmf.received').length, 3);

    assert.equal(
      (await c.calls.actions.gatherUsingSpeak(ccid, { payload: 'Enter your PIN', voice: 'female', maximum_digits: 4, valid_digits: '0123456789' })).data.result,
      'ok',
    );
    await pressDigits(ccid, '9876');
    const g2 = await rx.waitFor(ccid, 'call.gather.ended', { n: 2 });
    assert.equal(g2.payload.digits, '9876');
    assert.equal(g2.payload.status, 'valid');

    assert.equal((await c.calls.actions.gatherUsingAudio(ccid, { audio_url: rx.audioUrl, maximum_digits: 2, valid_digits: '12' })).data.result, 'ok');
    await rx.waitFor(ccid, 'call.playback.started');
    await pressDigits(ccid, '35');
    const g3 = await rx.waitFor(ccid, 'call.gather.ended', { n: 3 });
    assert.equal(g3.payload.status, 'invalid');

    assert.equal((await c.calls.actions.gather(ccid, { maximum_digits: 5 })).data.result, 'ok');
    assert.equal((await c.calls.actions.stopGather(ccid, {})).data.result, 'ok');
    const g4 = await rx.waitFor(ccid, 'call.gather.ended', { n: 4 });
    assert.equal(g4.payload.status, 'cancelled');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('send_dtmf, send_sip_info, client_state_update, suppression, transcription, supervisor role', async () => {
    const ccid = await answeredInbound();
    assert.equal((await c.calls.actions.sendDtmf(ccid, { digits: '1www2', duration_millis: 250 })).data.result, 'ok');
    assert.equal((await c.calls.actions.sendSipInfo(ccid, { content_type: 'application/json', body: '{"a":1}' })).data.result, 'ok');
    const cs = Buffer.from('updated').toString('base64');
    assert.equal((await c.calls.actions.updateClientState(ccid, { client_state: cs })).data.result, 'ok');
    assert.equal((await c.calls.actions.startNoiseSuppression(ccid, { direction: 'both' })).data.result, 'ok');
    assert.equal((await c.calls.actions.stopNoiseSuppression(ccid, {})).data.result, 'ok');
    // Stopping what is not running: 90423.
    await expectError(c.calls.actions.stopNoiseSuppression(ccid, {}), UnprocessableEntityError, 422);
    assert.equal((await c.calls.actions.startTranscription(ccid, { transcription_engine: 'B' })).data.result, 'ok');
    assert.equal((await c.calls.actions.stopTranscription(ccid, {})).data.result, 'ok');
    assert.equal((await c.calls.actions.switchSupervisorRole(ccid, { role: 'monitor' })).data.result, 'ok');
    await c.calls.actions.hangup(ccid, {});
    const hup = await rx.waitFor(ccid, 'call.hangup');
    assert.equal(hup.payload.client_state, cs);
  });

  test('record start, pause, resume, stop: call.recording.saved with a download that works', async () => {
    const ccid = await answeredInbound();
    const rs = await c.calls.actions.startRecording(ccid, { format: 'wav', channels: 'single' });
    assert.equal(rs.data.result, 'ok');
    assert.equal((await c.calls.actions.pauseRecording(ccid, {})).data.result, 'ok');
    assert.equal((await c.calls.actions.resumeRecording(ccid, {})).data.result, 'ok');
    assert.equal((await c.calls.actions.stopRecording(ccid, {})).data.result, 'ok');
    const saved = await rx.waitFor(ccid, 'call.recording.saved');
    const url = saved.payload.recording_urls.wav;
    assert.equal(typeof url, 'string', JSON.stringify(saved));
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    assert.equal(bytes.subarray(0, 4).toString(), 'RIFF');
    await expectError(c.calls.actions.stopRecording(ccid, {}), UnprocessableEntityError, 422);
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('fork, siprec and streaming start/stop', async () => {
    const ccid = await answeredInbound();
    assert.equal((await c.calls.actions.startForking(ccid, { rx: 'udp:127.0.0.1:9', stream_type: 'decrypted' })).data.result, 'ok');
    await rx.waitFor(ccid, 'call.fork.started');
    assert.equal((await c.calls.actions.stopForking(ccid, {})).data.result, 'ok');
    await rx.waitFor(ccid, 'call.fork.stopped');

    assert.equal((await c.calls.actions.startSiprec(ccid, { connector_name: 'compat' })).data.result, 'ok');
    await rx.waitFor(ccid, 'siprec.started');
    assert.equal((await c.calls.actions.stopSiprec(ccid, {})).data.result, 'ok');
    await rx.waitFor(ccid, 'siprec.stopped');

    const before = rx.sockets.length;
    assert.equal((await c.calls.actions.startStreaming(ccid, { stream_url: rx.wsUrl, stream_track: 'inbound_track' })).data.result, 'ok');
    const started = await rx.waitFor(ccid, 'streaming.started');
    assert.equal(started.payload.stream_url, rx.wsUrl);
    assert.ok(rx.sockets.length > before, 'Dialtone opened the media WebSocket');
    assert.equal((await c.calls.actions.stopStreaming(ccid, {})).data.result, 'ok');
    await rx.waitFor(ccid, 'streaming.stopped');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('media streaming: frames arrive, digits are events, audio sent back plays on the outbound track', async () => {
    const ccid = await answeredInbound();
    const n = rx.sockets.length;
    const r = await c.calls.actions.startStreaming(ccid, {
      stream_url: rx.wsUrl,
      stream_track: 'both_tracks',
      stream_bidirectional_mode: 'rtp',
      stream_bidirectional_codec: 'PCMU',
    });
    assert.equal(r.data.result, 'ok');
    const conn = (await waitUntil(() => rx.sockets[n], 'the media WebSocket')).conn;
    const start = await waitUntil(() => conn.messages.find((m) => m.event === 'start'), 'start frame');
    assert.equal(start.start.call_control_id, ccid);
    assert.equal(start.start.media_format.encoding, 'PCMU');
    assert.ok(conn.messages.some((m) => m.event === 'connected'), 'connected frame');
    const inbound = await waitUntil(() => conn.messages.find((m) => m.event === 'media' && m.media.track === 'inbound'), 'an inbound media frame');
    assert.equal(Buffer.from(inbound.media.payload, 'base64').length, 160, '20 ms of PCMU');

    await pressDigits(ccid, '5');
    const dtmf = await waitUntil(() => conn.messages.find((m) => m.event === 'dtmf'), 'dtmf frame');
    assert.equal(dtmf.dtmf.digit, '5');

    // 20 ms of non-silent PCMU sent back comes out on the outbound track, then our mark.
    const audio = Buffer.alloc(160, 0x2a).toString('base64');
    conn.send({ event: 'media', media: { payload: audio } });
    conn.send({ event: 'mark', mark: { name: 'after-audio' } });
    await waitUntil(
      () => conn.messages.find((m) => m.event === 'media' && m.media.track === 'outbound' && m.media.payload === audio),
      'our audio on the outbound track',
    );
    const mark = await waitUntil(() => conn.messages.find((m) => m.event === 'mark'), 'the mark back');
    assert.equal(mark.mark.name, 'after-audio');

    assert.equal((await c.calls.actions.stopStreaming(ccid, {})).data.result, 'ok');
    await waitUntil(() => conn.messages.find((m) => m.event === 'stop'), 'stop frame');
    await rx.waitFor(ccid, 'streaming.stopped');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('enqueue and leave_queue', async () => {
    const ccid = await answeredInbound();
    const queue = `compat-q-${suffix()}`;
    assert.equal((await c.calls.actions.enqueue(ccid, { queue_name: queue })).data.result, 'ok');
    const enq = await rx.waitFor(ccid, 'call.enqueued');
    assert.equal(enq.payload.queue, queue);
    assert.equal(enq.payload.current_position, 1);
    assert.equal((await c.calls.actions.leaveQueue(ccid, {})).data.result, 'ok');
    const deq = await rx.waitFor(ccid, 'call.dequeued');
    assert.equal(deq.payload.reason, 'leave');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('bridge two answered calls; hanging up one ends the other', async () => {
    const a = await answeredInbound('+14155550131');
    const b = await answeredInbound('+14155550132');
    assert.equal((await c.calls.actions.bridge(a, { call_control_id: b })).data.result, 'ok');
    await rx.waitFor(a, 'call.bridged');
    await rx.waitFor(b, 'call.bridged');
    await c.calls.actions.hangup(a, {});
    await rx.waitFor(a, 'call.hangup');
    const hb = await rx.waitFor(b, 'call.hangup');
    assert.equal(hb.payload.hangup_cause, 'normal_clearing');
  });

  test('transfer: a new leg, bridged on answer', async () => {
    const ccid = await answeredInbound();
    const cs = Buffer.from('target').toString('base64');
    assert.equal((await c.calls.actions.transfer(ccid, { to: ANSWERS, target_leg_client_state: cs })).data.result, 'ok');
    const bridged = await rx.waitFor(ccid, 'call.bridged');
    // The new leg's events are ordered apart from the original leg's: wait for its answer.
    const target = await waitUntil(
      () => rx.events.find((e) => e.event_type === 'call.answered' && e.payload.client_state === cs && e.payload.call_control_id !== ccid),
      'the new leg answering with target_leg_client_state',
    );
    assert.equal(target.payload.call_session_id, bridged.payload.call_session_id);
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(target.payload.call_control_id, 'call.hangup');
  });

  test('refer: started then completed, and the far end leaves', async () => {
    const ccid = await answeredInbound();
    assert.equal((await c.calls.actions.refer(ccid, { sip_address: `sip:${ANSWERS}@example.com` })).data.result, 'ok');
    await rx.waitFor(ccid, 'call.refer.started');
    await rx.waitFor(ccid, 'call.refer.completed');
    const hup = await rx.waitFor(ccid, 'call.hangup');
    assert.equal(hup.payload.hangup_cause, 'normal_clearing');
  });

  test('AI assistant, gather_using_ai, conversation relay: simulated sessions', async () => {
    const ccid = await answeredInbound();
    const ai = await c.calls.actions.startAIAssistant(ccid, { assistant: { instructions: 'Be brief' } });
    assert.equal(ai.data.result, 'ok');
    assert.equal(typeof ai.data.conversation_id, 'string', JSON.stringify(ai.data));
    assert.equal((await c.calls.actions.addAIAssistantMessages(ccid, { messages: [{ role: 'user', content: 'hi' }] })).data.result, 'ok');
    assert.equal((await c.calls.actions.stopAIAssistant(ccid, {})).data.result, 'ok');
    const ended = await rx.waitFor(ccid, 'call.conversation.ended');
    assert.equal(ended.payload.conversation_id, ai.data.conversation_id);
    const gai = await c.calls.actions.gatherUsingAI(ccid, {
      parameters: { type: 'object', properties: { age: { type: 'integer' } }, required: ['age'] },
    });
    assert.equal(gai.data.result, 'ok');
    // One session at a time.
    const busy = await expectError(c.calls.actions.startConversationRelay(ccid, { url: 'wss://example.com/relay' }), UnprocessableEntityError, 422);
    assert.equal(busy.error.errors[0].code, '90423');
    assert.equal((await c.calls.actions.stopAIAssistant(ccid, {})).data.result, 'ok');
    const relay = await c.calls.actions.startConversationRelay(ccid, { url: 'wss://example.com/relay' });
    assert.equal(relay.data.result, 'ok');
    assert.equal((await c.calls.actions.stopConversationRelay(ccid, {})).data.result, 'ok');
    const join = await c.calls.actions.joinAIAssistant(ccid, {
      conversation_id: ai.data.conversation_id,
      participant: { id: ccid, role: 'user', name: 'caller' },
    });
    assert.equal(join.data.result, 'ok');
    assert.equal((await c.calls.actions.stopAIAssistant(ccid, {})).data.result, 'ok');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
  });

  test('actions that do not fit the state: answering an answered call, media on a ringing call', async () => {
    const ccid = await answeredInbound();
    const again = await expectError(c.calls.actions.answer(ccid, {}), UnprocessableEntityError, 422);
    assert.equal(again.error.errors[0].code, '90423');
    await c.calls.actions.hangup(ccid, {});
    await rx.waitFor(ccid, 'call.hangup');
    const ringing = (await inboundCall(number)).call_control_id;
    await rx.waitFor(ringing, 'call.initiated');
    const media = await expectError(c.calls.actions.speak(ringing, { payload: 'too early', voice: 'female' }), UnprocessableEntityError, 422);
    assert.equal(media.error.errors[0].code, '90034');
    await c.calls.actions.hangup(ringing, {});
    const hup = await rx.waitFor(ringing, 'call.hangup');
    assert.equal(hup.payload.hangup_cause, 'call_rejected');
  });

  test('an unknown call answers 90015', async () => {
    const err = await expectError(c.calls.retrieveStatus('v3:no-such-call'), UnprocessableEntityError, 422);
    assert.equal(err.error.errors[0].code, '90015');
  });
});
