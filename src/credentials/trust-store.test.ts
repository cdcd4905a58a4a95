/**
 * TrustStore changing in place (what a live TrustSource does): the generation moves exactly
 * when the set of roots does, so a CredentialVerifier never serves a verdict of another set.
 */
import { describe, expect, it } from 'vitest';
import { CredentialSignerUntrusted } from '../faults.js';
import { TrustStore, verifyChain } from './chain.js';
import { issueGid, type Gid } from './gid.js';
import { generateKeyPair } from './keys.js';
import { NOW } from '../../test/support/paths.js';

const root = (hrn: string): { gid: Gid; key: string } => {
  const k = generateKeyPair();
  return {
    gid: issueGid({ hrn, type: 'authority', subjectPublicKey: k.privateKeyPem, notBefore: NOW }),
    key: k.privateKeyPem,
  };
};
const ple = root('ple');
const plc = root('plc');
const plcNext = root('plc');
const bob = issueGid({
  hrn: 'plc.bob',
  type: 'user',
  subjectPublicKey: generateKeyPair().publicKeyPem,
  issuerKey: plc.key,
  issuerGid: plc.gid,
  notBefore: NOW,
});

describe('TrustStore.replaceAll', () => {
  it('replaces the set in place and moves the generation once', () => {
    const trust = new TrustStore([ple.gid]);
    const g = trust.generation;
    expect(trust.replaceAll([ple.gid, plc.gid])).toBe(true);
    expect(trust.generation).toBe(g + 1);
    expect(trust.roots.map((r) => r.urn)).toEqual([
      'urn:publicid:IDN+ple+authority+sa',
      'urn:publicid:IDN+plc+authority+sa',
    ]);
    expect(verifyChain(bob, [], trust, NOW)).toHaveLength(2);
  });

  it('keeps the generation when the set is the same, whatever the order or duplicates', () => {
    const trust = new TrustStore([ple.gid, plc.gid]);
    const g = trust.generation;
    expect(trust.replaceAll([plc.gid, ple.gid, plc.gid])).toBe(false);
    expect(trust.generation).toBe(g);
  });

  it('trusts only the certificate itself, not a chain it carries', () => {
    const trust = new TrustStore();
    trust.replaceAll([bob]); // bob's GID text carries plc's root after it
    expect(trust.isTrusted(plc.gid)).toBe(false);
    expect(trust.roots[0]!.parent).toBeUndefined();
  });

  it('stops trusting a root that is left out', () => {
    const trust = new TrustStore([ple.gid, plc.gid]);
    trust.replaceAll([ple.gid, plcNext.gid]);
    expect(() => verifyChain(bob, [], trust, NOW)).toThrow(CredentialSignerUntrusted);
  });
});

describe('TrustStore.remove', () => {
  it('removes a root and moves the generation; removing an unknown one changes nothing', () => {
    const trust = new TrustStore([ple.gid, plc.gid]);
    const g = trust.generation;
    expect(trust.remove(plcNext.gid)).toBe(false);
    expect(trust.generation).toBe(g);
    expect(trust.remove(plc.gid)).toBe(true);
    expect(trust.generation).toBe(g + 1);
    expect(trust.size).toBe(1);
    expect(() => verifyChain(bob, [], trust, NOW)).toThrow(CredentialSignerUntrusted);
  });
});
