/**
 * The aggregate's policy: how long things last and what its names look like.
 */
import { BadArgs } from '../../faults.js';
import { Xrn } from '../../credentials/xrn.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

export interface AggregatePolicy {
  /** HRN of this aggregate's authority: sliver URNs `urn:publicid:IDN+<it>+sliver+<id>`. */
  authority: string;
  /** An allocated sliver lapses if not provisioned within this time. */
  allocationLifetimeMs: number;
  /** No sliver may expire later than this after `now` (Provision, Renew). */
  maxLifetimeMs: number;
  /** A provisioned sliver's lifetime when Provision names no end time (within the limits). */
  defaultLifetimeMs: number;
  /** Leases start and end on multiples of this (since the epoch). */
  leaseGranularityMs: number;
  /** Capacity of an inventory node that does not give its own. */
  defaultMaxSlivers: number;
  defaultCpuShares: number;
}

export const DEFAULT_POLICY: Readonly<AggregatePolicy> = {
  authority: 'ple',
  allocationLifetimeMs: 10 * MINUTE,
  maxLifetimeMs: 60 * DAY,
  defaultLifetimeMs: 14 * DAY,
  leaseGranularityMs: HOUR,
  defaultMaxSlivers: 20,
  defaultCpuShares: 40,
};

/** Fill in the defaults and check the whole policy; BadArgs names the bad setting. */
export function resolvePolicy(options: Partial<AggregatePolicy> = {}): AggregatePolicy {
  const defined = Object.fromEntries(
    Object.entries(options).filter(([, v]) => v !== undefined),
  ) as Partial<AggregatePolicy>;
  const policy: AggregatePolicy = { ...DEFAULT_POLICY, ...defined };
  // The authority must make valid sliver URNs; Xrn refuses what would not.
  Xrn.fromHrn(`${policy.authority}.1`, 'sliver');
  for (const key of [
    'allocationLifetimeMs',
    'maxLifetimeMs',
    'defaultLifetimeMs',
    'leaseGranularityMs',
  ] as const) {
    const v = policy[key];
    // Whole seconds: dates are stored without fractions.
    if (!Number.isSafeInteger(v) || v <= 0 || v % 1000 !== 0) {
      throw new BadArgs(`policy ${key} must be a positive whole number of seconds in ms, got ${v}`);
    }
  }
  for (const key of ['defaultMaxSlivers', 'defaultCpuShares'] as const) {
    const v = policy[key];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new BadArgs(`policy ${key} must be a non-negative integer, got ${v}`);
    }
  }
  if (policy.defaultLifetimeMs > policy.maxLifetimeMs) {
    throw new BadArgs('policy defaultLifetimeMs must not exceed maxLifetimeMs');
  }
  return policy;
}
