/**
 * Shutdown: the emergency stop (GENI Shutdown). Every provisioned sliver of the slice goes to
 * `geni_notready` and the slice is marked shut down: it takes no new allocation, provision,
 * renewal or start until the operator reopens it. Its resources are kept, for inspection;
 * Delete still gives them back. A shut-down slice is never reaped as empty.
 */
import { BadArgs, SearchFailed } from '../../faults.js';
import type { SliceRow } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { parseSliceUrn } from './login-name.js';
import { floorSeconds, requireDate } from './time.js';
import type { SliceStatus } from './types.js';
import { sliceInfo, sliverStatus } from './views.js';

function requireSlice(ctx: EngineContext, sliceUrn: string): SliceRow {
  const xrn = parseSliceUrn(sliceUrn);
  const slice = ctx.store.sliceByUrn(xrn.urn);
  if (!slice) throw new SearchFailed(`slice ${xrn.urn} has no resources at this aggregate`);
  return slice;
}

/**
 * Shut the slice down (idempotent: a second call keeps the first time), recording who did.
 * @throws BadArgs for a URN that is not a slice's; SearchFailed for a slice unknown here.
 */
export function shutdown(
  ctx: EngineContext,
  sliceUrn: string,
  now: Date,
  actor: string,
): SliceStatus {
  const at = floorSeconds(requireDate(now, 'now'));
  const { store } = ctx;
  return store.transaction(() => {
    const slice = requireSlice(ctx, sliceUrn);
    if (!slice.shutdown) {
      store.setSliceShutdown(slice.id, at);
      store.recordSliceAudit({ at, sliceUrn: slice.urn, action: 'shutdown', actor, note: null });
    }
    const slivers = store.liveSliversOfSlice(slice.id, at).map((sliver) => {
      if (sliver.allocationState === 'geni_provisioned') {
        store.updateSliver(sliver.id, {
          allocationState: sliver.allocationState,
          operationalState: 'geni_notready',
          expires: sliver.expires,
          desired: { state: 'stopped', at },
        });
        // Read back: a managed node's sliver shows geni_stopping until the node stops it.
        return sliverStatus(ctx, store.sliverById(sliver.id) ?? sliver);
      }
      return sliverStatus(ctx, sliver);
    });
    return { slice: sliceInfo(store, store.sliceById(slice.id) ?? slice), slivers };
  });
}

/**
 * The operator's undo of Shutdown: the slice may allocate, provision, renew and start again
 * (its slivers stay stopped until started). Recorded with the operator and their note.
 * @throws BadArgs if the slice is not shut down; SearchFailed for a slice unknown here.
 * @returns when the slice had been shut down.
 */
export function reopenSlice(
  ctx: EngineContext,
  sliceUrn: string,
  now: Date,
  actor: string,
  note: string | null,
): Date {
  const at = floorSeconds(requireDate(now, 'now'));
  return ctx.store.transaction(() => {
    const slice = requireSlice(ctx, sliceUrn);
    if (!slice.shutdown) throw new BadArgs(`slice ${slice.urn} is not shut down`);
    ctx.store.setSliceShutdown(slice.id, null);
    ctx.store.recordSliceAudit({ at, sliceUrn: slice.urn, action: 'reopen', actor, note });
    return slice.shutdown;
  });
}
