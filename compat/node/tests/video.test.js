// Video rooms through the official SDK: every video operation (rooms, join tokens, sessions,
// participants, session actions, recordings, compositions), joins and leaves through the
// simulation API, and an end-to-end run: a room with recording, two participants joining,
// one muted, one kicked, the session ended, a composition made and downloaded (probed with
// ffprobe when installed), every webhook verified with `client.webhooks.unwrap`, in order.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { NotFoundError, PermissionDeniedError, UnprocessableEntityError } from 'telnyx';
import { assertIsoTime, assertUuid, client, dialtoneRequest, expectError, suffix, waitUntil } from './helpers.js';

const c = client();

async function simJoin(roomId, context) {
  const t = await c.rooms.actions.generateJoinClientToken(roomId, {});
  const r = await dialtoneRequest('POST', `/_dialtone/sim/rooms/${roomId}/join`, { token: t.data.token, context });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.data;
}

function assertRoom(r) {
  assert.equal(r.record_type, 'room');
  assertUuid(r.id, 'id');
  assert.equal(typeof r.max_participants, 'number');
  assertIsoTime(r.created_at, 'created_at');
}

describe('rooms and tokens', () => {
  test('create, retrieve, update, list, delete', async () => {
    const name = `room-${suffix()}`;
    const room = (await c.rooms.create({ unique_name: name, max_participants: 4 })).data;
    assertRoom(room);
    assert.equal(room.unique_name, name);
    const got = (await c.rooms.retrieve(room.id, { include_sessions: true })).data;
    assert.deepEqual(got.sessions, []);
    const upd = (await c.rooms.update(room.id, { enable_recording: true })).data;
    assert.equal(upd.enable_recording, true);
    const page = await c.rooms.list({ filter: { unique_name: name } });
    assert.deepEqual(page.data.map((r) => r.id), [room.id]);
    await expectError(c.rooms.create({ unique_name: name }), UnprocessableEntityError, 422);
    await c.rooms.delete(room.id);
    await expectError(c.rooms.retrieve(room.id), NotFoundError, 404);
  });

  test('join client tokens and refresh', async () => {
    const room = (await c.rooms.create({})).data;
    const t = (await c.rooms.actions.generateJoinClientToken(room.id, { token_ttl_secs: 60, refresh_token_ttl_secs: 120 })).data;
    assert.equal(t.token.split('.').length, 3);
    assertIsoTime(t.token_expires_at, 'token_expires_at');
    assertIsoTime(t.refresh_token_expires_at, 'refresh_token_expires_at');
    const header = JSON.parse(Buffer.from(t.token.split('.')[0], 'base64url').toString());
    assert.equal(header.alg, 'Ed25519');
    const r = (await c.rooms.actions.refreshClientToken(room.id, { refresh_token: t.refresh_token })).data;
    assert.equal(typeof r.token, 'string');
    await expectError(c.rooms.actions.refreshClientToken(room.id, { refresh_token: t.token }), PermissionDeniedError, 403);
  });
});

describe('sessions, participants, recordings, compositions', () => {
  test('every video operation', async () => {
    const room = (await c.rooms.create({ enable_recording: true })).data;
    const a = await simJoin(room.id, 'alice');
    const b = await simJoin(room.id, 'bob');
    const sid = a.session_id;
    const s = (await c.rooms.sessions.retrieve(sid, { include_participants: true })).data;
    assert.equal(s.active, true);
    assert.equal(s.participants.length, 2);
    assert.ok((await c.rooms.sessions.list0({ filter: { room_id: room.id } })).data.some((x) => x.id === sid));
    assert.deepEqual((await c.rooms.sessions.list1(room.id)).data.map((x) => x.id), [sid]);
    const parts = await c.rooms.sessions.retrieveParticipants(sid, { filter: { context: 'bob' } });
    assert.deepEqual(parts.data.map((p) => p.id), [b.id]);
    assert.ok((await c.roomParticipants.list({ filter: { session_id: sid } })).data.length === 2);
    assert.equal((await c.roomParticipants.retrieve(a.id)).data.context, 'alice');
    assert.equal((await c.rooms.sessions.actions.mute(sid, { participants: [a.id] })).data.result, 'ok');
    assert.equal((await dialtoneRequest('GET', `/_dialtone/sim/room_participants/${a.id}`)).body.data.muted, true);
    await c.rooms.sessions.actions.unmute(sid, { participants: 'all' });
    assert.equal((await dialtoneRequest('GET', `/_dialtone/sim/room_participants/${a.id}`)).body.data.muted, false);
    await c.rooms.sessions.actions.kick(sid, { participants: 'all', exclude: [a.id] });
    assert.equal((await dialtoneRequest('GET', `/_dialtone/sim/room_participants/${b.id}`)).body.data.present, false);
    await expectError(c.roomCompositions.create({ session_id: sid }), UnprocessableEntityError, 422);
    await c.rooms.sessions.actions.end(sid);
    assert.equal((await c.rooms.sessions.retrieve(sid)).data.active, false);

    const recs = await waitUntil(async () => {
      const l = await c.roomRecordings.list({ filter: { session_id: sid, status: 'completed' } });
      return l.data.length === 4 && l.data;
    }, 'recordings completed');
    for (const r of recs) assert.ok(r.download_url.startsWith('http'));
    assert.equal((await c.roomRecordings.retrieve(recs[0].id)).data.id, recs[0].id);
    await c.roomRecordings.delete(recs[0].id);
    await expectError(c.roomRecordings.retrieve(recs[0].id), NotFoundError, 404);
    const bulk = await c.roomRecordings.deleteBulk({ filter: { session_id: sid } });
    assert.equal(bulk.data.room_recordings, 3);

    const comp = (await c.roomCompositions.create({ session_id: sid, resolution: '640x360' })).data;
    assert.equal(comp.status, 'enqueued');
    const done = await waitUntil(async () => {
      const x = (await c.roomCompositions.retrieve(comp.id)).data;
      return x.status === 'completed' && x;
    }, 'composition completed');
    assert.equal(done.resolution, '640x360');
    assert.ok((await c.roomCompositions.list({ filter: { session_id: sid } })).data.some((x) => x.id === comp.id));
    await c.roomCompositions.delete(comp.id);
    await expectError(c.roomCompositions.retrieve(comp.id), NotFoundError, 404);
    await c.rooms.delete(room.id);
  });
});

describe('end to end', () => {
  const events = [];
  const rejected = [];
  let server;
  after(() => server?.close());

  test('record, join two, mute one, kick one, end, compose, download', async () => {
    const key = (await dialtoneRequest('GET', '/_dialtone/webhooks/public_key')).body.data.public_key;
    server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (ch) => chunks.push(ch));
      req.on('end', async () => {
        try {
          const ev = await c.webhooks.unwrap(Buffer.concat(chunks).toString('utf8'), { headers: req.headers, key });
          if (!events.some((e) => e.id === ev.data.id)) events.push(ev.data);
          res.writeHead(200);
        } catch (err) {
          rejected.push(String(err));
          res.writeHead(400);
        }
        res.end();
      });
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${server.address().port}/video`;

    const room = (await c.rooms.create({ enable_recording: true, webhook_event_url: url })).data;
    const a = await simJoin(room.id, 'alice');
    const b = await simJoin(room.id, 'bob');
    const sid = a.session_id;
    await c.rooms.sessions.actions.mute(sid, { participants: [a.id] });
    assert.equal((await dialtoneRequest('GET', `/_dialtone/sim/room_participants/${a.id}`)).body.data.muted, true);
    await c.rooms.sessions.actions.kick(sid, { participants: [b.id] });
    await new Promise((r) => setTimeout(r, 1100));
    await c.rooms.sessions.actions.end(sid);
    // The recordings complete first, so the composition's webhook comes last.
    await waitUntil(async () => {
      const l = await c.roomRecordings.list({ filter: { session_id: sid, status: 'completed' } });
      return l.data.length === 4;
    }, 'recordings completed');
    const comp = (await c.roomCompositions.create({ session_id: sid, resolution: '640x360', webhook_event_url: url })).data;
    const done = await waitUntil(async () => {
      const x = (await c.roomCompositions.retrieve(comp.id)).data;
      return x.status === 'completed' && x;
    }, 'composition completed');
    const res = await fetch(done.download_url);
    assert.equal(res.status, 200);
    const mp4 = Buffer.from(await res.arrayBuffer());
    assert.equal(mp4.subarray(4, 8).toString(), 'ftyp');
    let probed = false;
    try {
      execFileSync('ffprobe', ['-version'], { stdio: 'ignore' });
      probed = true;
    } catch {
      // ffprobe not installed: the container's header was checked above.
    }
    if (probed) {
      const file = join(mkdtempSync(join(tmpdir(), 'dialtone-')), 'c.mp4');
      writeFileSync(file, mp4);
      const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]).toString());
      const v = out.streams.find((st) => st.codec_type === 'video');
      assert.equal(v.width, 640);
      assert.equal(v.height, 360);
      assert.ok(Math.abs(Number(out.format.duration) - done.duration_secs) <= 1, `duration ${out.format.duration}`);
    }

    const want = [
      'video.room.session.started',
      'video.room.participant.joined',
      'video.room.recording.started',
      'video.room.recording.started',
      'video.room.participant.joined',
      'video.room.recording.started',
      'video.room.recording.started',
      'video.room.participant.left',
      'video.room.participant.left',
      'video.room.session.ended',
      'video.room.recording.completed',
      'video.room.recording.completed',
      'video.room.recording.completed',
      'video.room.recording.completed',
      'video.room.composition.completed',
    ];
    await waitUntil(() => events.length >= want.length, 'all webhooks', 15_000);
    assert.deepEqual(rejected, []);
    assert.deepEqual(events.map((e) => e.event_type), want);
    assert.equal(events[7].payload.left_reason, 'kicked');
    assert.equal(events[7].payload.participant_id, b.id);
    assert.equal(events.at(-1).payload.composition_id, comp.id);
  });
});
