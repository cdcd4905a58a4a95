/**
 * Provision: turn allocated slivers into running vservers.
 *
 * On PlanetLab a vserver is an account and a container that the node manager creates within
 * minutes, with nothing to boot or image. On a node without a node manager (unmanaged)
 * provisioning is taken as instant: a provisioned sliver goes straight to `geni_ready`. On a
 * managed node it is asked to start (desired state `started`) and shows `geni_configuring`
 * until the node reports it running (see operational-state.ts).
 *
 * A sliver already provisioned is left as it is (Provision is idempotent; Renew changes
 * expiries). All or nothing: if one sliver cannot be provisioned, none is.
 */
import { Refused } from '../../faults.js';
import { throwProblems, type Problem } from './admission.js';
import type { EngineContext } from './context.js';
import { checkedExpiry, expiryLimit } from './expiry.js';
import { checkUsers } from './input.js';
import { moveHold } from './leases.js';
import { isEmptyReap, reapLapsed } from './reap.js';
import { sliceTransaction } from './slice-scope.js';
import { selectSlivers } from './select-slivers.js';
import { addMs, floorSeconds, maxDate, minDate, requireDate, show } from './time.js';
import type { SliceDescription, SliceUser } from './types.js';
import { sliceInfo, sliverInfo } from './views.js';

export interface ProvisionOptions {
  now: Date;
  /** The slice credential's expiry: no sliver outlives it. */
  credentialExpires: Date;
  /** `geni_end_time`: refused (OutOfRange) beyond the limits; default: the policy's lifetime. */
  endTime?: Date;
  /** `geni_users`: the accounts and keys for the slice's slivers, stored when given. */
  users?: readonly SliceUser[];
}

/**
 * Provision the selected slivers (slice and/or sliver URNs of one slice).
 * @returns the selected slivers, as a manifest describes them.
 * @throws SearchFailed / BadArgs as selectSlivers; Refused for a shut-down slice or an
 *   exclusive node another slice has leased within the new lifetime; OutOfRange for an end
 *   time in the past or beyond the credential or the policy.
 */
export function provision(
  ctx: EngineContext,
  urns: readonly string[],
  options: ProvisionOptions,
): SliceDescription {
  const { store, policy } = ctx;
  const now = floorSeconds(requireDate(options.now, 'now'));
  const credentialExpires = requireDate(options.credentialExpires, 'credentialExpires');
  const users = options.users === undefined ? undefined : checkUsers(options.users);
  const endTime =
    options.endTime === undefined ? undefined : requireDate(options.endTime, 'geni_end_time');

  const { result, reaped } = sliceTransaction(ctx, urns, (held) => {
    const reaped = reapLapsed(ctx, now, held);
    const { slice, slivers } = selectSlivers(ctx, urns, now);
    if (slice.shutdown) {
      throw new Refused(
        `slice ${slice.urn} was shut down at ${show(slice.shutdown)}; ask this aggregate's operator to reopen it (sfa slice reopen ${slice.urn})`,
      );
    }
    const expires =
      endTime === undefined
        ? minDate(addMs(now, policy.defaultLifetimeMs), expiryLimit(policy, now, credentialExpires))
        : checkedExpiry(policy, now, credentialExpires, endTime, {
            alap: false,
            what: 'the requested end time',
          });
    const problems: Problem[] = [];
    for (const sliver of slivers) {
      if (sliver.allocationState !== 'geni_allocated') continue;
      const problem = moveHold(store, sliver, expires, now);
      if (problem) {
        problems.push(problem);
        continue;
      }
      store.updateSliver(sliver.id, {
        allocationState: 'geni_provisioned',
        operationalState: 'geni_ready',
        expires,
        desired: { state: 'started', at: now },
      });
    }
    // Rolls back every change above if any sliver failed.
    throwProblems(problems);
    if (expires > slice.expires) store.setSliceExpires(slice.id, maxDate(slice.expires, expires));
    if (users) store.setSliceUsers(slice.id, users);
    const fresh = store.sliceById(slice.id) ?? slice;
    return {
      result: {
        slice: sliceInfo(store, fresh),
        slivers: slivers.map((s) => sliverInfo(ctx, store.sliverById(s.id) ?? s, now)),
      },
      reaped,
    };
  });
  if (!isEmptyReap(reaped)) ctx.onReap?.(reaped);
  return result;
}
