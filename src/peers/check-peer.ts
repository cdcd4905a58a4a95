/**
 * What makes a peer acceptable, checked before anything is stored: its name, its URLs, and
 * the root certificate this authority will trust for it.
 */
import { BadArgs, CredentialSignerUntrusted } from '../faults.js';
import type { Gid } from '../credentials/gid.js';
import { formatRfc3339 } from '../credentials/time.js';
import { isAuthorityType, isHrnPrefix, isUrn, Xrn } from '../credentials/xrn.js';

/**
 * The HRN of a new peer (an HRN or an authority URN), checked against this authority's own:
 * a peer whose namespace contains ours, or lies inside it, could vouch for our own users.
 */
export function checkPeerHrn(text: string, ownAuthority: string): string {
  const hrn = isUrn(text) ? Xrn.fromUrn(text).hrn : Xrn.fromHrn(text, 'authority').hrn;
  if (isHrnPrefix(ownAuthority, hrn) || isHrnPrefix(hrn, ownAuthority)) {
    throw new BadArgs(
      `peer ${hrn} overlaps this authority's own namespace ${ownAuthority}: a peer must be another authority`,
    );
  }
  return hrn;
}

/** An http(s) URL of a peer's registry or aggregate (SFA always speaks TLS, whatever the scheme). */
export function checkPeerUrl(text: string, what: string): string {
  const t = text.trim();
  let u: URL;
  try {
    u = new URL(t);
  } catch {
    throw new BadArgs(`${what} must be a URL such as https://host:12345/, not '${text}'`);
  }
  if ((u.protocol !== 'https:' && u.protocol !== 'http:') || u.hostname === '') {
    throw new BadArgs(`${what} must be an http(s) URL such as https://host:12345/, not '${text}'`);
  }
  if (u.username || u.password) throw new BadArgs(`${what} must not carry a user name or password`);
  return t;
}

/**
 * Check that `gid` may be trusted as the root of peer `peerHrn` at `now`: a self-signed CA
 * certificate of an authority named exactly `peerHrn`. The namespace rule (chain.ts) would
 * already confine a root to names under its HRN; refusing a mismatch here stops an operator
 * from trusting `plc`'s registry with a root that speaks for `ple`.
 *
 * @returns a warning when the root is not yet valid (a peer's clock a little ahead of ours).
 * @throws CredentialSignerUntrusted for a root that cannot be this peer's; BadArgs for an
 *   expired one.
 */
export function checkPeerRoot(gid: Gid, peerHrn: string, now: Date): string | undefined {
  const refuse = (why: string) =>
    new CredentialSignerUntrusted(`the root offered for peer ${peerHrn} (${gid.label}) ${why}`);
  if (!gid.urn || !isAuthorityType(gid.type)) {
    throw refuse(`is ${gid.urn ? `a ${gid.type}` : 'not an SFA GID (no URN)'}, not an authority`);
  }
  if (gid.hrn.toLowerCase() !== peerHrn.toLowerCase()) {
    throw refuse(`names ${gid.hrn}: the root of peer ${peerHrn} must name ${peerHrn} itself`);
  }
  if (!gid.isSelfIssued || !selfSignatureVerifies(gid)) {
    throw refuse(`is not self-signed (issuer ${gid.issuerDN}): give the peer's root, not a child`);
  }
  if (!gid.isCA) throw refuse('is not a CA (basicConstraints CA:FALSE)');
  if (now.getTime() > gid.notAfter.getTime()) {
    throw new BadArgs(
      `the root offered for peer ${peerHrn} expired at ${formatRfc3339(gid.notAfter)}`,
    );
  }
  if (now.getTime() < gid.notBefore.getTime()) {
    return `the root of ${peerHrn} is not valid before ${formatRfc3339(gid.notBefore)}: check the clocks`;
  }
  return undefined;
}

function selfSignatureVerifies(gid: Gid): boolean {
  try {
    return gid.x509.verify(gid.publicKey);
  } catch {
    return false;
  }
}
