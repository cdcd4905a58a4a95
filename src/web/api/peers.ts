/**
 * GET /api/peers (operator): the federation peers as `sfa peer` recorded them, the slice
 * manager's statistics of the calls it relayed to their aggregates, and the peers' audit trail.
 */
import { formatRfc3339 } from '../../credentials/time.js';
import { isRootTrusted } from '../../peers/peer-store.js';
import type { WebContext } from '../context.js';

export function peersView(ctx: WebContext, now: Date) {
  const { peerStore } = ctx.registry;
  const stats = ctx.relayStats;
  return {
    peers: peerStore.list().map((p) => {
      // The newest root still trusted: during a rotation, the one that replaces the old.
      const root = p.roots.filter((r) => isRootTrusted(r, now)).at(-1);
      const urls = [...new Set([...p.aggregateUrls, ...stats.urlsOf(p.hrn)])];
      return {
        hrn: p.hrn,
        registry_url: p.registryUrl,
        aggregate_url: p.aggregateUrls[0] ?? null,
        root_fingerprint: root?.fingerprint ?? null,
        root_expires: root ? formatRfc3339(root.gid.notAfter) : null,
        last_contact: p.lastContact && formatRfc3339(p.lastContact),
        health: p.health,
        relays: stats.summary(urls),
      };
    }),
    audit: peerStore.audit().map((a) => ({
      at: formatRfc3339(a.at),
      action: a.action,
      peer: a.peer,
      by: a.who,
      detail: a.detail,
    })),
  };
}
