/**
 * The operational state a sliver shows (Status, Describe, manifests, PerformOperationalAction).
 *
 * Decided here, for every view: on an **unmanaged** node (one that never sent a
 * ReportNodeStatus: the demo inventory, aggregates without node managers) the stored state is
 * shown, as before node managers existed: Provision and geni_start give geni_ready at once,
 * geni_stop geni_notready. On a **managed** node, a provisioned sliver's state follows what the
 * node reported since the researcher last asked (reports older than the request are stale):
 *
 *   asked started: running → geni_ready; failed → geni_failed; otherwise geni_configuring
 *   asked stopped: stopped → geni_notready; failed → geni_failed; otherwise geni_stopping
 *
 * The desired state (what GetSlivers tells the node) is stored apart and never derived from
 * the state shown.
 */
import type {
  NodeManagedRow,
  OperationalState,
  SliverRealizedRow,
  SliverRow,
} from '../../store/aggregate-store.js';

/** Longest node error shown in `geni_error` (the node API already bounds what it stores). */
export const MAX_SHOWN_ERROR = 500;

export interface ShownState {
  state: OperationalState;
  /** The node's reason, with geni_failed. */
  error?: string;
}

/**
 * The state shown for `sliver`, given its node's management record (undefined: unmanaged)
 * and the sliver's last realized state.
 */
export function shownOperationalState(
  sliver: Pick<SliverRow, 'allocationState' | 'operationalState' | 'desiredState' | 'desiredAt'>,
  managed: NodeManagedRow | undefined,
  realized: Pick<SliverRealizedRow, 'state' | 'error' | 'reported'> | undefined,
): ShownState {
  if (!managed || sliver.allocationState !== 'geni_provisioned') {
    return { state: sliver.operationalState };
  }
  // Same-second reports count: a node manager answers a change within a second or so.
  const fresh =
    realized && (sliver.desiredAt === null || realized.reported >= sliver.desiredAt)
      ? realized
      : undefined;
  if (fresh?.state === 'failed') {
    const reason = fresh.error ?? 'the node reported the sliver failed without a reason';
    return { state: 'geni_failed', error: reason.slice(0, MAX_SHOWN_ERROR) };
  }
  if (sliver.desiredState === 'started') {
    return { state: fresh?.state === 'running' ? 'geni_ready' : 'geni_configuring' };
  }
  return { state: fresh?.state === 'stopped' ? 'geni_notready' : 'geni_stopping' };
}
