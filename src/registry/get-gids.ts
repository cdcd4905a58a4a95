import { SearchFailed } from '../faults.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, readName, readNames } from './common.js';
import type { Call, RegistryContext } from './context.js';

/** GetGids(xrns, creds) → [{hrn, type, gid}]. Needs `getgids` (control, ma, operator, authority). */
export function getGids(
  ctx: RegistryContext,
  call: Call,
  xrns: XmlRpcValue,
  creds: XmlRpcValue,
): XmlRpcStruct[] {
  authorizeCall(ctx, call, creds, 'getgids');
  const names = readNames(xrns);
  const out: XmlRpcStruct[] = [];
  for (const n of names) {
    const { hrn, type } = readName(n);
    for (const r of ctx.store.findByHrn(hrn)) {
      if (!type || r.type === type.split('+')[0])
        out.push({ hrn: r.hrn, type: r.type, gid: r.gid });
    }
  }
  if (out.length === 0) throw new SearchFailed(`Record not found: ${JSON.stringify(names)}`);
  return out;
}
