/**
 * The live trusted roots: a change committed by another connection (the `sfa peer` command) or
 * an overlap that ends is seen by the next refresh, and nothing cached under the old set of
 * roots is served afterwards.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CredentialSignerUntrusted } from '../faults.js';
import { TrustStore, verifyChain } from '../credentials/chain.js';
import { CredentialVerifier } from '../credentials/verifier.js';
import { RegistryStore } from '../store/registry-store.js';
import { NOW } from '../../test/support/paths.js';
import { tempRoot } from '../../test/support/tmp.js';
import {
  authorityRoot,
  selfCredentialBy,
  signedBy,
  type Principal,
} from '../../test/peers/support.js';
import { PeerStore } from './peer-store.js';
import { TrustSource } from './trust-source.js';

const HOUR = 3_600_000;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const ple = authorityRoot('ple');
const plc = authorityRoot('plc');
const plcNext = authorityRoot('plc');
const bob = signedBy(plc, 'plc.princeton.bob', 'user'); // under the old plc root
const dan = signedBy(plcNext, 'plc.princeton.dan', 'user'); // under the new one

const tmp = tempRoot('trust-source');
let file: string;
/** The server's side: its connection, its TrustSource. */
let server: { store: RegistryStore; peers: PeerStore; source: TrustSource };
/** The operator's side: another connection to the same file, as `sfa peer` opens. */
let operator: PeerStore;

/** Every connection a test opened, closed after it. */
const opened: RegistryStore[] = [];
function open(): RegistryStore {
  const store = RegistryStore.open(file);
  opened.push(store);
  return store;
}
afterEach(() => {
  for (const s of opened.splice(0)) if (s.db.open) s.close();
});

beforeEach(() => {
  file = join(tmp.dir('trust'), 'registry.db');
  const store = open();
  const peers = new PeerStore(store.db, 'ple');
  const source = new TrustSource({ trust: new TrustStore([ple.gid]), peers, now: NOW });
  server = { store, peers, source };
  operator = new PeerStore(open().db, 'ple');
});

const addPlc = (now = NOW) =>
  operator.add(
    {
      hrn: 'plc',
      registryUrl: 'https://plc/',
      aggregateUrls: ['https://plc:12346/'],
      root: plc.gid,
    },
    now,
    'op',
  );
const trusts = (p: Principal, now: Date) => {
  try {
    verifyChain(p.gid, [], server.source.trust, now);
    return true;
  } catch (e) {
    if (e instanceof CredentialSignerUntrusted) return false;
    throw e;
  }
};

describe('TrustSource', () => {
  it('starts with the local roots and the peers already on record', () => {
    addPlc();
    const source = new TrustSource({
      trust: new TrustStore([ple.gid]),
      peers: new PeerStore(open().db, 'ple'),
      now: NOW,
    });
    expect(source.trust.roots.map((g) => g.urn)).toEqual([ple.gid.urn, plc.gid.urn]);
    expect(source.localRoots.map((g) => g.urn)).toEqual([ple.gid.urn]);
  });

  it('sees a peer added by another connection on the next refresh, and only then', () => {
    const g = server.source.trust.generation;
    addPlc();
    expect(trusts(bob, NOW)).toBe(false);
    expect(server.source.refresh(NOW)).toBe(true);
    expect(server.source.trust.generation).toBe(g + 1);
    expect(trusts(bob, NOW)).toBe(true);
    expect(server.source.refresh(NOW)).toBe(false);
  });

  it('sees a change made through its own connection (data_version does not)', () => {
    server.peers.add(
      { hrn: 'plc', registryUrl: 'https://plc/', aggregateUrls: ['https://a/'], root: plc.gid },
      NOW,
      'op',
    );
    expect(server.source.refresh(NOW)).toBe(true);
    expect(trusts(bob, NOW)).toBe(true);
  });

  it('keeps the generation when another connection changes something else', () => {
    addPlc();
    server.source.refresh(NOW);
    const g = server.source.trust.generation;
    operator.recordContact('plc', NOW, 'ok', true);
    const other = open();
    other.insert({ hrn: 'ple', type: 'authority', gid: ple.gid.pem }, NOW);
    expect(server.source.refresh(NOW)).toBe(false);
    expect(server.source.trust.generation).toBe(g);
  });

  it('drops a revoked peer at once; the verifier does not answer from its cache', () => {
    addPlc();
    server.source.refresh(NOW);
    const verifier = new CredentialVerifier(server.source.trust);
    const cred = selfCredentialBy(plc, bob, at(24 * HOUR));
    expect(verifier.verify(cred, NOW).ownerUrn).toBe('urn:publicid:IDN+plc:princeton+user+bob');
    operator.revoke('plc', NOW, 'op');
    server.source.refresh(NOW);
    expect(() => verifier.verify(cred, NOW)).toThrow(CredentialSignerUntrusted);
    expect(() => verifier.verify(cred, NOW)).toThrow(
      /self-signed and is not one of the 1 trusted roots/,
    );
  });

  it('rotation with an overlap: both roots until the overlap ends, then only the new one', () => {
    addPlc();
    operator.rotate('plc', plcNext.gid, 24 * HOUR, NOW, 'op');
    server.source.refresh(NOW);
    expect([trusts(bob, NOW), trusts(dan, NOW)]).toEqual([true, true]);

    const g = server.source.trust.generation;
    // Nothing committed: only the clock moves past the end of the overlap.
    expect(server.source.refresh(at(24 * HOUR - 1000))).toBe(false);
    expect(trusts(bob, at(24 * HOUR - 1000))).toBe(true);
    expect(server.source.refresh(at(24 * HOUR))).toBe(true);
    expect(server.source.trust.generation).toBe(g + 1);
    expect([trusts(bob, at(24 * HOUR)), trusts(dan, at(24 * HOUR))]).toEqual([false, true]);

    // A clock set back brings the old root back: trust is a function of (database, now).
    expect(server.source.refresh(at(HOUR))).toBe(true);
    expect(trusts(bob, at(HOUR))).toBe(true);
  });

  it('rotation without an overlap drops the old root at once', () => {
    addPlc();
    server.source.refresh(NOW);
    operator.rotate('plc', plcNext.gid, undefined, NOW, 'op');
    server.source.refresh(NOW);
    expect([trusts(bob, NOW), trusts(dan, NOW)]).toEqual([false, true]);
  });

  it('does not rebuild when nothing changed (the per-call check is only a version read)', () => {
    addPlc();
    expect(server.source.refresh(NOW)).toBe(true);
    const generation = server.source.trust.generation;
    for (let i = 0; i < 1_000; i++) expect(server.source.refresh(NOW)).toBe(false);
    expect(server.source.trust.generation).toBe(generation);
  });
});

describe('Security: the namespace rule across authorities', () => {
  it("refuses a GID and a credential that plc's root signs for a ple name", () => {
    addPlc();
    server.source.refresh(NOW);
    const mallory = signedBy(plc, 'ple.inria.mallory', 'user');
    expect(() => verifyChain(mallory.gid, [], server.source.trust, NOW)).toThrow(
      'namespace violation: urn:publicid:IDN+plc+authority+sa may only certify names under plc, not urn:publicid:IDN+ple:inria+user+mallory',
    );
    const verifier = new CredentialVerifier(server.source.trust);
    const cred = selfCredentialBy(plc, mallory, at(HOUR));
    let code: number | undefined;
    try {
      verifier.verify(cred, NOW);
    } catch (e) {
      code = (e as CredentialSignerUntrusted).geniCode;
    }
    expect(code).toBe(23);
  });
});
