/**
 * Interoperability both ways: what we sign verifies in xmlsec1 and against the credential XSD;
 * what the Python SFA signed verifies here (verify-credential.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { delegateCredential } from './delegate-credential.js';
import { issueCredential } from './issue-credential.js';
import { validateCredentialSchema } from './schema.js';
import type { SignatureAlgorithm } from './signature.js';
import { verifyCredential } from './verify-credential.js';
import { NOW } from '../../test/support/paths.js';
import {
  pleTrust,
  reference,
  referenceGid,
  referenceKey,
  VECTORS,
} from '../../test/support/vectors.js';
import { xmlsec1Verify } from '../../test/support/xmlsec1.js';

const ple = referenceGid('ple.gid');
const inria = referenceGid('ple.inria.gid');
const alice = referenceGid('ple.inria.alice.user.gid');
const bob = referenceGid('ple.inria.bob.user.gid');
const slice = referenceGid('ple.inria.myslice.slice.gid');
const expires = new Date('2026-12-20T00:00:00Z');
const slicePrivileges = ['refresh', 'embed', 'bind', 'control', 'info'].map((name) => ({
  name,
  canDelegate: true,
}));

function sliceCredential(algorithm: SignatureAlgorithm): string {
  return issueCredential({
    owner: alice,
    target: slice,
    privileges: slicePrivileges,
    expires,
    signerKey: referenceKey('ple.inria.pkey'),
    signerGid: inria,
    algorithm,
  });
}

describe.each<SignatureAlgorithm>(['rsa-sha1', 'rsa-sha256'])(
  'credentials we sign with %s',
  (algorithm) => {
    it('verify in xmlsec1 with ple.gid as the trusted root', () => {
      const xml = sliceCredential(algorithm);
      const r = xmlsec1Verify(xml, 'Sig_ref0', [ple.certPem], NOW);
      expect(r.output).toContain('OK');
      expect(r.ok).toBe(true);
      // The oracle is not a rubber stamp: one changed privilege and xmlsec1 refuses it.
      const tampered = xmlsec1Verify(
        xml.replace('<name>bind</name>', '<name>bond</name>'),
        'Sig_ref0',
        [ple.certPem],
        NOW,
      );
      expect(tampered.ok).toBe(false);
    });

    it('verify here and validate against the credential XSD', async () => {
      const xml = sliceCredential(algorithm);
      const v = verifyCredential(xml, { trust: pleTrust(), now: NOW });
      expect(v.ownerUrn).toBe(alice.urn);
      expect(v.privileges.map((p) => p.name)).toEqual(slicePrivileges.map((p) => p.name));
      await expect(validateCredentialSchema(xml)).resolves.toBeUndefined();
    });

    it('delegate: the delegated credential verifies here and each signature in xmlsec1', async () => {
      const parent = sliceCredential(algorithm);
      const xml = delegateCredential(parent, {
        to: bob,
        signerKey: referenceKey('ple.inria.alice.pkey'),
        privileges: ['embed', 'control'],
        algorithm,
      });
      const v = verifyCredential(xml, { trust: pleTrust(), now: NOW });
      expect(v.ownerUrn).toBe(bob.urn);
      expect(v.privileges.map((p) => p.name)).toEqual(['embed', 'control']);
      expect(v.expires.toISOString()).toBe(expires.toISOString());
      for (const id of ['Sig_ref0', 'Sig_ref1']) {
        const r = xmlsec1Verify(xml, id, [ple.certPem], NOW);
        expect(r.ok, `${id}: ${r.output}`).toBe(true);
      }
      await expect(validateCredentialSchema(xml)).resolves.toBeUndefined();
    });
  },
);

describe('delegating a credential the Python SFA signed', () => {
  it("keeps SFA's signature valid (root attributes carried over) and verifies in xmlsec1", () => {
    const xml = delegateCredential(reference(VECTORS.aliceSliceCred), {
      to: bob,
      signerKey: referenceKey('ple.inria.alice.pkey'),
    });
    expect(xml).toContain('<parent><credential xml:id="ref0">');
    expect(xml).toContain('<credential xml:id="ref1">');
    const v = verifyCredential(xml, { trust: pleTrust(), now: NOW });
    expect(v.chain.map((c) => c.ownerUrn)).toEqual([bob.urn, alice.urn]);
    for (const id of ['Sig_ref0', 'Sig_ref1']) {
      expect(xmlsec1Verify(xml, id, [ple.certPem], NOW).ok, id).toBe(true);
    }
  });

  it('delegates a delegated credential again (ref2, three signatures)', () => {
    const xml = delegateCredential(reference(VECTORS.bobDelegatedSliceCred), {
      to: alice,
      signerKey: referenceKey('ple.inria.bob.pkey'),
      privileges: ['info'],
    });
    const v = verifyCredential(xml, { trust: pleTrust(), now: NOW });
    expect(v.chain).toHaveLength(3);
    expect(v.privileges).toEqual([{ name: 'info', canDelegate: true }]);
    expect(xmlsec1Verify(xml, 'Sig_ref2', [ple.certPem], NOW).ok).toBe(true);
  });

  it('refuses a key that is not the owner’s, and privileges the owner cannot delegate', () => {
    const parent = reference(VECTORS.aliceSliceCred);
    expect(() =>
      delegateCredential(parent, { to: bob, signerKey: referenceKey('ple.inria.bob.pkey') }),
    ).toThrow(/not the key of urn:publicid:IDN\+ple:inria\+user\+alice/);
    expect(() =>
      delegateCredential(parent, {
        to: bob,
        signerKey: referenceKey('ple.inria.alice.pkey'),
        privileges: ['sa'],
      }),
    ).toThrow(/privilege 'sa' cannot be delegated/);
    expect(() =>
      delegateCredential(parent, {
        to: bob,
        signerKey: referenceKey('ple.inria.alice.pkey'),
        expires: new Date('2027-06-01T00:00:00Z'),
      }),
    ).toThrow(/cannot outlive its parent/);
  });
});
