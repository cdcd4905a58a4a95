/**
 * RFC 3339 dates as SFA and GENI write them: UTC, `Z`, no fractional seconds.
 */
import { BadArgs } from '../faults.js';

/** `2026-12-26T09:02:59Z`: JavaScript's toISOString() adds `.000`, which SFA tools do not write. */
export function formatRfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Date and time, optional fraction, then Z or an offset (SFA's utcparse also accepts a space
// for the T and a missing zone, read as UTC).
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:?\d{2})?$/;

/**
 * Parse an RFC 3339 date, honouring offsets (`-02:00`); a missing zone is UTC, as SFA reads it.
 * Throws BadArgs naming `what` on anything else.
 */
export function parseRfc3339(text: string, what = 'date'): Date {
  const m = RFC3339.exec(text.trim());
  if (!m)
    throw new BadArgs(`${what} '${text}' is not an RFC 3339 date (e.g. 2026-12-26T09:02:59Z)`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  const utc = new Date(
    Date.UTC(2000, +mo! - 1, +d!, +h!, +mi!, +s!, frac ? Math.floor(+frac * 1000) : 0),
  );
  utc.setUTCFullYear(+y!, +mo! - 1, +d!); // Date.UTC alone reads years 0–99 as 1900–1999
  let ms = utc.getTime();
  const check = new Date(ms);
  if (
    check.getUTCMonth() !== +mo! - 1 ||
    check.getUTCDate() !== +d! ||
    +h! > 23 ||
    +mi! > 59 ||
    +s! > 60
  ) {
    throw new BadArgs(`${what} '${text}' is not a valid calendar date`);
  }
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return new Date(ms);
}
