/**
 * Between the engine's plain data, the RSpec documents and the AM API's structs.
 */
import { BadArgs } from '../faults.js';
import { formatRfc3339 } from '../credentials/time.js';
import { resolveLease } from '../rspec/lease.js';
import type { AdNode, Lease, ManifestNode, RequestRspec } from '../rspec/model.js';
import type { XmlRpcStruct } from '../xmlrpc/value.js';
import type { NodeAdvert } from './engine/inventory.js';
import type {
  AllocationRequest,
  LeaseInfo,
  RequestedLease,
  SliceDescription,
  SliceUser,
  SliverInfo,
  SliverStatus,
  SliverUsage,
} from './engine/types.js';

/** The sliver type every node offers: a Linux vserver, as PlanetLab does. */
export const SLIVER_TYPE = 'plab-vserver';

export function toAdNode(n: NodeAdvert, cmUrn: string): AdNode {
  const initscripts = n.tags.filter((t) => t.name === 'initscript').map((t) => t.value);
  const site = n.site;
  return {
    componentId: n.urn,
    componentManagerId: cmUrn,
    componentName: n.hostname,
    siteName: site.name,
    exclusive: n.exclusive,
    hardwareTypes: [n.hardwareType],
    ...(site.country
      ? {
          location: {
            country: site.country,
            ...(site.latitude !== null ? { latitude: site.latitude } : {}),
            ...(site.longitude !== null ? { longitude: site.longitude } : {}),
            ...(site.city ? { city: site.city } : {}),
          },
        }
      : {}),
    interfaces: [{ componentId: `${n.urn}:eth0` }],
    available: n.available,
    sliverTypes: [{ name: SLIVER_TYPE, initscripts }],
    status: {
      loadAverage: n.loadAverage,
      // A managed node's own count (its last report); the aggregate's count otherwise.
      slivers: n.reported?.slivers ?? n.slivers,
      ...(n.reliability !== null ? { reliability: n.reliability } : {}),
      // Only a managed node whose slivers reported counters has any.
      ...n.traffic,
    },
  };
}

export function toLease(l: LeaseInfo): Lease {
  return { sliceUrn: l.sliceUrn, componentIds: [l.componentId], start: l.start, end: l.end };
}

/**
 * The engine's request from a parsed request RSpec: the nodes for this aggregate (no
 * component_manager_id, or ours under its `+am` or `+cm` name), and their leases.
 */
export function toAllocationRequest(
  req: RequestRspec,
  ours: (cmId: string) => boolean,
  granularity: number,
): AllocationRequest {
  const nodes = req.nodes.filter((n) => !n.componentManagerId || ours(n.componentManagerId));
  if (nodes.length === 0) {
    throw new BadArgs(
      req.nodes.length === 0
        ? 'the request RSpec holds no <node>: ask for at least one node'
        : 'the request RSpec names no node of this aggregate (check component_manager_id)',
    );
  }
  for (const n of nodes) {
    if (n.sliverType && n.sliverType !== SLIVER_TYPE) {
      throw new BadArgs(
        `node ${n.clientId} asks for sliver type '${n.sliverType}'; this aggregate offers '${SLIVER_TYPE}'`,
      );
    }
  }
  const leases: RequestedLease[] = [];
  for (const l of req.leases) {
    const window = resolveLease(l, granularity);
    for (const componentId of window.componentIds)
      leases.push({ componentId, start: window.start, end: window.end });
  }
  return {
    nodes: nodes.map((n) => ({
      clientId: n.clientId,
      ...(n.componentId ? { componentId: n.componentId } : {}),
      ...(n.componentName ? { hostname: n.componentName } : {}),
      ...(n.exclusive !== undefined ? { exclusive: n.exclusive } : {}),
      attributes: n.attributes,
      initscripts: n.initscripts,
    })),
    leases,
  };
}

export function toManifestNodes(d: SliceDescription, cmUrn: string): ManifestNode[] {
  const users = d.slice.users.map((u: SliceUser) => ({ urn: u.urn, keys: u.keys }));
  return d.slivers.map((s: SliverInfo) => ({
    clientId: s.clientId,
    sliverId: s.urn,
    componentId: s.node.urn,
    componentManagerId: cmUrn,
    componentName: s.node.hostname,
    exclusive: s.exclusive,
    sliverType: SLIVER_TYPE,
    login: {
      authentication: 'ssh-keys',
      hostname: s.node.hostname,
      port: 22,
      username: s.loginName,
    },
    users,
    attributes: s.attributes.map((a) => ({ name: a.name, value: a.value })),
    initscripts: s.initscripts,
    ports: s.ports.map((p) => ({ proto: p.proto, from: p.from, to: p.to })),
    allocationStatus: s.allocationState,
    operationalStatus: s.operationalState,
  }));
}

/** A `geni_slivers` entry; with Status's usage, its `sfa_ts_` keys (see usageStruct). */
export function sliverStruct(s: SliverStatus | SliverInfo): XmlRpcStruct {
  return {
    geni_sliver_urn: s.urn,
    geni_expires: formatRfc3339(s.expires),
    geni_allocation_status: s.allocationState,
    geni_operational_status: s.operationalState,
    geni_error: 'error' in s && s.error ? s.error : '',
    ...('usage' in s && s.usage ? usageStruct(s.usage) : {}),
  };
}

/**
 * A sliver's last reported counters as struct members in our namespace (`sfa_ts_`, as the
 * slice manager's `sfa_ts_aggregates`: `geni_` is the API's own), only those the node sent.
 * Plain numbers: the XML-RPC writer gives `<int>` within int32 and `<double>` beyond (byte
 * counts pass 2^31 soon), which every peer reads; Python's xmlrpc.client writes no `<i8>` either.
 */
export function usageStruct(u: SliverUsage): XmlRpcStruct {
  const counters: readonly (readonly [string, number | undefined])[] = [
    ['sfa_ts_bytes_in', u.bytesIn],
    ['sfa_ts_bytes_out', u.bytesOut],
    ['sfa_ts_packets_in', u.packetsIn],
    ['sfa_ts_packets_out', u.packetsOut],
    ['sfa_ts_cpu_seconds', u.cpuSeconds],
    ['sfa_ts_memory_bytes', u.memoryBytes],
  ];
  const out: XmlRpcStruct = {};
  for (const [key, value] of counters) if (value !== undefined) out[key] = value;
  out['sfa_ts_reported'] = formatRfc3339(u.reported);
  return out;
}

/** The latest expiry among slivers (a manifest's `expires`), or `fallback` when there are none. */
export function latestExpiry(slivers: readonly { expires: Date }[], fallback: Date): Date {
  return slivers.reduce((m, s) => (s.expires > m ? s.expires : m), slivers[0]?.expires ?? fallback);
}
