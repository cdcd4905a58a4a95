/**
 * Read-only overviews for operators (the web view): a node's history and slivers, and every
 * slice with its live slivers. Nothing here writes; each runs in one read transaction so that
 * what it shows is one state of the store.
 */
import type { NodeReportRow, NodeRow, NodeStatusRow } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { floorSeconds } from './time.js';
import type { SliceDescription, SliverStatus } from './types.js';
import { sliceInfo, sliverInfo, sliverStatus } from './views.js';

export interface NodeOverview {
  node: NodeRow;
  /** Its node manager's reports, oldest first (none for an unmanaged node). */
  reports: NodeReportRow[];
  /** What `sfa node status` recorded, oldest first. */
  statuses: NodeStatusRow[];
  /** Its live slivers, with their slice's URN. */
  slivers: (SliverStatus & { sliceUrn: string })[];
}

/** The node named `hostname` (any case) with its history and slivers; undefined if unknown. */
export function nodeOverview(
  ctx: EngineContext,
  hostname: string,
  now: Date,
): NodeOverview | undefined {
  const { store } = ctx;
  const at = floorSeconds(now);
  return store.snapshot(() => {
    const node = store.nodeByHostname(hostname);
    if (!node) return undefined;
    return {
      node,
      reports: store.nodeReports(node.id),
      statuses: store.nodeStatusHistory(node.id),
      slivers: store
        .liveSliversOnNode(node.id, at)
        .map((s) => ({ ...sliverStatus(ctx, s), sliceUrn: s.sliceUrn })),
    };
  });
}

/** Every slice the aggregate knows, with its live slivers (leases and ports included). */
export function listSliceDescriptions(ctx: EngineContext, now: Date): SliceDescription[] {
  const { store } = ctx;
  const at = floorSeconds(now);
  return store.snapshot(() =>
    store.slices().map((slice) => ({
      slice: sliceInfo(store, slice),
      slivers: store.liveSliversOfSlice(slice.id, at).map((s) => sliverInfo(ctx, s, at)),
    })),
  );
}
