/**
 * GENI AM API v2, served on its own path (advertised in `geni_api_versions`): the same engine,
 * v2's call shapes. CreateSliver allocates and provisions at once.
 */
import { AlreadyExists, SearchFailed } from '../../faults.js';
import { matchRspecVersion } from '../../rspec/version.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../xmlrpc/value.js';
import type { AmCaller } from '../authorize-am.js';
import type { AmContext } from '../context.js';
import { readOptions, type AmOptions } from '../options.js';
import { parseRenewTime } from '../renew-time.js';
import { buildAdvertisement } from '../v3/list-resources.js';
import { authorizeAm } from '../authorize-am.js';
import { authorizeSlice, manifestOf, readSliceUrn } from '../v3/common.js';
import { allocate } from '../v3/slice-ops.js';
import type { SliverStatus } from '../engine/types.js';
import { usageStruct } from '../mapping.js';

/** ListResources(creds, options): the ad, or with `geni_slice_urn` the slice's manifest. */
export function listResourcesV2(
  ctx: AmContext,
  caller: AmCaller,
  creds: XmlRpcValue,
  options: AmOptions,
): string {
  matchRspecVersion(options.rspecVersion);
  if (options.sliceUrn) {
    const slice = readSliceUrn(options.sliceUrn);
    authorizeSlice(ctx, caller, creds, 'getsliceresources', options, slice);
    return manifestOf(ctx, ctx.engine.describe([slice], caller.now), caller.now);
  }
  authorizeAm(caller, {
    credentials: creds,
    operation: 'listnodes',
    speakingFor: options.speakingFor,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  return buildAdvertisement(ctx, caller.now, options);
}

function liveSlivers(ctx: AmContext, slice: string, now: Date): SliverStatus[] {
  try {
    return ctx.engine.status([slice], now).slivers;
  } catch (e) {
    if (e instanceof SearchFailed) return [];
    throw e;
  }
}

/** CreateSliver(slice_urn, creds, rspec, users, options) → the manifest. */
export function createSliver(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  rspec: XmlRpcValue,
  users: XmlRpcValue,
  options: AmOptions,
): string {
  const slice = readSliceUrn(sliceArg);
  const cred = authorizeSlice(ctx, caller, creds, 'createsliver', options, slice);
  if (liveSlivers(ctx, slice, caller.now).length > 0) {
    throw new AlreadyExists(
      `slice ${slice} already has slivers here: use RenewSliver, or DeleteSliver first`,
    );
  }
  const withUsers = { ...options, users: readOptions({ geni_users: users ?? [] }).users };
  allocate(ctx, caller, slice, creds, rspec, withUsers);
  const d = ctx.engine.provision([slice], {
    now: caller.now,
    credentialExpires: cred.expires,
    ...(withUsers.users ? { users: withUsers.users } : {}),
  });
  return manifestOf(ctx, d, caller.now);
}

const V2_STATUS: Record<string, string> = {
  geni_ready: 'ready',
  geni_failed: 'failed',
  geni_configuring: 'configuring',
  geni_notready: 'configuring',
  geni_pending_allocation: 'configuring',
};

/** SliverStatus(slice_urn, creds, options) → {geni_urn, geni_status, geni_resources}. */
export function sliverStatus(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): XmlRpcStruct {
  const slice = readSliceUrn(sliceArg);
  authorizeSlice(ctx, caller, creds, 'sliverstatus', options, slice);
  const s = ctx.engine.status([slice], caller.now);
  // As the reference aggregate: a slice with nothing here is not "ready" but unknown (the GENI
  // acceptance suite checks SliverStatus fails after DeleteSliver).
  if (s.slivers.length === 0) {
    throw new SearchFailed(
      `slice ${slice} has no slivers at this aggregate (none were created, or they were deleted or expired)`,
    );
  }
  const resources = s.slivers.map((v) => ({
    geni_urn: v.urn,
    geni_status: V2_STATUS[v.operationalState] ?? 'unknown',
    geni_error: v.error ?? '',
    ...(v.usage ? usageStruct(v.usage) : {}),
  }));
  const states = resources.map((r) => r.geni_status);
  const overall = states.includes('failed')
    ? 'failed'
    : states.includes('configuring') || states.includes('unknown')
      ? 'configuring'
      : 'ready';
  return { geni_urn: s.slice.urn, geni_status: overall, geni_resources: resources };
}

/** RenewSliver(slice_urn, creds, expiration, options) → true. */
export function renewSliver(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  when: XmlRpcValue,
  options: AmOptions,
): boolean {
  const slice = readSliceUrn(sliceArg);
  const cred = authorizeSlice(ctx, caller, creds, 'renewsliver', options, slice);
  ctx.engine.renew([slice], parseRenewTime(when, caller.now), {
    now: caller.now,
    credentialExpires: cred.expires,
    extendAlap: options.extendAlap,
  });
  return true;
}

/** DeleteSliver(slice_urn, creds, options) → true. */
export function deleteSliver(
  ctx: AmContext,
  caller: AmCaller,
  sliceArg: XmlRpcValue,
  creds: XmlRpcValue,
  options: AmOptions,
): boolean {
  const slice = readSliceUrn(sliceArg);
  authorizeSlice(ctx, caller, creds, 'deleteslice', options, slice);
  ctx.engine.delete([slice], caller.now);
  ctx.ads.invalidate();
  return true;
}
