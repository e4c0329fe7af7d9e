// Shared set-up for the voice suites: a local webhook receiver that verifies every delivery
// with the SDK's own `client.webhooks.unwrap`, serves a small WAV for playbacks, and accepts
// WebSocket upgrades for media streaming; plus a call control application with a number
// routed to it.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { buyNumbers, client, dialtoneRequest, numberId, suffix, waitUntil } from './helpers.js';

/** One second of 8 kHz 8-bit mono silence as a WAV file (a playback of about 1 s). */
export function wavSecond() {
  const data = Buffer.alloc(8000, 0x80);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20); // PCM
  h.writeUInt16LE(1, 22); // mono
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28); // byte rate
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

/** One WebSocket frame from the start of `buf` (client frames are masked), or null. */
function parseFrame(buf) {
  if (buf.length < 2) return null;
  const opcode = buf[0] & 0x0f;
  const masked = (buf[1] & 0x80) !== 0;
  let len = buf[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return null;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return null;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  const maskOff = off;
  if (masked) off += 4;
  if (buf.length < off + len) return null;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (masked) for (let i = 0; i < len; i++) payload[i] ^= buf[maskOff + (i % 4)];
  return { opcode, payload, size: off + len };
}

function textFrame(text) {
  const data = Buffer.from(text, 'utf8');
  let head;
  if (data.length < 126) head = Buffer.from([0x81, data.length]);
  else {
    head = Buffer.alloc(4);
    head[0] = 0x81;
    head[1] = 126;
    head.writeUInt16BE(data.length, 2);
  }
  return Buffer.concat([head, data]);
}

export class Receiver {
  constructor(key, sdk = client()) {
    this.key = key;
    this.sdk = sdk;
    this.events = []; // verified `data` of every webhook, in arrival order
    this.rejected = [];
    this.sockets = []; // media-stream connections that reached us
    this.paths = new Map(); // event id -> the path it was posted to
    this.onEvent = null; // optional async (data) => void, run before the 200
  }

  async start() {
    const wav = wavSecond();
    this.server = http.createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/audio.wav') {
        res.writeHead(200, { 'content-type': 'audio/wav', 'content-length': wav.length });
        res.end(wav);
        return;
      }
      if (req.method === 'GET') {
        res.writeHead(404);
        res.end();
        return;
      }
      const chunks = [];
      req.on('data', (ch) => chunks.push(ch));
      req.on('end', () => {
        this.handle(Buffer.concat(chunks).toString('utf8'), req.headers, req.url).then(
          (status) => {
            res.writeHead(status);
            res.end();
          },
          (err) => {
            this.rejected.push({ err: String(err?.stack ?? err) });
            res.writeHead(500);
            res.end();
          },
        );
      });
    });
    // A bare WebSocket handshake: enough for Dialtone to open a media stream to us.
    this.server.on('upgrade', (req, socket) => {
      const accept = createHash('sha1')
        .update(req.headers['sec-websocket-key'] + '258EAFA5-E914-47DA-95CA-C5AB0DC85B11')
        .digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\n\r\n`,
      );
      const conn = { url: req.url, messages: [], closed: false };
      let buf = Buffer.alloc(0);
      socket.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        for (;;) {
          const f = parseFrame(buf);
          if (!f) break;
          buf = buf.subarray(f.size);
          if (f.opcode === 1) conn.messages.push(JSON.parse(f.payload.toString('utf8')));
          if (f.opcode === 8) conn.closed = true;
        }
      });
      socket.on('error', () => {});
      // Sends a JSON text frame to Dialtone (server frames are not masked).
      conn.send = (obj) => socket.write(textFrame(JSON.stringify(obj)));
      this.sockets.push({ conn, socket });
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', resolve);
    });
    const port = this.server.address().port;
    this.url = `http://127.0.0.1:${port}/webhooks`;
    this.audioUrl = `http://127.0.0.1:${port}/audio.wav`;
    this.missingAudioUrl = `http://127.0.0.1:${port}/missing.wav`;
    this.wsUrl = `ws://127.0.0.1:${port}/stream`;
  }

  async handle(body, headers, path = '') {
    let event;
    try {
      event = await this.sdk.webhooks.unwrap(body, { headers, key: this.key });
    } catch (err) {
      this.rejected.push({ err: String(err), body });
      return 400;
    }
    const data = event.data;
    if (this.events.some((e) => e.id === data.id)) return 200; // at-least-once delivery
    this.events.push(data);
    this.paths.set(data.id, path);
    if (this.onEvent) await this.onEvent(data);
    return 200;
  }

  /** Events of call `ccid` (by `payload.call_control_id`), optionally of one type. */
  of(ccid, type) {
    return this.events.filter(
      (e) => e.payload?.call_control_id === ccid && (type === undefined || e.event_type === type),
    );
  }

  /** Waits for the `n`-th event of `type` on call `ccid` and returns it. */
  async waitFor(ccid, type, { n = 1, ms = 20_000 } = {}) {
    return waitUntil(() => this.of(ccid, type)[n - 1], `${type} #${n} on ${ccid}`, ms);
  }

  close() {
    for (const { socket } of this.sockets) socket.destroy();
    return new Promise((resolve) => {
      this.server.closeAllConnections?.();
      this.server.close(() => resolve());
    });
  }
}

/** Dialtone's webhook public key (to verify with). */
export async function webhookKey() {
  const { status, body } = await dialtoneRequest('GET', '/_dialtone/webhooks/public_key');
  assert.equal(status, 200, JSON.stringify(body));
  return body.data.public_key;
}

/** Creates a call control application whose webhooks go to `url`. */
export async function createApplication(c, url, body = {}) {
  const res = await c.callControlApplications.create({
    application_name: `compat-voice-${suffix()}`,
    webhook_event_url: url,
    ...body,
  });
  assert.ok(res.data?.id, JSON.stringify(res));
  return res.data;
}

/** Buys one voice number and routes it to `connectionId`. Returns the E.164 number. */
export async function numberFor(c, connectionId) {
  const { numbers } = await buyNumbers(c, { n: 1, filter: { features: ['voice'] } });
  const id = await numberId(c, numbers[0]);
  const upd = await c.phoneNumbers.update(id, { connection_id: connectionId });
  assert.equal(upd.data.connection_id, connectionId, JSON.stringify(upd.data));
  return numbers[0];
}

/** An inbound call from an outside number (`POST /_dialtone/sim/calls`). */
export async function inboundCall(to, from = '+14155550123', extra = {}) {
  const { status, body } = await dialtoneRequest('POST', '/_dialtone/sim/calls', { from, to, ...extra });
  assert.equal(status, 201, JSON.stringify(body));
  const call = body.data ?? body;
  assert.ok(call.call_control_id, JSON.stringify(body));
  return call;
}

/** The far end presses `digits` (`POST /_dialtone/sim/calls/{id}/dtmf`). */
export async function pressDigits(ccid, digits, delayMs = 0) {
  const { status, body } = await dialtoneRequest('POST', `/_dialtone/sim/calls/${ccid}/dtmf`, {
    digits,
    delay_ms: delayMs,
  });
  assert.ok(status >= 200 && status < 300, `dtmf answered ${status}: ${JSON.stringify(body)}`);
}
