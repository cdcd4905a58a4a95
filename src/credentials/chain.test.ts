import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  BadArgs,
  CredentialExpired,
  CredentialSignerUntrusted,
  type GeniFault,
} from '../faults.js';
import { MAX_PATH_LENGTH, TrustStore, VerifiedCertCache, verifyChain } from './chain.js';
import { Gid, issueGid, type IssueGidOptions } from './gid.js';
import { generateKeyPair } from './keys.js';
import { NOW, SFA_REFERENCE } from '../../test/support/paths.js';
import { tempRoot } from '../../test/support/tmp.js';

const ref = (name: string): string => readFileSync(join(SFA_REFERENCE, name), 'utf8');
const refGid = (name: string): Gid => Gid.fromPem(ref(name));

const ple = refGid('ple.gid');
const inria = refGid('ple.inria.gid');
const alice = refGid('ple.inria.alice.user.gid');
const bob = refGid('ple.inria.bob.user.gid');
const myslice = refGid('ple.inria.myslice.slice.gid');
const pleTrust = (): TrustStore => new TrustStore([ple]);
const urns = (path: Gid[]): string[] => path.map((g) => g.urn);

function fault<T extends GeniFault>(
  cls: new (message: string) => T,
  code: number,
  fn: () => unknown,
): T {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    expect((e as T).geniCode).toBe(code);
    return e as T;
  }
  throw new Error(`expected ${cls.name}`);
}
const untrusted = (fn: () => unknown): CredentialSignerUntrusted =>
  fault(CredentialSignerUntrusted, 23, fn);
const expired = (fn: () => unknown): CredentialExpired => fault(CredentialExpired, 21, fn);

// A few keys, reused: what these tests check does not depend on distinct keys per name.
const keys = Array.from({ length: 4 }, () => generateKeyPair());
const k = (i: number) => keys[i]!;

type Opts = Partial<IssueGidOptions> & { hrn: string; type: string };
function selfSigned(hrn: string, key = k(0), extra: Partial<IssueGidOptions> = {}): Gid {
  return issueGid({
    hrn,
    type: 'authority',
    subjectPublicKey: key.privateKeyPem,
    notBefore: NOW,
    ...extra,
  });
}
function issue(issuer: Gid, issuerKey: { privateKeyPem: string }, opts: Opts, key = k(1)): Gid {
  return issueGid({
    subjectPublicKey: key.publicKeyPem,
    issuerKey: issuerKey.privateKeyPem,
    issuerGid: issuer,
    notBefore: NOW,
    ...opts,
  });
}
/** The same DER with one bit of the signature flipped (the signature is the last field). */
function tampered(g: Gid): Gid {
  const der = Buffer.from(g.der);
  der[der.length - 1]! ^= 0x01;
  return Gid.fromDer(der);
}

describe('verifyChain: the SFA reference GIDs', () => {
  it('chains alice, bob and the slice to ple.gid, the only root', () => {
    for (const g of [alice, bob, myslice]) {
      expect(urns(verifyChain(g, [], pleTrust(), NOW))).toEqual([
        g.urn,
        'urn:publicid:IDN+ple:inria+authority+sa',
        'urn:publicid:IDN+ple+authority+sa',
      ]);
    }
  });

  it('chains the authority ple.inria, and ple.gid to itself', () => {
    expect(urns(verifyChain(inria, [], pleTrust(), NOW))).toEqual([inria.urn, ple.urn]);
    expect(urns(verifyChain(ple, [], pleTrust(), NOW))).toEqual([ple.urn]);
  });

  it('builds the path from an unordered pool when the GID carries no chain', () => {
    const bare = alice.withParent(undefined);
    expect(urns(verifyChain(bare, [ple, bob, inria], pleTrust(), NOW))).toEqual([
      alice.urn,
      inria.urn,
      ple.urn,
    ]);
    expect(urns(verifyChain(bare, [inria], pleTrust(), NOW))).toEqual([
      alice.urn,
      inria.urn,
      ple.urn,
    ]);
    const e = untrusted(() => verifyChain(bare, [bob.withParent(undefined)], pleTrust(), NOW));
    expect(e.message).toBe(
      'the issuer of urn:publicid:IDN+ple:inria+user+alice (CN=ple.inria) is neither in the chain nor a trusted root',
    );
  });

  it('trusts only the first certificate of a root file, and scopes it to its HRN', () => {
    const store = new TrustStore([inria]); // ple.inria.gid carries ple.gid after it
    expect(store.roots.map((g) => g.urn)).toEqual([inria.urn]);
    expect(urns(verifyChain(alice, [], store, NOW))).toEqual([alice.urn, inria.urn]);
    const e = untrusted(() => verifyChain(ple, [], store, NOW));
    expect(e.message).toMatch(
      /^urn:publicid:IDN\+ple\+authority\+sa is self-signed and is not one of the 1 trusted roots$/,
    );
  });

  it('refuses the reference GIDs when ple is not a configured root', () => {
    const plc = selfSigned('plc');
    for (const g of [alice, inria]) {
      const e = untrusted(() => verifyChain(g, [], new TrustStore([plc]), NOW));
      // ple.gid sits in alice's chain, but a root in the pool is not a trusted root.
      expect(e.message).toContain(
        'urn:publicid:IDN+ple+authority+sa is self-signed and is not one of the 1 trusted roots',
      );
    }
    untrusted(() => verifyChain(alice, [], new TrustStore(), NOW));
  });

  it('refuses them outside their validity, naming the certificate', () => {
    const after = new Date('2031-11-25T00:00:00Z');
    expect(expired(() => verifyChain(alice, [], pleTrust(), after)).message).toBe(
      'certificate urn:publicid:IDN+ple:inria+user+alice expired at 2031-11-24T09:02:58Z',
    );
    const before = new Date('2026-11-25T09:00:00Z');
    expect(expired(() => verifyChain(myslice, [], pleTrust(), before)).message).toBe(
      'certificate urn:publicid:IDN+ple:inria+slice+myslice is not valid before 2026-11-25T09:02:59Z',
    );
  });

  it('refuses a tampered signature anywhere on the path', () => {
    const leaf = tampered(alice.withParent(undefined));
    expect(untrusted(() => verifyChain(leaf, [inria], pleTrust(), NOW)).message).toBe(
      'the signature on urn:publicid:IDN+ple:inria+user+alice does not verify with the key of urn:publicid:IDN+ple:inria+authority+sa',
    );
    const badInria = tampered(inria.withParent(undefined));
    expect(
      untrusted(() => verifyChain(alice.withParent(undefined), [badInria], pleTrust(), NOW))
        .message,
    ).toBe(
      'the signature on urn:publicid:IDN+ple:inria+authority+sa does not verify with the key of urn:publicid:IDN+ple+authority+sa',
    );
  });

  it('refuses a user GID configured as a root: roots are trusted as authorities only', () => {
    const e = untrusted(() => verifyChain(alice, [], new TrustStore([alice]), NOW));
    expect(e.message).toBe(
      'trusted root urn:publicid:IDN+ple:inria+user+alice is of type user, not an authority',
    );
  });
});

describe('verifyChain: GIDs we issue', () => {
  const root = selfSigned('plc', k(0));
  const sa = issue(root, k(0), { hrn: 'plc.princeton', type: 'authority' }, k(1));
  const user = issue(
    sa,
    k(1),
    { hrn: 'plc.princeton.alice', type: 'user', email: 'alice@princeton.edu' },
    k(2),
  );
  const slice = issue(sa, k(1), { hrn: 'plc.princeton.myslice', type: 'slice' }, k(3));
  const trust = new TrustStore([root]);

  it('verifies root, sub-authority, user and slice', () => {
    expect(urns(verifyChain(user, [], trust, NOW))).toEqual([user.urn, sa.urn, root.urn]);
    expect(urns(verifyChain(slice, [], trust, NOW))).toEqual([slice.urn, sa.urn, root.urn]);
    expect(urns(verifyChain(sa, [], trust, NOW))).toEqual([sa.urn, root.urn]);
  });

  it('refuses an unknown root', () => {
    const other = selfSigned('plc', k(3));
    const e = untrusted(() => verifyChain(user, [], new TrustStore([other]), NOW));
    expect(e.message).toBe(
      'urn:publicid:IDN+plc+authority+sa is self-signed and is not one of the 1 trusted roots',
    );
  });

  it('refuses a certificate whose issuer expired, naming the issuer', () => {
    const shortSa = issue(root, k(0), { hrn: 'plc.mit', type: 'authority', lifetimeDays: 1 }, k(1));
    const bobMit = issue(shortSa, k(1), { hrn: 'plc.mit.bob', type: 'user' }, k(2));
    expect(urns(verifyChain(bobMit, [], trust, NOW))).toHaveLength(3);
    const later = new Date(NOW.getTime() + 2 * 86_400_000);
    expect(expired(() => verifyChain(bobMit, [], trust, later)).message).toBe(
      'certificate urn:publicid:IDN+plc:mit+authority+sa expired at 2026-11-26T12:00:00Z',
    );
  });

  it('refuses an expired root', () => {
    const shortRoot = selfSigned('plc', k(0), { lifetimeDays: 1 });
    const sa2 = issue(shortRoot, k(0), { hrn: 'plc.mit', type: 'authority' }, k(1));
    const later = new Date(NOW.getTime() + 2 * 86_400_000);
    expect(expired(() => verifyChain(sa2, [], new TrustStore([shortRoot]), later)).message).toBe(
      'certificate urn:publicid:IDN+plc+authority+sa expired at 2026-11-26T12:00:00Z',
    );
  });

  it('refuses an issuer that is not a CA (a user certificate signing another)', () => {
    const forged = issue(user, k(2), { hrn: 'plc.princeton.alice.pc1', type: 'node' }, k(3));
    expect(untrusted(() => verifyChain(forged, [], trust, NOW)).message).toBe(
      'urn:publicid:IDN+plc:princeton+user+alice is not a CA (basicConstraints CA:FALSE) and cannot issue urn:publicid:IDN+plc:princeton:alice+node+pc1',
    );
  });

  it('refuses an issuer of type user even with CA:TRUE', () => {
    const caUser = issue(sa, k(1), { hrn: 'plc.princeton.carol', type: 'user', isCA: true }, k(2));
    const forged = issue(caUser, k(2), { hrn: 'plc.princeton.carol.s1', type: 'slice' }, k(3));
    expect(untrusted(() => verifyChain(forged, [], trust, NOW)).message).toBe(
      'urn:publicid:IDN+plc:princeton+user+carol is of type user, not an authority, and cannot issue urn:publicid:IDN+plc:princeton:carol+slice+s1',
    );
  });

  it('refuses a namespace violation: authority plc certifying ple.inria.x', () => {
    const x = issue(root, k(0), { hrn: 'ple.inria.x', type: 'user' }, k(2));
    expect(untrusted(() => verifyChain(x, [], trust, NOW)).message).toBe(
      'namespace violation: urn:publicid:IDN+plc+authority+sa may only certify names under plc, not urn:publicid:IDN+ple:inria+user+x',
    );
    // Also one level down, and for a look-alike prefix (plc.princeton is not plc.princetonx).
    const y = issue(sa, k(1), { hrn: 'plc.mit.eve', type: 'user' }, k(2));
    expect(untrusted(() => verifyChain(y, [], trust, NOW)).message).toMatch(
      /^namespace violation: .*plc:princeton\+authority\+sa/,
    );
    const z = issue(sa, k(1), { hrn: 'plc.princetonx.eve', type: 'user' }, k(2));
    expect(untrusted(() => verifyChain(z, [], trust, NOW)).message).toMatch(/^namespace violation/);
  });

  it('refuses a leaf whose chain carries a tampered signature', () => {
    const badSa = tampered(sa);
    const leaf = user.withParent(badSa.withParent(root));
    expect(untrusted(() => verifyChain(leaf, [], trust, NOW)).message).toBe(
      'the signature on urn:publicid:IDN+plc:princeton+authority+sa does not verify with the key of urn:publicid:IDN+plc+authority+sa',
    );
    // The genuine intermediate, offered beside the tampered one, is found.
    expect(urns(verifyChain(leaf, [sa], trust, NOW))).toEqual([user.urn, sa.urn, root.urn]);
  });

  it('terminates on issuer loops and bounds the path length', () => {
    // Two authorities named plc that certified each other, and a leaf under one of them.
    const a = selfSigned('plc', k(0));
    const b = selfSigned('plc', k(1));
    const aByB = issue(b, k(1), { hrn: 'plc', type: 'authority' }, k(0));
    const bByA = issue(a, k(0), { hrn: 'plc', type: 'authority' }, k(1));
    const leaf = issue(a, k(0), { hrn: 'plc.x', type: 'user' }, k(2)).withParent(undefined);
    untrusted(() =>
      verifyChain(leaf, [aByB, bByA], new TrustStore([selfSigned('plc', k(3))]), NOW),
    );

    let issuer = root;
    let hrn = 'plc';
    for (let i = 0; i < MAX_PATH_LENGTH; i++) {
      hrn += `.a${i}`;
      issuer = issue(issuer, k(i % 2), { hrn, type: 'authority' }, k((i + 1) % 2));
    }
    expect(issuer.chain()).toHaveLength(MAX_PATH_LENGTH + 1);
    expect(untrusted(() => verifyChain(issuer, [], trust, NOW)).message).toBe(
      `the chain of ${issuer.urn} is longer than ${MAX_PATH_LENGTH} certificates without reaching a trusted root`,
    );
    expect(verifyChain(issuer.parent!, [], trust, NOW)).toHaveLength(MAX_PATH_LENGTH);
  });
});

describe('verifyChain: bounds', () => {
  const many = Array.from({ length: 70 }, (_, i) => selfSigned(`r${i}`, k(0)));
  it('accepts many configured roots', () => {
    const store = new TrustStore([...many, ple]);
    expect(urns(verifyChain(alice, [], store, NOW))).toHaveLength(3);
  });
  it('gives up on a pool built to make the search explode', () => {
    // Twenty certificates for the same name and key: each could have issued each other.
    const clones = Array.from({ length: 20 }, () => selfSigned('plc', k(0)));
    const leaf = issue(clones[0]!, k(0), { hrn: 'plc.x', type: 'user' }, k(2)).withParent(
      undefined,
    );
    expect(
      untrusted(() => verifyChain(leaf, clones, new TrustStore([selfSigned('plc', k(1))]), NOW))
        .message,
    ).toBe('gave up building the chain of urn:publicid:IDN+plc+user+x after 64 candidate issuers');
  });
  it('refuses a flood of offered certificates', () => {
    expect(untrusted(() => verifyChain(alice, many, pleTrust(), NOW)).message).toBe(
      'too many certificates (72) offered to verify urn:publicid:IDN+ple:inria+user+alice; at most 64',
    );
  });
});

describe('verifyChain: root rotation (two roots share a subject name)', () => {
  it('tries every candidate: an SFA root without key identifiers, rotated', () => {
    const newPle = selfSigned('ple', k(2));
    expect(newPle.subjectDer.equals(ple.subjectDer)).toBe(true);
    const newInria = issue(newPle, k(2), { hrn: 'ple.inria', type: 'authority' }, k(3));
    for (const roots of [
      [newPle, ple],
      [ple, newPle],
    ]) {
      const both = new TrustStore(roots);
      // Issued by the old root (no AKI to tell them apart) and by the new one.
      expect(urns(verifyChain(alice, [], both, NOW))).toEqual([alice.urn, inria.urn, ple.urn]);
      const bare = alice.withParent(undefined);
      expect(
        verifyChain(bare, [inria.withParent(undefined)], both, NOW).at(-1)?.fingerprint256,
      ).toBe(ple.fingerprint256);
      const path = verifyChain(newInria, [], both, NOW);
      expect(path.at(-1)?.fingerprint256).toBe(newPle.fingerprint256);
    }
    // Only the new root configured: the old chain is refused.
    untrusted(() => verifyChain(alice, [], new TrustStore([newPle]), NOW));
  });

  it('verifies a leaf of the new root when both are configured (key identifiers present)', () => {
    const oldRoot = selfSigned('plc', k(0));
    const newRoot = selfSigned('plc', k(1));
    const leafNew = issue(newRoot, k(1), { hrn: 'plc.bob', type: 'user' }, k(2)).withParent(
      undefined,
    );
    const leafOld = issue(oldRoot, k(0), { hrn: 'plc.bob', type: 'user' }, k(2)).withParent(
      undefined,
    );
    const both = new TrustStore([oldRoot, newRoot]);
    expect(verifyChain(leafNew, [], both, NOW).at(-1)?.fingerprint256).toBe(newRoot.fingerprint256);
    expect(verifyChain(leafOld, [], both, NOW).at(-1)?.fingerprint256).toBe(oldRoot.fingerprint256);
    untrusted(() => verifyChain(leafNew, [], new TrustStore([oldRoot]), NOW));
  });
});

describe('VerifiedCertCache', () => {
  it('remembers verified signatures but still checks time every time', () => {
    const cache = new VerifiedCertCache();
    expect(verifyChain(alice, [], pleTrust(), NOW, cache)).toHaveLength(3);
    expect(cache.size).toBe(2);
    expect(cache.has(alice, inria.withParent(undefined))).toBe(true);
    expect(verifyChain(alice, [], pleTrust(), NOW, cache)).toHaveLength(3);
    expect(cache.size).toBe(2);
    expired(() => verifyChain(alice, [], pleTrust(), new Date('2032-01-01T00:00:00Z'), cache));
    // A tampered certificate is another DER: the cache does not vouch for it.
    untrusted(() =>
      verifyChain(tampered(alice.withParent(undefined)), [inria], pleTrust(), NOW, cache),
    );
  });

  it('stays within its bound', () => {
    const cache = new VerifiedCertCache(1);
    verifyChain(alice, [], pleTrust(), NOW, cache);
    expect(cache.size).toBe(1);
    expect(cache.has(inria, ple)).toBe(true);
    cache.clear();
    expect(cache.size).toBe(0);
  });
});

describe('TrustStore.fromFiles', () => {
  const tmp = tempRoot('trust-store');

  it('reads GID files and directories of *.gid, *.pem, *.cert', () => {
    const roots = join(tmp.path, 'roots');
    mkdirSync(roots);
    copyFileSync(join(SFA_REFERENCE, 'ple.gid'), join(roots, 'ple.gid'));
    writeFileSync(join(roots, 'plc.pem'), selfSigned('plc').pem);
    writeFileSync(join(roots, 'README'), 'not a root');
    const store = TrustStore.fromFiles([roots, join(SFA_REFERENCE, 'ple.inria.gid')]);
    expect(store.roots.map((g) => g.hrn)).toEqual(['plc', 'ple', 'ple.inria']);
    expect(urns(verifyChain(bob, [], store, NOW))).toHaveLength(2);
  });

  it('says which path is wrong', () => {
    const missing = join(tmp.path, 'nope.gid');
    expect(fault(BadArgs, 1, () => TrustStore.fromFiles([missing])).message).toBe(
      `trusted root '${missing}': no such file or directory`,
    );
    const junk = join(tmp.path, 'junk.pem');
    writeFileSync(junk, 'hello');
    expect(fault(BadArgs, 1, () => TrustStore.fromFiles([junk])).message).toMatch(
      /^trusted root file '.*junk\.pem' is not a GID: no PEM certificate found/,
    );
  });
});
