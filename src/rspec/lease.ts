/**
 * Requested leases become concrete time windows once the aggregate's granularity is known.
 */
import type { Lease, RequestLease } from './model.js';

/**
 * The window a requested lease asks for: SFA's slot count times `granularitySeconds`, our
 * seconds, or our end time. Rounding to the granularity is the aggregate's decision, not made here.
 */
export function resolveLease(lease: RequestLease, granularitySeconds: number): Lease {
  const startMs = lease.start.getTime();
  const length = lease.length;
  const end =
    'end' in length
      ? length.end
      : new Date(
          startMs + ('slots' in length ? length.slots * granularitySeconds : length.seconds) * 1000,
        );
  const out: Lease = { componentIds: [...lease.componentIds], start: lease.start, end };
  if (lease.sliceUrn !== undefined) out.sliceUrn = lease.sliceUrn;
  return out;
}
