import { describe, expect, it } from 'vitest';
import { verifyCredential } from './verify-credential.js';
import { TrustStore } from './chain.js';
import { issueGid } from './gid.js';
import { generateKeyPair } from './keys.js';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENI_ACCEPTANCE, NOW } from '../../test/support/paths.js';
import { pleTrust, reference, VECTORS } from '../../test/support/vectors.js';

function faultOf(fn: () => unknown): { fault: string; code: number; message: string } {
  try {
    fn();
  } catch (e) {
    const f = e as { fault: string; geniCode: number; message: string };
    return { fault: f.fault, code: f.geniCode, message: f.message };
  }
  throw new Error('expected a fault, got success');
}

describe('credentials made by the Python SFA 4.0.3', () => {
  it("verifies alice's user credential with ple.gid as the only root", () => {
    const v = verifyCredential(reference(VECTORS.aliceUserCred), { trust: pleTrust(), now: NOW });
    expect(v.ownerUrn).toBe('urn:publicid:IDN+ple:inria+user+alice');
    expect(v.targetUrn).toBe('urn:publicid:IDN+ple:inria+user+alice');
    expect(v.privileges.map((p) => p.name)).toEqual(['refresh', 'resolve', 'info']);
    expect(v.expires.toISOString()).toBe('2026-12-26T09:02:59.000Z');
    expect(v.signer.urn).toBe('urn:publicid:IDN+ple:inria+authority+sa');
    expect(v.chain).toHaveLength(1);
  });

  it("verifies alice's slice credential", () => {
    const v = verifyCredential(reference(VECTORS.aliceSliceCred), { trust: pleTrust(), now: NOW });
    expect(v.targetUrn).toBe('urn:publicid:IDN+ple:inria+slice+myslice');
    expect(v.privileges.map((p) => p.name)).toEqual([
      'refresh',
      'embed',
      'bind',
      'control',
      'info',
    ]);
    expect(v.privileges.every((p) => p.canDelegate)).toBe(true);
  });

  it('verifies the slice credential alice delegated to bob', () => {
    const v = verifyCredential(reference(VECTORS.bobDelegatedSliceCred), {
      trust: pleTrust(),
      now: NOW,
    });
    expect(v.ownerUrn).toBe('urn:publicid:IDN+ple:inria+user+bob');
    expect(v.targetUrn).toBe('urn:publicid:IDN+ple:inria+slice+myslice');
    expect(v.chain.map((c) => c.ownerUrn)).toEqual([
      'urn:publicid:IDN+ple:inria+user+bob',
      'urn:publicid:IDN+ple:inria+user+alice',
    ]);
    expect(v.signer.urn).toBe('urn:publicid:IDN+ple:inria+user+alice');
  });

  it('refuses them once expired (fixed clock past 2026-12-26T09:02:59Z)', () => {
    const f = faultOf(() =>
      verifyCredential(reference(VECTORS.aliceUserCred), {
        trust: pleTrust(),
        now: new Date('2026-12-26T09:03:00Z'),
      }),
    );
    expect(f).toMatchObject({ fault: 'CREDENTIAL_EXPIRED', code: 21 });
    expect(f.message).toContain('expired at 2026-12-26T09:02:59Z');
  });

  it('refuses them when ple is not a trusted root', () => {
    const key = generateKeyPair();
    const other = issueGid({
      urn: 'urn:publicid:IDN+plc+authority+sa',
      subjectPublicKey: createPublicKey(key.publicKeyPem),
      issuerKey: key.privateKeyPem,
      notBefore: new Date('2026-01-01T00:00:00Z'),
    });
    const f = faultOf(() =>
      verifyCredential(reference(VECTORS.aliceUserCred), {
        trust: new TrustStore([other]),
        now: NOW,
      }),
    );
    expect(f).toMatchObject({ fault: 'CREDENTIAL_SIGNER_UNTRUSTED', code: 23 });
  });

  it("refuses the GENI acceptance tests' untrusted user credential", () => {
    const xml = readFileSync(join(GENI_ACCEPTANCE, 'untrusted-usercred.xml'), 'utf8');
    const f = faultOf(() => verifyCredential(xml, { trust: pleTrust(), now: NOW }));
    expect([20, 21, 23]).toContain(f.code);
    expect(f.fault).toMatch(/^CREDENTIAL_/);
  });
});

describe('Security: tampering with signed bytes', () => {
  const original = reference(VECTORS.bobDelegatedSliceCred);
  const cases: Array<[string, (xml: string) => string, string]> = [
    [
      'a privilege name in the newest credential',
      (x) => x.replace('<name>info</name>', '<name>sa</name>'),
      'digest mismatch',
    ],
    [
      'the expiry of the parent',
      (x) => x.replace(/(<parent>[\s\S]*?<expires>)2026/, '$12027'),
      'digest mismatch',
    ],
    [
      'the owner URN of the newest credential',
      (x) => x.replace('+user+bob</owner_urn>', '+user+eve</owner_urn>'),
      'digest mismatch',
    ],
    [
      'a signature value',
      (x) => x.replace(/<SignatureValue>U/, '<SignatureValue>V'),
      'does not verify',
    ],
    ['a digest value', (x) => x.replace(/<DigestValue>F/, '<DigestValue>G'), 'digest mismatch'],
  ];
  for (const [what, tamper, message] of cases) {
    it(`fails with CREDENTIAL_INVALID when ${what} is changed`, () => {
      const tampered = tamper(original);
      expect(tampered).not.toBe(original);
      const f = faultOf(() => verifyCredential(tampered, { trust: pleTrust(), now: NOW }));
      expect(f).toMatchObject({ fault: 'CREDENTIAL_INVALID', code: 20 });
      expect(f.message).toContain(message);
    });
  }
});
