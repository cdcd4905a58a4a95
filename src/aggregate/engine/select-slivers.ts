/**
 * The `urns` argument of Describe, Status, Provision, Renew, Delete and
 * PerformOperationalAction: slice URNs and sliver URNs, mixed at will, of one slice.
 */
import { BadArgs, SearchFailed } from '../../faults.js';
import { Xrn } from '../../credentials/xrn.js';
import type { SliceRow, SliverRow } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { quote } from './input.js';
import { show } from './time.js';
import { sliverIdOf } from './urns.js';

export interface Selection {
  slice: SliceRow;
  /** The live slivers selected, each once, by id. */
  slivers: SliverRow[];
  /** True if a slice URN was given (the whole slice is selected). */
  wholeSlice: boolean;
}

/**
 * A slice URN selects the slice's live slivers (possibly none); a sliver URN selects that one.
 * Reads only; call inside the operation's transaction when it writes.
 *
 * @throws BadArgs for an empty list, a malformed URN, a URN of another type, or URNs of two
 *   different slices.
 * @throws SearchFailed for a slice that has nothing here (never had, or expired), or a sliver
 *   that does not exist here: never issued, deleted, expired or reaped. Sliver URNs are never
 *   reused, so an old URN can never select someone else's sliver.
 */
export function selectSlivers(ctx: EngineContext, urns: unknown, now: Date): Selection {
  const { store, policy } = ctx;
  if (!Array.isArray(urns) || urns.length === 0) {
    throw new BadArgs('give at least one slice or sliver URN');
  }
  let slice: SliceRow | undefined;
  let wholeSlice = false;
  const selected = new Map<number, SliverRow>();
  const sameSlice = (s: SliceRow, urn: string): void => {
    if (slice && slice.id !== s.id) {
      throw new BadArgs(
        `the URNs name two slices (${slice.urn} and, by ${urn}, ${s.urn}); give URNs of one slice per call`,
      );
    }
    slice = s;
  };
  for (const urn of urns as unknown[]) {
    if (typeof urn !== 'string') throw new BadArgs(`URNs must be strings, got ${quote(urn)}`);
    const xrn = Xrn.fromUrn(urn);
    if (xrn.type === 'slice') {
      const s = store.sliceByUrn(xrn.urn);
      if (!s || s.expires <= now) {
        throw new SearchFailed(
          s
            ? `slice ${xrn.urn} expired here at ${show(s.expires)}: it has no resources left at this aggregate`
            : `slice ${xrn.urn} has no resources at this aggregate`,
        );
      }
      sameSlice(s, urn);
      wholeSlice = true;
      for (const v of store.liveSliversOfSlice(s.id, now)) selected.set(v.id, v);
    } else if (xrn.type === 'sliver') {
      const id = sliverIdOf(policy.authority, xrn);
      const v = store.sliverById(id);
      if (!v || v.expires <= now) {
        throw new SearchFailed(
          `no sliver ${xrn.urn} at this aggregate: it was deleted, it expired${v ? ` (at ${show(v.expires)})` : ''}, or it never existed`,
        );
      }
      const s = store.sliceById(v.sliceId);
      if (!s) throw new Error(`slice ${v.sliceId} of sliver ${id} is missing from the store`);
      sameSlice(s, urn);
      selected.set(v.id, v);
    } else {
      throw new BadArgs(`${xrn.urn} is a ${xrn.type} URN; give slice or sliver URNs`);
    }
  }
  if (!slice) throw new BadArgs('give at least one slice or sliver URN');
  return { slice, slivers: [...selected.values()].sort((a, b) => a.id - b.id), wholeSlice };
}
