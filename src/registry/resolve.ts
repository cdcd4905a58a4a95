import { RpcError, SearchFailed } from '../faults.js';
import { PeerFault } from '../peers/call-peer.js';
import type { PeerRoute } from '../peers/peer-store.js';
import { mayForward, peerFor } from '../peers/route.js';
import type { XmlRpcStruct, XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';
import { authorizeCall, readName, readNames } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { toWire } from './records.js';

/**
 * Resolve(xrns, creds, options): the records named. Any valid credential allowing `resolve`
 * will do, whatever its target (sfi resolves a slice and its researchers with the user's own
 * credential). A single URN filters by its type; an HRN matches every type.
 *
 * Names under a peer's HRN (the longest matching peer) are resolved by that peer's registry,
 * asked as this authority once the caller's credential has passed here. When every name goes
 * to one peer, its answer or fault is passed back as it came; mixed with other names, a peer's
 * SEARCHFAILED only means it holds none of them. A call from another authority is answered
 * here only (see {@link mayForward}).
 */
export function resolve(
  ctx: RegistryContext,
  call: Call,
  xrns: XmlRpcValue,
  creds: XmlRpcValue,
  options: XmlRpcValue,
): XmlRpcValue | Promise<XmlRpcValue> {
  const cred = authorizeCall(ctx, call, creds, 'resolve');
  const names = readNames(xrns);
  const routes = mayForward(cred.ownerGid) ? ctx.peerStore.routes() : [];
  const local: string[] = [];
  const remote = new Map<PeerRoute, string[]>();
  for (const n of names) {
    const peer =
      routes.length > 0 ? peerFor(readName(n).hrn, ctx.config.authority, routes) : undefined;
    if (peer) remote.set(peer, [...(remote.get(peer) ?? []), n]);
    else local.push(n);
  }
  const out: XmlRpcValue[] = [];
  for (const n of local) {
    const { hrn, type } = readName(n);
    const rows = ctx.store.findByHrn(hrn).filter((r) => !type || r.type === type.split('+')[0]);
    out.push(...rows.map((r) => toWire(ctx.store, r)));
  }
  const notFound = () => new SearchFailed(`Record not found: ${JSON.stringify(names)}`);
  if (remote.size === 0) {
    if (out.length === 0) throw notFound();
    return out;
  }

  const forward = (peer: PeerRoute, peerNames: string[]) =>
    ctx.forwarder.call(
      peer,
      'Resolve',
      [
        typeof xrns === 'string' ? peerNames[0]! : peerNames,
        ctx.forwarder.selfCredential(call.now),
        forwardedOptions(options),
      ],
      call.now,
    );
  if (local.length === 0 && remote.size === 1) {
    const [peer, peerNames] = [...remote][0]!;
    return forward(peer, peerNames);
  }
  return (async () => {
    const answers = await Promise.allSettled([...remote].map(([p, n]) => forward(p, n)));
    for (const [i, a] of answers.entries()) {
      if (a.status === 'rejected') {
        if (a.reason instanceof PeerFault && a.reason.fault === 'SEARCHFAILED') continue;
        throw a.reason;
      }
      if (!Array.isArray(a.value)) {
        const peer = [...remote.keys()][i]!;
        throw new RpcError(`peer ${peer.hrn} answered Resolve with something other than a list`);
      }
      out.push(...a.value);
    }
    if (out.length === 0) throw notFound();
    return out;
  })();
}

/** The caller's options, passed on to a peer as given (`{}` when there were none). */
export function forwardedOptions(options: XmlRpcValue): XmlRpcWritable {
  return isStruct(options) ? options : {};
}

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
  );
}
