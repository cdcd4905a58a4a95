/**
 * Instants as the store keeps them: whole seconds (RFC 3339 without fractions), so that a date
 * read back equals the date computed.
 */
import { BadArgs } from '../../faults.js';

/** `d` truncated to the second. */
export function floorSeconds(d: Date): Date {
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

export const addMs = (d: Date, ms: number): Date => new Date(d.getTime() + ms);
export const minDate = (...ds: Date[]): Date => new Date(Math.min(...ds.map((d) => d.getTime())));
export const maxDate = (...ds: Date[]): Date => new Date(Math.max(...ds.map((d) => d.getTime())));

/** `2026-11-25T12:00:00Z`, for messages. */
export const show = (d: Date): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Check that `value` is a valid Date; BadArgs naming `what` otherwise. */
export function requireDate(value: unknown, what: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw new BadArgs(`${what} must be a valid date`);
  }
  return value;
}
