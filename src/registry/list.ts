import { SearchFailed } from '../faults.js';
import { mayForward, peerFor } from '../peers/route.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, readName } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { toWire } from './records.js';
import { forwardedOptions } from './resolve.js';

/**
 * List(xrn, creds, options): the records directly under authority `xrn`, or all below it with
 * `options.recursive` (or a name ending in `*`). sfi sends its whole option object: only
 * `recursive` is read. An authority under a peer's HRN is listed by that peer's registry,
 * asked as this authority; its answer or fault is passed back as it came (not for a call from
 * another authority: see mayForward).
 */
export function list(
  ctx: RegistryContext,
  call: Call,
  xrn: XmlRpcValue,
  creds: XmlRpcValue,
  options: XmlRpcValue,
): XmlRpcValue | Promise<XmlRpcValue> {
  const cred = authorizeCall(ctx, call, creds, 'list');
  let text = typeof xrn === 'string' ? xrn.trim() : xrn;
  let recursive = isStruct(options) && options['recursive'] === true;
  if (typeof text === 'string' && text.endsWith('*')) {
    recursive = true;
    text = text.replace(/\.?\*$/, '');
  }
  const { hrn } = readName(text);
  const peer = mayForward(cred.ownerGid)
    ? peerFor(hrn, ctx.config.authority, ctx.peerStore.routes())
    : undefined;
  if (peer) {
    return ctx.forwarder.call(
      peer,
      'List',
      [xrn, ctx.forwarder.selfCredential(call.now), forwardedOptions(options)],
      call.now,
    );
  }
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
