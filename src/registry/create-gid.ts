import { BadArgs } from '../faults.js';
import { Gid } from '../credentials/gid.js';
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
 * signed by its authority. Needs `update` on the record or an authority above it. Nothing is
 * stored: sfi's `gid` command writes the result to a file.
 */
export function createGid(
  ctx: RegistryContext,
  call: Call,
  creds: XmlRpcValue,
  xrn: XmlRpcValue,
  cert: XmlRpcValue,
): string {
  const cred = authorizeCall(ctx, call, creds, 'update');
  const name = readName(xrn);
  const row = findRecord(ctx, name.hrn, name.type?.split('+')[0]);
  requireTargetCovers(cred, row.hrn, row.type);
  let key;
  if (cert !== undefined && cert !== null && cert !== '') {
    if (typeof cert !== 'string') throw new BadArgs('cert must be a PEM certificate');
    try {
      key = Gid.fromPem(cert).publicKey;
    } catch (e) {
      throw new BadArgs(`cert is not a PEM certificate: ${(e as Error).message}`);
    }
  }
  return issueRecordGid(ctx, row.hrn, row.type, call.now, key, row.email ?? undefined).pem;
}
