/**
 * The GENI AM API v3 over real HTTPS, with credentials issued by the registry of the same
 * authority, the way sfi and omni call it; and the GENI AM API acceptance cases
 * (test/vectors/geni-acceptance).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRspec } from '../../src/rspec/validate.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import {
  bootstrapUser,
  client,
  makeAuthorityDir,
  startTestAuthority,
  type TestUser,
} from '../support/authority.js';
import { GENI_ACCEPTANCE as ACCEPTANCE, NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const GENI3 = {
  type: 'GENI',
  version: '3',
  schema: 'http://www.geni.net/resources/rspec/3/manifest.xsd',
  namespace: 'http://www.geni.net/resources/rspec/3',
  extensions: [],
};
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';

const tmp = tempRoot('am-v3');
let running: RunningAuthority;
let alice: TestUser;
let bob: TestUser;
let am: ReturnType<typeof client>;
let userCred: string;
let sliceCred: string;
let sliceCredDict: XmlRpcStruct[];

const request = (nodes: string) =>
  `<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3" xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1">${nodes}</rspec>`;
const boundNode = (clientId: string, host: string, site: string, extra = '') =>
  `<node client_id="${clientId}" component_id="urn:publicid:IDN+ple:${site}+node+${host}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver">${extra}</sliver_type></node>`;

async function call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcStruct> {
  return (await am(method, ...params)) as XmlRpcStruct;
}
function code(r: XmlRpcStruct): number {
  return (r['code'] as XmlRpcStruct)['geni_code'] as number;
}

beforeAll(async () => {
  const made = await makeAuthorityDir(NOW, tmp.path);
  ({ alice, bob } = made);
  running = await startTestAuthority(made.dir);
  const a = await bootstrapUser(running.urls.registry, alice);
  userCred = a.cred;
  sliceCred = (await a.registry('GetCredential', a.cred, 'ple.inria.myslice', 'slice')) as string;
  sliceCredDict = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred }];
  am = client(running.urls.aggregate, alice.keyPem, a.gid);
});
afterAll(async () => {
  await running?.close();
});

describe('GetVersion', () => {
  it('answers what omni and sfi check, with the right XML-RPC types', async () => {
    const r = await call('GetVersion');
    expect(r['geni_api']).toBe(3);
    expect(code(r)).toBe(0);
    expect(r['code']).toEqual({ geni_code: 0, am_type: 'sfa-ts', am_code: 0 });
    expect(r['output']).toBe('');
    const v = r['value'] as XmlRpcStruct;
    expect(v).toMatchObject({
      geni_api: 3,
      geni_single_allocation: 0,
      geni_allocate: 'geni_many',
      interface: 'aggregate',
      sfa: 3,
      hrn: 'ple',
      urn: 'urn:publicid:IDN+ple+authority+am',
      geni_credential_types: [
        { geni_type: 'geni_sfa', geni_version: '2' },
        { geni_type: 'geni_sfa', geni_version: '3' },
      ],
    });
    expect(Object.keys(v['geni_api_versions'] as XmlRpcStruct).sort()).toEqual(['2', '3']);
    expect((v['geni_ad_rspec_versions'] as XmlRpcStruct[])[0]).toMatchObject({
      type: 'GENI',
      version: '3',
    });
  });
});

describe('ListResources', () => {
  it('advertises every node in a valid GENI v3 ad naming ad.xsd', async () => {
    const r = await call('ListResources', [userCred], {
      geni_rspec_version: GENI3,
      cached: true,
      list_leases: 'resources',
      call_id: 'urn:uuid:1',
    });
    expect(code(r)).toBe(0);
    const ad = r['value'] as string;
    expect(ad).toContain('http://www.geni.net/resources/rspec/3/ad.xsd');
    expect(ad.match(/<node /g)).toHaveLength(running.engine.listNodes(NOW).length);
    await expect(validateRspec(ad, 'ad')).resolves.toBeUndefined();
  });

  it('with geni_available, lists only available nodes, each <available now="true"/>', async () => {
    const r = await call('ListResources', [userCred], {
      geni_rspec_version: GENI3,
      geni_available: true,
    });
    const ad = r['value'] as string;
    const nodes = ad.match(/<node [\s\S]*?<\/node>/g) ?? [];
    expect(nodes.length).toBeGreaterThan(0);
    expect(nodes.length).toBeLessThan(running.engine.listNodes(NOW).length); // the demo has down nodes
    for (const n of nodes) expect(n).toContain('<available now="true"/>');
  });

  it('compresses with geni_compressed (zlib + base64)', async () => {
    const r = await call('ListResources', [userCred], {
      geni_rspec_version: 'GENI 3',
      geni_compressed: true,
    });
    const xml = inflateSync(Buffer.from(r['value'] as string, 'base64')).toString('utf8');
    expect(xml).toContain('type="advertisement"');
  });

  it('refuses a missing rspec version (BADARGS) and an unknown one (BADVERSION), in the envelope', async () => {
    const missing = await call('ListResources', [userCred], {});
    expect(code(missing)).toBe(1);
    expect(missing['output']).toContain('geni_rspec_version is required');
    expect(missing['value']).toBe('');
    const unknown = await call('ListResources', [userCred], {
      geni_rspec_version: { type: 'ProtoGENI', version: '2' },
    });
    expect(code(unknown)).toBe(4);
  });
});

describe('acceptance: credentials', () => {
  it('refuses malformed credential XML (CREDENTIAL_INVALID)', async () => {
    const r = await call('ListResources', ['<signed-credential><credential>'], {
      geni_rspec_version: GENI3,
    });
    expect(code(r)).toBe(20);
    expect(r['output']).not.toBe('');
  });

  it('ignores an unknown credential type, and so has no credential (BADARGS)', async () => {
    const r = await call(
      'ListResources',
      [{ geni_type: 'geni_unknown', geni_version: '1', geni_value: userCred }],
      { geni_rspec_version: GENI3 },
    );
    expect(code(r)).toBe(1);
    expect(r['output']).toContain('no credential given');
  });

  it('refuses an altered signed credential (CREDENTIAL_INVALID)', async () => {
    const r = await call(
      'ListResources',
      [userCred.replace('<name>info</name>', '<name>sa</name>')],
      { geni_rspec_version: GENI3 },
    );
    expect(code(r)).toBe(20);
    expect(r['output']).toContain('digest mismatch');
  });

  it('refuses the untrusted user credential of the acceptance tests', async () => {
    const untrusted = readFileSync(join(ACCEPTANCE, 'untrusted-usercred.xml'), 'utf8');
    const r = await call('ListResources', [untrusted], { geni_rspec_version: GENI3 });
    expect([20, 21, 23]).toContain(code(r));
  });

  it('refuses a user credential used as a slice credential (CREDENTIAL_MISMATCH)', async () => {
    const r = await call('Describe', [SLICE], [userCred], { geni_rspec_version: GENI3 });
    expect(code(r)).toBe(22);
    expect(r['output']).toContain('not for slice');
  });

  it('refuses a slice credential used on another slice', async () => {
    const r = await call(
      'Allocate',
      'urn:publicid:IDN+ple:inria+slice+other',
      sliceCredDict,
      request(boundNode('x', 'node2.inria.fr', 'inria')),
      {},
    );
    expect(code(r)).toBe(22);
  });

  it("refuses bob presenting alice's slice credential", async () => {
    const b = await bootstrapUser(running.urls.registry, bob);
    const r = (await client(running.urls.aggregate, bob.keyPem, b.gid)(
      'Status',
      [SLICE],
      sliceCredDict,
      {},
    )) as XmlRpcStruct;
    expect(code(r)).toBe(22);
  });
});

describe('acceptance: request RSpecs', () => {
  it('refuses an empty request RSpec and a malformed one (BADARGS)', async () => {
    expect(code(await call('Allocate', SLICE, sliceCredDict, request(''), {}))).toBe(1);
    const bad = readFileSync(join(ACCEPTANCE, 'bad.xml.sample'), 'utf8');
    const r = await call('Allocate', SLICE, sliceCredDict, bad, {});
    expect(code(r)).toBe(1);
    expect(
      code(await call('Allocate', SLICE, sliceCredDict, '<rspec type="request"><node', {})),
    ).toBe(1);
  });

  it('keeps every request client_id in the manifest (the acceptance sample, unbound to our nodes)', async () => {
    // The sample asks for a Utah node; unbound (no component ids) and as a vserver it is ours.
    const sample = readFileSync(join(ACCEPTANCE, 'request.xml.sample'), 'utf8')
      .replace(/ component_(id|manager_id)="[^"]*"/g, '')
      .replace(/<sliver_type name="[^"]*"\s*\/>/g, '<sliver_type name="plab-vserver"/>')
      .replace(
        /<sliver_type name="[^"]*">[\s\S]*?<\/sliver_type>/g,
        '<sliver_type name="plab-vserver"/>',
      );
    const clientIds = [...sample.matchAll(/<node[^>]* client_id="([^"]+)"/g)].map((m) => m[1]);
    expect(clientIds.length).toBeGreaterThan(0);
    const r = await call('Allocate', SLICE, sliceCredDict, sample, {});
    expect(r['output']).toBe('');
    const manifest = (r['value'] as XmlRpcStruct)['geni_rspec'] as string;
    for (const id of clientIds) expect(manifest).toContain(`client_id="${id}"`);
    expect(manifest).toContain('http://www.geni.net/resources/rspec/3/manifest.xsd');
    await expect(validateRspec(manifest, 'manifest')).resolves.toBeUndefined();
    const urns = ((r['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[]).map(
      (s) => s['geni_sliver_urn'] as string,
    );
    expect(code(await call('Delete', urns, sliceCredDict, {}))).toBe(0);
  });
});

describe('a slice from Allocate to Delete', () => {
  let sliverUrns: string[] = [];

  it('allocates (geni_allocated), with ports granted in the manifest', async () => {
    const req = request(
      boundNode(
        'web',
        'node1.inria.fr',
        'inria',
        '<planetlab:attribute name="ports" value="tcp:8080"/>',
      ) + boundNode('db', 'node2.inria.fr', 'inria'),
    );
    const r = await call('Allocate', SLICE, sliceCredDict, req, {
      geni_users: [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [alice.sshKey] }],
    });
    expect(r['output']).toBe('');
    const v = r['value'] as XmlRpcStruct;
    const slivers = v['geni_slivers'] as XmlRpcStruct[];
    expect(slivers.map((s) => s['geni_allocation_status'])).toEqual([
      'geni_allocated',
      'geni_allocated',
    ]);
    expect(v['geni_rspec']).toContain('<sfa-ts:ports proto="tcp" from="8080" to="8080"/>');
    sliverUrns = slivers.map((s) => s['geni_sliver_urn'] as string);
    for (const u of sliverUrns) expect(u).toMatch(/^urn:publicid:IDN\+ple\+sliver\+\d+$/);
  });

  it('refuses a second sliver of the slice on the same node, naming the node (nothing added)', async () => {
    const r = await call(
      'Allocate',
      SLICE,
      sliceCredDict,
      request(boundNode('web2', 'node1.inria.fr', 'inria')),
      {},
    );
    expect(code(r)).not.toBe(0);
    expect(r['output']).toContain('node1.inria.fr');
    const s = await call('Status', [SLICE], sliceCredDict, {});
    expect((s['value'] as XmlRpcStruct)['geni_slivers']).toHaveLength(2);
  });

  it('provisions, with login and the users’ keys in a valid manifest', async () => {
    const r = await call('Provision', [SLICE], sliceCredDict, {
      geni_rspec_version: GENI3,
      geni_users: [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [alice.sshKey] }],
    });
    expect(r['output']).toBe('');
    const v = r['value'] as XmlRpcStruct;
    expect(
      (v['geni_slivers'] as XmlRpcStruct[]).every(
        (s) => s['geni_allocation_status'] === 'geni_provisioned',
      ),
    ).toBe(true);
    const manifest = v['geni_rspec'] as string;
    expect(manifest).toContain('username="inria_myslice"');
    expect(manifest).toContain(alice.sshKey.split(' ')[1]!);
    await expect(validateRspec(manifest, 'manifest')).resolves.toBeUndefined();
  });

  it('answers Status and Describe', async () => {
    const s = await call('Status', [SLICE], sliceCredDict, {});
    expect((s['value'] as XmlRpcStruct)['geni_urn']).toBe(SLICE);
    const d = await call('Describe', [SLICE], sliceCredDict, { geni_rspec_version: GENI3 });
    expect((d['value'] as XmlRpcStruct)['geni_slivers']).toHaveLength(2);
  });

  it('refuses an empty operational action with a non-zero code, and performs geni_stop', async () => {
    const empty = await call('PerformOperationalAction', sliverUrns, sliceCredDict, '', {});
    expect(code(empty)).not.toBe(0);
    const stop = await call('PerformOperationalAction', sliverUrns, sliceCredDict, 'geni_stop', {});
    expect((stop['value'] as XmlRpcStruct[]).map((s) => s['geni_operational_status'])).toEqual([
      'geni_notready',
      'geni_notready',
    ]);
  });

  it('renews within the credential, and refuses renewal past its expiry (OUTOFRANGE)', async () => {
    const ok = await call('Renew', [SLICE], sliceCredDict, '2026-12-01T00:00:00+00:00', {});
    expect((ok['value'] as XmlRpcStruct[])[0]!['geni_expires']).toBe('2026-12-01T00:00:00Z');
    const past = await call('Renew', [SLICE], sliceCredDict, '+3m', {});
    expect(code(past)).toBe(19);
  });

  it('deletes (geni_unallocated); the deleted URNs then answer SEARCHFAILED', async () => {
    const r = await call('Delete', sliverUrns, sliceCredDict, {});
    expect((r['value'] as XmlRpcStruct[]).map((s) => s['geni_allocation_status'])).toEqual([
      'geni_unallocated',
      'geni_unallocated',
    ]);
    expect(code(await call('Status', sliverUrns, sliceCredDict, {}))).toBe(12);
    const empty = await call('Describe', [SLICE], sliceCredDict, { geni_rspec_version: GENI3 });
    expect(code(empty)).toBe(0);
    expect((empty['value'] as XmlRpcStruct)['geni_rspec']).not.toContain('<node');
  });

  it('never reuses a sliver URN when the slice is recreated on a node', async () => {
    const r = await call(
      'Allocate',
      SLICE,
      sliceCredDict,
      request(boundNode('web', 'node1.inria.fr', 'inria')),
      {},
    );
    const urn = ((r['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[])[0]![
      'geni_sliver_urn'
    ] as string;
    expect(sliverUrns).not.toContain(urn);
    expect(await call('Shutdown', SLICE, sliceCredDict, {})).toMatchObject({
      value: true,
      output: '',
    });
  });
});
