/**
 * Allocate: reserve slivers (and lease slots) for a slice, all or nothing.
 *
 *  - Additive: a second Allocate adds slivers to the slice; it never removes the ones it omits.
 *  - All or nothing: every node is checked, inside one write transaction; if any is refused the
 *    transaction rolls back (the slice record too, if this call created it) and the fault lists
 *    every refused node.
 *  - Bound nodes (component id or name) are checked first, in request order; then unbound ones
 *    are placed on the least loaded node that admits them (shared nodes, or exclusive ones for
 *    `exclusive: true`), never on a node the slice already uses.
 *  - A lease names its node by URN, hostname or the client id of a node of the request; it must
 *    be on an exclusive node the slice has, or gets in this call, a sliver on.
 *  - New slivers are `geni_allocated` / `geni_pending_allocation` and lapse after the policy's
 *    allocation lifetime unless provisioned. On an exclusive node without reservations, the
 *    sliver's hold covers the life Provision would give it by default, so that Provision
 *    rarely finds the node taken meanwhile.
 */
import {
  AlreadyExists,
  BadArgs,
  InsufficientNodes,
  OutOfRange,
  Refused,
  SearchFailed,
} from '../../faults.js';
import { isSilent } from './node-health.js';
import { Xrn } from '../../credentials/xrn.js';
import type { NodeRow, SliceRow, SliverRow } from '../../store/aggregate-store.js';
import {
  admit,
  placementOrder,
  describeLease,
  leaseConflict,
  nodeState,
  throwProblems,
  type Candidate,
  type Interval,
  type Problem,
} from './admission.js';
import type { EngineContext } from './context.js';
import { inventoryNodes } from './inventory.js';
import {
  checkAttributes,
  checkStringList,
  checkUsers,
  isRecord,
  quote,
  requireString,
} from './input.js';
import { mergeIntervals, slotOf } from './leases.js';
import { loginNameFor, parseSliceUrn } from './login-name.js';
import { requestedPorts } from './ports.js';
import { isEmptyReap, reapLapsed, type Held, type ReapResult } from './reap.js';
import { resolveForNode } from './tags.js';
import { addMs, floorSeconds, maxDate, minDate, requireDate, show } from './time.js';
import type {
  AllocationRequest,
  Attribute,
  PortRange,
  SliceInfo,
  SliceUser,
  SliverInfo,
} from './types.js';
import { sliceInfo, sliverInfo } from './views.js';
import { holdSlice } from './slice-scope.js';

export interface AllocateOptions {
  now: Date;
  /**
   * The expiry the caller allows (from the slice credential, `geni_end_time` and its own rules).
   * Allocated slivers get at most the allocation lifetime; it must be in the future.
   */
  expires: Date;
  /** `geni_users`, stored for the slice when given. */
  users?: readonly SliceUser[];
}

export interface AllocateResult {
  slice: SliceInfo;
  /** The slivers this call created, and existing ones it gave new lease slots, by id. */
  slivers: SliverInfo[];
}

/** The CPU share a sliver asks for when its attributes do not say. */
export const DEFAULT_CPU_SHARE = 1;

interface NodeAsk {
  clientId: string;
  componentId: string | undefined;
  hostname: string | undefined;
  exclusive: boolean | undefined;
  attributes: Attribute[];
  initscripts: string[];
  ports: PortRange[];
}

interface LeaseAsk {
  componentId: string | undefined;
  hostname: string | undefined;
  clientId: string | undefined;
  slot: Interval;
  where: string;
}

function optionalString(value: unknown, what: string): string | undefined {
  return value === undefined ? undefined : requireString(value, what);
}

/** A request, checked and copied. */
interface CheckedRequest {
  nodes: NodeAsk[];
  leases: LeaseAsk[];
}

/** Check the request's shape and take a copy of it. */
function checkRequest(request: unknown, now: Date, ctx: EngineContext): CheckedRequest {
  if (!isRecord(request)) throw new BadArgs('the request must be {nodes, leases?}');
  const rawNodes = request['nodes'];
  const rawLeases = request['leases'] ?? [];
  if (!Array.isArray(rawNodes)) throw new BadArgs('the request must list its nodes');
  if (!Array.isArray(rawLeases)) throw new BadArgs('the request leases must be a list');
  const clientIds = new Set<string>();
  const nodes = rawNodes.map((n: unknown, i): NodeAsk => {
    if (!isRecord(n)) throw new BadArgs(`request node ${i} must be a struct`);
    const clientId = requireString(n['clientId'], `request node ${i}: client_id`);
    const where = `node '${clientId}'`;
    if (clientIds.has(clientId)) {
      throw new BadArgs(
        `the request has two nodes with client_id '${clientId}'; client ids must be unique`,
      );
    }
    clientIds.add(clientId);
    const exclusive = n['exclusive'];
    if (exclusive !== undefined && typeof exclusive !== 'boolean') {
      throw new BadArgs(`${where}: exclusive must be true or false`);
    }
    const attributes = checkAttributes(n['attributes'], `${where}: attributes`);
    return {
      clientId,
      componentId: optionalString(n['componentId'], `${where}: component_id`),
      hostname: optionalString(n['hostname'], `${where}: component_name`),
      exclusive,
      attributes,
      initscripts: checkStringList(n['initscripts'], `${where}: initscripts`),
      ports: requestedPorts(attributes, where),
    };
  });
  const leases = rawLeases.map((l: unknown, i): LeaseAsk => {
    if (!isRecord(l)) throw new BadArgs(`request lease ${i} must be a struct`);
    const componentId = optionalString(l['componentId'], `lease ${i}: component_id`);
    const hostname = optionalString(l['hostname'], `lease ${i}: component_name`);
    const clientId = optionalString(l['clientId'], `lease ${i}: client_id`);
    const where = `lease ${i} (${componentId ?? hostname ?? clientId ?? 'no node'})`;
    if (!componentId && !hostname && !clientId) {
      throw new BadArgs(`${where}: name its node by component_id, component_name or client_id`);
    }
    const start = requireDate(l['start'], `${where}: start`);
    const end = requireDate(l['end'], `${where}: end`);
    return {
      componentId,
      hostname,
      clientId,
      slot: slotOf({ start, end }, now, ctx.policy, where),
      where,
    };
  });
  if (nodes.length === 0 && leases.length === 0) {
    throw new BadArgs('the request asks for nothing: give at least one node or lease');
  }
  return { nodes, leases };
}

/** Find the node named by URN and/or hostname. */
function findNode(
  ctx: EngineContext,
  componentId: string | undefined,
  hostname: string | undefined,
  where: string,
): NodeRow | Problem {
  const { store, policy } = ctx;
  let node: NodeRow | undefined;
  if (componentId !== undefined) {
    const xrn = Xrn.fromUrn(componentId);
    if (xrn.type !== 'node') {
      return {
        fault: BadArgs,
        message: `${where}: ${componentId} is a ${xrn.type} URN, not a node`,
      };
    }
    node = store.nodeByUrn(xrn.urn);
    if (!node) {
      return {
        fault: SearchFailed,
        message: `${where}: no node ${componentId} at this aggregate (${policy.authority}); pick one from the advertisement`,
      };
    }
  }
  if (hostname !== undefined) {
    const byName = store.nodeByHostname(hostname);
    if (!byName) {
      return {
        fault: SearchFailed,
        message: `${where}: no node ${hostname} at this aggregate (${policy.authority}); pick one from the advertisement`,
      };
    }
    if (node && node.id !== byName.id) {
      return {
        fault: BadArgs,
        message: `${where}: component_id ${componentId} is node ${node.hostname} but component_name is ${hostname}; give one, or both for the same node`,
      };
    }
    node = byName;
  }
  if (!node) throw new Error('findNode needs a component id or name');
  return node;
}

const isProblem = (x: NodeRow | Problem): x is Problem => 'fault' in x;

/** The CPU share asked by the resolved attribute `cpu_share` (from any layer), else 1. */
function cpuShareOf(ctx: EngineContext, nodeId: number, ask: NodeAsk): number | Problem {
  const attr = resolveForNode(ctx.store, nodeId, ask.attributes).find(
    (a) => a.name === 'cpu_share',
  );
  if (!attr) return DEFAULT_CPU_SHARE;
  if (!/^[1-9][0-9]{0,5}$/.test(attr.value.trim())) {
    return {
      fault: BadArgs,
      message: `node '${ask.clientId}': attribute cpu_share must be a whole number of at least 1, got ${quote(attr.value)} (from the ${attr.source}${attr.nodegroup ? ` ${attr.nodegroup}` : ''})`,
    };
  }
  return Number(attr.value.trim());
}

interface Plan {
  slice: SliceRow;
  now: Date;
  sliverExpires: Date;
  holdEnd: Date;
}

/** Write an admitted sliver, its reservations or hold, and its ports. */
function createSliver(
  ctx: EngineContext,
  plan: Plan,
  node: NodeRow,
  ask: NodeAsk,
  candidate: Candidate,
): SliverRow {
  const { store } = ctx;
  const sliver = store.insertSliver({
    sliceId: plan.slice.id,
    nodeId: node.id,
    clientId: ask.clientId,
    allocationState: 'geni_allocated',
    operationalState: 'geni_pending_allocation',
    exclusive: node.exclusive,
    cpuShare: candidate.cpuShare,
    attributes: ask.attributes,
    initscripts: ask.initscripts,
    created: plan.now,
    expires: plan.sliverExpires,
  });
  if (node.exclusive) {
    const slots = candidate.reservations.length > 0 ? candidate.reservations : [candidate.hold];
    const kind = candidate.reservations.length > 0 ? 'reservation' : 'hold';
    for (const slot of slots) {
      store.insertLease({
        nodeId: node.id,
        sliceId: plan.slice.id,
        sliverId: sliver.id,
        kind,
        start: slot.start,
        end: slot.end,
      });
    }
  }
  for (const p of candidate.ports) {
    store.insertPort({
      sliverId: sliver.id,
      nodeId: node.id,
      sliceId: plan.slice.id,
      proto: p.proto,
      from: p.from,
      to: p.to,
    });
  }
  return sliver;
}

function candidateFor(
  ctx: EngineContext,
  plan: Plan,
  node: NodeRow,
  ask: NodeAsk,
  reservations: readonly Interval[],
): Candidate | Problem {
  const cpuShare = cpuShareOf(ctx, node.id, ask);
  if (typeof cpuShare !== 'number') return cpuShare;
  return {
    sliceId: plan.slice.id,
    sliceUrn: plan.slice.urn,
    clientId: ask.clientId,
    exclusive: ask.exclusive,
    cpuShare,
    hold: { start: plan.now, end: plan.holdEnd },
    reservations: mergeIntervals(reservations),
    ports: ask.ports,
  };
}

/**
 * The nodes unbound slivers may go to, each kind in placement order, read once per Allocate:
 * reading and sorting every node again for each unbound sliver made a large request quadratic.
 * `used` holds the nodes this slice is on (one sliver per slice per node), growing as this
 * request places slivers; the order of the others does not change meanwhile.
 */
interface UnboundPool {
  readonly shared: readonly NodeRow[];
  readonly exclusive: readonly NodeRow[];
  readonly used: Set<number>;
}

function unboundPool(ctx: EngineContext, plan: Plan): UnboundPool {
  const { store } = ctx;
  const load = store.sliverLoad(plan.now);
  // Managed nodes that went silent are skipped (unmanaged nodes have no record: never silent).
  const managed = store.managedNodes(plan.now);
  const up = inventoryNodes(store)
    .filter((n) => {
      const m = managed.get(n.id);
      return n.bootState === 'boot' && !(m && isSilent(m, plan.now));
    })
    .map((node) => ({ node, slivers: load.get(node.id)?.slivers ?? 0 }));
  const order = placementOrder(up);
  return {
    shared: order.filter((n) => !n.exclusive),
    exclusive: order.filter((n) => n.exclusive),
    used: new Set(store.liveSliversOfSlice(plan.slice.id, plan.now).map((s) => s.nodeId)),
  };
}

/** Place an unbound sliver on the least loaded node that admits it. */
function place(
  ctx: EngineContext,
  plan: Plan,
  pool: UnboundPool,
  ask: NodeAsk,
  reservations: readonly Interval[],
): { node: NodeRow; candidate: Candidate } | Problem {
  const { store } = ctx;
  const exclusive = ask.exclusive === true;
  if (reservations.length > 0 && !exclusive) {
    return {
      fault: BadArgs,
      message: `node '${ask.clientId}' has leases but is not exclusive: leases apply only to exclusive nodes; set exclusive="true" or drop the leases`,
    };
  }
  const kind = exclusive ? 'exclusive' : 'shared';
  const nodes = exclusive ? pool.exclusive : pool.shared;
  let firstProblem: Problem | undefined;
  for (const node of nodes) {
    if (pool.used.has(node.id)) continue;
    const candidate = candidateFor(ctx, plan, node, ask, reservations);
    if ('fault' in candidate) {
      firstProblem ??= candidate;
      continue;
    }
    const problem = admit(nodeState(store, node, plan.now), candidate, ctx.policy.authority);
    if (!problem) {
      pool.used.add(node.id);
      return { node, candidate };
    }
    // A bad attribute is the request's fault, whatever the node.
    if (problem.fault === BadArgs) return problem;
  }
  if (firstProblem?.fault === BadArgs) return firstProblem;
  return {
    fault: InsufficientNodes,
    message: `no ${kind} node can take unbound node '${ask.clientId}' now (${nodes.length} ${kind} nodes are up, none has room for it${reservations.length > 0 ? ' in the slots asked' : ''} or they already host this slice); ask for fewer nodes, or name nodes from the advertisement`,
  };
}

/**
 * Allocate the request's slivers and leases to the slice (see the module comment).
 *
 * @throws BadArgs for a malformed slice URN or request, or a slice whose login name cannot be
 *   made; OutOfRange for an expiry in the past or a lease slot out of range; Refused for a
 *   shut-down slice, a login name held by another slice, or a conflict (exclusive node held,
 *   lease slot taken, port taken); InsufficientNodes for a node down or full; AlreadyExists
 *   for a node or client id the slice already has; SearchFailed for an unknown node.
 */
export function allocate(
  ctx: EngineContext,
  sliceUrn: string,
  request: AllocationRequest,
  options: AllocateOptions,
): AllocateResult {
  const { store, policy } = ctx;
  const now = floorSeconds(requireDate(options.now, 'now'));
  const xrn = parseSliceUrn(sliceUrn);
  const loginName = loginNameFor(xrn);
  const users = options.users === undefined ? undefined : checkUsers(options.users);
  const asked = floorSeconds(requireDate(options.expires, 'expires'));
  if (asked <= now) {
    throw new OutOfRange(
      `slice ${xrn.urn}: the expiry ${show(asked)} is not in the future; renew the slice credential or ask for a later end time`,
    );
  }
  const req = checkRequest(request, now, ctx);
  const horizon = addMs(now, policy.maxLifetimeMs);
  const sliverExpires = minDate(asked, addMs(now, policy.allocationLifetimeMs), horizon);
  const holdEnd = minDate(asked, addMs(now, policy.defaultLifetimeMs), horizon);

  // Every node named: the call can hold just those (and the slice's), and run beside Allocates
  // of other slices on other nodes. Placing an unbound node looks at every node: all of them.
  const scoped = req.nodes.every((n) => n.componentId !== undefined || n.hostname !== undefined);
  const { result, reaped } = store.transaction(
    () => {
      const held = scoped ? holdSliceAndNodes(ctx, loginName, req) : undefined;
      // Lapsed slivers must not stand in the way: their rows still carry leases and ports.
      const reaped = reapLapsed(ctx, now, held);
      return allocateLocked(reaped);
    },
    scoped ? 'scoped' : 'exclusive',
  );
  if (!isEmptyReap(reaped)) ctx.onReap?.(reaped);
  return result;

  function allocateLocked(reaped: ReapResult): { result: AllocateResult; reaped: ReapResult } {
    let slice = store.sliceByUrn(xrn.urn);
    if (slice?.shutdown) {
      throw new Refused(
        `slice ${slice.urn} was shut down at ${show(slice.shutdown)} and takes no new resources here; ask this aggregate's operator to reopen it (sfa slice reopen ${slice.urn})`,
      );
    }
    if (!slice) {
      const holder = store.sliceByLoginName(loginName);
      if (holder) {
        throw new Refused(
          `slice ${xrn.urn} would run as '${loginName}' on the nodes, but slice ${holder.urn} already has that login name here; use a slice name that differs in letters or digits`,
        );
      }
      slice = store.insertSlice({ urn: xrn.urn, loginName, created: now, expires: sliverExpires });
    }
    const plan: Plan = { slice, now, sliverExpires, holdEnd };
    const problems: Problem[] = [];

    // Bound nodes: find them; each node and client id once per slice.
    const bound = new Map<string, NodeRow>();
    const byNode = new Map<number, string>();
    for (const ask of req.nodes) {
      const existing = store.sliverOfSliceByClientId(slice.id, ask.clientId);
      if (existing) {
        problems.push({
          fault: AlreadyExists,
          message: `slice ${slice.urn} already has a sliver named '${ask.clientId}' (on ${existing.hostname}); use another client_id`,
        });
        continue;
      }
      if (ask.componentId === undefined && ask.hostname === undefined) continue;
      const found = findNode(ctx, ask.componentId, ask.hostname, `node '${ask.clientId}'`);
      if (isProblem(found)) {
        problems.push(found);
        continue;
      }
      const other = byNode.get(found.id);
      if (other !== undefined) {
        problems.push({
          fault: BadArgs,
          message: `nodes '${other}' and '${ask.clientId}' both ask for ${found.hostname}; a slice has one sliver per node`,
        });
        continue;
      }
      byNode.set(found.id, ask.clientId);
      bound.set(ask.clientId, found);
    }

    // Leases: to a node of this request (by client id or node), or to a sliver the slice has.
    const slotsByClient = new Map<string, Interval[]>();
    const slotsBySliver = new Map<
      number,
      { sliver: SliverRow; node: NodeRow; slots: Interval[] }
    >();
    for (const lease of req.leases) {
      let clientId = lease.clientId;
      let node: NodeRow | undefined;
      if (clientId !== undefined) {
        if (!req.nodes.some((n) => n.clientId === clientId)) {
          problems.push({
            fault: BadArgs,
            message: `${lease.where}: the request has no node with client_id '${clientId}'`,
          });
          continue;
        }
        node = bound.get(clientId);
      }
      if (lease.componentId !== undefined || lease.hostname !== undefined) {
        const found = findNode(ctx, lease.componentId, lease.hostname, lease.where);
        if (isProblem(found)) {
          problems.push(found);
          continue;
        }
        if (clientId !== undefined && node?.id !== found.id) {
          problems.push({
            fault: BadArgs,
            message: node
              ? `${lease.where}: client_id '${clientId}' is node ${node.hostname}, not ${found.hostname}`
              : `${lease.where}: node '${clientId}' is unbound, so the lease cannot name ${found.hostname}; bind the node or drop the component`,
          });
          continue;
        }
        node = found;
        clientId ??= byNode.get(found.id);
      }
      if (node && !node.exclusive) {
        problems.push({
          fault: BadArgs,
          message: `${lease.where}: node ${node.hostname} is shared; leases (time slots) apply only to exclusive nodes`,
        });
        continue;
      }
      if (clientId !== undefined) {
        slotsByClient.set(clientId, [...(slotsByClient.get(clientId) ?? []), lease.slot]);
        continue;
      }
      const sliver = node && store.sliverOfSliceOnNode(slice.id, node.id);
      if (!node || !sliver || sliver.expires <= now) {
        problems.push({
          fault: BadArgs,
          message: `${lease.where}: slice ${slice.urn} has no sliver on ${node?.hostname ?? 'that node'} and the request adds none; add a node element for it`,
        });
        continue;
      }
      const entry = slotsBySliver.get(sliver.id) ?? { sliver, node, slots: [] };
      entry.slots.push(lease.slot);
      slotsBySliver.set(sliver.id, entry);
    }
    // Request errors first: admission answers would only add noise.
    throwProblems(problems);

    const created: SliverRow[] = [];
    for (const ask of req.nodes) {
      const node = bound.get(ask.clientId);
      if (!node) continue;
      const candidate = candidateFor(ctx, plan, node, ask, slotsByClient.get(ask.clientId) ?? []);
      if ('fault' in candidate) {
        problems.push(candidate);
        continue;
      }
      const problem = admit(nodeState(store, node, now), candidate, policy.authority);
      if (problem) problems.push(problem);
      // Written at once: the next node's checks (and unbound placement) read it back.
      else created.push(createSliver(ctx, plan, node, ask, candidate));
    }
    const unbound = req.nodes.filter(
      (ask) => !bound.has(ask.clientId) && !ask.componentId && !ask.hostname,
    );
    // After the bound slivers: the pool sees them as load and as nodes this slice is on.
    const pool = unbound.length > 0 ? unboundPool(ctx, plan) : undefined;
    for (const ask of unbound) {
      const placed = place(ctx, plan, pool!, ask, slotsByClient.get(ask.clientId) ?? []);
      if ('fault' in placed) problems.push(placed);
      else created.push(createSliver(ctx, plan, placed.node, ask, placed.candidate));
    }

    // New slots on slivers the slice already has.
    const extended: SliverRow[] = [];
    for (const { sliver, node, slots } of slotsBySliver.values()) {
      const others = store.liveLeasesOnNode(node.id, now);
      const wanted = mergeIntervals(slots);
      const held = wanted.map((w) => leaseConflict(others, slice.id, w)).find((l) => l);
      if (held) {
        problems.push({
          fault: Refused,
          message: `${describeLease(held)}; ask for a slot outside that time, or choose another node`,
        });
        continue;
      }
      const mine = others.filter((l) => l.sliverId === sliver.id && l.kind === 'reservation');
      for (const l of mine) store.deleteLease(l.id);
      for (const slot of mergeIntervals([...mine, ...wanted])) {
        store.insertLease({
          nodeId: node.id,
          sliceId: slice.id,
          sliverId: sliver.id,
          kind: 'reservation',
          start: slot.start,
          end: slot.end,
        });
      }
      extended.push(sliver);
    }
    throwProblems(problems);

    const latest = maxDate(slice.expires, ...created.map((s) => s.expires));
    if (latest > slice.expires) store.setSliceExpires(slice.id, latest);
    if (users) store.setSliceUsers(slice.id, users);
    const fresh = store.sliceById(slice.id) ?? slice;
    const slivers = [...created, ...extended]
      .sort((a, b) => a.id - b.id)
      .map((s) => sliverInfo(ctx, s, now));
    return { result: { slice: sliceInfo(store, fresh), slivers }, reaped };
  }
}

/**
 * Hold, in a scoped transaction, the slice (by its login name) and every node the call may read
 * or write: those the request names (its nodes and leases) and those the slice has slivers on
 * (leases may extend them; a change of the slice's users or expiry touches them all).
 * @returns what is held.
 */
function holdSliceAndNodes(ctx: EngineContext, loginName: string, req: CheckedRequest): Held {
  return holdSlice(ctx, loginName, () =>
    [...req.nodes, ...req.leases].flatMap((named) => {
      if (named.componentId === undefined && named.hostname === undefined) return [];
      // A name that finds no node is reported by the checks that follow, under the same locks.
      try {
        const found = findNode(ctx, named.componentId, named.hostname, 'lock');
        return isProblem(found) ? [] : [found.id];
      } catch {
        return [];
      }
    }),
  );
}
