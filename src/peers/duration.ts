/**
 * Durations typed by operators: `30m`, `12h`, `7d` (and `45s`).
 */
import { BadArgs } from '../faults.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** A rotation overlap longer than this keeps an old root alive long enough to defeat rotating. */
export const MAX_OVERLAP_MS = 365 * 86_400_000;

/**
 * Milliseconds of a duration written `<n><unit>`, unit `s`, `m`, `h` or `d`, n a positive
 * integer, at most a year. Throws BadArgs naming `what` otherwise.
 */
export function parseDuration(text: string, what = 'duration'): number {
  const m = /^([0-9]{1,6})([smhd])$/.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[m[2]!]! : NaN;
  if (!m || ms <= 0) {
    throw new BadArgs(`${what} must be a positive duration such as 30m, 12h or 7d, not '${text}'`);
  }
  if (ms > MAX_OVERLAP_MS) {
    throw new BadArgs(`${what} '${text}' is longer than a year: rotate sooner, not slower`);
  }
  return ms;
}
