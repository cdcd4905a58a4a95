import { BadArgs, SearchFailed } from '../faults.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, readName, readType, requireTargetCovers } from './common.js';
import type { Call, RegistryContext } from './context.js';

/**
 * Remove(xrn, creds, type) → 1. Needs `remove` (carried by `refresh`) on the record or an
 * authority above it. Type `*`, `all` or nil matches any type. An authority that still holds
 * records, or this interface's own authority, is not removed.
 */
export function remove(
  ctx: RegistryContext,
  call: Call,
  xrn: XmlRpcValue,
  creds: XmlRpcValue,
  type: XmlRpcValue,
): number {
  const cred = authorizeCall(ctx, call, creds, 'remove');
  const name = readName(xrn);
  const t =
    type === '*' || type === 'all' ? undefined : (readType(type) ?? name.type?.split('+')[0]);
  const rows = ctx.store.findByHrn(name.hrn).filter((r) => !t || r.type === t);
  const row = rows[0];
  if (!row) throw new SearchFailed(`Record not found: ${name.hrn}${t ? ` (type ${t})` : ''}`);
  requireTargetCovers(cred, row.hrn, row.type);
  // Checked and removed in one write: a record registered below it meanwhile (through another
  // front-end) is either seen here, or registered after, and refused for want of its authority.
  ctx.store.transaction(() => {
    if (row.type === 'authority') {
      if (row.authority === null)
        throw new BadArgs(`${row.hrn} is this registry's root authority: it cannot be removed`);
      const below = ctx.store.descendants(row.hrn).length;
      if (below > 0)
        throw new BadArgs(`authority ${row.hrn} still holds ${below} records: remove them first`);
    }
    if (!ctx.store.remove(row.id)) throw new SearchFailed(`Record not found: ${row.hrn}`);
  });
  return 1;
}
