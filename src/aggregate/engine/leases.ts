/**
 * Lease slots: requested times rounded outwards to the granularity, unions of slots, and the
 * hold that follows a sliver's expiry on an exclusive node.
 */
import { BadArgs, OutOfRange, Refused } from '../../faults.js';
import type { AggregateStore, LeaseRow, SliverRow } from '../../store/aggregate-store.js';
import { describeLease, leaseConflict, type Interval, type Problem } from './admission.js';
import type { AggregatePolicy } from './policy.js';
import { addMs, show } from './time.js';

/**
 * Round a requested slot outwards to whole granularity slots (a slot is the unit that can be
 * reserved) and check it against `now` and the policy's horizon.
 * @throws BadArgs if it ends before it starts; OutOfRange if it is over or ends too late.
 */
export function slotOf(
  lease: Interval,
  now: Date,
  policy: AggregatePolicy,
  where: string,
): Interval {
  const g = policy.leaseGranularityMs;
  if (!(lease.start < lease.end)) {
    throw new BadArgs(
      `${where}: the lease must end after it starts (${show(lease.start)} to ${show(lease.end)})`,
    );
  }
  const start = new Date(Math.floor(lease.start.getTime() / g) * g);
  const end = new Date(Math.ceil(lease.end.getTime() / g) * g);
  if (end <= now) {
    throw new OutOfRange(
      `${where}: the lease ends at ${show(end)}, which is past; ask for a future slot`,
    );
  }
  const horizon = addMs(now, policy.maxLifetimeMs);
  if (end > horizon) {
    throw new OutOfRange(
      `${where}: the lease ends at ${show(end)}, beyond this aggregate's horizon of ${show(horizon)}; ask for an earlier slot`,
    );
  }
  return { start, end };
}

/** The union of the intervals, as sorted disjoint intervals (touching ones are joined). */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.start.getTime() - b.start.getTime());
  const out: Interval[] = [];
  for (const i of sorted) {
    const last = out.at(-1);
    if (last && i.start <= last.end) {
      if (i.end > last.end) last.end = i.end;
    } else out.push({ start: i.start, end: i.end });
  }
  return out;
}

/** The sliver's hold on its exclusive node, if it has one (it has none with reservations). */
export function holdOf(store: AggregateStore, sliverId: number, now: Date): LeaseRow | undefined {
  return store.liveLeasesOfSliver(sliverId, now).find((l) => l.kind === 'hold');
}

/**
 * Move the end of the sliver's hold (if any) to `end`, its new expiry, unless another slice has
 * a lease in the way.
 * @returns the conflict, without changing anything, or undefined once done.
 */
export function moveHold(
  store: AggregateStore,
  sliver: SliverRow,
  end: Date,
  now: Date,
): Problem | undefined {
  const hold = holdOf(store, sliver.id, now);
  if (!hold) return undefined;
  const held = leaseConflict(store.liveLeasesOnNode(hold.nodeId, now), sliver.sliceId, {
    start: now,
    end,
  });
  if (held) {
    return {
      fault: Refused,
      message: `sliver '${sliver.clientId}' cannot keep ${sliver.hostname} until ${show(end)}: ${describeLease(held)}; ask for an earlier expiry`,
    };
  }
  store.setLeaseTimes(hold.id, hold.start, end);
  return undefined;
}
