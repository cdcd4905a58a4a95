/**
 * Each hostile or broken credential is a fixture file named for its scenario
 * (test/fixtures/credentials, made by make-fixtures.ts); each test asserts the exact fault.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyCredential } from './verify-credential.js';
import { FIXTURES, NOW } from '../../test/support/paths.js';
import { pleTrust } from '../../test/support/vectors.js';

function fixture(name: string): string {
  return readFileSync(join(FIXTURES, 'credentials', name), 'utf8');
}

function expectFault(name: string, fault: string, code: number, message: RegExp): void {
  let caught: { fault?: string; geniCode?: number; message?: string } | undefined;
  try {
    verifyCredential(fixture(name), { trust: pleTrust(), now: NOW });
  } catch (e) {
    caught = e as typeof caught;
  }
  expect(caught, `${name} should be refused`).toBeDefined();
  expect({ fault: caught!.fault, code: caught!.geniCode }).toEqual({ fault, code });
  expect(caught!.message).toMatch(message);
}

describe('Security: XML parsing', () => {
  it('refuses a DOCTYPE with entities before parsing', () =>
    expectFault('cred.doctype-entity.xml', 'CREDENTIAL_INVALID', 20, /DOCTYPE or ENTITY/));
  it('refuses two credentials at the top', () =>
    expectFault(
      'cred.two-credentials.xml',
      'CREDENTIAL_INVALID',
      20,
      /exactly one <credential>, found 2/,
    ));
  it('refuses a repeated xml:id', () =>
    expectFault(
      'cred.duplicate-xml-id.xml',
      'CREDENTIAL_INVALID',
      20,
      /xml:id 'ref0' appears more than once/,
    ));
});

describe('Security: signature wrapping', () => {
  it('refuses an altered credential hiding the signed original beside it', () =>
    expectFault(
      'cred.wrapping.signed-copy-hidden-in-extensions.xml',
      'CREDENTIAL_INVALID',
      20,
      /xml:id 'ref0' appears more than once/,
    ));
  it('refuses a Reference that points at something other than a credential of the chain', () =>
    expectFault(
      'cred.reference-not-a-credential.xml',
      'CREDENTIAL_INVALID',
      20,
      /'#Sig_ref0', which is not a credential of the chain/,
    ));
  it('refuses a delegated credential whose parent carries no signature', () =>
    expectFault(
      'cred.delegated.parent-unsigned.xml',
      'CREDENTIAL_INVALID',
      20,
      /credential ref0 .* is not signed/,
    ));
});

describe('Security: algorithm and transform allow-lists', () => {
  it('refuses an XPath transform', () =>
    expectFault(
      'cred.transform-xpath.xml',
      'CREDENTIAL_INVALID',
      20,
      /transform 'http:\/\/www.w3.org\/TR\/1999\/REC-xpath-19991116' is not accepted/,
    ));
  it('refuses an HMAC signature method (key confusion)', () =>
    expectFault(
      'cred.signature-method-hmac.xml',
      'CREDENTIAL_INVALID',
      20,
      /signature method '.*hmac-sha1' is not accepted/,
    ));
});

describe('Security: keys from KeyInfo', () => {
  it('never uses KeyValue: a signature without certificates is refused', () =>
    expectFault(
      'cred.keyvalue-only.xml',
      'CREDENTIAL_INVALID',
      20,
      /KeyInfo holds no X509Certificate/,
    ));
  it('refuses a KeyInfo certificate that does not chain to a root, even one naming a real authority', () =>
    expectFault(
      'cred.keyinfo-self-signed-impostor.xml',
      'CREDENTIAL_SIGNER_UNTRUSTED',
      23,
      /signer of credential ref0 .* is not trusted/,
    ));
});

describe('Security: comments inside signed values', () => {
  it('reads the whole value, exactly as signed, when a comment splits it', () => {
    const v = verifyCredential(fixture('cred.comment-splits-owner-urn.xml'), {
      trust: pleTrust(),
      now: NOW,
    });
    expect(v.ownerUrn).toBe('urn:publicid:IDN+ple:inria+user+alice');
  });
});

describe('Security: processing instructions inside signed elements', () => {
  it('refuses a credential where a processing instruction hides part of a field (the digest would still match)', () =>
    expectFault(
      'cred.pi-hides-target-cert.xml',
      'CREDENTIAL_INVALID',
      20,
      /processing instruction/,
    ));
});

describe('Security: who may sign', () => {
  it('refuses a root credential signed by a user rather than an authority over the target', () =>
    expectFault(
      'cred.root-signed-by-user.xml',
      'CREDENTIAL_SIGNER_UNTRUSTED',
      23,
      /not an authority over it/,
    ));
});

describe('Security: delegation rules', () => {
  it('refuses a child that outlives its parent', () =>
    expectFault(
      'cred.delegated.child-outlives-parent.xml',
      'CREDENTIAL_INVALID',
      20,
      /outlives its parent/,
    ));
  it('refuses a child granting a privilege the parent does not hold', () =>
    expectFault(
      'cred.delegated.privilege-escalation.xml',
      'CREDENTIAL_INVALID',
      20,
      /grants 'sa'/,
    ));
  it("refuses a child not signed by its parent's owner", () =>
    expectFault(
      'cred.delegated.not-signed-by-parent-owner.xml',
      'CREDENTIAL_INVALID',
      20,
      /not signed by urn:publicid:IDN\+ple:inria\+user\+alice/,
    ));
  it('refuses delegating privileges whose can_delegate is false', () =>
    expectFault(
      'cred.delegated.parent-forbids-delegation.xml',
      'CREDENTIAL_INVALID',
      20,
      /grants 'refresh'/,
    ));
});

describe('Security: resource exhaustion', () => {
  it('refuses a 100,000-deep document (found by a pre-scan, before any DOM is built)', () => {
    const deep = `<signed-credential>${'<a>'.repeat(100_000)}${'</a>'.repeat(100_000)}</signed-credential>`;
    expect(() => verifyCredential(deep, { trust: pleTrust(), now: NOW })).toThrow(
      expect.objectContaining({
        geniCode: 20,
        message: expect.stringContaining('nested deeper than 64'),
      }),
    );
  });

  it('refuses a document larger than 1 MiB', () => {
    const big = `<signed-credential>${' '.repeat(1_100_000)}</signed-credential>`;
    expect(() => verifyCredential(big, { trust: pleTrust(), now: NOW })).toThrow(
      expect.objectContaining({ geniCode: 20, message: expect.stringContaining('too large') }),
    );
  });
});
