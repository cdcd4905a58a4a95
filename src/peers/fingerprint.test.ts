import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { parseFingerprint } from './fingerprint.js';

const FP =
  'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89';

describe('parseFingerprint', () => {
  it('reads colon-separated and plain hex, in any case, to the canonical form', () => {
    expect(parseFingerprint(FP)).toBe(FP);
    expect(parseFingerprint(FP.toLowerCase())).toBe(FP);
    expect(parseFingerprint(FP.replaceAll(':', '').toLowerCase())).toBe(FP);
    expect(parseFingerprint(` ${FP} `)).toBe(FP);
  });

  it.each([
    ['a SHA-1 fingerprint', 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01'],
    ['a truncated one', FP.slice(0, -3)],
    ['misplaced colons', FP.replace('AB:CD', 'ABC:D')],
    ['a non-hex character', FP.replace('AB', 'AG')],
    ['nothing', ''],
  ])('refuses %s, naming the option', (_, text) => {
    expect(() => parseFingerprint(text, '--accept-fingerprint')).toThrow(BadArgs);
    expect(() => parseFingerprint(text, '--accept-fingerprint')).toThrow(
      /^--accept-fingerprint must be a SHA-256 fingerprint: 64 hex digits, plain or colon-separated/,
    );
  });
});
