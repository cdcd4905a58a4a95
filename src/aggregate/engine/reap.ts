/**
 * The reaper: allocations not provisioned in time, slivers past their expiry, leases that
 * ended, and slices left with nothing, all go; their nodes, CPU shares and ports return to
 * the pool.
 *
 * Allocate, Provision and Renew also reap inside their own transaction before deciding, so
 * nothing lapsed ever stands in a live request's way, whether or not a timer ran.
 */
import type { EngineContext } from './context.js';
import { floorSeconds } from './time.js';
import type { StoredAllocationState } from '../../store/aggregate-store.js';
import { sliverUrn } from './urns.js';

export interface ReapedSliver {
  urn: string;
  sliceUrn: string;
  clientId: string;
  hostname: string;
  /** The state it was in: `geni_allocated` ones were never provisioned. */
  allocationState: StoredAllocationState;
  expires: Date;
}

export interface ReapResult {
  slivers: ReapedSliver[];
  /** Leases removed because their time was over (a reaped sliver's leases go with it). */
  endedLeases: number;
  /** URNs of the slices removed: expired, with no sliver left, and not shut down. */
  slices: string[];
}

export const isEmptyReap = (r: ReapResult): boolean =>
  r.slivers.length === 0 && r.endedLeases === 0 && r.slices.length === 0;

/** Reap inside the caller's transaction. */
export function reapLapsed(ctx: EngineContext, now: Date): ReapResult {
  const { store, policy } = ctx;
  const slivers = store.lapsedSlivers(now).map((v) => {
    // Its leases and port reservations go with it (ON DELETE CASCADE).
    store.deleteSliver(v.id);
    return {
      urn: sliverUrn(policy.authority, v.id),
      sliceUrn: v.sliceUrn,
      clientId: v.clientId,
      hostname: v.hostname,
      allocationState: v.allocationState,
      expires: v.expires,
    };
  });
  const endedLeases = store.deleteEndedLeases(now);
  const slices = store.lapsedSlices(now).map((s) => {
    store.deleteSlice(s.id);
    return s.urn;
  });
  return { slivers, endedLeases, slices };
}

/** Remove everything that lapsed by `now`, in one transaction; returns what went. */
export function reap(ctx: EngineContext, now: Date): ReapResult {
  const at = floorSeconds(now);
  return ctx.store.transaction(() => reapLapsed(ctx, at));
}
