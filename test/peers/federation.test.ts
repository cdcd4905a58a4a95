/**
 * Two real authorities, `ple` and `plc`, made by `initAuthority` and served by `startAuthority`
 * on loopback in this process, federated with each other: forwarding of Resolve and List, the
 * namespace rule across authorities, rotation with an overlap, and revocation that takes
 * effect on the running server at once.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Gid } from '../../src/credentials/gid.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { NewPeer } from '../../src/peers/peer-store.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { client, selfSignedCert, type TestUser } from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';
import { createLoginToken } from '../../src/web/login-tokens.js';
import {
  authorityRoot,
  fault,
  makeAuthority,
  selfCredentialBy,
  serve,
  signedBy,
  type TestAuthority,
} from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
let clock = NOW;
const at = (ms: number) => new Date(NOW.getTime() + ms);

const tmp = tempRoot('peers-federation');
let ple: TestAuthority;
let plc: TestAuthority;
let pleServer: RunningAuthority;
let plcServer: RunningAuthority;
let pleUrl: string;
let plcUrl: string;

/** What an operator does with `sfa peer add`, through the same code, on its own connection. */
function addPeer(dir: string, peer: NewPeer, now: Date = NOW): void {
  const reg = openRegistry(dir, { now });
  try {
    reg.ctx.peerStore.add(peer, now, 'tester');
  } finally {
    reg.close();
  }
}

function withPeers<T>(dir: string, fn: (ctx: ReturnType<typeof openRegistry>['ctx']) => T): T {
  const reg = openRegistry(dir);
  try {
    return fn(reg.ctx);
  } finally {
    reg.close();
  }
}

/** sfi's bootstrap at `url`: self-signed cert → GetSelfCredential → Resolve → the user's GID. */
async function login(url: string, user: TestUser) {
  const sscert = selfSignedCert(user);
  const anon = client(url, user.keyPem, sscert);
  const cred = (await anon('GetSelfCredential', sscert, user.hrn, 'user')) as string;
  const records = (await anon('Resolve', user.hrn, cred)) as XmlRpcStruct[];
  const gid = records.find((r) => r['type'] === 'user')!['gid'] as string;
  return { cred, gid, call: client(url, user.keyPem, gid) };
}

let alice: Awaited<ReturnType<typeof login>>; // ple.inria.alice, at ple
let bob: Awaited<ReturnType<typeof login>>; // plc.princeton.bob, at plc

/** A TCP port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

beforeAll(async () => {
  ple = await makeAuthority(tmp.path, 'ple', 'inria', ['alice'], { peerTimeoutMs: 1000 });
  plc = await makeAuthority(tmp.path, 'plc', 'princeton', ['bob']);
  pleServer = await serve(ple.dir, () => clock);
  plcServer = await serve(plc.dir, () => clock);
  pleUrl = pleServer.urls.registry;
  plcUrl = plcServer.urls.registry;
  // Each adds the other, with the root its operator handed over.
  addPeer(ple.dir, {
    hrn: 'plc',
    registryUrl: plcUrl,
    aggregateUrls: ['https://127.0.0.1:12346/'],
    root: plc.root.gid,
  });
  addPeer(plc.dir, {
    hrn: 'ple',
    registryUrl: pleUrl,
    aggregateUrls: ['https://127.0.0.1:12346/'],
    root: ple.root.gid,
  });
  alice = await login(pleUrl, ple.users['alice']!);
  bob = await login(plcUrl, plc.users['bob']!);
});

afterAll(async () => {
  await pleServer?.close();
  await plcServer?.close();
});

describe('GetVersion', () => {
  it('lists the peers: {hrn: registry URL}', async () => {
    const v = (await client(pleUrl, undefined, undefined)('GetVersion')) as XmlRpcStruct;
    expect(v['peers']).toEqual({ plc: plcUrl });
  });
});

describe('forwarding to the peer that holds the name', () => {
  it("answers a ple researcher's Resolve of a plc name with plc's records, unchanged", async () => {
    const forwarded = (await alice.call(
      'Resolve',
      'plc.princeton.bob',
      alice.cred,
    )) as XmlRpcStruct[];
    const direct = (await bob.call('Resolve', 'plc.princeton.bob', bob.cred)) as XmlRpcStruct[];
    expect(forwarded).toEqual(direct);
    expect(forwarded.map((r) => [r['hrn'], r['type']])).toEqual([['plc.princeton.bob', 'user']]);
    const byUrn = await alice.call(
      'Resolve',
      'urn:publicid:IDN+plc:princeton+user+bob',
      alice.cred,
    );
    expect(byUrn).toEqual(direct);
    // The peer answered: contact and health recorded at the server's clock.
    expect(withPeers(ple.dir, (ctx) => ctx.peerStore.get('plc'))).toMatchObject({
      health: 'ok',
      lastContact: NOW,
    });
  });

  it('forwards List of a plc authority, and passes its answer back', async () => {
    const forwarded = await alice.call('List', 'plc.princeton', alice.cred);
    const direct = await bob.call('List', 'plc.princeton', bob.cred);
    expect(forwarded).toEqual(direct);
    expect((forwarded as XmlRpcStruct[]).map((r) => r['hrn'])).toEqual(['plc.princeton.bob']);
  });

  it('resolves a mix of local and peer names, a peer not holding some of them', async () => {
    const records = (await alice.call(
      'Resolve',
      ['ple.inria.alice', 'plc.princeton.bob', 'plc.princeton.nobody'],
      alice.cred,
    )) as XmlRpcStruct[];
    expect(records.map((r) => r['hrn'])).toEqual(['ple.inria.alice', 'plc.princeton.bob']);
  });

  it("passes a peer's fault back with its code, prefixed by the peer", async () => {
    expect(await fault(alice.call('Resolve', 'plc.nobody', alice.cred))).toEqual({
      faultCode: 12,
      faultString: ': Resolve: plc: Record not found: ["plc.nobody"]',
    });
    expect(await fault(alice.call('List', 'plc.nowhere', alice.cred))).toEqual({
      faultCode: 12,
      faultString:
        ': List: plc: Missing authority: plc.nowhere is not an authority of this registry',
    });
  });

  it("checks the caller's credential here before asking the peer anything", async () => {
    const f = await fault(alice.call('Resolve', 'plc.princeton.bob', 'not a credential'));
    expect(f.faultCode).toBe(20);
    expect(f.faultString).not.toContain('plc:');
  });

  it('Security: answers a call from another authority itself (no forwarding loops)', async () => {
    // What plc sends when it forwards to us: its own authority credential, its own TLS identity.
    const asPlc = client(pleUrl, plc.root.keyPem, plc.root.gid.pem);
    const cred = selfCredentialBy(plc.root, plc.root, at(DAY));
    expect(await fault(asPlc('Resolve', 'plc.princeton.bob', cred))).toEqual({
      faultCode: 12,
      faultString: ': Resolve: Record not found: ["plc.princeton.bob"]',
    });
    expect(await fault(asPlc('List', 'plc.princeton', cred))).toEqual({
      faultCode: 12,
      faultString: ': List: Missing authority: plc.princeton is not an authority of this registry',
    });
  });

  it('an unreachable peer: UNAVAILABLE, health recorded', async () => {
    const port = await closedPort();
    const url = `https://127.0.0.1:${port}/`;
    addPeer(ple.dir, {
      hrn: 'elc',
      registryUrl: url,
      aggregateUrls: [url],
      root: authorityRoot('elc').gid,
    });
    expect(await fault(alice.call('Resolve', 'elc.x', alice.cred))).toEqual({
      faultCode: 11,
      faultString: `: Resolve: the registry of peer elc (${url}) is unreachable: connection refused by 127.0.0.1:${port}`,
    });
    expect(withPeers(ple.dir, (ctx) => ctx.peerStore.get('elc'))).toMatchObject({
      health: `unreachable: connection refused by 127.0.0.1:${port}`,
      lastContact: null,
    });
  });

  it("a peer that never answers: TIMEDOUT after ple's peerTimeoutMs", async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}/`;
    try {
      addPeer(ple.dir, {
        hrn: 'vini',
        registryUrl: url,
        aggregateUrls: [url],
        root: authorityRoot('vini').gid,
      });
      const started = performance.now();
      expect(await fault(alice.call('Resolve', 'vini.x', alice.cred))).toEqual({
        faultCode: 8,
        faultString: `: Resolve: the registry of peer vini (${url}) did not answer Resolve within 1000 ms`,
      });
      expect(performance.now() - started).toBeLessThan(5000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });
});

describe("the web view's peers page (operators)", () => {
  it('shows plc: its registry, aggregate, root, the relays to it and the peering audit trail', async () => {
    // A slice manager call at ple is relayed to plc's aggregate too (unreachable here).
    const sm = client(pleServer.urls.slicemgr, ple.users['alice']!.keyPem, alice.gid);
    await sm('ListResources', [alice.cred], {
      geni_rspec_version: { type: 'GENI', version: '3' },
    }).catch(() => undefined);
    const { token } = createLoginToken(ple.dir, { now: clock });
    const web = pleServer.urls.web;
    const login = await fetch(`${web}login?token=${token}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const r = await fetch(`${web}api/peers`, { headers: { cookie } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as {
      peers: Record<string, unknown>[];
      audit: { action: string; peer: string }[];
    };
    const peer = body.peers.find((p) => p['hrn'] === 'plc')!;
    expect(peer).toMatchObject({
      registry_url: plcUrl,
      aggregate_url: 'https://127.0.0.1:12346/',
    });
    expect(peer['root_fingerprint']).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const relays = peer['relays'] as { count: number; success_rate: number; last_error: string };
    expect(relays.count).toBeGreaterThanOrEqual(1);
    expect(relays.success_rate).toBe(0);
    expect(relays.last_error).toBeTruthy();
    expect(body.audit.filter((a) => a.peer === 'plc').map((a) => a.action)).toContain('add');
  });
});

describe('Security: the namespace rule across authorities', () => {
  it("refuses a GID that plc's root signs for a ple name (CREDENTIAL_SIGNER_UNTRUSTED)", async () => {
    const mallory = signedBy(plc.root, 'ple.inria.mallory', 'user');
    const cred = selfCredentialBy(plc.root, mallory, at(DAY));
    const f = await fault(
      client(pleUrl, mallory.keyPem, mallory.gid.pem)('Resolve', 'ple.inria.alice', cred),
    );
    expect(f).toEqual({
      faultCode: 23,
      faultString:
        ': Resolve: the owner of credential ref0 (urn:publicid:IDN+ple:inria+user+mallory) is not trusted: ' +
        'namespace violation: urn:publicid:IDN+plc+authority+sa may only certify names under plc, not urn:publicid:IDN+ple:inria+user+mallory',
    });
  });
});

describe('rotation with an overlap, on the running server', () => {
  const pljOld = authorityRoot('plj');
  const pljNew = authorityRoot('plj');
  const ken = signedBy(pljOld, 'plj.kyoto.ken', 'user');
  const aki = signedBy(pljNew, 'plj.kyoto.aki', 'user');
  const callAs = (p: { gid: Gid; keyPem: string }, issuer: { gid: Gid; keyPem: string }) =>
    client(pleUrl, p.keyPem, p.gid.pem)(
      'Resolve',
      'ple.inria.alice',
      selfCredentialBy(issuer, p, at(3 * DAY)),
    );
  const accepted = async (p: Promise<unknown>) => {
    try {
      await p;
      return true;
    } catch (e) {
      if ((e as { faultCode?: number }).faultCode === 23) return false;
      throw e;
    }
  };

  afterAll(() => {
    clock = NOW;
  });

  it('trusts the old and the new root until the overlap ends, then only the new one', async () => {
    addPeer(ple.dir, {
      hrn: 'plj',
      registryUrl: 'https://plj.example:12345/',
      aggregateUrls: ['https://plj.example:12346/'],
      root: pljOld.gid,
    });
    expect([await accepted(callAs(ken, pljOld)), await accepted(callAs(aki, pljNew))]).toEqual([
      true,
      false,
    ]);

    withPeers(ple.dir, (ctx) => ctx.peerStore.rotate('plj', pljNew.gid, DAY, NOW, 'tester'));
    clock = at(HOUR);
    expect([await accepted(callAs(ken, pljOld)), await accepted(callAs(aki, pljNew))]).toEqual([
      true,
      true,
    ]);
    clock = at(DAY - 1000);
    expect(await accepted(callAs(ken, pljOld))).toBe(true);
    // Nothing written: only the server's clock passes the end of the overlap.
    clock = at(DAY);
    expect([await accepted(callAs(ken, pljOld)), await accepted(callAs(aki, pljNew))]).toEqual([
      false,
      true,
    ]);
  });
});

describe('revocation, on the running server', () => {
  it('a plc credential verifies at ple until `sfa peer revoke plc`, and not a moment after', async () => {
    clock = NOW;
    // bob's own credential, issued by plc's registry, used at ple's registry.
    const records = (await bob.call('Resolve', 'ple.inria.alice', bob.cred)) as XmlRpcStruct[];
    expect(records.map((r) => r['hrn'])).toEqual(['ple.inria.alice']);
    const atPle = client(pleUrl, plc.users['bob']!.keyPem, bob.gid);
    expect(await atPle('Resolve', 'ple.inria.alice', bob.cred)).toEqual(
      await alice.call('Resolve', 'ple.inria.alice', alice.cred),
    );

    const r = sfa(['peer', 'revoke', 'plc', '--dir', ple.dir], { env: { USER: 'opal' } });
    expect(r.stderr).toBe('');
    expect(r).toMatchObject({
      status: 0,
      stdout: `revoked peer plc: 1 root(s) no longer trusted\n  removed root: ${plc.root.gid.fingerprint256}\n`,
    });

    const f = await fault(atPle('Resolve', 'ple.inria.alice', bob.cred));
    expect(f.faultCode).toBe(23);
    expect(f.faultString).toMatch(
      /^: Resolve: the signer of credential ref0 \(urn:publicid:IDN\+plc:princeton\+authority\+sa\) is not trusted: urn:publicid:IDN\+plc\+authority\+sa is self-signed and is not one of the \d+ trusted roots$/,
    );
    // No longer a peer: plc names are not forwarded, GetVersion does not list it.
    expect(await fault(alice.call('Resolve', 'plc.princeton.bob', alice.cred))).toMatchObject({
      faultCode: 12,
    });
    const v = (await client(pleUrl, undefined, undefined)('GetVersion')) as XmlRpcStruct;
    expect(Object.keys(v['peers'] as XmlRpcStruct)).not.toContain('plc');
    // The audit trail outlives the peer.
    expect(
      withPeers(ple.dir, (ctx) => ctx.peerStore.audit('plc')).map((e) => [e.action, e.who]),
    ).toEqual([
      ['add', 'tester'],
      ['revoke', 'opal'],
    ]);
  });
});
