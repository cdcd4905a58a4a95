import { BadArgs } from '../faults.js';
import { isUrn, Xrn } from '../credentials/xrn.js';
import type { RegistryContext } from './context.js';

/** The ids of the user records named (HRNs or URNs); BADARGS naming any that does not exist. */
export function userIds(ctx: RegistryContext, names: readonly string[], field: string): number[] {
  return names.map((n) => {
    const hrn = isUrn(n) ? Xrn.fromUrn(n).hrn : n;
    const row = ctx.store.get(hrn, 'user');
    if (!row)
      throw new BadArgs(`${field}: no user ${n} in this registry (register the user first)`);
    return row.id;
  });
}
