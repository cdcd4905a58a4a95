import { BadArgs, CredentialMismatch } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { sameKey } from '../credentials/keys.js';
import { defaultPrivilegeNames } from '../credentials/privileges.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { findRecord, issueRecordCredential, readName, readType } from './common.js';
import type { Call, RegistryContext } from './context.js';

/**
 * GetSelfCredential(cert, xrn, type): a principal proves it holds the key of its record and
 * receives a credential on itself. sfi calls it first, with a self-signed `CN=<hrn>` certificate
 * made from the user's key. Both that certificate's key and the TLS caller's key must be the
 * record's GID key (the Python SFA checks only the argument, which anyone can copy).
 */
export function getSelfCredential(
  ctx: RegistryContext,
  call: Call,
  cert: XmlRpcValue,
  xrn: XmlRpcValue,
  type: XmlRpcValue,
): string {
  const name = readName(xrn);
  const recordType = readType(type) ?? name.type ?? 'user';
  const record = findRecord(ctx, name.hrn, recordType);
  if (typeof cert !== 'string') throw new BadArgs('cert must be the PEM certificate of the caller');
  let presented: Gid;
  try {
    presented = Gid.fromPem(cert);
  } catch (e) {
    throw new BadArgs(`cert is not a PEM certificate: ${(e as Error).message}`);
  }
  const gid = Gid.fromPem(record.gid);
  if (!sameKey(presented.publicKey, gid.publicKey)) {
    throw new CredentialMismatch(
      `the certificate given does not hold the key registered for ${record.hrn}`,
    );
  }
  if (!call.peerKey || !sameKey(call.peerKey, gid.publicKey)) {
    throw new CredentialMismatch(
      `connect with the key registered for ${record.hrn} to get its credential`,
    );
  }
  return issueRecordCredential(ctx, call, gid, record, gid, defaultPrivilegeNames(record.type));
}
