/**
 * A real federation: `ple`, `plc`, `plj` and `elc` as separate processes on loopback, each with
 * its own root, registry, aggregate and nodes, peered through the operator commands. A `ple`
 * researcher works across all of them through `ple`'s slice manager.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { delegateCredential } from '../../src/credentials/delegate-credential.js';
import { Gid } from '../../src/credentials/gid.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { paths } from '../../src/config.js';
import { issueGid } from '../../src/credentials/gid.js';
import { generateKeyPair } from '../../src/credentials/keys.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import {
  bootstrapUser,
  client,
  makeAuthorityDir,
  newUser,
  type TestUser,
} from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { spawnAuthority, type ProcessAuthority } from '../support/process-authority.js';
import { tempRoot } from '../support/tmp.js';

const GENI3 = { type: 'GENI', version: '3' };
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const RELAY_TIMEOUT_MS = 2_000;

const tmp = tempRoot('four-authorities');
/** Every authority process started, stopped after the tests even if the others failed to start. */
const started: ProcessAuthority[] = [];
let ple: ProcessAuthority;
let plc: ProcessAuthority;
let plj: ProcessAuthority;
let elc: ProcessAuthority;
let hang: Server;
let hangUrl: string;
let alice: TestUser;
let carol: TestUser;
let sm: ReturnType<typeof client>;
let userCred: string;
let sliceCreds: XmlRpcStruct[];

const code = (r: XmlRpcValue) => ((r as XmlRpcStruct)['code'] as XmlRpcStruct)['geni_code'];
const stats = (r: XmlRpcValue) => (r as XmlRpcStruct)['sfa_ts_aggregates'] as XmlRpcStruct[];
const statusOf = (r: XmlRpcValue, hrn: string) => stats(r).filter((s) => s['hrn'] === hrn);

async function peerDir(hrn: string): Promise<string> {
  const dir = join(tmp.dir(hrn), 'data');
  await initAuthority({
    dir,
    authority: hrn,
    hostname: 'localhost',
    now: new Date(Date.now() - 60_000),
  });
  return dir;
}

function peerAdd(
  at: ProcessAuthority,
  peer:
    ProcessAuthority | { hrn: string; dir: string; urls: { registry: string; aggregate: string } },
  aggregates?: string[],
): void {
  const args = [
    'peer',
    'add',
    peer.hrn,
    '--registry',
    peer.urls.registry,
    '--root',
    paths.gid(peer.dir, peer.hrn),
    '--dir',
    at.dir,
  ];
  for (const a of aggregates ?? [peer.urls.aggregate]) args.push('--aggregate', a);
  const r = sfa(args);
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(async () => {
  // ple: the researcher's authority, with a short relay deadline.
  // Made a minute ago by the wall clock: these servers run on the real clock.
  const made = await makeAuthorityDir(new Date(Date.now() - 60_000), tmp.path);
  alice = made.alice;
  const config = JSON.parse(readFileSync(paths.config(made.dir), 'utf8')) as Record<
    string,
    unknown
  >;
  writeFileSync(
    paths.config(made.dir),
    JSON.stringify({ ...config, relayTimeoutMs: RELAY_TIMEOUT_MS }),
  );
  const plcDir = await peerDir('plc');
  carol = newUser('plc.carol');
  const reg = openRegistry(plcDir);
  await createRecord(
    reg.ctx,
    { hrn: carol.hrn, type: 'user', email: 'carol@princeton.edu', keys: [carol.sshKey] },
    new Date(),
  );
  await createRecord(
    reg.ctx,
    { hrn: 'plc.carolslice', type: 'slice', researchers: [carol.hrn] },
    new Date(),
  );
  reg.close();

  const spawn = async (hrn: string, dir: string) => {
    const p = await spawnAuthority(hrn, dir);
    started.push(p);
    return p;
  };
  [ple, plc, plj, elc] = await Promise.all([
    spawn('ple', made.dir),
    spawn('plc', plcDir),
    spawn('plj', await peerDir('plj')),
    spawn('elc', await peerDir('elc')),
  ]);

  // A peer aggregate that accepts connections and answers only after 10 s.
  const k = generateKeyPair();
  const cert = issueGid({
    hrn: 'hang',
    type: 'authority',
    subjectPublicKey: k.privateKeyPem,
    notBefore: new Date(Date.now() - 86_400_000),
  });
  hang = createServer({ key: k.privateKeyPem, cert: cert.pem }, (socket) => {
    const t = setTimeout(() => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), 10_000);
    socket.on('close', () => clearTimeout(t));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  hangUrl = `https://127.0.0.1:${(hang.address() as { port: number }).port}/`;
  const hangDir = tmp.dir('hang');
  writeFileSync(join(hangDir, 'hang.gid'), cert.pem);

  // Peering, by the operator commands: ple knows every peer, every peer knows ple.
  for (const p of [plc, plj, elc]) {
    peerAdd(ple, p);
    peerAdd(p, ple);
  }
  const r = sfa([
    'peer',
    'add',
    'hang',
    '--registry',
    'https://127.0.0.1:9/',
    '--aggregate',
    hangUrl,
    '--root',
    join(hangDir, 'hang.gid'),
    '--dir',
    ple.dir,
  ]);
  expect(r.status, r.stderr).toBe(0);

  const a = await bootstrapUser(ple.urls.registry, alice);
  userCred = a.cred;
  const sliceCred = (await a.registry(
    'GetCredential',
    a.cred,
    'ple.inria.myslice',
    'slice',
  )) as string;
  sliceCreds = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred }];
  sm = client(ple.urls.slicemgr, alice.keyPem, a.gid);
}, 120_000);

afterAll(async () => {
  await Promise.all(started.map((p) => p.stop()));
  hang?.close();
});

describe('a ple researcher across ple, plc, plj and elc', () => {
  it('lists the merged resources of all four; the hanging peer costs only its timeout', async () => {
    const started = Date.now();
    const r = await sm('ListResources', [userCred], { geni_rspec_version: GENI3, cached: false });
    const elapsed = Date.now() - started;
    expect((r as XmlRpcStruct)['output']).toBe('');
    const ad = (r as XmlRpcStruct)['value'] as string;
    for (const hrn of ['ple', 'plc', 'plj', 'elc']) {
      expect(ad).toContain(`component_id="urn:publicid:IDN+${hrn}:inria+node+node1.inria.fr"`);
      expect(statusOf(r, hrn)[0]).toMatchObject({ status: 'ok', geni_code: 0 });
    }
    expect(statusOf(r, 'hang')[0]).toMatchObject({ status: 'error', geni_code: 8 });
    expect(ad).toContain('<sfa-ts:aggregate_status urn="urn:publicid:IDN+hang+authority+am"');
    expect(elapsed).toBeLessThan(RELAY_TIMEOUT_MS + 3_000);
  });

  it('refuses a call that already passed through ple (relay loop)', async () => {
    const loop = await sm('ListResources', [userCred], {
      geni_rspec_version: GENI3,
      sfa_ts_relayed_by: ['plc', 'ple'],
    });
    expect(code(loop)).toBe(1);
    expect((loop as XmlRpcStruct)['output']).toContain('relay loop');
  });

  it('allocates and provisions slivers on plc and plj nodes in one call, seen in one manifest', async () => {
    const node = (hrn: string, host: string) =>
      `<node client_id="${hrn}-${host}" component_id="urn:publicid:IDN+${hrn}:inria+node+${host}" component_manager_id="urn:publicid:IDN+${hrn}+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node>`;
    const request = `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">${node('plc', 'node1.inria.fr')}${node('plj', 'node2.inria.fr')}</rspec>`;
    const r = await sm('Allocate', SLICE, sliceCreds, request, {});
    expect((r as XmlRpcStruct)['output']).toBe('');
    const v = (r as XmlRpcStruct)['value'] as XmlRpcStruct;
    const manifest = v['geni_rspec'] as string;
    expect(manifest).toContain('client_id="plc-node1.inria.fr"');
    expect(manifest).toContain('client_id="plj-node2.inria.fr"');
    const urns = (v['geni_slivers'] as XmlRpcStruct[]).map((s) => s['geni_sliver_urn'] as string);
    expect(urns.some((u) => u.startsWith('urn:publicid:IDN+plc+sliver+'))).toBe(true);
    expect(urns.some((u) => u.startsWith('urn:publicid:IDN+plj+sliver+'))).toBe(true);

    const p = await sm('Provision', [SLICE, ...urns], sliceCreds, { geni_rspec_version: GENI3 });
    expect((p as XmlRpcStruct)['output']).toBe('');
    const slivers = ((p as XmlRpcStruct)['value'] as XmlRpcStruct)[
      'geni_slivers'
    ] as XmlRpcStruct[];
    expect(slivers.map((s) => s['geni_allocation_status'])).toEqual([
      'geni_provisioned',
      'geni_provisioned',
    ]);
    expect(((p as XmlRpcStruct)['value'] as XmlRpcStruct)['geni_rspec']).toContain(
      'username="inria_myslice"',
    );
  });

  it('keeps Allocate all-or-nothing: one aggregate refusing undoes the others', async () => {
    const request = `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"><node client_id="ok" component_id="urn:publicid:IDN+plc:inria+node+node3.inria.fr" component_manager_id="urn:publicid:IDN+plc+authority+cm"><sliver_type name="plab-vserver"/></node><node client_id="nope" component_id="urn:publicid:IDN+plj:inria+node+no-such-node.inria.fr" component_manager_id="urn:publicid:IDN+plj+authority+cm"><sliver_type name="plab-vserver"/></node></rspec>`;
    const r = await sm('Allocate', SLICE, sliceCreds, request, {});
    expect(code(r)).not.toBe(0);
    expect((r as XmlRpcStruct)['output']).toContain('Allocate refused by plj');
    expect((r as XmlRpcStruct)['output']).toContain('released');
    const s = await sm('Status', [SLICE], sliceCreds, {});
    const slivers = ((s as XmlRpcStruct)['value'] as XmlRpcStruct)[
      'geni_slivers'
    ] as XmlRpcStruct[];
    expect(slivers).toHaveLength(2); // only the two provisioned before
  });

  it('reports a killed peer without stalling the others', async () => {
    await elc.stop();
    const started = Date.now();
    const r = await sm('ListResources', [userCred], { geni_rspec_version: GENI3, cached: false });
    expect(statusOf(r, 'elc')[0]).toMatchObject({ status: 'error', geni_code: 11 });
    expect(statusOf(r, 'plc')[0]).toMatchObject({ status: 'ok' });
    expect(Date.now() - started).toBeLessThan(RELAY_TIMEOUT_MS + 3_000);
  });

  it('stops relaying to plj at once when ple revokes it', async () => {
    expect(sfa(['peer', 'revoke', 'plj', '--dir', ple.dir]).status).toBe(0);
    const r = await sm('ListResources', [userCred], { geni_rspec_version: GENI3, cached: false });
    expect(statusOf(r, 'plj')).toEqual([]);
    expect((r as XmlRpcStruct)['value']).not.toContain('IDN+plj:');
  });

  it('relays a foreign slice only with a credential delegated to ple (sfi -d), and refuses without', async () => {
    const c = await bootstrapUser(plc.urls.registry, carol);
    const sliceCred = (await c.registry(
      'GetCredential',
      c.cred,
      'plc.carolslice',
      'slice',
    )) as string;
    const viaPle = client(ple.urls.slicemgr, carol.keyPem, c.gid);
    const slice = 'urn:publicid:IDN+plc+slice+carolslice';
    const request = `<rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"><node client_id="c1" component_id="urn:publicid:IDN+plc:upmc+node+node1.upmc.fr" component_manager_id="urn:publicid:IDN+plc+authority+cm"><sliver_type name="plab-vserver"/></node></rspec>`;
    const own = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred }];
    const refused = await viaPle('Allocate', slice, own, request, {});
    expect(code(refused)).toBe(3);
    expect((refused as XmlRpcStruct)['output']).toContain(
      'delegate your slice credential to urn:publicid:IDN+ple+authority+sa',
    );
    // carol delegates her slice credential to ple's authority, as `sfi -d` does.
    const pleGid = Gid.fromPem(readFileSync(paths.gid(ple.dir, 'ple'), 'utf8'));
    const delegated = delegateCredential(sliceCred, {
      to: pleGid,
      signerKey: createPrivateKey(carol.keyPem),
    });
    const r = await viaPle(
      'Allocate',
      slice,
      [...own, { geni_type: 'geni_sfa', geni_version: '3', geni_value: delegated }],
      request,
      {},
    );
    expect((r as XmlRpcStruct)['output']).toBe('');
    expect(((r as XmlRpcStruct)['value'] as XmlRpcStruct)['geni_rspec']).toContain(
      'client_id="c1"',
    );
  });

  it("keeps trusting plc's users across a root rotation with overlap, and not after it", async () => {
    const c = await bootstrapUser(plc.urls.registry, carol);
    const atPle = client(ple.urls.aggregate, carol.keyPem, c.gid);
    const list = () => atPle('ListResources', [c.cred], { geni_rspec_version: GENI3 });
    expect(code(await list())).toBe(0);
    // plc announces a new root; ple trusts both during the overlap.
    const k = generateKeyPair();
    const next = issueGid({
      hrn: 'plc',
      type: 'authority',
      subjectPublicKey: k.privateKeyPem,
      notBefore: new Date(Date.now() - 60_000),
    });
    const file = join(tmp.dir('rotate'), 'plc-next.gid');
    writeFileSync(file, next.pem);
    const rotated = sfa([
      'peer',
      'rotate',
      'plc',
      '--root',
      file,
      '--overlap',
      '4s',
      '--dir',
      ple.dir,
    ]);
    expect(rotated.status, rotated.stderr).toBe(0);
    expect(code(await list())).toBe(0);
    // Once the overlap is over, only the new root: carol's old chain is no longer trusted.
    await new Promise((r) => setTimeout(r, 4_500));
    const after = await list();
    expect(code(after)).toBe(23);
    void createPublicKey; // (keys made above are the test's own)
  });
});
