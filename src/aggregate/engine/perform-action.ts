/**
 * PerformOperationalAction on provisioned slivers. On a node without a node manager
 * (unmanaged: it never reported) the change is taken as instant:
 *
 *   geni_start        → geni_ready
 *   geni_restart      → geni_ready
 *   geni_stop         → geni_notready
 *   geni_update_users → (unchanged) the slice's `geni_users` are replaced by `users`
 *
 * On a managed node the action sets what the node is told (desired state started/stopped) and
 * the sliver shows geni_configuring / geni_stopping until the node reports it running /
 * stopped (operational-state.ts).
 *
 * All or nothing: every selected sliver must be provisioned (BadArgs otherwise), or none
 * changes. On a shut-down slice only geni_stop is accepted.
 */
import { BadArgs, Refused, Unsupported } from '../../faults.js';
import type { DesiredState, OperationalState } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { checkUsers, quote } from './input.js';
import { selectSlivers } from './select-slivers.js';
import { floorSeconds, requireDate, show } from './time.js';
import type { SliceUser, SliverStatus } from './types.js';
import { sliverUrn } from './urns.js';
import { sliverStatus } from './views.js';
import { sliceTransaction } from './slice-scope.js';

export const OPERATIONAL_ACTIONS = [
  'geni_start',
  'geni_restart',
  'geni_stop',
  'geni_update_users',
] as const;
export type OperationalAction = (typeof OPERATIONAL_ACTIONS)[number];

const NEXT_STATE: Record<
  OperationalAction,
  { shown: OperationalState; desired: DesiredState } | undefined
> = {
  geni_start: { shown: 'geni_ready', desired: 'started' },
  geni_restart: { shown: 'geni_ready', desired: 'started' },
  geni_stop: { shown: 'geni_notready', desired: 'stopped' },
  geni_update_users: undefined,
};

export interface PerformActionOptions {
  now: Date;
  /** `geni_users`, required by geni_update_users. */
  users?: readonly SliceUser[];
}

function checkAction(action: unknown): OperationalAction {
  if (typeof action !== 'string' || action.trim() === '') {
    throw new BadArgs(`the action is missing; use one of ${OPERATIONAL_ACTIONS.join(', ')}`);
  }
  if (!(OPERATIONAL_ACTIONS as readonly string[]).includes(action)) {
    throw new Unsupported(
      `action ${quote(action)} is not supported by this aggregate; use one of ${OPERATIONAL_ACTIONS.join(', ')}`,
    );
  }
  return action as OperationalAction;
}

/**
 * Perform `action` on the selected slivers (slice and/or sliver URNs of one slice).
 * @returns their status after the action.
 * @throws BadArgs for an empty action, an allocated (not provisioned) sliver, or
 *   geni_update_users without users; Unsupported for an unknown action; Refused on a
 *   shut-down slice; SearchFailed / BadArgs as selectSlivers.
 */
export function performAction(
  ctx: EngineContext,
  urns: readonly string[],
  action: string,
  options: PerformActionOptions,
): SliverStatus[] {
  const { store, policy } = ctx;
  const now = floorSeconds(requireDate(options.now, 'now'));
  const checked = checkAction(action);
  let users: SliceUser[] | undefined;
  if (checked === 'geni_update_users') {
    if (options.users === undefined) {
      throw new BadArgs('geni_update_users needs the geni_users option: the users and their keys');
    }
    users = checkUsers(options.users);
  }
  return sliceTransaction(ctx, urns, () => {
    const { slice, slivers } = selectSlivers(ctx, urns, now);
    if (slice.shutdown && checked !== 'geni_stop') {
      throw new Refused(
        `slice ${slice.urn} was shut down at ${show(slice.shutdown)}; only geni_stop is accepted; ask this aggregate's operator to reopen it (sfa slice reopen ${slice.urn})`,
      );
    }
    const unprovisioned = slivers.filter((s) => s.allocationState !== 'geni_provisioned');
    if (unprovisioned.length > 0) {
      throw new BadArgs(
        `${checked} needs provisioned slivers, and ${unprovisioned
          .map((s) => `${sliverUrn(policy.authority, s.id)} ('${s.clientId}')`)
          .join(
            ', ',
          )} ${unprovisioned.length === 1 ? 'is' : 'are'} only allocated: provision first`,
      );
    }
    if (users) store.setSliceUsers(slice.id, users);
    const next = NEXT_STATE[checked];
    return slivers.map((sliver) => {
      if (next === undefined) return sliverStatus(ctx, sliver);
      store.updateSliver(sliver.id, {
        allocationState: sliver.allocationState,
        operationalState: next.shown,
        expires: sliver.expires,
        desired: { state: next.desired, at: now },
      });
      return sliverStatus(ctx, store.sliverById(sliver.id) ?? sliver);
    });
  });
}
