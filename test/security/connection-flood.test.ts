/**
 * Security: no bound on connections. About 20,000 idle TCP connections used to exhaust the
 * file descriptors and stop every port; a connection could idle 120 s before its TLS handshake
 * and trickle a body for 300 s. Here the limits are made small so that a flood is a few dozen
 * sockets; the well-behaved client, from another loopback address, is served throughout.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Agent, type Server } from 'node:https';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { xmlRpcCall } from '../../src/xmlrpc/client.js';
import { createXmlRpcServer } from '../../src/xmlrpc/server.js';
import { close, listen, makeTestPki, type TestPki } from '../support/tls.js';

let pki: TestPki;
let server: Server;
let origin: string;
let port: number;
const sockets: Socket[] = [];

const LIMITS = {
  maxConnections: 12,
  maxPerAddress: 4,
  handshakeTimeoutMs: 400,
  headersTimeoutMs: 400,
  requestTimeoutMs: 800,
  keepAliveTimeoutMs: 1000,
  maxBodyBytesHeld: 1024 * 1024,
};

/** An idle TCP connection from `localAddress`; resolves once connected (or closed at once). */
function idleConnection(localAddress: string): Promise<Socket> {
  return new Promise((resolve) => {
    const s = tcpConnect({ host: '127.0.0.1', port, localAddress });
    sockets.push(s);
    s.on('error', () => {});
    s.once('connect', () => resolve(s));
    s.once('close', () => resolve(s));
  });
}

function closed(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed || s.readyState === 'closed') resolve();
    else s.once('close', () => resolve());
  });
}

/** Give the server a moment to act on the connections just made. */
async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
}

/** A TLS connection from `localAddress` with alice's certificate, and what the server sent. */
function tlsFrom(localAddress: string) {
  const tcp = tcpConnect({ host: '127.0.0.1', port, localAddress });
  sockets.push(tcp);
  const tls = tlsConnect({
    socket: tcp,
    key: pki.alice.key,
    cert: pki.alice.cert,
    rejectUnauthorized: false,
  });
  sockets.push(tls);
  tls.on('error', () => {});
  let answer = '';
  tls.on('data', (d: Buffer) => (answer += d.toString('latin1')));
  const ready = new Promise<void>((r) => tls.once('secureConnect', () => r()));
  return { tls, answer: () => answer, ready };
}

/** A GetVersion-like call from `localAddress`, as a well-behaved client makes it. */
async function wellBehavedCall(localAddress: string): Promise<unknown> {
  const agent = new Agent({ localAddress, keepAlive: false, rejectUnauthorized: false });
  try {
    return await xmlRpcCall(`${origin}/`, 'Ping', [], {
      key: pki.alice.key,
      cert: pki.alice.cert,
      timeoutMs: 5000,
      agent,
    });
  } finally {
    agent.destroy();
  }
}

beforeAll(async () => {
  pki = makeTestPki();
  server = createXmlRpcServer({
    key: pki.authority.key,
    cert: pki.authority.cert,
    handler: () => 'pong',
    connections: LIMITS,
    log: () => {},
  });
  origin = await listen(server);
  port = Number(new URL(origin).port);
});
afterEach(() => {
  for (const s of sockets.splice(0)) s.destroy();
});
afterAll(async () => {
  await close(server);
});

describe('Security: no bound on connections', () => {
  it('closes connections over the per-address cap and keeps serving other clients', async () => {
    const flood = await Promise.all(Array.from({ length: 20 }, () => idleConnection('127.0.0.2')));
    await settle();
    const open = flood.filter((s) => !s.destroyed && s.readyState === 'open');
    expect(open.length).toBe(LIMITS.maxPerAddress);
    await expect(wellBehavedCall('127.0.0.3')).resolves.toBe('pong');
  });

  it('when full, a new connection takes the place of the oldest idle one', async () => {
    // 12 addresses with 1 idle connection each fill the server…
    const flood = await Promise.all(
      Array.from({ length: LIMITS.maxConnections }, (_, i) => idleConnection(`127.0.1.${i + 1}`)),
    );
    await settle();
    expect(flood.filter((s) => !s.destroyed).length).toBe(LIMITS.maxConnections);
    // …and the well-behaved client still gets its answer, the oldest idle flooder going.
    await expect(wellBehavedCall('127.0.0.4')).resolves.toBe('pong');
    await closed(flood[0]!);
    expect(flood[0]!.destroyed || flood[0]!.readyState === 'closed').toBe(true);
  });

  it('closes a connection that never starts its TLS handshake', async () => {
    const s = await idleConnection('127.0.0.5');
    await closed(s); // the test's own timeout (30 s) would fail it before 120 s
    expect(s.bytesRead).toBe(0);
  });

  it('closes a connection that trickles its request body', async () => {
    const { tls, answer, ready } = tlsFrom('127.0.0.6');
    await ready;
    tls.write(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n',
    );
    const trickle = setInterval(() => {
      if (!tls.destroyed) tls.write('<');
    }, 50);
    try {
      await closed(tls);
    } finally {
      clearInterval(trickle);
    }
    // Node answers 408 Request Timeout before closing.
    expect(answer()).toMatch(/^HTTP\/1\.1 408/);
  });

  it('answers 503 when the bodies being read at once pass the process budget, and recovers', async () => {
    const body = Buffer.from(
      `<?xml version="1.0"?><methodCall><methodName>Ping</methodName><params><param><value><string>${'a'.repeat(700 * 1024)}</string></value></param></params></methodCall>`,
    );
    const head = `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${body.length}\r\n\r\n`;
    const first = tlsFrom('127.0.0.7');
    const second = tlsFrom('127.0.0.8');
    await Promise.all([first.ready, second.ready]);
    first.tls.write(head);
    first.tls.write(body.subarray(0, body.length - 10)); // held, not finished
    await settle();
    second.tls.write(head);
    second.tls.write(body);
    await closed(second.tls);
    expect(second.answer()).toMatch(/^HTTP\/1\.1 503/);
    first.tls.write(body.subarray(body.length - 10));
    for (let i = 0; i < 50 && !first.answer().includes('pong'); i++) await settle();
    expect(first.answer()).toMatch(/^HTTP\/1\.1 200[\s\S]*pong/);
    // The budget is free again: a well-behaved call goes through.
    await expect(wellBehavedCall('127.0.0.9')).resolves.toBe('pong');
  });
});
