/**
 * The credentials the slice manager presents when it relays. It calls with its authority's own
 * key (TLS), so the researcher's credential alone cannot pass a peer's owner check. It presents:
 * - the researcher's slice credential delegated to this authority, when one was supplied
 *   (`sfi -d`): the peer verifies the whole chain back to the slice's authority;
 * - otherwise this authority's own credential on the slice, which it can only sign for slices in
 *   its own namespace (a peer trusts `ple` to act for `ple.*` slices it has checked, never for
 *   anything else).
 */
import type { AuthorityKeystore, AuthorityIdentity } from '../authority/keystore.js';
import { credentialStrings } from '../credentials/authorize.js';
import type { Gid } from '../credentials/gid.js';
import { issueCredential } from '../credentials/issue-credential.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { VerifiedCredential } from '../credentials/verify-credential.js';
import { isHrnPrefix, sameUrn } from '../credentials/xrn.js';
import { GeniFault } from '../faults.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';

const SLICE_PRIVILEGES = ['refresh', 'embed', 'bind', 'control', 'info'];
const AUTHORITY_PRIVILEGES = ['authority', 'sa', 'ma'];
const OWN_CREDENTIAL_LIFETIME_MS = 86_400_000;

function wrap(xml: string): XmlRpcStruct {
  return { geni_type: 'geni_sfa', geni_version: '3', geni_value: xml };
}

export class RelayCredentials {
  private own: { xml: string; expires: number } | undefined;

  constructor(
    private readonly identity: AuthorityIdentity,
    private readonly keys: AuthorityKeystore,
    private readonly verifier: CredentialVerifier,
  ) {}

  /** This authority's credential on itself: enough to list resources at a peer. */
  authority(now: Date): XmlRpcStruct[] {
    if (!this.own || this.own.expires - now.getTime() < 3_600_000) {
      const expires = new Date(now.getTime() + OWN_CREDENTIAL_LIFETIME_MS);
      const xml = issueCredential({
        owner: this.identity.gid,
        target: this.identity.gid,
        privileges: AUTHORITY_PRIVILEGES.map((name) => ({ name, canDelegate: false })),
        expires,
        signerKey: this.identity.key,
        signerGid: this.identity.gid,
      });
      this.own = { xml, expires: expires.getTime() };
    }
    return [wrap(this.own.xml)];
  }

  /**
   * What to present for `slice` (verified from the caller), or undefined when this authority
   * can present nothing a peer would accept (a foreign slice and no delegated credential).
   */
  forSlice(
    callerCreds: XmlRpcValue,
    slice: VerifiedCredential,
    now: Date,
  ): XmlRpcStruct[] | undefined {
    for (const xml of credentialStrings(callerCreds)) {
      try {
        const v = this.verifier.verify(xml, now);
        if (sameUrn(v.ownerUrn, this.identity.gid.urn) && sameUrn(v.targetUrn, slice.targetUrn))
          return [wrap(xml)];
      } catch (e) {
        if (!(e instanceof GeniFault)) throw e;
      }
    }
    const target: Gid = slice.targetGid;
    if (!isHrnPrefix(this.identity.hrn, target.hrn)) return undefined;
    const signer = this.keys.signerFor(target.hrn);
    const xml = issueCredential({
      owner: this.identity.gid,
      target,
      privileges: SLICE_PRIVILEGES.map((name) => ({ name, canDelegate: false })),
      expires: slice.expires,
      signerKey: signer.key,
      signerGid: signer.gid,
    });
    return [wrap(xml)];
  }
}
