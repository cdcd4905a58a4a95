/**
 * Security: anyone could exhaust the server's memory through call_id. ~580 GetVersion calls,
 * each with a distinct 7 MB call_id, used to kill the process: the replay cache kept any
 * caller's call_id, of any length, for any method. Now a call_id is at most 256 characters,
 * and only the calls whose repetition would change something are kept for replay.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CALL_ID_LENGTH } from '../../src/aggregate/options.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const REQUEST =
  '<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
  '<node client_id="a" component_id="urn:publicid:IDN+ple:inria+node+node1.inria.fr" ' +
  'component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false">' +
  '<sliver_type name="plab-vserver"/></node></rspec>';

let session: AliceSession;
let am: AliceSession['am'];
let sliceCred: XmlRpcStruct[];
const code = geniCode;

beforeAll(async () => {
  session = await aliceSession();
  am = session.am;
  sliceCred = await session.sliceCred('myslice');
});
afterAll(async () => {
  await session?.close();
});

describe('Security: anyone can exhaust the server’s memory through call_id', () => {
  it('refuses an oversized call_id with BADARGS naming the limit, on any method', async () => {
    const huge = 'x'.repeat(7 * 1024 * 1024);
    const r = await am('GetVersion', { call_id: huge });
    expect(code(r)).toBe(1);
    expect(r['output']).toContain(`at most ${MAX_CALL_ID_LENGTH}`);
    const justOver = await am('GetVersion', { call_id: 'y'.repeat(MAX_CALL_ID_LENGTH + 1) });
    expect(code(justOver)).toBe(1);
    expect(code(await am('GetVersion', { call_id: 'y'.repeat(MAX_CALL_ID_LENGTH) }))).toBe(0);
  });

  it('still replays a state-changing call: a repeated Delete gets the first answer', async () => {
    const allocated = await am('Allocate', SLICE, sliceCred, REQUEST, {});
    expect(code(allocated)).toBe(0);
    const urns = ((allocated['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[]).map(
      (s) => s['geni_sliver_urn'] as string,
    );
    const first = await am('Delete', urns, sliceCred, { call_id: 'urn:uuid:delete-1' });
    expect(code(first)).toBe(0);
    // Run again, the Delete would find nothing (SEARCHFAILED); replayed, it answers as first.
    expect(await am('Delete', urns, sliceCred, { call_id: 'urn:uuid:delete-1' })).toEqual(first);
    expect(code(await am('Delete', urns, sliceCred, { call_id: 'urn:uuid:delete-2' }))).toBe(12);
  });

  it('does not keep reading calls: a repeated Status is run again', async () => {
    const before = await am('Status', [SLICE], sliceCred, { call_id: 'urn:uuid:status' });
    await am('Allocate', SLICE, sliceCred, REQUEST, {});
    const after = await am('Status', [SLICE], sliceCred, { call_id: 'urn:uuid:status' });
    const slivers = (r: XmlRpcStruct) =>
      code(r) === 0 ? ((r['value'] as XmlRpcStruct)['geni_slivers'] as unknown[]).length : 0;
    expect(slivers(before)).toBe(0); // nothing allocated then
    expect(slivers(after)).toBe(1); // the new sliver is seen: not a stored answer
    await am('Delete', [SLICE], sliceCred, {});
  });
});
