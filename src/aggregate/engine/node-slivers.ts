/**
 * What the node API reads and writes: the slivers one node must run (GetSlivers) and what the
 * node reports back (ReportNodeStatus). Plain data; the wire format is src/aggregate/node-api.ts.
 */
import { Xrn } from '../../credentials/xrn.js';
import type { RealizedState } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { isSilent } from './node-health.js';
import { floorSeconds, requireDate } from './time.js';
import type { LeaseInfo, NodeRef, SliceUser, SliverInfo } from './types.js';
import { sliverIdOf } from './urns.js';
import { leaseInfo, nodeRef, sliverInfo } from './views.js';

/** How long a node's reports are kept (the reliability window), and at most how many per node. */
export const NODE_REPORT_KEEP = { days: 7, count: 7 * 24 * 60 } as const;

/** One sliver as its node must realize it. */
export interface NodeSliver {
  info: SliverInfo;
  sliceHrn: string;
  users: SliceUser[];
}

export interface NodeSlivers {
  node: NodeRef;
  /** Changes whenever anything here changes (see the store's node_generations). */
  generation: number;
  /** The node's provisioned, unexpired slivers, oldest first (allocated ones are not run). */
  slivers: NodeSliver[];
  /** The node's live leases, when it is exclusive (reservable); empty otherwise. */
  leases: LeaseInfo[];
}

/** The slivers of node `nodeId` at `now`, read in one snapshot. */
export function nodeSlivers(ctx: EngineContext, nodeId: number, now: Date): NodeSlivers {
  const at = floorSeconds(requireDate(now, 'now'));
  const { store, policy } = ctx;
  return store.snapshot(() => {
    const node = store.nodeById(nodeId);
    if (!node) throw new Error(`node ${nodeId} is not in the store`);
    const users = new Map<number, SliceUser[]>();
    const slivers = store
      .liveSliversOnNode(nodeId, at)
      .filter((s) => s.allocationState === 'geni_provisioned')
      .map((s) => {
        let u = users.get(s.sliceId);
        if (!u) {
          u = store.sliceUsers(s.sliceId);
          users.set(s.sliceId, u);
        }
        return { info: sliverInfo(ctx, s, at), sliceHrn: Xrn.fromUrn(s.sliceUrn).hrn, users: u };
      });
    return {
      node: nodeRef(node),
      generation: store.nodeGeneration(nodeId),
      slivers,
      leases: node.exclusive
        ? store.liveLeasesOnNode(nodeId, at).map((l) => leaseInfo(policy.authority, l, node))
        : [],
    };
  });
}

/** One sliver line of a node's report. */
export interface SliverReportInput {
  sliverUrn: string;
  state: RealizedState;
  error?: string;
  cpuSeconds?: number;
  memoryBytes?: number;
  bytesIn?: number;
  bytesOut?: number;
  packetsIn?: number;
  packetsOut?: number;
}

export interface NodeReportInput {
  loadAverage: number;
  memoryTotal: number;
  memoryFree: number;
  uptime: number;
  slivers: readonly SliverReportInput[];
}

export interface NodeReportOutcome {
  /** The URNs of lines about slivers that are not (or no longer) on this node. */
  unknown: string[];
  /**
   * The node was unmanaged or silent before this report: it is available again (or managed
   * for the first time), so a cached advertisement is stale.
   */
  cameBack: boolean;
}

/**
 * Store node `nodeId`'s report at `now`; the first one makes the node managed (see
 * node-health.ts). Lines about slivers that are not (or no longer) on this node are kept in
 * the report's history but change no sliver's realized state.
 */
export function recordNodeReport(
  ctx: EngineContext,
  nodeId: number,
  report: NodeReportInput,
  now: Date,
): NodeReportOutcome {
  const at = floorSeconds(requireDate(now, 'now'));
  const { store, policy } = ctx;
  // Scoped to the node: reports of many nodes, and Allocates elsewhere, run side by side.
  return store.transaction(() => {
    store.lockScope({ nodeIds: [nodeId] });
    const before = store.nodeManaged(nodeId);
    const cameBack = !before || isSilent(before, at);
    const unknown: string[] = [];
    const lines = report.slivers.flatMap((s) => {
      let id: number | undefined;
      try {
        id = sliverIdOf(policy.authority, Xrn.fromUrn(s.sliverUrn));
      } catch {
        id = undefined;
      }
      const sliver = id === undefined ? undefined : store.sliverById(id);
      if (!sliver || sliver.nodeId !== nodeId) {
        unknown.push(s.sliverUrn);
        return [];
      }
      return [
        {
          sliverId: sliver.id,
          state: s.state,
          error: s.error ?? null,
          cpuSeconds: s.cpuSeconds ?? null,
          memoryBytes: s.memoryBytes ?? null,
          bytesIn: s.bytesIn ?? null,
          bytesOut: s.bytesOut ?? null,
          packetsIn: s.packetsIn ?? null,
          packetsOut: s.packetsOut ?? null,
        },
      ];
    });
    store.recordNodeReport(
      {
        nodeId,
        at,
        loadAverage: report.loadAverage,
        memoryTotal: report.memoryTotal,
        memoryFree: report.memoryFree,
        uptime: report.uptime,
        slivers: report.slivers.map((s) => ({ ...s })),
      },
      lines,
      NODE_REPORT_KEEP,
    );
    return { unknown, cameBack };
  }, 'scoped');
}
