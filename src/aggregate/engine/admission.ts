/**
 * Admission control: may this slice have a sliver on this node now? A Sirius-like broker over
 * PlanetLab nodes:
 *
 *  - a node that is not booted takes nothing (InsufficientNodes), nor does a managed node that
 *    has not reported for three report intervals (node-health.ts; unmanaged nodes never are);
 *  - capacity: at most `max_slivers` live slivers, and the CPU shares they ask (attribute
 *    `cpu_share`, default 1) within the node's pool (InsufficientNodes);
 *  - one sliver per slice per node: a second one is refused with AlreadyExists, not merged,
 *    so a repeated Allocate never silently changes a sliver the slice already has;
 *  - an exclusive (reservable) node is used by one slice at a time. Who holds it when is kept
 *    as leases: a `reservation` is a slot the slice asked for (RSpec `<lease>`, in granularity
 *    slots); a sliver asked without reservations gets a `hold` for its whole life instead.
 *    A request whose slots (or, without slots, whose life) overlap another slice's lease is
 *    refused (Refused), naming the holder and the time;
 *  - ports: a port of one protocol belongs to at most one slice per node (Refused).
 *
 * Every check runs inside the caller's write transaction, on state read in that transaction:
 * two concurrent Allocates are serialised by SQLite and the second sees the first's sliver.
 */
import { AlreadyExists, InsufficientNodes, Refused, type GeniFault } from '../../faults.js';
import type {
  AggregateStore,
  LeaseRow,
  NodeRow,
  PortRow,
  SliverRow,
} from '../../store/aggregate-store.js';
import { isSilent } from './node-health.js';
import { formatPorts, portConflict } from './ports.js';
import { show } from './time.js';
import type { PortRange } from './types.js';
import { sliverUrn } from './urns.js';

export type FaultClass = new (message: string) => GeniFault;

/** A refused request for one node (or another part of a request), with its fault. */
export interface Problem {
  fault: FaultClass;
  message: string;
}

/**
 * Throw the problems as one fault: the first problem's class, every message (so the caller can
 * fix them all at once). Does nothing when there is none.
 */
export function throwProblems(problems: readonly Problem[]): void {
  const [first] = problems;
  if (!first) return;
  if (problems.length === 1) throw new first.fault(first.message);
  throw new first.fault(
    `${problems.length} problems, nothing was changed: ${problems.map((p) => p.message).join('; ')}`,
  );
}

export interface Interval {
  start: Date;
  end: Date;
}

export const overlaps = (a: Interval, b: Interval): boolean => a.start < b.end && b.start < a.end;

/** What the node carries now: live slivers, leases ending later, port reservations. */
export interface NodeState {
  node: NodeRow;
  /** A managed node's last report when it has been silent too long (node-health.ts). */
  silentSince?: Date;
  slivers: SliverRow[];
  leases: LeaseRow[];
  ports: PortRow[];
}

/** Read the node's state (inside the caller's transaction). */
export function nodeState(store: AggregateStore, node: NodeRow, now: Date): NodeState {
  const managed = store.nodeManaged(node.id);
  return {
    node,
    ...(managed && isSilent(managed, now) ? { silentSince: managed.lastReport } : {}),
    slivers: store.liveSliversOnNode(node.id, now),
    leases: store.liveLeasesOnNode(node.id, now),
    ports: store.portsOnNode(node.id, now),
  };
}

/** A prospective sliver. */
export interface Candidate {
  sliceId: number;
  sliceUrn: string;
  clientId: string;
  /** What the request said about exclusivity (undefined: nothing). */
  exclusive: boolean | undefined;
  cpuShare: number;
  /** On an exclusive node without reservations: the time the sliver would hold it. */
  hold: Interval;
  /** Slots asked for on this node (rounded to the granularity). */
  reservations: readonly Interval[];
  ports: readonly PortRange[];
}

/** Another slice's lease overlapping `wanted`, if any. */
export function leaseConflict(
  leases: readonly LeaseRow[],
  sliceId: number,
  wanted: Interval,
): LeaseRow | undefined {
  return leases.find((l) => l.sliceId !== sliceId && overlaps(l, wanted));
}

/** "node X is held exclusively by slice Y until T" / "… is reserved by slice Y from A to B". */
export function describeLease(lease: LeaseRow): string {
  return lease.kind === 'hold'
    ? `node ${lease.hostname} is held exclusively by slice ${lease.sliceUrn} until ${show(lease.end)}`
    : `node ${lease.hostname} is reserved by slice ${lease.sliceUrn} from ${show(lease.start)} to ${show(lease.end)}`;
}

/**
 * Check a candidate against the node's state.
 * @returns the first reason to refuse it, or undefined if the node can take it.
 */
export function admit(state: NodeState, c: Candidate, authority: string): Problem | undefined {
  const { node } = state;
  const h = node.hostname;
  if (node.bootState !== 'boot') {
    return {
      fault: InsufficientNodes,
      message: `node ${h} is not available: its boot state is '${node.bootState}' (only booted nodes take slivers); choose another node`,
    };
  }
  if (state.silentSince) {
    return {
      fault: InsufficientNodes,
      message: `node ${h} is not available: node has not reported since ${show(state.silentSince)} (its node manager is silent); choose another node`,
    };
  }
  if (c.exclusive === true && !node.exclusive) {
    return {
      fault: Refused,
      message: `node ${h} is shared and cannot be given exclusively to '${c.clientId}'; request it without exclusive="true", or choose an exclusive node`,
    };
  }
  const mine = state.slivers.find((s) => s.sliceId === c.sliceId);
  if (mine) {
    return {
      fault: AlreadyExists,
      message: `slice ${c.sliceUrn} already has sliver ${sliverUrn(authority, mine.id)} (client_id '${mine.clientId}') on node ${h}: one sliver per slice per node; use that sliver or delete it first`,
    };
  }
  if (state.slivers.length >= node.maxSlivers) {
    return {
      fault: InsufficientNodes,
      message: `node ${h} is full: it hosts ${state.slivers.length} slivers, its maximum; choose another node`,
    };
  }
  const used = state.slivers.reduce((sum, s) => sum + s.cpuShare, 0);
  if (used + c.cpuShare > node.cpuShares) {
    return {
      fault: InsufficientNodes,
      message: `node ${h} has ${Math.max(0, node.cpuShares - used)} of ${node.cpuShares} CPU shares free and '${c.clientId}' asks for ${c.cpuShare} (attribute cpu_share); ask for fewer or choose another node`,
    };
  }
  if (node.exclusive) {
    const wanted = c.reservations.length > 0 ? c.reservations : [c.hold];
    for (const w of wanted) {
      const held = leaseConflict(state.leases, c.sliceId, w);
      if (held) {
        return {
          fault: Refused,
          message: `${describeLease(held)}; ${c.reservations.length > 0 ? 'ask for a slot outside that time' : 'ask for a lease (a time slot) outside that time, or a shorter lifetime'}, or choose another node`,
        };
      }
    }
  }
  for (const wanted of c.ports) {
    const held = portConflict(state.ports, c.sliceId, wanted);
    if (held) {
      return {
        fault: Refused,
        message: `port ${formatPorts(wanted)} on node ${h} is held by slice ${held.sliceUrn} (${formatPorts(held)}); choose other ports or another node`,
      };
    }
  }
  return undefined;
}

/**
 * The order for placing unbound slivers: emptiest first (by share of capacity), then load,
 * then name. Each node's share is computed once, not at each comparison.
 */
export function placementOrder(nodes: readonly { node: NodeRow; slivers: number }[]): NodeRow[] {
  return nodes
    .map(({ node, slivers }) => ({
      node,
      fill: node.maxSlivers === 0 ? 1 : slivers / node.maxSlivers,
    }))
    .sort(
      (a, b) =>
        a.fill - b.fill ||
        a.node.loadAverage - b.node.loadAverage ||
        (a.node.hostname < b.node.hostname ? -1 : a.node.hostname > b.node.hostname ? 1 : 0),
    )
    .map((x) => x.node);
}
