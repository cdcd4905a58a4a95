/**
 * The engine's inputs and outputs: plain data, free of any wire format. The API layer maps
 * RSpec elements and AM API options onto these and the results back.
 */
import type {
  DesiredState,
  LeaseKind,
  OperationalState,
  PortProtocol,
  SliceUser,
  StoredAllocationState,
  Tag,
} from '../../store/aggregate-store.js';

export type {
  BootState,
  LeaseKind,
  OperationalState,
  PortProtocol,
  SliceUser,
  Tag,
} from '../../store/aggregate-store.js';

/** A `planetlab:attribute` of a request, or a node or nodegroup tag. */
export type Attribute = Tag;

/** GENI allocation states; `geni_unallocated` is what Delete and Reap answer. */
export type AllocationState = StoredAllocationState | 'geni_unallocated';

/** One node element of a request: a sliver to create. */
export interface RequestedSliver {
  /** The request's name for it; unique within the slice. */
  clientId: string;
  /** The node's component URN. Bound requests give this or `hostname`, or both (agreeing). */
  componentId?: string;
  /** The node's hostname (RSpec `component_name`). Neither: unbound, the engine places it. */
  hostname?: string;
  /**
   * `exclusive="true"`: the experimenter wants the node alone. Only exclusive (reservable) nodes
   * can grant that; an unbound request with `exclusive: true` is placed on one. `false` or absent
   * on an exclusive node is not an error: the node is exclusive anyway.
   */
  exclusive?: boolean;
  /** `planetlab:attribute` name/value pairs (highest precedence, see tags.ts). */
  attributes?: readonly Attribute[];
  /** Names of initscripts to run in the vserver. */
  initscripts?: readonly string[];
}

/** A time slot on an exclusive node, as an RSpec `<lease>` asks. */
export interface RequestedLease {
  /** The node, by component URN, hostname, or the clientId of a node of the same request. */
  componentId?: string;
  hostname?: string;
  clientId?: string;
  start: Date;
  end: Date;
}

export interface AllocationRequest {
  nodes: readonly RequestedSliver[];
  leases?: readonly RequestedLease[];
}

export interface PortRange {
  proto: PortProtocol;
  from: number;
  to: number;
}

/** Where a resolved attribute's value came from (lowest to highest precedence). */
export type AttributeSource = 'nodegroup' | 'node' | 'sliver';

export interface ResolvedAttribute {
  name: string;
  value: string;
  source: AttributeSource;
  /** For `source: 'nodegroup'`, the group's name. */
  nodegroup?: string;
}

export interface NodeRef {
  hostname: string;
  /** Component URN, `urn:publicid:IDN+ple:inria+node+node1.inria.fr`. */
  urn: string;
  hrn: string;
  /** The site's login base. */
  site: string;
  exclusive: boolean;
  hardwareType: string;
}

export interface LeaseInfo {
  sliceUrn: string;
  hostname: string;
  /** The node's component URN. */
  componentId: string;
  sliverUrn: string;
  /** `reservation` (asked for) or `hold` (an exclusive node held for a sliver's whole life). */
  kind: LeaseKind;
  start: Date;
  end: Date;
}

/** Everything a manifest says about one sliver. */
export interface SliverInfo {
  urn: string;
  id: number;
  clientId: string;
  sliceUrn: string;
  /** The Linux account of the slice on the node (`inria_myslice`). */
  loginName: string;
  node: NodeRef;
  allocationState: StoredAllocationState;
  /** As shown: on a managed node, from its reports (see operational-state.ts). */
  operationalState: OperationalState;
  /** The node's reason, when geni_failed on a managed node. */
  error?: string;
  /** What the researcher asked, and what the node is told (GetSlivers `desired_state`). */
  desiredState: DesiredState;
  created: Date;
  expires: Date;
  exclusive: boolean;
  cpuShare: number;
  /** Nodegroup tags, node tags and the request's attributes, resolved (see tags.ts). */
  attributes: ResolvedAttribute[];
  initscripts: string[];
  ports: PortRange[];
  leases: LeaseInfo[];
}

export interface SliceInfo {
  urn: string;
  loginName: string;
  created: Date;
  expires: Date;
  /** When the slice was shut down; null while it runs. */
  shutdown: Date | null;
  users: SliceUser[];
}

export interface SliceDescription {
  slice: SliceInfo;
  slivers: SliverInfo[];
}

/** One sliver's line in a Status, Renew, Delete or PerformOperationalAction answer. */
export interface SliverStatus {
  urn: string;
  clientId: string;
  hostname: string;
  componentId: string;
  allocationState: AllocationState;
  operationalState: OperationalState;
  expires: Date;
  /** Why this sliver was not changed (best-effort Renew); absent when all went well. */
  error?: string;
  /** Status only: the counters its (managed) node last reported, when it reported any. */
  usage?: SliverUsage;
}

/**
 * A sliver's traffic and resource use, as its node last reported them (ReportNodeStatus). Only
 * the counters the node sent are present.
 */
export interface SliverUsage {
  bytesIn?: number;
  bytesOut?: number;
  packetsIn?: number;
  packetsOut?: number;
  cpuSeconds?: number;
  memoryBytes?: number;
  /** When the node reported them. */
  reported: Date;
}

export interface SliceStatus {
  slice: SliceInfo;
  slivers: SliverStatus[];
}
