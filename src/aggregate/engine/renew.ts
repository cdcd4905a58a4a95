/**
 * Renew: set the expiry of provisioned slivers.
 *
 * Never beyond the slice credential's expiry nor the policy's maximum lifetime: a request past
 * either is refused (OutOfRange) unless `extendAlap` (`geni_extend_alap`), which trims it to
 * the limit. An allocated sliver cannot be renewed (BadArgs: provision it first), since the
 * allocation lifetime is what makes unprovisioned allocations lapse. On an exclusive node held
 * without reservations, the new expiry must not run into another slice's lease (Refused).
 *
 * Without `bestEffort` it is all or nothing; with it, the slivers that can be renewed are, and
 * each of the others carries its `error`.
 */
import { BadArgs, Refused } from '../../faults.js';
import { throwProblems, type Problem } from './admission.js';
import type { EngineContext } from './context.js';
import { checkedExpiry } from './expiry.js';
import { moveHold } from './leases.js';
import { isEmptyReap, reapLapsed } from './reap.js';
import { sliceTransaction } from './slice-scope.js';
import { selectSlivers } from './select-slivers.js';
import { floorSeconds, maxDate, requireDate, show } from './time.js';
import type { SliceStatus, SliverStatus } from './types.js';
import { sliverUrn } from './urns.js';
import { sliceInfo, sliverStatus } from './views.js';

export interface RenewOptions {
  now: Date;
  /** The slice credential's expiry: no sliver outlives it. */
  credentialExpires: Date;
  /** `geni_best_effort`: renew what can be, report the rest per sliver. */
  bestEffort?: boolean;
  /** `geni_extend_alap`: trim a request beyond the limits to the limit instead of refusing. */
  extendAlap?: boolean;
}

/**
 * Renew the selected slivers (slice and/or sliver URNs of one slice) until `requested`.
 * @returns the slice and the selected slivers' status; with bestEffort, failed ones carry an
 *   error and keep their expiry.
 * @throws OutOfRange (see the module comment); SearchFailed / BadArgs as selectSlivers;
 *   Refused for a shut-down slice; without bestEffort, the first failing sliver's fault.
 */
export function renew(
  ctx: EngineContext,
  urns: readonly string[],
  requested: Date,
  options: RenewOptions,
): SliceStatus {
  const { store, policy } = ctx;
  const now = floorSeconds(requireDate(options.now, 'now'));
  const credentialExpires = requireDate(options.credentialExpires, 'credentialExpires');
  const wanted = requireDate(requested, 'the requested expiry');

  const { result, reaped } = sliceTransaction(ctx, urns, (held) => {
    const reaped = reapLapsed(ctx, now, held);
    const { slice, slivers } = selectSlivers(ctx, urns, now);
    if (slice.shutdown) {
      throw new Refused(
        `slice ${slice.urn} was shut down at ${show(slice.shutdown)}; ask this aggregate's operator to reopen it (sfa slice reopen ${slice.urn})`,
      );
    }
    const expires = checkedExpiry(policy, now, credentialExpires, wanted, {
      alap: options.extendAlap === true,
      what: 'the requested expiry',
    });
    const problems: Problem[] = [];
    const statuses: SliverStatus[] = [];
    for (const sliver of slivers) {
      let problem: Problem | undefined;
      if (sliver.allocationState !== 'geni_provisioned') {
        problem = {
          fault: BadArgs,
          message: `sliver ${sliverUrn(policy.authority, sliver.id)} ('${sliver.clientId}') is only allocated, until ${show(sliver.expires)}: provision it before renewing`,
        };
      } else {
        problem = moveHold(store, sliver, expires, now);
      }
      if (problem) {
        problems.push(problem);
        statuses.push(sliverStatus(ctx, sliver, { error: problem.message }));
        continue;
      }
      store.updateSliver(sliver.id, {
        allocationState: sliver.allocationState,
        operationalState: sliver.operationalState,
        expires,
      });
      statuses.push(sliverStatus(ctx, sliver, { expires }));
    }
    if (options.bestEffort !== true) throwProblems(problems);
    if (problems.length < slivers.length && expires > slice.expires) {
      store.setSliceExpires(slice.id, maxDate(slice.expires, expires));
    }
    const fresh = store.sliceById(slice.id) ?? slice;
    return { result: { slice: sliceInfo(store, fresh), slivers: statuses }, reaped };
  });
  if (!isEmptyReap(reaped)) ctx.onReap?.(reaped);
  return result;
}
