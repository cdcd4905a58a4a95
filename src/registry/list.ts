import { SearchFailed } from '../faults.js';
import { authorize, credentialStrings } from '../credentials/authorize.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { readName } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { toWire } from './records.js';

/**
 * List(xrn, creds, options): the records directly under authority `xrn`, or all below it with
 * `options.recursive` (or a name ending in `*`). sfi sends its whole option object: only
 * `recursive` is read.
 */
export function list(
  ctx: RegistryContext,
  call: Call,
  xrn: XmlRpcValue,
  creds: XmlRpcValue,
  options: XmlRpcValue,
): XmlRpcStruct[] {
  authorize({
    credentials: credentialStrings(creds),
    operation: 'list',
    peerKey: call.peerKey,
    now: call.now,
    verifier: ctx.verifier,
  });
  let text = typeof xrn === 'string' ? xrn.trim() : xrn;
  let recursive = isStruct(options) && options['recursive'] === true;
  if (typeof text === 'string' && text.endsWith('*')) {
    recursive = true;
    text = text.replace(/\.?\*$/, '');
  }
  const { hrn } = readName(text);
  if (!ctx.store.get(hrn, 'authority')) {
    throw new SearchFailed(`Missing authority: ${hrn} is not an authority of this registry`);
  }
  const rows = recursive ? ctx.store.descendants(hrn) : ctx.store.children(hrn);
  return rows.map((r) => toWire(ctx.store, r));
}

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
  );
}
