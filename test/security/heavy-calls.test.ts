/**
 * Security: one request could stall every service. The three interfaces share one event loop,
 * and an Allocate of 40,000 unbound nodes took 24.5 s, a Resolve of 20,000 names 11.3 s. What
 * one call may ask for is now bounded (src/limits.ts), a call over a bound is BADARGS naming
 * it, and RSA key generation runs off the event loop. How long the loop stalls under a heavy
 * call is shown by `npm run bench -- aggregate` (round c), not timed here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALL_LIMITS } from '../../src/limits.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, fault, geniCode, type AliceSession } from '../support/authority.js';

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
