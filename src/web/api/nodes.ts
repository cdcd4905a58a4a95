/**
 * GET /api/nodes and GET /api/nodes/:hostname: the nodes as the advertisement shows them.
 * Built from the engine's bulk reads (one pass over nodes, one over leases): the node list of
 * a 10,000-node aggregate is one call, not 10,000.
 */
import type { LeaseInfo, NodeAdvert } from '../../aggregate/engine/engine.js';
import { formatRfc3339 } from '../../credentials/time.js';
import { Xrn } from '../../credentials/xrn.js';
import type { WebContext } from '../context.js';

/**
 * When an exclusive node's next free slot starts: the end of the lease running at `now`, pushed
 * on through leases that follow without a gap. Null when no lease runs now.
 */
export function nextFree(leases: readonly LeaseInfo[], now: Date): Date | null {
  const sorted = [...leases].sort((a, b) => a.start.getTime() - b.start.getTime());
  const t = now.getTime();
  if (!sorted.some((l) => l.start.getTime() <= t && t < l.end.getTime())) return null;
  let free = t;
  for (const l of sorted) {
    if (l.start.getTime() <= free) free = Math.max(free, l.end.getTime());
  }
  return new Date(free);
}

function nodeJson(n: NodeAdvert, leases: readonly LeaseInfo[] | undefined, now: Date) {
  const free = n.exclusive && leases ? nextFree(leases, now) : null;
  return {
    hostname: n.hostname,
    site: n.site.loginBase,
    site_name: n.site.name,
    country: n.site.country,
    city: n.site.city,
    latitude: n.site.latitude,
    longitude: n.site.longitude,
    boot_state: n.bootState,
    available: n.available,
    exclusive: n.exclusive,
    next_free: free && formatRfc3339(free),
    load_average: n.loadAverage,
    slivers: n.slivers,
    // The engine says percent; the page wants a share.
    reliability: n.reliability === null ? null : n.reliability / 100,
    tags: n.tags.map((t) => [t.name, t.value]),
  };
}

function leasesByHost(ctx: WebContext, now: Date): Map<string, LeaseInfo[]> {
  const out = new Map<string, LeaseInfo[]>();
  for (const l of ctx.engine.listLeases(now)) {
    const list = out.get(l.hostname);
    if (list) list.push(l);
    else out.set(l.hostname, [l]);
  }
  return out;
}

export function nodesView(ctx: WebContext, now: Date) {
  const leases = leasesByHost(ctx, now);
  return {
    now: formatRfc3339(now),
    nodes: ctx.engine.listNodes(now).map((n) => nodeJson(n, leases.get(n.hostname), now)),
  };
}

/** One node with its history and slivers; undefined for a node not in the inventory. */
export function nodeView(ctx: WebContext, hostname: string, now: Date) {
  const overview = ctx.engine.nodeOverview(hostname, now);
  if (!overview) return undefined;
  const advert = ctx.engine.listNodes(now).find((n) => n.hostname === overview.node.hostname);
  if (!advert) return undefined; // removed between the two reads
  const leases = ctx.engine.listLeases(now).filter((l) => l.hostname === advert.hostname);
  const up = advert.bootState === 'boot';
  const history = [
    ...overview.reports.map((r) => ({
      at: r.at,
      load_average: r.loadAverage,
      slivers: r.slivers.length,
      // A report is the node manager answering: the node was up unless set down.
      available: up,
    })),
    ...overview.statuses.map((s) => ({
      at: s.at,
      load_average: s.loadAverage,
      slivers: s.slivers,
      available: s.bootState === 'boot' && s.checked !== 'down',
    })),
  ]
    .sort((a, b) => a.at.getTime() - b.at.getTime())
    .map((h) => ({ ...h, at: formatRfc3339(h.at) }));
  return {
    node: {
      ...nodeJson(advert, leases, now),
      nodegroups: advert.nodegroups,
      managed: advert.reported !== undefined,
    },
    history,
    slivers: overview.slivers.map((s) => ({
      slice_hrn: Xrn.fromUrn(s.sliceUrn).hrn,
      sliver_urn: s.urn,
      state: s.operationalState,
      expires: formatRfc3339(s.expires),
    })),
  };
}
