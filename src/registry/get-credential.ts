import { Forbidden } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { isHrnPrefix } from '../credentials/xrn.js';
import type { RecordRow } from '../store/registry-store.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, findRecord, issueRecordCredential, readName, readType } from './common.js';
import type { Call, RegistryContext } from './context.js';

/**
 * GetCredential(creds, xrn, type): a credential on a record for the caller, with the rights the
 * caller has on it:
 * - slice: `refresh, embed, bind, control, info` to its researchers and to PIs of an authority
 *   at or above it;
 * - authority: `authority, sa` to its PIs (and `ma` as well to this interface's own authority);
 * - user: `refresh, resolve, info` to that user and to PIs of an authority at or above it only
 *   (the Python SFA gives any caller a `refresh` credential on any user: not here).
 */
export function getCredential(
  ctx: RegistryContext,
  call: Call,
  creds: XmlRpcValue,
  xrn: XmlRpcValue,
  type: XmlRpcValue,
): string {
  const cred = authorizeCall(ctx, call, creds, 'getcredential');
  const name = readName(xrn);
  const record = findRecord(ctx, name.hrn, readType(type) ?? name.type);
  const caller = cred.ownerGid;
  const rights = rightsOn(ctx, caller.hrn, caller.type, record);
  if (rights.length === 0) {
    throw new Forbidden(`${caller.hrn} has no rights on ${record.type} ${record.hrn}`);
  }
  return issueRecordCredential(ctx, call, caller, record, Gid.fromPem(record.gid), rights);
}

/** Is `userHrn` a PI of an authority at or above `hrn`? */
function isPiAbove(ctx: RegistryContext, userHrn: string, hrn: string): boolean {
  const user = ctx.store.get(userHrn, 'user');
  if (!user) return false;
  return ctx.store.piAuthoritiesOf(user.id).some((a) => isHrnPrefix(a.hrn, hrn));
}

function rightsOn(
  ctx: RegistryContext,
  callerHrn: string,
  callerType: string,
  record: RecordRow,
): string[] {
  const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
  switch (record.type) {
    case 'slice': {
      const member = ctx.store.researchers(record.id).some((u) => same(u.hrn, callerHrn));
      return member || isPiAbove(ctx, callerHrn, record.hrn)
        ? ['refresh', 'embed', 'bind', 'control', 'info']
        : [];
    }
    case 'authority': {
      // This interface's own authority (its +sa GID), not an +am or +sm GID of the same name.
      if (callerType === 'authority' && same(callerHrn, ctx.config.authority))
        return ['authority', 'sa', 'ma'];
      return isPiAbove(ctx, callerHrn, record.hrn) ? ['authority', 'sa'] : [];
    }
    case 'user':
      return same(callerHrn, record.hrn) || isPiAbove(ctx, callerHrn, record.hrn)
        ? ['refresh', 'resolve', 'info']
        : [];
    case 'node':
      return isPiAbove(ctx, callerHrn, record.hrn) ? ['operator'] : [];
    default:
      return [];
  }
}
