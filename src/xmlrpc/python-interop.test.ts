/**
 * The oracle: Python's own xmlrpc.client, the library sfi is built on, calling our server over
 * TLS with a client certificate, as sfi does (CERT_NONE on the server side, allow_none=True).
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Forbidden } from '../faults.js';
import { close, listen, makeTestPki } from '../../test/support/tls.js';
import { createXmlRpcServer } from './server.js';

// Debian's python3, as sfi runs; any python3 has xmlrpc.client.
const PYTHON = ['/usr/bin/python3', '/usr/local/bin/python3'].find((p) => existsSync(p));

const SCRIPT = String.raw`
import json, ssl, sys, datetime, xmlrpc.client as x
url, cert, key = sys.argv[1:4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
ctx.load_cert_chain(cert, key)
p = x.ServerProxy(url, context=ctx, allow_none=True, use_builtin_types=True)
sent = ['s & <t>', '', 7, -2147483648, 1.5, True, False, None,
        datetime.datetime(2024, 1, 2, 3, 4, 5), b'\x00\xff',
        [1, [None, {}]], {'file': None, '__proto__': {'a': 1}, 'nested': {'d': [2.25]}}]
out = {}
out['echo_equal'] = p.Echo(*sent) == sent
out['who'] = p.Who()
for m in ('Forbidden', 'Boom'):
    try:
        getattr(p, m)()
        out[m] = 'no fault'
    except x.Fault as f:
        out[m] = [f.faultCode, f.faultString]
print(json.dumps(out))
`;

let server: Server;
let aliceCertPem: string;
let origin: string;
let dir: string;

beforeAll(async () => {
  const pki = makeTestPki();
  aliceCertPem = new X509Certificate(pki.aliceSelfSigned.cert).toString();
  dir = mkdtempSync(join(tmpdir(), 'sfa-xmlrpc-py-'));
  writeFileSync(join(dir, 'alice.sscert'), pki.aliceSelfSigned.cert);
  writeFileSync(join(dir, 'alice.pkey'), pki.aliceSelfSigned.key);
  server = createXmlRpcServer({
    key: pki.authority.key,
    cert: pki.authority.cert,
    log: () => {},
    handler: ({ method, params, peer }) => {
      if (method === 'Echo') return params;
      if (method === 'Who') return peer.certificate ?? 'anonymous';
      if (method === 'Forbidden') throw new Forbidden('no rights to plc');
      throw new Error('boom with internals');
    },
  });
  origin = await listen(server);
});
afterAll(async () => {
  await close(server);
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(PYTHON === undefined)('Python xmlrpc.client against our server', () => {
  it('round-trips every type, sees the client certificate, and reads our faults', async () => {
    const stdout = await new Promise<string>((resolve, reject) => {
      // Asynchronous: the server answering is in this very process.
      execFile(
        PYTHON!,
        ['-c', SCRIPT, `${origin}/RPC2`, join(dir, 'alice.sscert'), join(dir, 'alice.pkey')],
        { timeout: 20_000 },
        (err, out, errOut) => (err ? reject(new Error(`${err.message}\n${errOut}`)) : resolve(out)),
      );
    });
    const out = JSON.parse(stdout) as Record<string, unknown>;
    expect(out['echo_equal']).toBe(true);
    expect(out['who']).toBe(aliceCertPem);
    expect(out['Forbidden']).toEqual([3, 'no rights to plc']);
    expect(out['Boom']).toEqual([5, 'Internal server error']);
  });
});
