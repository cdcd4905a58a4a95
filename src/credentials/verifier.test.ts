import { createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialVerifier } from './verifier.js';
import { issueGid } from './gid.js';
import { generateKeyPair } from './keys.js';
import { NOW } from '../../test/support/paths.js';
import { pleTrust, reference, VECTORS } from '../../test/support/vectors.js';

describe('CredentialVerifier', () => {
  it('answers a credential verified before from its cache, with the same result', () => {
    const v = new CredentialVerifier(pleTrust());
    const xml = reference(VECTORS.bobDelegatedSliceCred);
    const first = v.verify(xml, NOW);
    expect(v.verify(xml, NOW)).toBe(first);
    expect(first.validUntil.toISOString()).toBe('2026-12-26T09:02:59.000Z');
  });

  it('never answers from the cache past the credential’s expiry', () => {
    const v = new CredentialVerifier(pleTrust());
    const xml = reference(VECTORS.aliceUserCred);
    v.verify(xml, NOW);
    expect(() => v.verify(xml, new Date('2026-12-27T00:00:00Z'))).toThrow(
      /expired at 2026-12-26T09:02:59Z/,
    );
  });

  it('verifies again when the trusted roots change', () => {
    const trust = pleTrust();
    const v = new CredentialVerifier(trust);
    const xml = reference(VECTORS.aliceUserCred);
    const first = v.verify(xml, NOW);
    const k = generateKeyPair();
    trust.add(
      issueGid({
        urn: 'urn:publicid:IDN+plc+authority+sa',
        subjectPublicKey: createPublicKey(k.publicKeyPem),
        issuerKey: k.privateKeyPem,
        notBefore: NOW,
      }),
    );
    const second = v.verify(xml, NOW);
    expect(second).not.toBe(first);
    expect(second.ownerUrn).toBe(first.ownerUrn);
  });

  it('does not cache a tampered copy under the original’s entry', () => {
    const v = new CredentialVerifier(pleTrust());
    const xml = reference(VECTORS.aliceUserCred);
    v.verify(xml, NOW);
    expect(() => v.verify(xml.replace('<name>info</name>', '<name>sa</name>'), NOW)).toThrow(
      /digest mismatch/,
    );
  });
});
