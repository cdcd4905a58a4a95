/**
 * What one call may ask for. Each bound keeps a single call from holding the event loop (the
 * registry, the aggregate and the slice manager share it) for more than a moment; a call over
 * a bound is BADARGS naming it, so the client can split its request.
 */
export const CALL_LIMITS = {
  /** `<node>` elements in one request RSpec (Allocate, CreateSliver). */
  requestNodes: 1000,
  /** `<lease>` elements in one request RSpec. */
  requestLeases: 1000,
  /** Slice and sliver URNs in one call (Describe, Provision, Status, Renew, Delete, …). */
  urns: 1000,
  /** Names in one Resolve or GetGids. */
  names: 1000,
  /** Credentials in one call: each one is verified, signatures and chain. */
  credentials: 32,
  /** Users in `geni_users` (and v2's users argument), and keys per user. */
  users: 256,
  keysPerUser: 32,
} as const;
