#!/usr/bin/env node
// Smoke test of the sandbox itself (plain Node, no dependencies):
//   node infra/sandbox/smoke.mjs
// Starts two instances and checks the Query API, auth, Bolt over TCP and WebSocket,
// the control protocol (readOnly/stop/start/ping) and a clean exit. Ends with
// "N passed, N failed" and exits non-zero on any failure.

import crypto from 'node:crypto';
import net from 'node:net';
import { startSandbox } from './run.mjs';

const PASSWORD = 'smoke-pass';
let passed = 0;
let failed = 0;

function check(name, ok, detail = '') {
  if (ok) passed++;
  else failed++;
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${!ok && detail ? ` -- ${detail}` : ''}`);
}

async function query(inst, statement, { password = PASSWORD, db = 'neo4j', extra = {} } = {}) {
  const res = await fetch(`${inst.httpUri}/db/${db}/query/v2`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      authorization: 'Basic ' + Buffer.from(`neo4j:${password}`).toString('base64'),
    },
    body: JSON.stringify({ statement, ...extra }),
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

// --- minimal Bolt 4.4 client: handshake + HELLO with basic auth, over TCP or WebSocket ---

function packString(s) {
  const b = Buffer.from(s, 'utf8');
  if (b.length < 16) return Buffer.concat([Buffer.from([0x80 + b.length]), b]);
  if (b.length < 256) return Buffer.concat([Buffer.from([0xd0, b.length]), b]);
  return Buffer.concat([Buffer.from([0xd1, b.length >> 8, b.length & 0xff]), b]);
}

function helloMessage(password) {
  const fields = { user_agent: 'sandbox-smoke/1', scheme: 'basic', principal: 'neo4j', credentials: password };
  const entries = Object.entries(fields).flatMap(([k, v]) => [packString(k), packString(v)]);
  const body = Buffer.concat([Buffer.from([0xb1, 0x01, 0xa0 + Object.keys(fields).length]), ...entries]);
  const len = Buffer.from([body.length >> 8, body.length & 0xff]);
  return Buffer.concat([len, body, Buffer.from([0, 0])]);
}

const HANDSHAKE = Buffer.from([0x60, 0x60, 0xb0, 0x17, 0, 0, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

function wsFrame(payload) {
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x82, 0x80 | len]) : Buffer.from([0x82, 0x80 | 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, mask, masked]);
}

/** Resolves to { version: 'x.y', reply: 'SUCCESS' | 'FAILURE' | ... }. */
function boltHello(port, password, { websocket = false } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error('bolt timeout'));
    }, 10_000);
    let buf = Buffer.alloc(0);
    let stage = websocket ? 'upgrade' : 'version';
    let version = null;
    const send = (b) => sock.write(websocket ? wsFrame(b) : b);
    // Unwraps server WebSocket frames (unmasked) into the Bolt byte stream.
    let wsBuf = Buffer.alloc(0);
    const fromWs = () => {
      let out = Buffer.alloc(0);
      for (;;) {
        if (wsBuf.length < 2) break;
        let len = wsBuf[1] & 0x7f;
        let off = 2;
        if (len === 126) {
          if (wsBuf.length < 4) break;
          len = wsBuf.readUInt16BE(2);
          off = 4;
        }
        if (wsBuf.length < off + len) break;
        out = Buffer.concat([out, wsBuf.subarray(off, off + len)]);
        wsBuf = wsBuf.subarray(off + len);
      }
      return out;
    };
    sock.on('connect', () => {
      if (websocket) {
        sock.write(
          `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      } else {
        send(HANDSHAKE);
      }
    });
    sock.on('data', (d) => {
      if (stage === 'upgrade') {
        wsBuf = Buffer.concat([wsBuf, d]);
        const i = wsBuf.indexOf('\r\n\r\n');
        if (i < 0) return;
        const status = wsBuf.subarray(0, i).toString().split('\r\n')[0];
        if (!status.includes(' 101 ')) {
          clearTimeout(timer);
          sock.destroy();
          return reject(new Error(status));
        }
        wsBuf = wsBuf.subarray(i + 4);
        stage = 'version';
        send(HANDSHAKE);
        d = Buffer.alloc(0);
      }
      if (websocket) {
        wsBuf = Buffer.concat([wsBuf, d]);
        d = fromWs();
      }
      buf = Buffer.concat([buf, d]);
      if (stage === 'version' && buf.length >= 4) {
        version = `${buf[3]}.${buf[2]}`;
        buf = buf.subarray(4);
        stage = 'hello';
        send(helloMessage(password));
      }
      if (stage === 'hello' && buf.length >= 4) {
        const sig = buf[3];
        clearTimeout(timer);
        sock.destroy();
        resolve({ version, reply: sig === 0x70 ? 'SUCCESS' : sig === 0x7f ? 'FAILURE' : `0x${sig.toString(16)}` });
      }
    });
    sock.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

async function main() {
  const t0 = Date.now();
  const sb = await startSandbox({ password: PASSWORD, instances: [{ name: 'a' }, { name: 'b', readOnly: true }] });
  console.log(`ready in ${Date.now() - t0} ms (launcher startMs ${sb.startMs})`);
  const { a, b } = sb.instances;
  try {
    let r = await query(a, 'RETURN 1 AS x');
    check('query api answers', r.status === 202 && r.body?.data?.values?.[0]?.[0] === 1, JSON.stringify(r));
    r = await query(a, 'RETURN 1 AS x', { password: 'wrong' });
    check('wrong password -> 401', r.status === 401, JSON.stringify(r));
    const disco = await (await fetch(a.httpUri + '/')).json();
    check('discovery document', disco.bolt_direct === a.boltUri && disco.neo4j_edition === 'community', JSON.stringify(disco));

    let h = await boltHello(a.bolt, PASSWORD);
    check('bolt tcp auth ok', h.reply === 'SUCCESS', JSON.stringify(h));
    h = await boltHello(a.bolt, 'wrong');
    check('bolt tcp wrong password rejected', h.reply === 'FAILURE', JSON.stringify(h));
    h = await boltHello(a.bolt, PASSWORD, { websocket: true });
    check('bolt websocket auth ok', h.reply === 'SUCCESS', JSON.stringify(h));

    r = await query(b, 'CREATE (n:T)');
    check('readOnly instance rejects writes', r.body?.errors?.[0]?.code === 'Neo.ClientError.General.WriteOnReadOnlyAccessDatabase', JSON.stringify(r));
    let c = await sb.command({ cmd: 'readOnly', name: 'b', value: false });
    r = await query(b, 'CREATE (n:T)');
    check('readOnly false -> writes work', c.ok && r.status === 202, JSON.stringify([c, r]));
    c = await sb.command({ cmd: 'readOnly', name: 'b', value: true });
    r = await query(b, 'CREATE (n:T)');
    check('readOnly true -> writes rejected', c.ok && r.status === 400, JSON.stringify([c, r]));

    c = await sb.command({ cmd: 'stop', name: 'a' });
    let down = false;
    try {
      await query(a, 'RETURN 1');
    } catch {
      down = true;
    }
    check('stop closes the ports', c.ok && down, JSON.stringify(c));
    c = await sb.command({ cmd: 'start', name: 'a' });
    r = await query(a, 'RETURN 1 AS x');
    check('start again on the same ports', c.ok && r.status === 202, JSON.stringify([c, r]));
    c = await sb.command({ cmd: 'ping' });
    check('ping', c.ok && c.instances?.a?.running === true, JSON.stringify(c));
    c = await sb.command({ cmd: 'nope' });
    check('unknown command -> ok:false', c.ok === false, JSON.stringify(c));
  } finally {
    const { code } = await sb.stop();
    check('clean exit on stdin EOF', code === 0, `exit code ${code}`);
  }
}

main()
  .catch((e) => {
    failed++;
    console.log(`FAIL ${e.stack || e}`);
  })
  .finally(() => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  });
