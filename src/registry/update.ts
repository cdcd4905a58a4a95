import { BadArgs } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { loadPublicKey, sameKey } from '../credentials/keys.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, findRecord, issueRecordGid, requireTargetCovers } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { userIds } from './members.js';
import { readRecordInput } from './records.js';

/**
 * Update(record, creds) → 1. Needs `update` (carried by `refresh`) on the record itself or an
 * authority above it: sfi updates a slice's researchers with the slice credential. Fields
 * present replace the stored ones: a slice's researchers, an authority's PIs and name, a user's
 * e-mail and keys. A new first key re-issues the user's GID on it (with a new uuid).
 */
export async function update(
  ctx: RegistryContext,
  call: Call,
  record: XmlRpcValue,
  creds: XmlRpcValue,
): Promise<number> {
  const cred = authorizeCall(ctx, call, creds, 'update');
  const input = readRecordInput(record);
  const row = findRecord(ctx, input.hrn, input.type);
  requireTargetCovers(cred, row.hrn, row.type);

  const researchers =
    row.type === 'slice' && input.researchers
      ? userIds(ctx, input.researchers, 'reg-researchers')
      : undefined;
  const pis =
    row.type === 'authority' && input.pis ? userIds(ctx, input.pis, 'reg-pis') : undefined;
  if (row.type === 'user' && input.email !== undefined && !/^[^\s@]+@[^\s@]+$/.test(input.email)) {
    throw new BadArgs(`'${input.email}' is not an e-mail address`);
  }
  const keys = row.type === 'user' && input.keys && input.keys.length > 0 ? input.keys : undefined;
  let gid: string | undefined;
  if (keys) {
    const key = loadPublicKey(keys[0]!);
    if (!sameKey(key, Gid.fromPem(row.gid).publicKey)) {
      gid = (
        await issueRecordGid(
          ctx,
          row.hrn,
          'user',
          call.now,
          key,
          input.email ?? row.email ?? undefined,
        )
      ).pem;
    }
  }
  ctx.store.transaction(() => {
    const patch: { email?: string | null; name?: string | null; gid?: string } = {};
    if (row.type === 'user' && input.email !== undefined) patch.email = input.email;
    if (row.type === 'authority' && input.name !== undefined) patch.name = input.name;
    if (gid) patch.gid = gid;
    ctx.store.update(row.id, patch, call.now);
    if (keys) ctx.store.setKeys(row.id, keys);
    if (researchers) ctx.store.setResearchers(row.id, researchers);
    if (pis) ctx.store.setPis(row.id, pis);
  });
  return 1;
}
