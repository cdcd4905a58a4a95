/**
 * The engine's answers, built from store rows: what Describe, Status and the manifests show.
 */
import type {
  AggregateStore,
  LeaseRow,
  NodeRow,
  SliceRow,
  SliverRow,
} from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { shownOperationalState, type ShownState } from './operational-state.js';
import { toPortRange } from './ports.js';
import { resolveForNode } from './tags.js';
import type {
  AllocationState,
  LeaseInfo,
  NodeRef,
  OperationalState,
  SliceInfo,
  SliverInfo,
  SliverStatus,
  SliverUsage,
} from './types.js';
import { sliverUrn } from './urns.js';

export function nodeRef(node: NodeRow): NodeRef {
  return {
    hostname: node.hostname,
    urn: node.urn,
    hrn: node.hrn,
    site: node.siteLoginBase,
    exclusive: node.exclusive,
    hardwareType: node.hardwareType,
  };
}

export function sliceInfo(store: AggregateStore, slice: SliceRow): SliceInfo {
  return {
    urn: slice.urn,
    loginName: slice.loginName,
    created: slice.created,
    expires: slice.expires,
    shutdown: slice.shutdown,
    users: store.sliceUsers(slice.id),
  };
}

export function leaseInfo(authority: string, lease: LeaseRow, node: NodeRow): LeaseInfo {
  return {
    sliceUrn: lease.sliceUrn,
    hostname: node.hostname,
    componentId: node.urn,
    sliverUrn: sliverUrn(authority, lease.sliverId),
    kind: lease.kind,
    start: lease.start,
    end: lease.end,
  };
}

function requireNodeById(store: AggregateStore, id: number): NodeRow {
  const node = store.nodeById(id);
  // Slivers reference nodes with ON DELETE RESTRICT: a missing node is a damaged database.
  if (!node) throw new Error(`node ${id} of a sliver is missing from the store`);
  return node;
}

/** The operational state the sliver shows: see operational-state.ts (managed nodes only). */
function shown(store: AggregateStore, sliver: SliverRow): ShownState {
  const managed = store.nodeManaged(sliver.nodeId);
  return shownOperationalState(
    sliver,
    managed,
    managed ? store.realizedSliver(sliver.id) : undefined,
  );
}

/** Everything a manifest says about the sliver (read now: leases that ended are left out). */
export function sliverInfo(ctx: EngineContext, sliver: SliverRow, now: Date): SliverInfo {
  const { store, policy } = ctx;
  const node = requireNodeById(store, sliver.nodeId);
  const op = shown(store, sliver);
  return {
    urn: sliverUrn(policy.authority, sliver.id),
    id: sliver.id,
    clientId: sliver.clientId,
    sliceUrn: sliver.sliceUrn,
    loginName: sliver.loginName,
    node: nodeRef(node),
    allocationState: sliver.allocationState,
    operationalState: op.state,
    ...(op.error === undefined ? {} : { error: op.error }),
    desiredState: sliver.desiredState,
    created: sliver.created,
    expires: sliver.expires,
    exclusive: sliver.exclusive,
    cpuShare: sliver.cpuShare,
    attributes: resolveForNode(store, node.id, sliver.attributes),
    initscripts: sliver.initscripts,
    ports: store.portsOfSliver(sliver.id).map(toPortRange),
    leases: store
      .liveLeasesOfSliver(sliver.id, now)
      .map((l) => leaseInfo(policy.authority, l, node)),
  };
}

export function sliverStatus(
  ctx: EngineContext,
  sliver: SliverRow,
  override: {
    allocationState?: AllocationState;
    operationalState?: OperationalState;
    expires?: Date;
    error?: string;
  } = {},
): SliverStatus {
  const node = requireNodeById(ctx.store, sliver.nodeId);
  const op: ShownState =
    override.operationalState === undefined
      ? shown(ctx.store, sliver)
      : { state: override.operationalState };
  const error = override.error ?? op.error;
  return {
    urn: sliverUrn(ctx.policy.authority, sliver.id),
    clientId: sliver.clientId,
    hostname: node.hostname,
    componentId: node.urn,
    allocationState: override.allocationState ?? sliver.allocationState,
    operationalState: op.state,
    expires: override.expires ?? sliver.expires,
    ...(error === undefined ? {} : { error }),
  };
}

const USAGE_COUNTERS = [
  'bytesIn',
  'bytesOut',
  'packetsIn',
  'packetsOut',
  'cpuSeconds',
  'memoryBytes',
] as const;

/**
 * The counters the sliver's node last reported (ReportNodeStatus), or undefined when it
 * reported none: always so on a node that never reports (unmanaged).
 */
export function sliverUsage(store: AggregateStore, sliverId: number): SliverUsage | undefined {
  const realized = store.realizedSliver(sliverId);
  if (!realized) return undefined;
  const counters = USAGE_COUNTERS.flatMap((k) => {
    const v = realized[k];
    return v === null ? [] : [[k, v] as const];
  });
  if (counters.length === 0) return undefined;
  return { ...Object.fromEntries(counters), reported: realized.reported };
}
