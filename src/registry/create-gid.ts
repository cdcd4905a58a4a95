import type { KeyObject } from 'node:crypto';
import { BadArgs } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { keyFingerprint } from '../credentials/keys.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import {
  authorizeCall,
  findRecord,
  issueRecordGid,
  readName,
  requireTargetCovers,
} from './common.js';
import type { Call, RegistryContext } from './context.js';

/**
 * CreateGid(creds, xrn, cert) → a GID for `xrn` on the key of `cert` (a fresh one when none),
 * signed by its authority. Needs `update` on the record or an authority above it. No record
 * changes (sfi's `gid` command writes the result to a file), but every GID handed out is
 * recorded (`issued_gids`, listed by `sfa gid issued`): it is valid for five years wherever this
 * authority is trusted, long after the caller may have lost the role that allowed it.
 *
 * The GID is never a CA, even for an authority's own name (as the Python SFA: create_gid with
 * CA=False): it names the authority but cannot sign certificates or credentials that anything
 * here accepts (chain.ts, verify-credential.ts).
 */
export async function createGid(
  ctx: RegistryContext,
  call: Call,
  creds: XmlRpcValue,
  xrn: XmlRpcValue,
  cert: XmlRpcValue,
): Promise<string> {
  const cred = authorizeCall(ctx, call, creds, 'update');
  const name = readName(xrn);
  const row = findRecord(ctx, name.hrn, name.type?.split('+')[0]);
  requireTargetCovers(cred, row.hrn, row.type);
  let key: KeyObject | undefined;
  if (cert !== undefined && cert !== null && cert !== '') {
    if (typeof cert !== 'string') throw new BadArgs('cert must be a PEM certificate');
    try {
      key = Gid.fromPem(cert).publicKey;
    } catch (e) {
      throw new BadArgs(`cert is not a PEM certificate: ${(e as Error).message}`);
    }
  }
  const gid = await issueRecordGid(ctx, row.hrn, row.type, call.now, key, row.email ?? undefined);
  // Recorded before it is answered: a GID that cannot be recorded is not handed out.
  ctx.store.recordIssuedGid({
    issuedAt: call.now,
    callerUrn: cred.ownerUrn,
    callerFingerprint: callerFingerprint(call),
    credentialUrn: cred.targetUrn,
    hrn: row.hrn,
    type: row.type,
    urn: gid.urn,
    fingerprint: gid.fingerprint256,
    serial: gid.serial,
    notBefore: gid.notBefore,
    notAfter: gid.notAfter,
    ca: gid.isCA,
    keySource: key ? 'given' : 'generated',
    keyFingerprint: keyFingerprint(gid.publicKey),
    certificate: gid.certPem,
  });
  return gid.pem;
}

/** SHA-256 of the certificate the caller connected with (its leaf), as node prints it. */
function callerFingerprint(call: Call): string | null {
  if (!call.peerCertPem) return null;
  try {
    return Gid.fromPem(call.peerCertPem).fingerprint256;
  } catch {
    // authorizeCall matched the caller by key; a certificate we cannot read still has a key.
    return null;
  }
}
