/**
 * How late a sliver may expire: never after the slice credential, never beyond the policy's
 * maximum lifetime from now.
 */
import { OutOfRange } from '../../faults.js';
import type { AggregatePolicy } from './policy.js';
import { addMs, floorSeconds, minDate, show } from './time.js';

const DAY = 86_400_000;

/** The latest expiry allowed now; OutOfRange if the credential has already expired. */
export function expiryLimit(policy: AggregatePolicy, now: Date, credentialExpires: Date): Date {
  const credential = floorSeconds(credentialExpires);
  if (credential <= now) {
    throw new OutOfRange(
      `the slice credential expired at ${show(credential)}; get a fresh one from the slice authority`,
    );
  }
  return minDate(credential, addMs(now, policy.maxLifetimeMs));
}

/**
 * Check a requested expiry against the limits. With `alap` (`geni_extend_alap`) a request
 * beyond a limit is trimmed to it; without, it is refused.
 * @throws OutOfRange naming the limit passed and the latest time allowed.
 */
export function checkedExpiry(
  policy: AggregatePolicy,
  now: Date,
  credentialExpires: Date,
  requested: Date,
  options: { alap: boolean; what: string },
): Date {
  const wanted = floorSeconds(requested);
  if (wanted <= now) {
    throw new OutOfRange(`${options.what} ${show(wanted)} is not in the future`);
  }
  const limit = expiryLimit(policy, now, credentialExpires);
  if (wanted <= limit || options.alap) return minDate(wanted, limit);
  const credential = floorSeconds(credentialExpires);
  if (wanted > credential) {
    throw new OutOfRange(
      `${options.what} ${show(wanted)} is after the slice credential's expiry ${show(credential)}; ` +
        `ask for ${show(limit)} at the latest, or renew the slice at its authority first`,
    );
  }
  throw new OutOfRange(
    `${options.what} ${show(wanted)} is beyond this aggregate's maximum lifetime of ` +
      `${Math.round(policy.maxLifetimeMs / DAY)} days; ask for ${show(limit)} at the latest`,
  );
}
