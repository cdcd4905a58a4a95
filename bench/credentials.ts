/**
 * Credential verification and signing throughput on this machine.
 *
 * Python SFA 4.0.3 for scale (same kind of machine): Credential.verify takes 53 ms for a user
 * credential and 78 ms for a delegated one (an xmlsec1 subprocess per signature).
 */
import { createHash } from 'node:crypto';
import { VerifiedCertCache } from '../src/credentials/chain.js';
import { CredentialVerifier } from '../src/credentials/verifier.js';
import { canonicalizeSubset } from '../src/credentials/c14n.js';
import { issueCredential } from '../src/credentials/issue-credential.js';
import { verifyCredential } from '../src/credentials/verify-credential.js';
import { childElements, parseXml } from '../src/credentials/xml.js';
import { NOW } from '../test/support/paths.js';
import {
  pleTrust,
  reference,
  referenceGid,
  referenceKey,
  VECTORS,
} from '../test/support/vectors.js';

/** Run `fn` repeatedly for about `ms` milliseconds; return operations per second. */
export function rate(fn: () => void, ms = 1500): number {
  for (let i = 0; i < 20; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(ms) * 1_000_000n;
  let elapsed = 0n;
  while (elapsed < budget) {
    for (let i = 0; i < 10; i++) fn();
    n += 10;
    elapsed = process.hrtime.bigint() - start;
  }
  return (n * 1e9) / Number(elapsed);
}

function line(label: string, perSecond: number): void {
  const us = 1e6 / perSecond;
  console.log(
    `  ${label.padEnd(58)} ${perSecond.toFixed(0).padStart(7)}/s  ${us.toFixed(0).padStart(6)} µs`,
  );
}

export function benchCredentials(): void {
  const trust = pleTrust();
  const user = reference(VECTORS.aliceUserCred);
  const delegated = reference(VECTORS.bobDelegatedSliceCred);
  console.log(`credentials (user credential ${user.length} B, delegated ${delegated.length} B)`);

  line(
    'verify user credential (3-certificate chain), no cache',
    rate(() => verifyCredential(user, { trust, now: NOW })),
  );
  const cache = new VerifiedCertCache();
  line(
    'verify user credential, certificate cache',
    rate(() => verifyCredential(user, { trust, now: NOW, cache })),
  );
  line(
    'verify delegated slice credential, no cache',
    rate(() => verifyCredential(delegated, { trust, now: NOW })),
  );
  line(
    'verify delegated slice credential, certificate cache',
    rate(() => verifyCredential(delegated, { trust, now: NOW, cache })),
  );
  // What a server does: the same bytes again are answered from the verified-credential cache.
  const verifier = new CredentialVerifier(trust);
  line(
    'verify user credential again, verified-credential cache',
    rate(() => verifier.verify(user, NOW)),
  );
  line(
    'verify delegated credential again, verified-credential cache',
    rate(() => verifier.verify(delegated, NOW)),
  );

  const alice = referenceGid('ple.inria.alice.user.gid');
  const inria = referenceGid('ple.inria.gid');
  const inriaKey = referenceKey('ple.inria.pkey');
  const sign = (algorithm: 'rsa-sha1' | 'rsa-sha256') => () =>
    issueCredential({
      owner: alice,
      target: alice,
      privileges: [{ name: 'refresh', canDelegate: true }],
      expires: new Date('2026-12-26T00:00:00Z'),
      signerKey: inriaKey,
      signerGid: inria,
      algorithm,
    });
  line('sign a user credential (RSA-SHA1)', rate(sign('rsa-sha1'), 1000));
  line('sign a user credential (RSA-SHA256)', rate(sign('rsa-sha256'), 1000));

  // Where the time goes in one cached user-credential verification.
  console.log('  where the time goes (user credential):');
  line(
    '  parse (xmldom)',
    rate(() => parseXml(user, 'credential')),
  );
  const doc = parseXml(user, 'credential');
  const cred = childElements(doc.documentElement!)[0]!;
  line(
    '  canonicalize <credential> (C14N 1.0)',
    rate(() => canonicalizeSubset(cred)),
  );
  const canonical = canonicalizeSubset(cred);
  line(
    '  SHA-1 digest of the canonical credential',
    rate(() => createHash('sha1').update(canonical).digest()),
  );
}
