import { describe, expect, it } from 'vitest';
import { parseDuration } from './duration.js';

describe('parseDuration', () => {
  it('reads 7d, 12h, 30m and 45s', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('45s')).toBe(45_000);
  });

  it.each(['0d', '7', 'd', '1w', '-1d', '1.5h', '7 d', '7D', ''])("refuses '%s'", (text) => {
    expect(() => parseDuration(text, '--overlap')).toThrow(
      `--overlap must be a positive duration such as 30m, 12h or 7d, not '${text}'`,
    );
  });

  it('refuses an overlap longer than a year', () => {
    expect(() => parseDuration('366d', '--overlap')).toThrow(
      "--overlap '366d' is longer than a year: rotate sooner, not slower",
    );
  });
});
