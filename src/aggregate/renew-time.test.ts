import { describe, expect, it } from 'vitest';
import { parseRenewTime } from './renew-time.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const iso = (d: Date) => d.toISOString();

describe('Renew times as sfi and omni pass them', () => {
  it('reads RFC 3339 with Z or an offset, a plain date, and epoch seconds', () => {
    expect(iso(parseRenewTime('2026-12-01T00:00:00Z', NOW))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(parseRenewTime('2026-12-01T00:00:00+00:00', NOW))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(parseRenewTime('2026-12-01T02:00:00+02:00', NOW))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(parseRenewTime('2026-12-01', NOW))).toBe('2026-12-01T00:00:00.000Z');
    expect(iso(parseRenewTime('1796083200', NOW))).toBe('2026-12-01T00:00:00.000Z');
  });

  it('reads +Nd, +Nw and +Nm (m = 4 weeks, as SFA) relative to now', () => {
    expect(iso(parseRenewTime('+5d', NOW))).toBe('2026-11-30T12:00:00.000Z');
    expect(iso(parseRenewTime('+3w', NOW))).toBe('2026-12-16T12:00:00.000Z');
    expect(iso(parseRenewTime('+1m', NOW))).toBe('2026-12-23T12:00:00.000Z');
  });

  it('refuses anything else with BADARGS saying what is accepted', () => {
    expect(() => parseRenewTime('', NOW)).toThrow(
      expect.objectContaining({ geniCode: 1, message: expect.stringContaining('+Nd') }),
    );
    expect(() => parseRenewTime('next week', NOW)).toThrow(
      expect.objectContaining({ geniCode: 1 }),
    );
  });
});
