import { SearchFailed } from '../faults.js';
import { authorize, credentialStrings } from '../credentials/authorize.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { readName, readNames } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { toWire } from './records.js';

/**
 * Resolve(xrns, creds, options): the records named. Any valid credential allowing `resolve`
 * will do, whatever its target (sfi resolves a slice and its researchers with the user's own
 * credential). A single URN filters by its type; an HRN matches every type.
 */
export function resolve(
  ctx: RegistryContext,
  call: Call,
  xrns: XmlRpcValue,
  creds: XmlRpcValue,
): XmlRpcStruct[] {
  authorize({
    credentials: credentialStrings(creds),
    operation: 'resolve',
    peerKey: call.peerKey,
    now: call.now,
    verifier: ctx.verifier,
  });
  const names = readNames(xrns);
  const out: XmlRpcStruct[] = [];
  for (const n of names) {
    const { hrn, type } = readName(n);
    const rows = ctx.store.findByHrn(hrn).filter((r) => !type || r.type === type.split('+')[0]);
    out.push(...rows.map((r) => toWire(ctx.store, r)));
  }
  if (out.length === 0) throw new SearchFailed(`Record not found: ${JSON.stringify(names)}`);
  return out;
}
