/**
 * The slice manager as `sfi` 4.0.3 uses it, over real HTTPS on loopback: two federated
 * authorities, `ple` (the researcher's, whose slice manager is called) and `plc`, each serving
 * its registry and aggregate from real SQLite files, on the fixed clock NOW.
 *
 * - `sfi delete|provision|action|renew|status|describe SLICE SLIVER_URN…` sends the sliver URNs
 *   alone: each goes to the aggregate that issued it, under the caller's slice credential.
 * - `sfi trusted` calls get_trusted_certs; GetVersion says which methods are answered.
 * - A relayed refusal names its aggregate once.
 */
import { join } from 'node:path';
import { V3_METHODS } from '../../src/aggregate/api.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { Gid } from '../../src/credentials/gid.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import { bootstrapUser, client, newUser, type TestUser } from '../support/authority.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const DAY = 86_400_000;
/** When the authorities were made: a day before the servers' clock. */
const T0 = new Date(NOW.getTime() - DAY);
const GENI3 = { type: 'GENI', version: '3' };
const MYSLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const OTHER = 'urn:publicid:IDN+ple:inria+slice+other';
/** The sliver calls sfi makes with sliver URNs alone, with what follows the credentials. */
const SLIVER_CALLS: [method: string, extra: XmlRpcValue[]][] = [
  ['Delete', [{}]],
  ['Provision', [{ geni_rspec_version: GENI3 }]],
  ['PerformOperationalAction', ['geni_start', {}]],
  ['Renew', ['2026-11-28T12:00:00Z', {}]],
  ['Status', [{}]],
  ['Describe', [{ geni_rspec_version: GENI3 }]],
];

/** This file's own folder, removed after its tests (after the servers are closed). */
const tmp = tempRoot('slice-manager-sfi');
let root: string;
let ple: RunningAuthority;
let plc: RunningAuthority;
let alice: TestUser;
let sm: ReturnType<typeof client>;
let pleAm: ReturnType<typeof client>;
let userCred: string;
let authorityCred: string;
let mine: XmlRpcStruct[];
let others: XmlRpcStruct[];
/** MYSLICE's slivers on node1 and node2 of each aggregate, OTHER's on node3. */
const my = { ple1: '', ple2: '', plc1: '', plc2: '' };
const other = { ple: '', plc: '' };

const geni = (xml: string): XmlRpcStruct => ({
  geni_type: 'geni_sfa',
  geni_version: '3',
  geni_value: xml,
});
const code = (r: XmlRpcStruct) => (r['code'] as XmlRpcStruct)['geni_code'];
const value = (r: XmlRpcStruct) => r['value'] as XmlRpcStruct;
const stats = (r: XmlRpcStruct) => r['sfa_ts_aggregates'] as XmlRpcStruct[];
const askedHrns = (r: XmlRpcStruct) => stats(r).map((s) => s['hrn']);
const sliverUrns = (list: XmlRpcValue) =>
  (list as XmlRpcStruct[]).map((s) => s['geni_sliver_urn'] as string).sort();

async function call(method: string, ...params: XmlRpcValue[]): Promise<XmlRpcStruct> {
  return (await sm(method, ...params)) as XmlRpcStruct;
}

/** `hrn`, made at T0 in `root/hrn` by `sfa init` (demo inventory), with site `hrn.inria`. */
async function makeAuthority(hrn: string): Promise<string> {
  const dir = join(root, hrn);
  await initAuthority({ dir, authority: hrn, hostname: 'localhost', now: T0 });
  const reg = openRegistry(dir, { now: T0 });
  try {
    await createRecord(reg.ctx, { hrn: `${hrn}.inria`, type: 'authority', name: 'INRIA' }, T0);
  } finally {
    reg.close();
  }
  return dir;
}

function serve(dir: string): Promise<RunningAuthority> {
  return startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
    log: () => {},
    clock: () => NOW,
  });
}

/** `sfa peer add`, through the same code: `at` trusts `peer`'s root and relays to its aggregate. */
function addPeer(atDir: string, peerDir: string, peer: RunningAuthority): void {
  const reg = openRegistry(atDir, { now: NOW });
  try {
    const peerReg = openRegistry(peerDir, { now: NOW });
    let rootGid: Gid;
    try {
      rootGid = peerReg.ctx.keys.get(peer.authority).gid;
    } finally {
      peerReg.close();
    }
    reg.ctx.peerStore.add(
      {
        hrn: peer.authority,
        registryUrl: peer.urls.registry,
        aggregateUrls: [peer.urls.aggregate],
        root: rootGid,
      },
      NOW,
      'tester',
    );
  } finally {
    reg.close();
  }
}

const node = (hrn: string, host: string, extra = '') =>
  `<node client_id="${hrn}-${host}" component_id="urn:publicid:IDN+${hrn}:inria+node+${host}" component_manager_id="urn:publicid:IDN+${hrn}+authority+cm"${extra}><sliver_type name="plab-vserver"/></node>`;
const request = (...nodes: string[]) =>
  `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">${nodes.join('')}</rspec>`;

/** Allocate one sliver of `slice` on `hrn`'s `host` through the slice manager: its URN. */
async function allocateOne(
  slice: string,
  creds: XmlRpcStruct[],
  hrn: string,
  host: string,
): Promise<string> {
  const r = await call('Allocate', slice, creds, request(node(hrn, host)), {});
  expect(r['output']).toBe('');
  const [urn] = sliverUrns(value(r)['geni_slivers']!);
  expect(urn).toMatch(new RegExp(`^urn:publicid:IDN\\+${hrn}\\+sliver\\+\\d+$`));
  return urn!;
}

beforeAll(async () => {
  root = tmp.dir('federation');
  const pleDir = await makeAuthority('ple');
  const plcDir = await makeAuthority('plc');
  alice = newUser('ple.inria.alice');
  const reg = openRegistry(pleDir, { now: T0 });
  try {
    const { ctx } = reg;
    await createRecord(
      ctx,
      { hrn: alice.hrn, type: 'user', email: 'alice@inria.fr', keys: [alice.sshKey] },
      T0,
    );
    ctx.store.setPis(ctx.store.get('ple.inria', 'authority')!.id, [
      ctx.store.get(alice.hrn, 'user')!.id,
    ]);
    for (const name of ['myslice', 'other']) {
      await createRecord(
        ctx,
        { hrn: `ple.inria.${name}`, type: 'slice', researchers: [alice.hrn] },
        T0,
      );
    }
  } finally {
    reg.close();
  }
  [ple, plc] = await Promise.all([serve(pleDir), serve(plcDir)]);
  addPeer(pleDir, plcDir, plc);
  addPeer(plcDir, pleDir, ple);

  const a = await bootstrapUser(ple.urls.registry, alice);
  userCred = a.cred;
  authorityCred = (await a.registry('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
  const sliceCred = async (name: string) =>
    geni((await a.registry('GetCredential', a.cred, `ple.inria.${name}`, 'slice')) as string);
  mine = [await sliceCred('myslice')];
  others = [await sliceCred('other')];
  sm = client(ple.urls.slicemgr, alice.keyPem, a.gid);
  pleAm = client(ple.urls.aggregate, alice.keyPem, a.gid);

  for (const hrn of ['ple', 'plc'] as const) {
    my[`${hrn}1`] = await allocateOne(MYSLICE, mine, hrn, 'node1.inria.fr');
    my[`${hrn}2`] = await allocateOne(MYSLICE, mine, hrn, 'node2.inria.fr');
    other[hrn] = await allocateOne(OTHER, others, hrn, 'node3.inria.fr');
  }
}, 60_000);

afterAll(async () => {
  await Promise.all([ple?.close(), plc?.close()]);
});

describe('sliver URNs alone (sfi status|describe|provision|action|renew|delete SLICE SLIVER_URN)', () => {
  it('Status: answers for the slivers named, each asked of the aggregate that issued it', async () => {
    const r = await call('Status', [my.ple1, my.plc2], mine, {});
    expect(r['output']).toBe('');
    expect(value(r)['geni_urn']).toBe(MYSLICE);
    expect(sliverUrns(value(r)['geni_slivers']!)).toEqual([my.ple1, my.plc2].sort());
    expect(askedHrns(r)).toEqual(['ple', 'plc']);
    const one = await call('Status', [my.plc1], mine, {});
    expect(one['output']).toBe('');
    expect(sliverUrns(value(one)['geni_slivers']!)).toEqual([my.plc1]);
    expect(askedHrns(one)).toEqual(['plc']);
  });

  it('Describe: one manifest of the slivers named, from both aggregates', async () => {
    const r = await call('Describe', [my.ple2, my.plc1], mine, { geni_rspec_version: GENI3 });
    expect(r['output']).toBe('');
    expect(value(r)['geni_urn']).toBe(MYSLICE);
    expect(sliverUrns(value(r)['geni_slivers']!)).toEqual([my.ple2, my.plc1].sort());
    const manifest = value(r)['geni_rspec'] as string;
    expect(manifest).toContain(`sliver_id="${my.ple2}"`);
    expect(manifest).toContain(`sliver_id="${my.plc1}"`);
    expect(manifest).not.toContain(`sliver_id="${my.ple1}"`);
    expect(manifest).not.toContain(`sliver_id="${my.plc2}"`);
    expect(askedHrns(r)).toEqual(['ple', 'plc']);
  });

  it('Provision: provisions the slivers named at their aggregates, and only those', async () => {
    const r = await call('Provision', [my.ple1, my.plc1], mine, { geni_rspec_version: GENI3 });
    expect(r['output']).toBe('');
    expect(sliverUrns(value(r)['geni_slivers']!)).toEqual([my.ple1, my.plc1].sort());
    expect(askedHrns(r)).toEqual(['ple', 'plc']);
    const state = (at: RunningAuthority, urn: string) =>
      at.engine.status([urn], NOW).slivers[0]!.allocationState;
    expect(state(ple, my.ple1)).toBe('geni_provisioned');
    expect(state(plc, my.plc1)).toBe('geni_provisioned');
    expect(state(ple, my.ple2)).toBe('geni_allocated');
    expect(state(plc, my.plc2)).toBe('geni_allocated');
  });

  it('PerformOperationalAction: acts on the slivers named at their aggregates', async () => {
    const r = await call('PerformOperationalAction', [my.plc1, my.ple1], mine, 'geni_start', {});
    expect(r['output']).toBe('');
    const out = r['value'] as XmlRpcStruct[];
    expect(sliverUrns(out)).toEqual([my.ple1, my.plc1].sort());
    expect(askedHrns(r)).toEqual(['ple', 'plc']);
    const op = (at: RunningAuthority, urn: string) =>
      at.engine.status([urn], NOW).slivers[0]!.operationalState;
    for (const s of out) {
      const urn = s['geni_sliver_urn'] as string;
      expect(s['geni_operational_status']).toBe(op(urn === my.ple1 ? ple : plc, urn));
    }
    expect(op(ple, my.ple1)).not.toBe(op(ple, my.ple2));
  });

  it('Renew: renews the slivers named at their aggregates, and only those', async () => {
    const before = plc.engine.status([my.plc2], NOW).slivers[0]!.expires;
    const r = await call('Renew', [my.ple1, my.plc1], mine, '2026-11-28T12:00:00Z', {});
    expect(r['output']).toBe('');
    const out = r['value'] as XmlRpcStruct[];
    expect(sliverUrns(out)).toEqual([my.ple1, my.plc1].sort());
    expect(out.map((s) => s['geni_expires'])).toEqual([
      '2026-11-28T12:00:00Z',
      '2026-11-28T12:00:00Z',
    ]);
    expect(ple.engine.status([my.ple1], NOW).slivers[0]!.expires).toEqual(
      new Date('2026-11-28T12:00:00Z'),
    );
    expect(plc.engine.status([my.plc2], NOW).slivers[0]!.expires).toEqual(before);
  });

  it('Delete: deletes the slivers named at their aggregates; the slice keeps the others', async () => {
    const r = await call('Delete', [my.ple2, my.plc2], mine, {});
    expect(r['output']).toBe('');
    const out = r['value'] as XmlRpcStruct[];
    expect(sliverUrns(out)).toEqual([my.ple2, my.plc2].sort());
    expect(out.map((s) => s['geni_allocation_status'])).toEqual([
      'geni_unallocated',
      'geni_unallocated',
    ]);
    expect(askedHrns(r)).toEqual(['ple', 'plc']);
    expect(() => ple.engine.status([my.ple2], NOW)).toThrow(/no sliver/);
    expect(() => plc.engine.status([my.plc2], NOW)).toThrow(/no sliver/);
    // The slice URN still reaches every aggregate, as before.
    const s = await call('Status', [MYSLICE], mine, {});
    expect(s['output']).toBe('');
    expect(sliverUrns(value(s)['geni_slivers']!)).toEqual([my.ple1, my.plc1].sort());
    expect(askedHrns(s)).toEqual(['ple', 'plc']);
  });

  it('relays the aggregate’s SEARCHFAILED for a sliver it does not have', async () => {
    const gone = 'urn:publicid:IDN+plc+sliver+999';
    const r = await call('Status', [gone], mine, {});
    expect(code(r)).toBe(12);
    expect(r['output']).toBe(
      `plc: no sliver ${gone} at this aggregate: it was deleted, it expired, or it never existed`,
    );
  });
});

describe('Security: a sliver of another slice under this slice’s credential', () => {
  it.each(
    SLIVER_CALLS.flatMap(([m, extra]) => (['ple', 'plc'] as const).map((h) => [m, h, extra])),
  )(
    '%s of a sliver of another slice at %s: refused by that aggregate (CREDENTIAL_MISMATCH relayed)',
    async (method, hrn, extra) => {
      const at = hrn === 'ple' ? ple : plc;
      const sliver = other[hrn as 'ple' | 'plc'];
      const r = await call(method as string, [sliver], mine, ...(extra as XmlRpcValue[]));
      expect(code(r)).toBe(22);
      expect(r['output']).toBe(`${hrn}: the credential is for ${MYSLICE}, not for slice ${OTHER}`);
      expect(askedHrns(r)).toEqual([hrn]);
      // Nothing happened to it.
      expect(at.engine.status([sliver], NOW).slivers[0]!.allocationState).toBe('geni_allocated');
    },
  );

  it('asks for one slice per call when the credentials are for two slices (BADARGS)', async () => {
    const r = await call('Delete', [my.ple1], [...mine, ...others], {});
    expect(code(r)).toBe(1);
    expect(r['output']).toBe(
      `Delete: the URNs name only slivers, and the credentials are for 2 slices (${MYSLICE}, ${OTHER}): give the credential of one slice per call, or name the slice among the URNs`,
    );
    expect(ple.engine.status([my.ple1], NOW).slivers).toHaveLength(1);
  });

  it('wants a slice credential, not a user credential (CREDENTIAL_MISMATCH)', async () => {
    const r = await call('Status', [my.ple1], [userCred], {});
    expect(code(r)).toBe(22);
    expect(r['output']).toContain('no credential given is a slice credential');
  });
});

describe('sliver URNs of an authority the slice manager does not know', () => {
  const unknown = 'urn:publicid:IDN+nowhere+sliver+7';
  it.each(SLIVER_CALLS)('%s: SEARCHFAILED naming the sliver, nothing relayed', async (m, extra) => {
    const r = await call(m, [my.ple1, unknown], mine, ...extra);
    expect(code(r)).toBe(12);
    expect(r['output']).toBe(
      `${m}: no aggregate of authority nowhere is known to this slice manager, so sliver ${unknown} cannot be reached: check the URN, or ask the operator to add that authority as a peer`,
    );
    expect(r['sfa_ts_aggregates']).toBeUndefined();
    expect(ple.engine.status([my.ple1], NOW).slivers[0]!.allocationState).toBe('geni_provisioned');
  });
});

describe('get_trusted_certs (sfi trusted)', () => {
  it('without a credential: this interface’s GID, as the aggregate answers', async () => {
    const r = await call('get_trusted_certs');
    expect(code(r)).toBe(0);
    const certs = r['value'] as string[];
    expect(certs.map((c) => Gid.fromPem(c).urn)).toEqual(['urn:publicid:IDN+ple+authority+sa']);
    expect(certs).toEqual(((await pleAm('get_trusted_certs')) as XmlRpcStruct)['value']);
  });

  it('with a credential allowing gettrustedcerts: every trusted root, ple’s and its peer plc’s', async () => {
    const r = await call('get_trusted_certs', authorityCred);
    expect(code(r)).toBe(0);
    const certs = r['value'] as string[];
    expect(certs.map((c) => Gid.fromPem(c).urn).sort()).toEqual([
      'urn:publicid:IDN+plc+authority+sa',
      'urn:publicid:IDN+ple+authority+sa',
    ]);
    expect(certs).toEqual(
      ((await pleAm('get_trusted_certs', authorityCred)) as XmlRpcStruct)['value'],
    );
  });

  it('with a credential that does not allow it: FORBIDDEN, as at the aggregate', async () => {
    const r = await call('get_trusted_certs', userCred);
    expect(code(r)).toBe(3);
    expect(r['output']).toBe(
      ((await pleAm('get_trusted_certs', userCred)) as XmlRpcStruct)['output'],
    );
  });
});

describe('GetVersion', () => {
  it('lists the methods answered: the aggregate’s AM API v3 methods, every other field kept', async () => {
    const r = await call('GetVersion');
    expect(code(r)).toBe(0);
    expect(value(r)).toMatchObject({
      geni_api: 3,
      geni_allocate: 'geni_many',
      interface: 'slicemgr',
      hrn: 'ple',
      urn: 'urn:publicid:IDN+ple+authority+sm',
      peers: { plc: plc.urls.aggregate },
      sfa_ts_methods: V3_METHODS,
    });
    // The aggregate and the slice manager answer each of them (BADARGS without arguments, never
    // UNSUPPORTED), and neither answers a method that is not among them.
    for (const m of [...V3_METHODS, 'CreateSliver']) {
      const atAm = code((await pleAm(m)) as XmlRpcStruct);
      const atSm = code(await call(m));
      expect([m, atAm === 13, atSm === 13]).toEqual([
        m,
        m === 'CreateSliver',
        m === 'CreateSliver',
      ]);
    }
  });
});

describe('relayed refusals', () => {
  it('names the refusing aggregate once: "Allocate refused by ple: node … is held …"', async () => {
    const held = await allocateOne(OTHER, others, 'ple', 'node4.inria.fr');
    const r = await call(
      'Allocate',
      MYSLICE,
      mine,
      request(node('plc', 'node3.inria.fr'), node('ple', 'node4.inria.fr')),
      {},
    );
    expect(code(r)).not.toBe(0);
    const output = r['output'] as string;
    expect(output).toMatch(
      /^Allocate refused by ple: node node4\.inria\.fr is held exclusively by slice urn:publicid:IDN\+ple:inria\+slice\+other until /,
    );
    expect(output).toMatch(/ \(what plc granted was released\)$/);
    expect(output.match(/refused by|ple: |Allocate/g)).toEqual(['Allocate', 'refused by', 'ple: ']);
    const refusal = stats(r).find((s) => s['hrn'] === 'ple')!;
    expect(output).toContain(refusal['message'] as string);
    expect(refusal['message']).toMatch(/^ple: node node4\.inria\.fr is held/);
    expect(ple.engine.status([held], NOW).slivers).toHaveLength(1);
    // All or nothing: what plc granted in this call was released again.
    expect(plc.engine.status([MYSLICE], NOW).slivers.map((s) => s.urn)).toEqual([my.plc1]);
  });
});
