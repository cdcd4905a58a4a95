/**
 * What one call may ask for. The registry, the aggregate and the slice manager share one event
 * loop, so a call's work delays every other call: these bounds keep the heaviest call allowed
 * to a few milliseconds of it (`npm run bench -- aggregate`, round c, measures it). A call over
 * a bound is BADARGS naming it, so the client can split its request (Allocate adds to a slice).
 *
 * An operator may raise them in sfa.json (`"limits": {"requestNodes": 1000}`), knowing that the
 * other calls then wait for the larger ones (about 0.15 ms per node of an Allocate).
 */
export interface CallLimits {
  /** `<node>` elements in one request RSpec (Allocate, CreateSliver). */
  requestNodes: number;
  /** `<lease>` elements in one request RSpec. */
  requestLeases: number;
  /** Slice and sliver URNs in one call (Describe, Provision, Status, Renew, Delete, …). */
  urns: number;
  /** Names in one Resolve or GetGids. */
  names: number;
  /** Credentials in one call: each one is verified, signatures and chain. */
  credentials: number;
  /** Users in `geni_users` (and v2's users argument). */
  users: number;
  /** Keys per user in `geni_users`. */
  keysPerUser: number;
}

export const DEFAULT_CALL_LIMITS: Readonly<CallLimits> = Object.freeze({
  requestNodes: 100,
  requestLeases: 100,
  urns: 100,
  names: 100,
  credentials: 32,
  users: 256,
  keysPerUser: 32,
});

const current: CallLimits = { ...DEFAULT_CALL_LIMITS };

/** The limits in force in this process (read at each call). */
export const CALL_LIMITS: Readonly<CallLimits> = current;

/**
 * Set the limits of this process: the defaults with `overrides` (sfa.json `limits`) on top.
 * Called when an authority starts, and without overrides when it stops: a process serves one
 * authority (tests and benchmarks that start several use the defaults).
 */
export function setCallLimits(overrides: Partial<CallLimits> = {}): void {
  Object.assign(current, DEFAULT_CALL_LIMITS, overrides);
}
