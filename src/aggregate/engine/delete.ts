/**
 * Delete: give slivers back. Their rows go (with their leases and ports, by cascade), so the
 * node, its CPU shares and the ports return to the pool at once, and the sliver URNs answer
 * SearchFailed from then on; ids are never reused, so they never name another sliver.
 *
 * Allowed on a shut-down slice (the operator's stop does not keep the researcher from giving
 * resources back). The slice record stays, empty, until it expires, keeping its login name.
 */
import type { EngineContext } from './context.js';
import { selectSlivers } from './select-slivers.js';
import { floorSeconds, requireDate } from './time.js';
import type { SliverStatus } from './types.js';
import { sliverStatus } from './views.js';
import { sliceTransaction } from './slice-scope.js';

/**
 * Delete the selected slivers (slice and/or sliver URNs of one slice), all in one transaction.
 * @returns each as `geni_unallocated`.
 * @throws SearchFailed / BadArgs as selectSlivers.
 */
export function deleteSlivers(
  ctx: EngineContext,
  urns: readonly string[],
  now: Date,
): SliverStatus[] {
  const at = floorSeconds(requireDate(now, 'now'));
  return sliceTransaction(ctx, urns, () => {
    const { slivers } = selectSlivers(ctx, urns, at);
    return slivers.map((sliver) => {
      const status = sliverStatus(ctx, sliver, {
        allocationState: 'geni_unallocated',
        operationalState: 'geni_notready',
      });
      ctx.store.deleteSliver(sliver.id);
      return status;
    });
  });
}
