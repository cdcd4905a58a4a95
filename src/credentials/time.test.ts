import { describe, expect, it } from 'vitest';
import { formatRfc3339, parseRfc3339 } from './time.js';

describe('RFC 3339 dates', () => {
  it('writes UTC without fractional seconds', () => {
    expect(formatRfc3339(new Date('2026-12-26T09:02:59.123Z'))).toBe('2026-12-26T09:02:59Z');
  });

  it('reads Z, offsets, fractions, a space for T, and a missing zone as UTC', () => {
    expect(parseRfc3339('2026-12-26T09:02:59Z').toISOString()).toBe('2026-12-26T09:02:59.000Z');
    expect(parseRfc3339('2026-12-26T07:02:59-02:00').toISOString()).toBe(
      '2026-12-26T09:02:59.000Z',
    );
    expect(parseRfc3339('2026-12-26T10:02:59+01:00').toISOString()).toBe(
      '2026-12-26T09:02:59.000Z',
    );
    expect(parseRfc3339('2026-12-26 09:02:59.5').toISOString()).toBe('2026-12-26T09:02:59.500Z');
    expect(parseRfc3339('0099-01-01T00:00:00Z').getUTCFullYear()).toBe(99);
  });

  it('refuses what is not a date, naming it', () => {
    expect(() => parseRfc3339('tomorrow', 'expires')).toThrow(
      "expires 'tomorrow' is not an RFC 3339 date",
    );
    expect(() => parseRfc3339('2026-02-30T00:00:00Z')).toThrow('not a valid calendar date');
  });
});
