/**
 * Credential checks for AM API calls: every call needs a valid `geni_sfa` credential owned by the
 * caller; slice calls need one for that very slice. With `geni_speaking_for`, the caller is a
 * tool: the speaks-for credential names the user, whose own credentials are then checked in full.
 */
import type { KeyObject } from 'node:crypto';
import { CredentialMismatch, GeniFault } from '../faults.js';
import { abacCredentialStrings, authorize, credentialStrings } from '../credentials/authorize.js';
import type { TrustStore } from '../credentials/chain.js';
import { Gid } from '../credentials/gid.js';
import { verifySpeaksFor } from '../credentials/speaks-for.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { VerifiedCredential } from '../credentials/verify-credential.js';
import { sameUrn } from '../credentials/xrn.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';

export interface AmCaller {
  peerKey: KeyObject | undefined;
  peerCertPem: string | undefined;
  /** The certificate and the issuer chain the client sent with it (a tool's chain for speaks-for). */
  peerChainPem?: string | undefined;
  now: Date;
  /** Who called and with which client (User-Agent), for records only (never to authorize). */
  origin?: { caller: string; client?: string };
}

export interface AmAuthOptions {
  credentials: XmlRpcValue;
  operation: string;
  speakingFor: string | undefined;
  /** The slice the call acts on; the credential must be for it. */
  sliceUrn?: string;
  verifier: CredentialVerifier;
  trust: TrustStore;
}

export function authorizeAm(caller: AmCaller, opts: AmAuthOptions): VerifiedCredential {
  let peerKey = caller.peerKey;
  let peerGid: Gid | undefined;
  if (caller.peerCertPem) {
    try {
      peerGid = Gid.fromPem(caller.peerChainPem ?? caller.peerCertPem);
    } catch {
      peerGid = undefined;
    }
  }
  let peerUrn = peerGid?.urn || undefined;
  if (opts.speakingFor) {
    if (!peerGid)
      throw new CredentialMismatch('speaks-for needs the tool to connect with its certificate');
    const abac = abacCredentialStrings(opts.credentials);
    if (abac.length === 0) {
      throw new CredentialMismatch(
        `geni_speaking_for is ${opts.speakingFor}, but no speaks-for (geni_abac) credential was given`,
      );
    }
    let user: Gid | undefined;
    let last: unknown;
    for (const xml of abac) {
      try {
        user = verifySpeaksFor(xml, {
          tool: peerGid,
          speakingForUrn: opts.speakingFor,
          trust: opts.trust,
          now: caller.now,
          cache: opts.verifier.certificates,
        });
        break;
      } catch (e) {
        if (!(e instanceof GeniFault)) throw e;
        last = e;
      }
    }
    if (!user) throw last;
    // From here on the user is the caller: their credentials are checked as if they had called.
    peerKey = user.publicKey;
    peerUrn = user.urn;
  }
  return authorize({
    credentials: credentialStrings(opts.credentials),
    operation: opts.operation,
    peerKey,
    peerUrn,
    now: caller.now,
    verifier: opts.verifier,
    accept: opts.sliceUrn
      ? (cred) => {
          const slice = opts.sliceUrn!;
          const same = cred.targetGid.type === 'slice' && sameUrn(cred.targetUrn, slice);
          if (!same)
            throw new CredentialMismatch(
              `the credential is for ${cred.targetUrn}, not for slice ${slice}`,
            );
        }
      : undefined,
  });
}
