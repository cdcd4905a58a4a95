/**
 * Security: one request could stall every service. The three interfaces share one event loop,
 * and an Allocate of 40,000 unbound nodes took 24.5 s, a Resolve of 20,000 names 11.3 s. What
 * one call may ask for is now bounded (src/limits.ts), a call over a bound is BADARGS naming
 * it, and RSA key generation runs off the event loop. How long the loop stalls under a heavy
 * call is shown by `npm run bench -- aggregate` (round c), not timed here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig, paths } from '../../src/config.js';
import { CALL_LIMITS } from '../../src/limits.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import {
  aliceSession,
  bootstrapUser,
  client,
  fault,
  geniCode,
  makeAuthorityDir,
  startTestAuthority,
  type AliceSession,
} from '../support/authority.js';
import { removeTempDir } from '../support/tmp.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const CM = 'urn:publicid:IDN+ple+authority+cm';

let session: AliceSession;
let am: AliceSession['am'];
let registry: AliceSession['registry'];
let userCred: string;
let sliceCred: XmlRpcStruct[];

const unbound = (count: number) =>
  '<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
  Array.from(
    { length: count },
    (_, i) =>
      `<node client_id="u${i}" component_manager_id="${CM}" exclusive="false"><sliver_type name="plab-vserver"/></node>`,
  ).join('') +
  '</rspec>';

const outcome = (r: XmlRpcStruct) => ({ code: geniCode(r), output: r['output'] as string });

beforeAll(async () => {
  session = await aliceSession();
  ({ am, registry, userCred } = session);
  sliceCred = await session.sliceCred('myslice');
});
afterAll(async () => {
  await session?.close();
});

describe('Security: one request can stall every service', () => {
  it('refuses an Allocate of 40,000 unbound nodes with BADARGS naming the limit', async () => {
    const r = outcome(await am('Allocate', SLICE, sliceCred, unbound(40_000), {}));
    expect(r.code).toBe(1);
    expect(r.output).toMatch(/too large \(\d+ characters, limit \d+\)/); // 5.6 MB: by its size
    const smaller = outcome(await am('Allocate', SLICE, sliceCred, unbound(5000), {}));
    expect(smaller.code).toBe(1);
    expect(smaller.output).toContain(`at most ${CALL_LIMITS.requestNodes}`);
  });

  it('refuses one node over the limit, and the same call at the limit is not refused for its size', async () => {
    const over = outcome(
      await am('Allocate', SLICE, sliceCred, unbound(CALL_LIMITS.requestNodes + 1), {}),
    );
    expect(over.code).toBe(1);
    expect(over.output).toContain(`${CALL_LIMITS.requestNodes + 1} nodes`);
    // The demo inventory has 36 nodes: at the limit, the refusal is for room, not for size.
    const at = outcome(
      await am('Allocate', SLICE, sliceCred, unbound(CALL_LIMITS.requestNodes), {}),
    );
    expect(at.code).toBe(26); // INSUFFICIENT_NODES
  });

  it('refuses a Resolve of 20,000 names, and more URNs or credentials than one call may carry', async () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `ple.inria.u${i}`);
    const resolve = await fault(registry('Resolve', names, userCred, {}));
    expect(resolve.faultCode).toBe(1);
    expect(resolve.faultString).toContain(`at most ${CALL_LIMITS.names}`);

    const urns = Array.from(
      { length: CALL_LIMITS.urns + 1 },
      (_, i) => `urn:publicid:IDN+ple+sliver+${i + 1}`,
    );
    const status = outcome(await am('Status', urns, sliceCred, {}));
    expect(status.code).toBe(1);
    expect(status.output).toContain(`at most ${CALL_LIMITS.urns}`);

    const creds = Array.from({ length: CALL_LIMITS.credentials + 1 }, () => sliceCred[0]!);
    const many = outcome(await am('Status', [SLICE], creds, {}));
    expect(many.code).toBe(1);
    expect(many.output).toContain(`at most ${CALL_LIMITS.credentials}`);
  });

  it('refuses more geni_users, or keys per user, than one call may carry', async () => {
    const users = Array.from({ length: CALL_LIMITS.users + 1 }, (_, i) => ({
      urn: `urn:publicid:IDN+ple:inria+user+u${i}`,
      keys: [],
    }));
    const r = outcome(await am('Status', [SLICE], sliceCred, { geni_users: users }));
    expect(r.code).toBe(1);
    expect(r.output).toContain(`at most ${CALL_LIMITS.users}`);
    const keys = Array.from({ length: CALL_LIMITS.keysPerUser + 1 }, () => 'ssh-rsa AAAA x');
    const k = outcome(
      await am('Status', [SLICE], sliceCred, {
        geni_users: [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys }],
      }),
    );
    expect(k.code).toBe(1);
    expect(k.output).toContain(`at most ${CALL_LIMITS.keysPerUser}`);
  });
});

describe('the operator sets the limits in sfa.json', () => {
  it('raises the nodes per request, and refuses a limit that does not exist', async () => {
    const made = await makeAuthorityDir();
    const file = paths.config(made.dir);
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    writeFileSync(file, JSON.stringify({ ...config, limits: { bogus: 1 } }));
    expect(() => loadConfig(made.dir)).toThrow(/limits\.bogus is not one of the limits/);
    writeFileSync(file, JSON.stringify({ ...config, connections: { maxPerAddress: 0 } }));
    expect(() => loadConfig(made.dir)).toThrow(/connections\.maxPerAddress must be a positive/);
    writeFileSync(file, JSON.stringify({ ...config, connections: { requestTimeoutMs: 10_000 } }));
    expect(() => loadConfig(made.dir)).toThrow(/headersTimeoutMs \(20000\) must not exceed/);
    writeFileSync(
      file,
      JSON.stringify({
        ...config,
        limits: { requestNodes: 200 },
        connections: { maxPerAddress: 8 },
      }),
    );
    expect(loadConfig(made.dir)).toMatchObject({
      limits: { requestNodes: 200 },
      connections: { maxPerAddress: 8 },
    });
    const running = await startTestAuthority(made.dir);
    try {
      const a = await bootstrapUser(running.urls.registry, made.alice);
      const c = (await a.registry('GetCredential', a.cred, 'ple.inria.myslice', 'slice')) as string;
      const call = client(running.urls.aggregate, made.alice.keyPem, a.gid);
      const cred = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: c }];
      const r = (await call('Allocate', SLICE, cred, unbound(150), {})) as XmlRpcStruct;
      expect(geniCode(r)).toBe(26); // not refused for its size: for room (36 demo nodes)
      expect(CALL_LIMITS.requestNodes).toBe(200);
    } finally {
      await running.close();
      expect(CALL_LIMITS.requestNodes).toBe(100); // back to the defaults
      removeTempDir(made.dir);
    }
  });
});
