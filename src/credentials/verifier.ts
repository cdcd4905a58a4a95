/**
 * A credential verifier for servers: the trusted roots, and two caches that make the same
 * credential presented again (sfi sends it on every call) cheap without trusting anything stale.
 */
import { createHash } from 'node:crypto';
import { VerifiedCertCache, type TrustStore } from './chain.js';
import { verifyCredential, type VerifiedCredential } from './verify-credential.js';

interface Entry {
  readonly result: VerifiedCredential;
  readonly generation: number;
}

export interface VerifierOptions {
  /** Verified credentials remembered (oldest dropped first); 0 turns the cache off. */
  maxCredentials?: number;
  /** Verified (certificate, issuer) signatures remembered. */
  maxCertificates?: number;
}

export class CredentialVerifier {
  readonly certificates: VerifiedCertCache;
  private readonly verified = new Map<string, Entry>();
  private readonly maxCredentials: number;

  constructor(
    readonly trust: TrustStore,
    opts: VerifierOptions = {},
  ) {
    this.certificates = new VerifiedCertCache(opts.maxCertificates ?? 10_000);
    this.maxCredentials = opts.maxCredentials ?? 2_000;
  }

  /**
   * Verify `xml` at `now` (see verifyCredential). A credential verified before is answered from
   * the cache only if its exact bytes (SHA-256) were verified under the same set of roots and
   * `now` lies within the window where its every certificate and credential is still valid;
   * otherwise it is verified again in full, so a fault is always the precise one.
   */
  verify(xml: string, now: Date): VerifiedCredential {
    const key = this.maxCredentials > 0 ? createHash('sha256').update(xml).digest('base64') : '';
    const hit = key ? this.verified.get(key) : undefined;
    const t = now.getTime();
    if (
      hit &&
      hit.generation === this.trust.generation &&
      hit.result.validFrom.getTime() <= t &&
      t < hit.result.validUntil.getTime()
    ) {
      return hit.result;
    }
    const result = verifyCredential(xml, { trust: this.trust, now, cache: this.certificates });
    if (key) {
      if (this.verified.size >= this.maxCredentials) {
        this.verified.delete(this.verified.keys().next().value!);
      }
      this.verified.set(key, { result, generation: this.trust.generation });
    }
    return result;
  }
}
