import { describe, expect, it } from 'vitest';
import { BadArgs } from './faults.js';
import { bounded, logText, messageText, quote } from './text.js';

describe('text from outside, in messages and the log', () => {
  it('bounds a text and says how much was left out', () => {
    expect(bounded('abcdef', 3)).toBe('abc… (3 more characters)');
    expect(bounded('abc', 3)).toBe('abc');
  });

  it('replaces what XML cannot carry in a message (NUL, C0 controls, lone surrogates, U+FFFF)', () => {
    expect(messageText('a\u0000b\u0001c\td\ne\uD800f\uFFFFg')).toBe(
      'a\uFFFDb\uFFFDc\td\ne\uFFFDf\uFFFDg',
    );
    expect(messageText('x'.repeat(5000)).length).toBeLessThan(2100);
  });

  it('keeps a log field on its line: every control character and backslash escaped', () => {
    expect(logText('GetVersion\n2026 forged\r\u2028\\')).toBe(
      'GetVersion\\u000a2026 forged\\u000d\\u2028\\\\',
    );
  });

  it('quotes a value by its type, never its raw contents, and never throws', () => {
    expect(quote('urn:x')).toBe('"urn:x"');
    expect(quote(7)).toBe('the int 7');
    expect(quote(1.5)).toBe('the double 1.5');
    expect(quote(true)).toBe('the boolean true');
    expect(quote(new Date(0))).toBe('a dateTime');
    expect(quote(Buffer.from([0, 1]))).toBe('base64 (2 bytes)');
    expect(quote([1, 2])).toBe('an array of 2');
    expect(quote(Object.create(null))).toBe('a struct'); // String() of it throws
  });

  it('every fault message is bounded and XML-safe, whatever it was built from', () => {
    const f = new BadArgs(`bad name ${'\u0000'.repeat(3000)}`);
    expect(f.message.length).toBeLessThan(2100);
    expect(f.message).not.toContain('\u0000');
  });
});
