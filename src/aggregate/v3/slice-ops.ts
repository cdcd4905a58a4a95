/**
 * The v3 operations on a slice: Describe, Allocate, Provision, PerformOperationalAction, Status,
 * Renew, Delete, Shutdown. Each checks the credential for the slice, calls the engine, and
 * answers the struct the AM API v3 defines.
 */
import { SearchFailed } from '../../faults.js';
import { parseRequest } from '../../rspec/request.js';
import { matchRspecVersion } from '../../rspec/version.js';
import { writeManifest } from '../../rspec/manifest.js';
import { Xrn } from '../../credentials/xrn.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../xmlrpc/value.js';
import type { AmCaller } from '../authorize-am.js';
import type { AmContext } from '../context.js';
import { sliverStruct, toAllocationRequest } from '../mapping.js';
import type { AmOptions } from '../options.js';
import { parseRenewTime } from '../renew-time.js';
import {
  authorizeSlice,
  isOurs,
  manifestOf,
  onSlivers,
  readSliceUrn,
  readUrns,
  sliceOf,
} from './common.js';

const granularity = (ctx: AmContext) => Math.round(ctx.engine.policy.leaseGranularityMs / 1000);

/** Describe(urns, creds, options) → {geni_rspec, geni_urn, geni_slivers}. */
export function describe(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): XmlRpcStruct {
  const urns = readUrns(urnsArg);
  matchRspecVersion(options.rspecVersion);
  const onlySlice = urns.length === 1 && Xrn.fromUrn(urns[0]!).type === 'slice';
  const slice = onlySlice ? urns[0]! : sliceOf(ctx, urns, caller.now);
  authorizeSlice(ctx, caller, creds, 'getsliceresources', options, slice);
  try {
    const d = ctx.engine.describe(urns, caller.now);
    return {
      geni_rspec: manifestOf(ctx, d, caller.now),
      geni_urn: d.slice.urn,
      geni_slivers: d.slivers.map(sliverStruct),
    };
  } catch (e) {
    // A slice with no live slivers here: an empty manifest, as the AM API allows.
    if (!(e instanceof SearchFailed) || !onlySlice) throw e;
    const empty = writeManifest({
      nodes: [],
      leases: [],
      generated: caller.now,
      expires: caller.now,
    });
    return { geni_rspec: empty, geni_urn: slice, geni_slivers: [] };
  }
}

/** Allocate(slice_urn, creds, rspec, options) → {geni_rspec, geni_slivers} (geni_allocated). */
export function allocate(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  rspec: XmlRpcValue,
  options: AmOptions,
): XmlRpcStruct {
  const slice = readSliceUrn(sliceArg);
  const cred = authorizeSlice(ctx, caller, creds, 'createsliver', options, slice);
  const request = toAllocationRequest(
    parseRequest(typeof rspec === 'string' ? rspec : ''),
    (id) => isOurs(ctx, id),
    granularity(ctx),
  );
  const limit = options.endTime && options.endTime < cred.expires ? options.endTime : cred.expires;
  const result = ctx.engine.allocate(slice, request, {
    now: caller.now,
    expires: limit,
    ...(options.users ? { users: options.users } : {}),
  });
  ctx.ads.invalidate();
  const d = { slice: result.slice, slivers: result.slivers };
  return {
    geni_rspec: manifestOf(ctx, d, caller.now),
    geni_slivers: result.slivers.map(sliverStruct),
  };
}

/** Provision(urns, creds, options) → {geni_rspec, geni_slivers} (geni_provisioned). */
export function provision(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): XmlRpcStruct {
  matchRspecVersion(options.rspecVersion);
  const { urns, cred } = onSlivers(ctx, caller, urnsArg, creds, 'createsliver', options);
  const d = ctx.engine.provision(urns, {
    now: caller.now,
    credentialExpires: cred.expires,
    ...(options.endTime ? { endTime: options.endTime } : {}),
    ...(options.users ? { users: options.users } : {}),
  });
  ctx.ads.invalidate();
  return { geni_rspec: manifestOf(ctx, d, caller.now), geni_slivers: d.slivers.map(sliverStruct) };
}

/** PerformOperationalAction(urns, creds, action, options) → [sliver]. */
export function performOperationalAction(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  action: XmlRpcValue,
  options: AmOptions,
): XmlRpcValue[] {
  const { urns } = onSlivers(ctx, caller, urnsArg, creds, 'createsliver', options);
  const out = ctx.engine.performAction(urns, typeof action === 'string' ? action : '', {
    now: caller.now,
    ...(options.users ? { users: options.users } : {}),
  });
  return out.map(sliverStruct);
}

/** Status(urns, creds, options) → {geni_urn, geni_slivers}. */
export function status(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): XmlRpcStruct {
  const { urns } = onSlivers(ctx, caller, urnsArg, creds, 'sliverstatus', options);
  const s = ctx.engine.status(urns, caller.now);
  return { geni_urn: s.slice.urn, geni_slivers: s.slivers.map(sliverStruct) };
}

/** Renew(urns, creds, expiration, options) → [sliver]. */
export function renew(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  when: XmlRpcValue,
  options: AmOptions,
): XmlRpcValue[] {
  const { urns, cred } = onSlivers(ctx, caller, urnsArg, creds, 'renewsliver', options);
  const requested = parseRenewTime(when, caller.now);
  const s = ctx.engine.renew(urns, requested, {
    now: caller.now,
    credentialExpires: cred.expires,
    bestEffort: options.bestEffort,
    extendAlap: options.extendAlap,
  });
  return s.slivers.map(sliverStruct);
}

/** Delete(urns, creds, options) → [sliver] (each geni_unallocated). */
export function deleteSlivers(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): XmlRpcValue[] {
  const { urns } = onSlivers(ctx, caller, urnsArg, creds, 'deleteslice', options);
  const out = ctx.engine.delete(urns, caller.now);
  ctx.ads.invalidate();
  return out.map(sliverStruct);
}

/** Shutdown(slice_urn, creds, options) → true. */
export function shutdown(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): boolean {
  const slice = readSliceUrn(sliceArg);
  const cred = authorizeSlice(ctx, caller, creds, 'shutdown', options, slice);
  ctx.engine.shutdown(slice, caller.now, cred.ownerUrn);
  ctx.ads.invalidate();
  return true;
}
