/**
 * The slice of a call that names only slivers (`sfi delete SLICE SLIVER_URN` sends the sliver
 * URNs alone): the slice manager cannot look the slivers up, so the slice is the one the
 * caller's slice credential is for. Each aggregate then checks that the slivers it is sent
 * belong to that slice (it refuses a sliver of another slice).
 */
import { BadArgs, CredentialMismatch, GeniFault } from '../faults.js';
import { credentialStrings } from '../credentials/authorize.js';
import type { TrustStore } from '../credentials/chain.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { VerifiedCredential } from '../credentials/verify-credential.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from '../aggregate/authorize-am.js';

export interface SliceCredentialOptions {
  credentials: XmlRpcValue;
  operation: string;
  speakingFor: string | undefined;
  verifier: CredentialVerifier;
  trust: TrustStore;
}

/**
 * The caller's slice credential allowing `operation`, verified in full by {@link authorizeAm}
 * for the one slice the presented credentials are about.
 *
 * @throws BadArgs when the credentials are for several slices (one slice per call), or none is
 *   given; CREDENTIAL_MISMATCH when none is a slice credential; otherwise authorizeAm's fault.
 */
export function sliceCredential(
  caller: AmCaller,
  opts: SliceCredentialOptions,
): VerifiedCredential {
  const slices = new Map<string, string>();
  let verified = 0;
  for (const xml of credentialStrings(opts.credentials)) {
    try {
      // Only a credential that verifies may say which slice is meant; authorizeAm below then
      // checks it in full (owner, speaks-for, privileges) for that very slice.
      const cred = opts.verifier.verify(xml, caller.now);
      verified++;
      if (cred.targetGid.type === 'slice') slices.set(cred.targetUrn.toLowerCase(), cred.targetUrn);
    } catch (e) {
      if (!(e instanceof GeniFault)) throw e;
    }
  }
  if (slices.size > 1) {
    throw new BadArgs(
      `the URNs name only slivers, and the credentials are for ${slices.size} slices (${[...slices.values()].join(', ')}): give the credential of one slice per call, or name the slice among the URNs`,
    );
  }
  const slice = [...slices.values()][0];
  if (slice === undefined) {
    if (verified > 0) {
      throw new CredentialMismatch(
        'the URNs name only slivers, and no credential given is a slice credential: give the credential of the slice the slivers belong to',
      );
    }
    // Nothing verified: authorizeAm says why (no certificate, no credential, expired, untrusted…).
    authorizeAm(caller, opts);
    throw new CredentialMismatch('no slice credential given');
  }
  return authorizeAm(caller, { ...opts, sliceUrn: slice });
}
