import { X509Certificate } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sameKey } from '../credentials/keys.js';
import { close, listen, makeTestPki, type TestPki } from '../../test/support/tls.js';
import { createKeepAliveAgent, xmlRpcCall } from './client.js';
import { serializeMethodResponse } from './codec.js';
import {
  XmlRpcCallError,
  XmlRpcConnectionError,
  XmlRpcHttpError,
  XmlRpcResponseError,
  XmlRpcServerRejectedError,
  XmlRpcTimeoutError,
} from './errors.js';
import { createXmlRpcServer } from './server.js';

let pki: TestPki;
let xmlrpc: Server;
let origin: string;
let received: string[];

/** A bare HTTPS server answering every request with `respond` (or never, if it returns). */
async function bare(
  respond: (res: ServerResponse) => void,
): Promise<{ server: Server; origin: string }> {
  const server = createServer({ key: pki.authority.key, cert: pki.authority.cert }, (req, res) => {
    req.resume();
    req.on('end', () => respond(res));
  });
  return { server, origin: await listen(server) };
}

async function rejection(p: Promise<unknown>): Promise<XmlRpcCallError> {
  const e = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(XmlRpcCallError);
  return e as XmlRpcCallError;
}

beforeAll(async () => {
  pki = makeTestPki();
  received = [];
  xmlrpc = createXmlRpcServer({
    key: pki.authority.key,
    cert: pki.authority.cert,
    handler: ({ method, params }) => {
      received.push(method);
      return params[0] ?? 'pong';
    },
  });
  origin = await listen(xmlrpc);
});
afterAll(() => close(xmlrpc));

describe('xmlRpcCall', () => {
  it('returns the value, over TLS, even for an http:// URL (as sfi does)', async () => {
    const port = new URL(origin).port;
    expect(await xmlRpcCall(origin, 'Echo', [{ a: [1, null] }])).toEqual({ a: [1, null] });
    expect(await xmlRpcCall(`http://127.0.0.1:${port}/am`, 'Echo', ['plain'])).toBe('plain');
    expect(await xmlRpcCall(`127.0.0.1:${port}`, 'Echo', ['bare'])).toBe('bare');
  });

  it('reads a gzip answer', async () => {
    const { server, origin: o } = await bare((res) => {
      const body = gzipSync(serializeMethodResponse('zipped'));
      res.writeHead(200, { 'Content-Type': 'text/xml', 'Content-Encoding': 'gzip' });
      res.end(body);
    });
    try {
      expect(await xmlRpcCall(o, 'M', [])).toBe('zipped');
    } finally {
      await close(server);
    }
  });

  it('times out against a server that never answers', async () => {
    const { server, origin: o } = await bare(() => {});
    try {
      const started = performance.now();
      const e = await rejection(xmlRpcCall(o, 'Hang', [], { timeoutMs: 300 }));
      const elapsed = performance.now() - started;
      expect(e).toBeInstanceOf(XmlRpcTimeoutError);
      expect(e.code).toBe('TIMEOUT');
      expect(e.message).toBe(`no answer from ${o} within 300 ms`);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(2000);
    } finally {
      await close(server);
    }
  });

  it('says the connection was refused', async () => {
    const { server, origin: o } = await bare(() => {});
    const port = (server.address() as AddressInfo).port;
    await close(server);
    const e = await rejection(xmlRpcCall(o, 'M', []));
    expect(e).toBeInstanceOf(XmlRpcConnectionError);
    expect((e as XmlRpcConnectionError).errno).toBe('ECONNREFUSED');
    expect(e.message).toBe(`connection refused by 127.0.0.1:${port}`);
  });

  it('reports a status other than 200 with an excerpt of the body', async () => {
    const { server, origin: o } = await bare((res) => {
      res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end('upstream\nbroken');
    });
    try {
      const e = await rejection(xmlRpcCall(o, 'M', []));
      expect(e).toBeInstanceOf(XmlRpcHttpError);
      expect((e as XmlRpcHttpError).status).toBe(502);
      expect(e.message).toBe(`${o} answered HTTP 502 Bad Gateway: upstream broken`);
    } finally {
      await close(server);
    }
  });

  it('reports an answer that is not XML-RPC', async () => {
    const { server, origin: o } = await bare((res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html><body>Welcome</body></html>');
    });
    try {
      const e = await rejection(xmlRpcCall(o, 'M', []));
      expect(e).toBeInstanceOf(XmlRpcResponseError);
      expect(e.code).toBe('BAD_RESPONSE');
      expect(e.message).toBe(
        `${o} did not answer XML-RPC (text/html): XML-RPC: line 1, column 6: expected <methodResponse> as the root element, found <html>`,
      );
    } finally {
      await close(server);
    }
  });

  it('refuses an answer larger than maxResponseBytes', async () => {
    const e = await rejection(
      xmlRpcCall(origin, 'Echo', ['x'.repeat(5000)], { maxResponseBytes: 1000 }),
    );
    expect(e).toBeInstanceOf(XmlRpcResponseError);
    expect(e.message).toBe(`${origin}: answer larger than 1000 bytes`);
  });

  it('refuses values it cannot write, before connecting', async () => {
    await expect(xmlRpcCall(origin, 'Echo', [undefined as never])).rejects.toThrow(
      'XML-RPC: undefined cannot be written (use null for nil) at params[0]',
    );
    await expect(xmlRpcCall('ftp://x/', 'Echo', [])).rejects.toThrow(
      "'ftp://x/' is not an http(s) URL",
    );
  });
});

describe('verifyServer', () => {
  it('sees the server certificate and lets the call through when it returns true', async () => {
    const seen: string[] = [];
    const value = await xmlRpcCall(origin, 'Echo', ['pinned'], {
      verifyServer: (pem) => {
        seen.push(pem);
        return sameKey(new X509Certificate(pem).publicKey, pki.authority.key);
      },
    });
    expect(value).toBe('pinned');
    expect(seen).toEqual([pki.authority.gid.certPem]);
  });

  it('sends nothing when it returns false, on new and on pooled connections', async () => {
    const agent = createKeepAliveAgent();
    try {
      received = [];
      expect(await xmlRpcCall(origin, 'First', [], { agent })).toBe('pong');
      for (const opts of [{}, { agent }]) {
        const e = await rejection(
          xmlRpcCall(origin, 'Secret', ['cred'], { ...opts, verifyServer: () => false }),
        );
        expect(e).toBeInstanceOf(XmlRpcServerRejectedError);
        expect(e.message).toBe(`${origin}: server certificate refused`);
      }
      expect(received).toEqual(['First']);
    } finally {
      agent.destroy();
    }
  });
});
