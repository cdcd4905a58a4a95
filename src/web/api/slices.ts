/**
 * GET /api/slices and GET /api/slices/:hrn (operator): the registry's slices with their
 * researchers (HRNs only: never their email addresses or keys), and what the aggregate holds
 * for each: live slivers, leases and ports. Slices the aggregate holds for other authorities'
 * researchers are listed too.
 */
import type { SliceDescription } from '../../aggregate/engine/engine.js';
import { formatRfc3339 } from '../../credentials/time.js';
import { Xrn } from '../../credentials/xrn.js';
import type { WebContext } from '../context.js';

function sliceJson(
  hrn: string,
  urn: string,
  researchers: string[],
  expires: Date | null,
  held: SliceDescription | undefined,
) {
  const slivers = held?.slivers ?? [];
  const end = held?.slice.expires ?? expires;
  return {
    hrn,
    urn,
    researchers,
    expires: end && formatRfc3339(end),
    slivers: slivers.map((s) => ({
      hostname: s.node.hostname,
      sliver_urn: s.urn,
      state: s.operationalState,
      expires: formatRfc3339(s.expires),
    })),
    leases: slivers.flatMap((s) =>
      s.leases.map((l) => ({
        hostname: l.hostname,
        start: formatRfc3339(l.start),
        end: formatRfc3339(l.end),
      })),
    ),
    ports: slivers.flatMap((s) =>
      s.ports.map((p) => ({ hostname: s.node.hostname, proto: p.proto, from: p.from, to: p.to })),
    ),
  };
}

export function slicesView(ctx: WebContext, now: Date) {
  const { store } = ctx.registry;
  const held = new Map(ctx.engine.listSlices(now).map((d) => [d.slice.urn.toLowerCase(), d]));
  const slices = store
    .all()
    .filter((r) => r.type === 'slice')
    .map((r) => {
      const urn = Xrn.fromHrn(r.hrn, 'slice').urn;
      const d = held.get(urn.toLowerCase());
      held.delete(urn.toLowerCase());
      return sliceJson(
        r.hrn,
        urn,
        store.researchers(r.id).map((u) => u.hrn),
        r.expires,
        d,
      );
    });
  for (const d of held.values()) {
    slices.push(sliceJson(Xrn.fromUrn(d.slice.urn).hrn, d.slice.urn, [], null, d));
  }
  return { slices: slices.sort((a, b) => a.hrn.localeCompare(b.hrn)) };
}

/**
 * One slice with its history: the AM calls that changed it (by whom, from which client
 * program), shutdowns and reopenings. Undefined for an unknown slice.
 */
export function sliceView(ctx: WebContext, hrn: string, now: Date) {
  const slice = slicesView(ctx, now).slices.find((s) => s.hrn.toLowerCase() === hrn.toLowerCase());
  if (!slice) return undefined;
  return {
    slice,
    history: ctx.engine.sliceAudit(slice.urn).map((a) => ({
      at: formatRfc3339(a.at),
      action: a.action,
      caller: a.actor,
      client: a.client ?? null,
      ...(a.note === null ? {} : { note: a.note }),
    })),
  };
}
