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

/** What a scoped transaction holds (slice-scope.ts): it reaps only there. */
export interface Held {
  nodes: readonly number[];
  loginNames: readonly string[];
}

/**
 * Reap inside the caller's transaction: everything, or, in a scoped transaction, only what it
 * holds: the slivers and leases on its nodes, and its slices; the rest is the reaper's.
 */
export function reapLapsed(ctx: EngineContext, now: Date, held?: Held): ReapResult {
  const { store, policy } = ctx;
  const onNodes = held?.nodes;
  const lapsed =
    onNodes === undefined
      ? store.lapsedSlivers(now)
      : onNodes.flatMap((id) => store.lapsedSlivers(now, id));
  const slivers = lapsed.map((v) => {
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
  const endedLeases =
    onNodes === undefined
      ? store.deleteEndedLeases(now)
      : onNodes.reduce((n, id) => n + store.deleteEndedLeases(now, id), 0);
  const lapsedSlices = held
    ? held.loginNames.flatMap((name) => store.lapsedSlices(now, name))
    : store.lapsedSlices(now);
  const slices = lapsedSlices.map((s) => {
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
