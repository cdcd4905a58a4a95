/**
 * The values RSpecs are made from and parsed into. Plain data: the writers take these, the
 * request parser returns them; nothing here knows about XML.
 */
import type { PGV2_NS, RSPEC3_NS } from './namespaces.js';

/** A node as an advertisement shows it. */
export interface AdNode {
  /** `urn:publicid:IDN+ple:inria+node+node1.inria.fr` */
  componentId: string;
  /** The aggregate's `+authority+cm` URN. */
  componentManagerId: string;
  /** The hostname. */
  componentName: string;
  /** The site's human-readable name (written as `sfa-ts:site_name`). */
  siteName?: string;
  /** Reservable (leased whole, by time slot) rather than shared. */
  exclusive: boolean;
  /** `plab-pc`, `pc`, ... */
  hardwareTypes: string[];
  location?: { country: string; latitude?: number; longitude?: number; city?: string };
  interfaces: { componentId: string; ipv4?: string }[];
  /** Booted and usable now. */
  available: boolean;
  /** What can be created on the node: `plab-vserver` with the initscripts on offer. */
  sliverTypes: { name: string; initscripts: string[] }[];
  status?: {
    loadAverage?: number;
    slivers: number;
    reliability?: number;
    /** A managed node's traffic: its slivers' last reported counters, summed. */
    bytesIn?: number;
    bytesOut?: number;
    packetsIn?: number;
    packetsOut?: number;
  };
}

/** A reservation of whole nodes for a time window. */
export interface Lease {
  /** Absent in an ad when the holder is not to be shown. */
  sliceUrn?: string;
  componentIds: string[];
  start: Date;
  end: Date;
}

/**
 * How long a requested lease lasts, as the request said it: SFA counts granularity slots
 * (its `duration`), our extension says seconds or gives an end time. {@link resolveLease} turns
 * it into a {@link Lease} once the aggregate's granularity is known.
 */
export type LeaseLength = { slots: number } | { seconds: number } | { end: Date };

/** A lease as a request asked for it. */
export interface RequestLease {
  sliceUrn?: string;
  componentIds: string[];
  start: Date;
  length: LeaseLength;
  /** Which element it came from: SFA's core-namespace `<lease>` or our `<sfa-ts:lease>`. */
  source: 'sfa' | 'sfa-ts';
}

/** A node of a request RSpec. */
export interface RequestNode {
  /** The experimenter's name for the node, unique in the request. */
  clientId: string;
  /** Present for a bound request (this node); absent for an unbound one (any node). */
  componentId?: string;
  componentManagerId?: string;
  componentName?: string;
  exclusive?: boolean;
  /** `<sliver_type name>`: `plab-vserver` for PlanetLab. */
  sliverType?: string;
  /** `planetlab:attribute` (under the node or its sliver_type): slice tags to set. */
  attributes: { name: string; value: string }[];
  /** `planetlab:initscript` names. */
  initscripts: string[];
  /** Extension elements we do not interpret, serialized, kept for the aggregate to look at. */
  extensions: string[];
}

/** A request RSpec, parsed. */
export interface RequestRspec {
  /** The core namespace the request used. */
  namespace: typeof RSPEC3_NS | typeof PGV2_NS;
  nodes: RequestNode[];
  leases: RequestLease[];
  /** How many `<link>`s: a PlanetLab aggregate accepts and ignores them. */
  links: number;
  /** Top-level elements we do not interpret, serialized. */
  extensions: string[];
}

/** A node of a manifest: one sliver. */
export interface ManifestNode {
  clientId: string;
  sliverId: string;
  componentId: string;
  componentManagerId: string;
  componentName: string;
  exclusive: boolean;
  sliverType: string;
  login: { authentication: 'ssh-keys'; hostname: string; port: number; username: string };
  /** Who may log in (as `login.username`) and with which keys. */
  users: { urn: string; keys: string[] }[];
  /** Resolved node tags of the sliver. */
  attributes: { name: string; value: string }[];
  initscripts: string[];
  /** Port reservations granted to the sliver. */
  ports: { proto: 'tcp' | 'udp'; from: number; to: number }[];
  allocationStatus?: string;
  operationalStatus?: string;
}
