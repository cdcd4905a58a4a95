/**
 * Describe and Status: read-only views of slivers selected by slice and/or sliver URNs.
 */
import type { EngineContext } from './context.js';
import { selectSlivers } from './select-slivers.js';
import { floorSeconds, requireDate } from './time.js';
import type { SliceDescription, SliceStatus } from './types.js';
import { sliceInfo, sliverInfo, sliverStatus, sliverUsage } from './views.js';

/**
 * Everything a manifest needs about the selected slivers: node, login name, resolved
 * attributes, ports, leases, and the slice's users. A slice with no live sliver gives an
 * empty list.
 * @throws SearchFailed / BadArgs as selectSlivers.
 */
export function describe(ctx: EngineContext, urns: readonly string[], now: Date): SliceDescription {
  const at = floorSeconds(requireDate(now, 'now'));
  // A read transaction would do, but one snapshot for all the reads is what matters.
  return ctx.store.snapshot(() => {
    const { slice, slivers } = selectSlivers(ctx, urns, at);
    return {
      slice: sliceInfo(ctx.store, slice),
      slivers: slivers.map((s) => sliverInfo(ctx, s, at)),
    };
  });
}

/**
 * The allocation and operational state and expiry of the selected slivers, and the counters
 * each one's node last reported (managed nodes only).
 * @throws SearchFailed / BadArgs as selectSlivers.
 */
export function status(ctx: EngineContext, urns: readonly string[], now: Date): SliceStatus {
  const at = floorSeconds(requireDate(now, 'now'));
  return ctx.store.snapshot(() => {
    const { slice, slivers } = selectSlivers(ctx, urns, at);
    return {
      slice: sliceInfo(ctx.store, slice),
      slivers: slivers.map((s) => {
        const usage = sliverUsage(ctx.store, s.id);
        return { ...sliverStatus(ctx, s), ...(usage ? { usage } : {}) };
      }),
    };
  });
}
