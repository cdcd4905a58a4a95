/**
 * The expiry a researcher asks Renew for, passed through by sfi untouched: RFC 3339 with `Z` or
 * an offset (omni sends `+00:00`), a plain date, epoch seconds, or `+Nd`, `+Nw`, `+Nm` relative to
 * now (m is 4 weeks, as SFA reads it).
 */
import { BadArgs } from '../faults.js';
import { quote } from '../text.js';
import { parseRfc3339 } from '../credentials/time.js';

const DAY = 86_400_000;

/** A time argument is a dateTime, epoch seconds or a non-empty string; BADARGS naming it else. */
export function requireTimeShape(
  value: unknown,
  name: string,
): asserts value is Date | number | string {
  if (value instanceof Date) return;
  if (typeof value === 'number' && Number.isFinite(value)) return;
  if (typeof value === 'string' && value.trim() !== '') return;
  throw new BadArgs(
    `${name} (the new expiry) must be an RFC 3339 time (2026-12-31T12:00:00Z), epoch seconds, or +Nd/+Nw/+Nm, not ${quote(value)}`,
  );
}

export function parseRenewTime(text: unknown, now: Date): Date {
  requireTimeShape(text, 'expiration_time');
  if (text instanceof Date) return text;
  if (typeof text === 'number') return new Date(text * 1000);
  const t = text.trim();
  const rel = /^\+(\d{1,4})([dwm])$/.exec(t);
  if (rel) {
    const n = Number(rel[1]);
    const unit = rel[2] === 'd' ? DAY : rel[2] === 'w' ? 7 * DAY : 28 * DAY;
    return new Date(now.getTime() + n * unit);
  }
  if (/^\d{9,11}$/.test(t)) return new Date(Number(t) * 1000);
  if (/^\d{4}-\d{2}-\d{2}$/.test(t)) return parseRfc3339(`${t}T00:00:00Z`, 'new expiry');
  return parseRfc3339(t, 'new expiry');
}
