/**
 * A sliver made through the AM API as a researcher's client would: Allocate, Provision and,
 * when asked, PerformOperationalAction geni_start, each checked to succeed.
 */
import { expect } from 'vitest';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { geniCode, type AliceSession } from './authority.js';

/**
 * Slice ple.inria.`slice` on `host`, with alice's key and `attributes` (`<planetlab:attribute
 * name value>`) in the sliver type. Returns Provision's answer.
 */
export async function provisionSliver(
  session: AliceSession,
  slice: string,
  host: string,
  opts: { attributes?: Record<string, string> | [string, string][]; start?: boolean } = {},
): Promise<XmlRpcStruct> {
  const urn = `urn:publicid:IDN+ple:inria+slice+${slice}`;
  const cred = await session.sliceCred(slice);
  const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [session.alice.sshKey] }];
  const esc = (v: string) =>
    v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const attributes = opts.attributes ?? {};
  const attrs = (Array.isArray(attributes) ? attributes : Object.entries(attributes))
    .map(([n, v]) => `<planetlab:attribute name="${n}" value="${esc(v)}"/>`)
    .join('');
  const rspec =
    '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3" xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1">' +
    `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${host}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver">${attrs}</sliver_type></node></rspec>`;
  const a = await session.am('Allocate', urn, cred, rspec, { geni_users: users });
  expect(geniCode(a), String(a['output'])).toBe(0);
  const p = await session.am('Provision', [urn], cred, {
    geni_rspec_version: { type: 'GENI', version: '3' },
    geni_users: users,
  });
  expect(geniCode(p), String(p['output'])).toBe(0);
  if (opts.start) {
    const st = await session.am('PerformOperationalAction', [urn], cred, 'geni_start', {});
    expect(geniCode(st), String(st['output'])).toBe(0);
  }
  return p;
}
