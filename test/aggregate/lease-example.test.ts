/**
 * The README's lease request (examples/lease-request.rspec) does what the README says: it holds
 * the exclusive node for its two slots, and another slice's overlapping request is REFUSED
 * naming the holder. Its commented-out sfa-ts form is checked too.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { ROOT } from '../support/paths.js';

const EXAMPLE = readFileSync(join(ROOT, 'examples/lease-request.rspec'), 'utf8');
/** The same request in our form: the commented-out lease in place of SFA's. */
const OURS = EXAMPLE.replace(/<lease [\s\S]*?<\/lease>/, '')
  .replace('<!-- or ours: -->', '')
  .replace(/<!-- (<sfa-ts:lease[\s\S]*?<\/sfa-ts:lease>) -->/, '$1');
const SLICES = ['myslice', 'other'].map((s) => `urn:publicid:IDN+ple:inria+slice+${s}`);

let session: AliceSession;
let am: AliceSession['am'];
const creds: XmlRpcStruct[][] = [];
const code = geniCode;

beforeAll(async () => {
  session = await aliceSession({ slices: ['other'] });
  am = session.am;
  for (const s of ['myslice', 'other']) creds.push(await session.sliceCred(s));
});
afterAll(async () => {
  await session?.close();
});

describe("the README's lease request", () => {
  it('holds node4.inria.fr for two slots from 2026-12-24T10:00:00Z', async () => {
    const r = await am('Allocate', SLICES[0]!, creds[0]!, EXAMPLE, {});
    expect(code(r), r['output'] as string).toBe(0);
    const manifest = (r['value'] as XmlRpcStruct)['geni_rspec'] as string;
    expect(manifest).toMatch(
      /start_time="2026-12-24T10:00:00Z"[^>]*end_time="2026-12-24T12:00:00Z"|end_time="2026-12-24T12:00:00Z"[^>]*start_time="2026-12-24T10:00:00Z"/,
    );
  });

  it("refuses another slice's overlapping slot (in our form), naming the holder", async () => {
    const r = await am('Allocate', SLICES[1]!, creds[1]!, OURS.replace('myslice', 'other'), {});
    expect(code(r)).toBe(7);
    expect(r['output']).toContain(SLICES[0]);
    await am('Delete', [SLICES[0]!], creds[0]!, {});
    const again = await am('Allocate', SLICES[1]!, creds[1]!, OURS, {});
    expect(code(again), again['output'] as string).toBe(0);
  });
});
