/**
 * The aggregate manager's engine: the PlanetLab resource model behind the AM API, free of any
 * wire format. The API layer checks credentials, parses RSpecs and options, and calls these
 * methods with plain data and the time; each method is one operation file of this directory.
 *
 * Every method is synchronous and takes `now` (none reads the clock). Writes run in one
 * `BEGIN IMMEDIATE` transaction each, so several connections or processes on one database
 * never double-book. Faults are the GENI ones of src/faults.ts.
 */
import { AggregateStore } from '../../store/aggregate-store.js';
import { allocate, type AllocateOptions, type AllocateResult } from './allocate.js';
import type { EngineContext } from './context.js';
import { deleteSlivers } from './delete.js';
import {
  addNode,
  listLeases,
  listNodes,
  listSites,
  loadInventory,
  removeNode,
  setNodeStatus,
  type InventoryNode,
  type InventorySummary,
  type NodeAdvert,
  type NodeStatusUpdate,
} from './inventory.js';
import { loginNameFor } from './login-name.js';
import {
  nodeSlivers,
  recordNodeReport,
  type NodeReportInput,
  type NodeReportOutcome,
  type NodeSlivers,
} from './node-slivers.js';
import { listSliceDescriptions, nodeOverview, type NodeOverview } from './overview.js';
import { performAction, type PerformActionOptions } from './perform-action.js';
import { resolvePolicy, type AggregatePolicy } from './policy.js';
import { provision, type ProvisionOptions } from './provision.js';
import { reap, type ReapResult } from './reap.js';
import { renew, type RenewOptions } from './renew.js';
import { reopenSlice, shutdown } from './shutdown.js';
import { describe, status } from './status.js';
import {
  addNodegroup,
  addNodegroupMember,
  listNodegroups,
  removeNodegroup,
  removeNodegroupMember,
  removeNodeTag,
  removeNodegroupTag,
  setNodegroupTag,
  setNodeTag,
  type NodegroupInfo,
} from './tags.js';
import type {
  AllocationRequest,
  LeaseInfo,
  SliceDescription,
  SliceStatus,
  SliverStatus,
} from './types.js';
import type { NodeRow, SiteRow, SliceAuditRow } from '../../store/aggregate-store.js';
import { nodeUrn, sliverIdOf, sliverUrn } from './urns.js';
import { floorSeconds } from './time.js';
import { Xrn } from '../../credentials/xrn.js';

export type * from './types.js';
export type { AllocateOptions, AllocateResult } from './allocate.js';
export type {
  Inventory,
  InventoryNode,
  InventoryNodegroup,
  InventorySite,
  InventorySummary,
  NodeAdvert,
  NodeStatusUpdate,
} from './inventory.js';
export type { NodeOverview } from './overview.js';
export type { OperationalAction, PerformActionOptions } from './perform-action.js';
export type { AggregatePolicy } from './policy.js';
export type { ProvisionOptions } from './provision.js';
export type { ReapedSliver, ReapResult } from './reap.js';
export type { RenewOptions } from './renew.js';
export type { NodegroupInfo } from './tags.js';
export type {
  NodeReportInput,
  NodeReportOutcome,
  NodeSliver,
  NodeSlivers,
  SliverReportInput,
} from './node-slivers.js';
export { DEFAULT_POLICY } from './policy.js';
export { demoInventory } from './demo-inventory.js';
export { readInventoryFile } from './inventory.js';
export { OPERATIONAL_ACTIONS } from './perform-action.js';
export { REPORT_INTERVAL_SECONDS } from './node-health.js';

export interface EngineOptions extends Partial<AggregatePolicy> {
  /** Told what an Allocate, Provision or Renew reaped on its way (for the log). */
  onReap?: (reaped: ReapResult) => void;
}

export class AggregateEngine {
  readonly policy: AggregatePolicy;
  private readonly ctx: EngineContext;

  /**
   * @param store an open aggregate store (the engine does not close it; see `open`).
   * @throws BadArgs for an invalid policy setting.
   */
  constructor(
    readonly store: AggregateStore,
    options: EngineOptions = {},
  ) {
    const { onReap, ...policy } = options;
    this.policy = resolvePolicy(policy);
    this.ctx = { store, policy: this.policy, ...(onReap ? { onReap } : {}) };
  }

  /** Open (creating if needed) the database at `path` and an engine on it. */
  static open(path: string, options: EngineOptions = {}): AggregateEngine {
    const store = AggregateStore.open(path);
    try {
      return new AggregateEngine(store, options);
    } catch (e) {
      store.close();
      throw e;
    }
  }

  /** Close the store. */
  close(): void {
    this.store.close();
  }

  // ---- Names ----

  /** `urn:publicid:IDN+<authority>+sliver+<id>`. */
  sliverUrn(id: number): string {
    return sliverUrn(this.policy.authority, id);
  }

  /** `urn:publicid:IDN+<authority>:<site>+node+<hostname>`. */
  nodeUrn(siteLoginBase: string, hostname: string): string {
    return nodeUrn(this.policy.authority, siteLoginBase, hostname);
  }

  /** The slice's Linux login name (see login-name.ts); BadArgs if it cannot have one. */
  loginName(sliceUrn: string): string {
    return loginNameFor(sliceUrn);
  }

  // ---- Inventory ----

  loadInventory(data: unknown): InventorySummary {
    return loadInventory(this.ctx, data);
  }

  listNodes(now: Date, options: { availableOnly?: boolean } = {}): NodeAdvert[] {
    return listNodes(this.ctx, now, options);
  }

  listLeases(now: Date): LeaseInfo[] {
    return listLeases(this.ctx, now);
  }

  listSites(): SiteRow[] {
    return listSites(this.ctx);
  }

  listNodegroups(): NodegroupInfo[] {
    return listNodegroups(this.store);
  }

  addNode(node: InventoryNode): NodeRow {
    return addNode(this.ctx, node);
  }

  removeNode(hostname: string, now: Date): void {
    removeNode(this.ctx, hostname, now);
  }

  setNodeStatus(hostname: string, update: NodeStatusUpdate): NodeRow {
    return setNodeStatus(this.ctx, hostname, update);
  }

  setNodeTag(hostname: string, name: string, value: string): void {
    setNodeTag(this.store, hostname, name, value);
  }

  removeNodeTag(hostname: string, name: string): void {
    removeNodeTag(this.store, hostname, name);
  }

  addNodegroup(name: string): void {
    addNodegroup(this.store, name);
  }

  removeNodegroup(name: string): void {
    removeNodegroup(this.store, name);
  }

  setNodegroupTag(group: string, name: string, value: string): void {
    setNodegroupTag(this.store, group, name, value);
  }

  removeNodegroupTag(group: string, name: string): void {
    removeNodegroupTag(this.store, group, name);
  }

  addNodegroupMember(group: string, hostname: string): void {
    addNodegroupMember(this.store, group, hostname);
  }

  removeNodegroupMember(group: string, hostname: string): void {
    removeNodegroupMember(this.store, group, hostname);
  }

  // ---- Slivers ----

  allocate(sliceUrn: string, request: AllocationRequest, options: AllocateOptions): AllocateResult {
    return allocate(this.ctx, sliceUrn, request, options);
  }

  provision(urns: readonly string[], options: ProvisionOptions): SliceDescription {
    return provision(this.ctx, urns, options);
  }

  describe(urns: readonly string[], now: Date): SliceDescription {
    return describe(this.ctx, urns, now);
  }

  status(urns: readonly string[], now: Date): SliceStatus {
    return status(this.ctx, urns, now);
  }

  renew(urns: readonly string[], requested: Date, options: RenewOptions): SliceStatus {
    return renew(this.ctx, urns, requested, options);
  }

  delete(urns: readonly string[], now: Date): SliverStatus[] {
    return deleteSlivers(this.ctx, urns, now);
  }

  performAction(
    urns: readonly string[],
    action: string,
    options: PerformActionOptions,
  ): SliverStatus[] {
    return performAction(this.ctx, urns, action, options);
  }

  /** `actor`: who asks (the caller's URN), for the slice's audit trail. */
  shutdown(sliceUrn: string, now: Date, actor: string): SliceStatus {
    return shutdown(this.ctx, sliceUrn, now, actor);
  }

  reopenSlice(sliceUrn: string, now: Date, actor: string, note: string | null = null): Date {
    return reopenSlice(this.ctx, sliceUrn, now, actor, note);
  }

  /** Slice `sliceUrn`'s history (AM calls that changed it, shutdown, reopen), oldest first. */
  sliceAudit(sliceUrn: string): SliceAuditRow[] {
    return this.ctx.store.sliceAudit(sliceUrn);
  }

  /**
   * The slices that `urns` (slice or sliver URNs, as AM calls take them) name here; unknown or
   * foreign ones are left out. Asked before a call that may delete the slivers.
   */
  slicesNamed(urns: readonly string[]): string[] {
    const out = new Set<string>();
    for (const urn of urns.slice(0, 1000)) {
      try {
        const xrn = Xrn.fromUrn(urn);
        if (xrn.type === 'slice') out.add(xrn.urn);
        else if (xrn.type === 'sliver') {
          const sliver = this.ctx.store.sliverById(sliverIdOf(this.ctx.policy.authority, xrn));
          if (sliver) out.add(sliver.sliceUrn);
        }
      } catch {
        // Not a URN of ours: the call itself says what is wrong with it.
      }
    }
    return [...out];
  }

  /** Record an AM call that changed slice `sliceUrn`, in its history. */
  recordSliceCall(
    sliceUrn: string,
    call: { at: Date; action: string; actor: string; client: string | null },
  ): void {
    this.ctx.store.recordSliceAudit({
      at: floorSeconds(call.at),
      sliceUrn,
      action: call.action.slice(0, 64),
      actor: call.actor,
      note: null,
      client: call.client === null ? null : call.client.slice(0, 200),
    });
  }

  // ---- Overviews (the web view) ----

  /** Node `hostname` with its reports, recorded statuses and live slivers; undefined if unknown. */
  nodeOverview(hostname: string, now: Date): NodeOverview | undefined {
    return nodeOverview(this.ctx, hostname, now);
  }

  /** Every slice with its live slivers. */
  listSlices(now: Date): SliceDescription[] {
    return listSliceDescriptions(this.ctx, now);
  }

  reap(now: Date): ReapResult {
    return reap(this.ctx, now);
  }

  // ---- Node API ----

  /** The inventory's node with this component URN (any case), if any. */
  nodeByUrn(urn: string): NodeRow | undefined {
    return this.store.nodeByUrn(urn);
  }

  /** Changes whenever anything the node API shows of node `nodeId` changes. */
  nodeGeneration(nodeId: number): number {
    return this.store.nodeGeneration(nodeId);
  }
  /** The generations of these nodes, by id (a node not in the inventory is absent). */
  nodeGenerations(nodeIds: readonly number[]): Map<number, number> {
    return this.store.nodeGenerations(nodeIds);
  }

  /** The slivers node `nodeId` must run, its leases and generation (see node-slivers.ts). */
  nodeSlivers(nodeId: number, now: Date): NodeSlivers {
    return nodeSlivers(this.ctx, nodeId, now);
  }

  /** Store a node's status report; returns the sliver URNs it named that are not its own. */
  recordNodeReport(nodeId: number, report: NodeReportInput, now: Date): NodeReportOutcome {
    return recordNodeReport(this.ctx, nodeId, report, now);
  }
}
