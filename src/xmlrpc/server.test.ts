import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Agent, request, type Server } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Gid } from '../credentials/gid.js';
import { sameKey } from '../credentials/keys.js';
import { Forbidden } from '../faults.js';
import { close, listen, makeTestPki, type TestPki } from '../../test/support/tls.js';
import { createKeepAliveAgent, xmlRpcCall } from './client.js';
import { parseMethodResponse, serializeMethodCall } from './codec.js';
import { XmlRpcFault, XmlRpcFaultError } from './errors.js';
import { createXmlRpcServer, type Peer, type XmlRpcCall, type XmlRpcHandler } from './server.js';
import type { XmlRpcStruct } from './value.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One HTTP exchange with nothing of our client in the way. */
function raw(
  origin: string,
  opts: {
    method?: string;
    path?: string;
    body?: Buffer | string;
    headers?: Record<string, string | number>;
    key?: string;
    cert?: string;
  } = {},
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const u = new URL(origin);
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const req = request(
      {
        host: u.hostname,
        port: u.port,
        path: opts.path ?? '/',
        method: opts.method ?? 'POST',
        headers: {
          'Content-Type': 'text/xml',
          ...(body ? { 'Content-Length': body.length } : {}),
          ...opts.headers,
        },
        key: opts.key,
        cert: opts.cert,
        rejectUnauthorized: false,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

let pki: TestPki;
let server: Server;
let origin: string;
/** What the handler saw, last call first. */
let calls: XmlRpcCall[];
let logged: string[];
let handler: XmlRpcHandler;

beforeAll(async () => {
  pki = makeTestPki();
  server = createXmlRpcServer({
    key: pki.authority.key,
    cert: pki.authority.cert,
    handler: (call) => {
      calls.unshift(call);
      return handler(call);
    },
    log: (line) => logged.push(line),
  });
  origin = await listen(server);
});
afterAll(() => close(server));
beforeEach(() => {
  calls = [];
  logged = [];
  handler = ({ method, params }) => ({ method, params });
});

describe('HTTP', () => {
  it.each(['/', '/RPC2', '/am', '/some/where?x=1'])('answers POST on %s', async (path) => {
    const r = await raw(origin, { path, body: serializeMethodCall('GetVersion', []) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/xml');
    expect(parseMethodResponse(r.body)).toEqual({ value: { method: 'GetVersion', params: [] } });
  });

  it('answers the request sfi sends, in the layout Python writes', async () => {
    const body = readFileSync(join(FIXTURES, 'sfi.List.nil-in-struct.request.xml'));
    // The options struct carries file: None, which must come back as nil.
    handler = ({ params }) => (params[2] as XmlRpcStruct)['file']!;
    const r = await raw(origin, {
      body,
      headers: { 'User-Agent': 'Python-xmlrpc/3.11', 'Accept-Encoding': 'gzip' },
    });
    expect(r.status).toBe(200);
    expect(r.body).toBe(
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><nil/></value></param>\n</params>\n</methodResponse>\n",
    );
  });

  it.each(['GET', 'PUT', 'DELETE'])('refuses %s with 405 and Allow: POST', async (method) => {
    const r = await raw(origin, { method });
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('POST');
    expect(r.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(r.body).toBe('Method Not Allowed: this is an XML-RPC endpoint, POST text/xml to it\n');
    expect(calls).toEqual([]);
  });

  it('reads a gzip request body', async () => {
    const r = await raw(origin, {
      body: gzipSync(serializeMethodCall('Zipped', ['a'.repeat(10_000)])),
      headers: { 'Content-Encoding': 'gzip' },
    });
    expect(parseMethodResponse(r.body)).toEqual({
      value: { method: 'Zipped', params: ['a'.repeat(10_000)] },
    });
  });

  it('refuses other content encodings with 415', async () => {
    const r = await raw(origin, { body: 'x', headers: { 'Content-Encoding': 'br' } });
    expect(r.status).toBe(415);
    expect(r.body).toBe('Unsupported Content-Encoding: br\n');
  });

  it('a corrupt gzip body is fault 1', async () => {
    const r = await raw(origin, { body: 'not gzip', headers: { 'Content-Encoding': 'gzip' } });
    expect(r.status).toBe(200);
    expect(parseMethodResponse(r.body)).toEqual({
      fault: { faultCode: 1, faultString: 'the gzip request body cannot be decompressed' },
    });
  });
});

describe('Security: oversize and compressed-bomb bodies', () => {
  it('answers 413 past 8 MiB by default, without calling the handler', async () => {
    const body = serializeMethodCall('Big', ['a'.repeat(8 * 1024 * 1024)]);
    const r = await raw(origin, { body });
    expect(r.status).toBe(413);
    expect(r.headers['connection']).toBe('close');
    expect(r.body).toBe('Request body larger than 8388608 bytes\n');
    expect(calls).toEqual([]);
  });

  it('a gzip bomb is refused once it inflates past the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(100 * 1024);
    const r = await raw(origin, { body: bomb, headers: { 'Content-Encoding': 'gzip' } });
    expect(r.status).toBe(413);
    expect(r.body).toBe('Request body larger than 8388608 bytes once decompressed\n');
    expect(calls).toEqual([]);
  });

  it('honours a smaller limit, compressed or not', async () => {
    const small = createXmlRpcServer({
      key: pki.authority.key,
      cert: pki.authority.cert,
      maxBodyBytes: 1024,
      handler: () => 'ok',
    });
    const o = await listen(small);
    try {
      expect((await raw(o, { body: serializeMethodCall('M', ['a'.repeat(1500)]) })).status).toBe(
        413,
      );
      expect((await raw(o, { body: serializeMethodCall('M', ['a'.repeat(800)]) })).status).toBe(
        200,
      );
      // 64 KiB declared and sent against a 1 KiB limit: answered without reading it all.
      const r = await raw(o, { body: serializeMethodCall('M', ['a'.repeat(65_536)]) }).catch(
        (e: Error & { code?: string }) => ({ status: e.code ?? 'error' }),
      );
      // Either the 413 arrives, or the connection is cut while the client is still sending.
      expect([413, 'ECONNRESET', 'EPIPE']).toContain(r.status);
      const inflated = await raw(o, {
        body: gzipSync(Buffer.alloc(4096, 0x20)),
        headers: { 'Content-Encoding': 'gzip' },
      });
      expect(inflated.status).toBe(413);
      expect(inflated.body).toBe('Request body larger than 1024 bytes once decompressed\n');
    } finally {
      await close(small);
    }
  });
});

describe('the peer', () => {
  const peerOf = async (opts: { key?: string; cert?: string; agent?: Agent }): Promise<Peer> => {
    await xmlRpcCall(origin, 'Who', [], opts);
    return calls[0]!.peer;
  };

  it('sees sfi-style self-signed certificate CN=ple.inria.alice and its key', async () => {
    const peer = await peerOf(pki.aliceSelfSigned);
    expect(new X509Certificate(peer.certificate!).subject).toBe('CN=ple.inria.alice');
    expect(peer.chainPem).toBe(peer.certificate);
    expect(sameKey(peer.publicKey!, pki.alice.key)).toBe(true);
    expect(peer.address).toBe('127.0.0.1');
  });

  it('sees a GID chain: the user, then the authority, readable as a Gid', async () => {
    const peer = await peerOf(pki.alice);
    expect(peer.certificate).toBe(pki.alice.gid.certPem);
    expect(peer.chainPem).toBe(pki.alice.gid.pem);
    const gid = Gid.fromPem(peer.chainPem!);
    expect(gid.urn).toBe('urn:publicid:IDN+ple:inria+user+alice');
    expect(gid.parent?.urn).toBe('urn:publicid:IDN+ple:inria+authority+sa');
    expect(sameKey(peer.publicKey!, pki.alice.key)).toBe(true);
  });

  it('has no certificate fields when the client sent none', async () => {
    const peer = await peerOf({});
    expect(peer.certificate).toBeUndefined();
    expect(peer.chainPem).toBeUndefined();
    expect(peer.publicKey).toBeUndefined();
    expect(peer.address).toBe('127.0.0.1');
  });

  it.each(['TLSv1.2', 'TLSv1.3'] as const)(
    'sees the whole chain on every new %s connection (no session resumption)',
    async (version) => {
      const agent = new Agent({ keepAlive: false, maxCachedSessions: 10, maxVersion: version });
      const reused: boolean[] = [];
      const onSecure = (s: { isSessionReused(): boolean }): void => {
        reused.push(s.isSessionReused());
      };
      server.on('secureConnection', onSecure);
      try {
        for (let i = 0; i < 3; i++) {
          const peer = await peerOf({ ...pki.alice, agent });
          expect(peer.chainPem).toBe(pki.alice.gid.pem);
        }
      } finally {
        server.off('secureConnection', onSecure);
        agent.destroy();
      }
      expect(reused).toEqual([false, false, false]);
    },
  );
});

describe('faults', () => {
  it('a GeniFault becomes its code and message', async () => {
    handler = () => {
      throw new Forbidden('plc.bob may not list plc');
    };
    const r = await raw(origin, { body: serializeMethodCall('List', ['plc']) });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/xml');
    expect(parseMethodResponse(r.body)).toEqual({
      fault: { faultCode: 3, faultString: 'plc.bob may not list plc' },
    });
    expect(logged).toEqual([]);
  });

  it('an XmlRpcFault is answered exactly, and xmlRpcCall rejects with it', async () => {
    handler = async () => {
      throw new XmlRpcFault(2, ": Resolve: Record not found: ['plc.nothere']");
    };
    const e = await xmlRpcCall(origin, 'Resolve', ['plc.nothere']).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(XmlRpcFaultError);
    expect((e as XmlRpcFaultError).faultCode).toBe(2);
    expect((e as XmlRpcFaultError).faultString).toBe(
      ": Resolve: Record not found: ['plc.nothere']",
    );
    expect((e as XmlRpcFaultError).code).toBe('FAULT');
  });

  it('any other error is fault 5 "Internal server error", logged, nothing of it on the wire', async () => {
    handler = () => {
      throw new Error('database at /var/lib/sfa/secret.db is locked');
    };
    const r = await raw(origin, { body: serializeMethodCall('Resolve', ['x']) });
    expect(r.status).toBe(200);
    expect(parseMethodResponse(r.body)).toEqual({
      fault: { faultCode: 5, faultString: 'Internal server error' },
    });
    expect(r.body).not.toContain('secret');
    expect(r.body).not.toContain('server.test');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatch(
      /^xmlrpc: Resolve from 127\.0\.0\.1: Error: database at \/var\/lib\/sfa\/secret\.db is locked\n\s+at /,
    );
  });

  it('a handler result that cannot be written is fault 5 too', async () => {
    handler = () => ({ when: new Map() }) as never;
    const r = await raw(origin, { body: serializeMethodCall('GetVersion', []) });
    expect(parseMethodResponse(r.body)).toEqual({
      fault: { faultCode: 5, faultString: 'Internal server error' },
    });
    expect(logged[0]).toContain('a Map cannot be written as XML-RPC');
  });

  it('a request that is not XML-RPC is fault 1 with what is wrong', async () => {
    const r = await raw(origin, {
      body: '<methodCall><methodName>M</methodName><params><param><value><boolean>yes</boolean></value></param></params></methodCall>',
    });
    expect(r.status).toBe(200);
    expect(parseMethodResponse(r.body)).toEqual({
      fault: {
        faultCode: 1,
        faultString: 'XML-RPC: line 1, column 82: <boolean> must be 0 or 1, found "yes"',
      },
    });
    expect(calls).toEqual([]);
  });

  it('Security: a billion-laughs request is fault 1, the handler never runs', async () => {
    const r = await raw(origin, {
      body: '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><methodCall><methodName>M</methodName><params><param><value>&b;</value></param></params></methodCall>',
    });
    expect(parseMethodResponse(r.body)).toEqual({
      fault: {
        faultCode: 1,
        faultString:
          'XML-RPC: a DOCTYPE is not allowed (document type declarations can define entities)',
      },
    });
    expect(calls).toEqual([]);
  });
});

describe('keep-alive', () => {
  it('a keep-alive agent makes many calls over one connection', async () => {
    let connections = 0;
    const count = (): void => {
      connections++;
    };
    server.on('secureConnection', count);
    const agent = createKeepAliveAgent();
    try {
      for (let i = 0; i < 5; i++) {
        expect(await xmlRpcCall(origin, 'Ping', [i], { ...pki.alice, agent })).toEqual({
          method: 'Ping',
          params: [i],
        });
      }
    } finally {
      server.off('secureConnection', count);
      agent.destroy();
    }
    expect(connections).toBe(1);
    // Every call on that connection saw the same, whole identity.
    expect(calls.map((c) => c.peer.chainPem)).toEqual(Array(5).fill(pki.alice.gid.pem));
  });

  it('a connection made with one identity is never used for another', async () => {
    const agent = createKeepAliveAgent();
    try {
      await xmlRpcCall(origin, 'Who', [], { ...pki.alice, agent });
      await xmlRpcCall(origin, 'Who', [], { ...pki.aliceSelfSigned, agent });
      await xmlRpcCall(origin, 'Who', [], { agent });
    } finally {
      agent.destroy();
    }
    const subjects = calls.map(
      (c) => c.peer.chainPem && new X509Certificate(c.peer.chainPem).subject,
    );
    expect(subjects.reverse()).toEqual(['CN=ple.inria.alice', 'CN=ple.inria.alice', undefined]);
    expect(
      calls.map((c) => c.peer.chainPem?.match(/BEGIN CERTIFICATE/g)?.length).reverse(),
    ).toEqual([2, 1, undefined]);
  });
});
