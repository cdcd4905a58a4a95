/**
 * The GENI AM API acceptance suite's v2 workflows (test_CreateSliver,
 * test_CreateSliverWorkflow_multiSlice): after DeleteSliver, SliverStatus of the slice is an
 * error (SEARCHFAILED, as the reference aggregate answers), not "ready" with no resources.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';

const SLICES = ['myslice', 'otherslice'].map((s) => `urn:publicid:IDN+ple:inria+slice+${s}`);
const req = (host: string) =>
  `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"><node client_id="${host}" component_id="urn:publicid:IDN+ple:inria+node+${host}" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;

let session: AliceSession;
let v2: AliceSession['am'];
const creds: XmlRpcStruct[][] = [];
const code = geniCode;

beforeAll(async () => {
  session = await aliceSession({ slices: ['otherslice'], interface: 'aggregateV2' });
  v2 = session.am;
  for (const s of ['myslice', 'otherslice']) creds.push(await session.sliceCred(s));
});
afterAll(async () => {
  await session?.close();
});

describe('AM API v2: SliverStatus after DeleteSliver', () => {
  it('is SEARCHFAILED for a slice that never had slivers here', async () => {
    const r = await v2('SliverStatus', SLICES[0]!, creds[0]!, {});
    expect(code(r)).toBe(12);
    expect(r['output']).toMatch(/has no (slivers|resources) at this aggregate/);
  });

  it('fails after DeleteSliver, for each of two slices (test_CreateSliverWorkflow_multiSlice)', async () => {
    const hosts = ['node1.inria.fr', 'node4.inria.fr'];
    for (const [i, slice] of SLICES.entries()) {
      expect(code(await v2('CreateSliver', slice, creds[i]!, req(hosts[i]!), [], {}))).toBe(0);
      expect(code(await v2('SliverStatus', slice, creds[i]!, {}))).toBe(0);
    }
    for (const [i, slice] of SLICES.entries()) {
      expect((await v2('DeleteSliver', slice, creds[i]!, {}))['value']).toBe(true);
    }
    for (const [i, slice] of SLICES.entries()) {
      expect(code(await v2('SliverStatus', slice, creds[i]!, {}))).toBe(12);
    }
  });
});
