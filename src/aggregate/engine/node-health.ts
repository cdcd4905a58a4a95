/**
 * A managed node's status from its own reports: reliability and silence.
 *
 * A node is **managed** once it has sent one ReportNodeStatus (the store's `node_managed`).
 * Nodes without a node manager (the demo inventory; authorities that run the aggregate without
 * nodes) never report: their load, reliability and availability stay what `sfa node status`
 * and the inventory say, exactly as before node managers existed. The operator's boot state
 * (`sfa node status --boot-state down`) is never changed by a report: a node set down stays
 * down whatever it reports.
 */
import type { NodeManagedRow } from '../../store/aggregate-store.js';

/** How often a node manager is asked to report (ReportNodeStatus's `next_report_seconds`). */
export const REPORT_INTERVAL_SECONDS = 60;

/** A managed node silent for this many report intervals is unavailable. */
export const SILENT_AFTER_INTERVALS = 3;

/** The window reliability is computed over. */
export const RELIABILITY_WINDOW_MS = 7 * 86_400_000;

const INTERVAL_MS = REPORT_INTERVAL_SECONDS * 1000;

/** True when the managed node has not reported for SILENT_AFTER_INTERVALS intervals at `now`. */
export function isSilent(managed: Pick<NodeManagedRow, 'lastReport'>, now: Date): boolean {
  return now.getTime() - managed.lastReport.getTime() >= SILENT_AFTER_INTERVALS * INTERVAL_MS;
}

/**
 * The share of expected reports received, in percent with one decimal: reports dated within
 * the last 7 days over the reports expected in that time (elapsed time since the node became
 * managed, at most 7 days, over the report interval; at least one). Capped at 100.
 */
export function reportReliability(
  managed: Pick<NodeManagedRow, 'since'> & { recentReports: number },
  now: Date,
): number {
  const elapsed = Math.min(
    Math.max(0, now.getTime() - managed.since.getTime()),
    RELIABILITY_WINDOW_MS,
  );
  const expected = Math.max(1, elapsed / INTERVAL_MS);
  const share = Math.min(1, managed.recentReports / expected);
  return Math.round(share * 1000) / 10;
}

/** The start of the reliability window at `now` (for the store's `managedNodes`). */
export const reliabilityWindowStart = (now: Date): Date =>
  new Date(now.getTime() - RELIABILITY_WINDOW_MS);
