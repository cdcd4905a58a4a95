import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { escapeAttr, escapeText } from './escape.js';

/** What a parser reads back from `<e a="${escapeAttr(v)}">${escapeText(v)}</e>`. */
function readBack(value: string): { attr: string | null; text: string | null } {
  const doc = new DOMParser({ onError: () => undefined }).parseFromString(
    `<e a="${escapeAttr(value)}">${escapeText(value)}</e>`,
    'text/xml',
  );
  return { attr: doc.documentElement!.getAttribute('a'), text: doc.documentElement!.textContent };
}

describe('escapeAttr / escapeText', () => {
  it('returns plain values unchanged (the same string)', () => {
    const v = 'urn:publicid:IDN+ple:inria+node+node1.inria.fr';
    expect(escapeAttr(v)).toBe(v);
    expect(escapeText(v)).toBe(v);
  });

  it('escapes markup', () => {
    expect(escapeAttr(`a<b>&"c'`)).toBe(`a&lt;b&gt;&amp;&quot;c'`);
    expect(escapeText(`a<b>&"c'`)).toBe(`a&lt;b&gt;&amp;"c'`);
  });

  it.each([
    ['markup', `<node a="1"/> & ]]> '"`],
    ['whitespace an attribute would normalize', 'a\tb\nc\r\nd'],
    ['non-ASCII and a surrogate pair', 'Zürich – 東京 😀'],
  ])('round-trips %s through a parser', (_, value) => {
    expect(readBack(value)).toEqual({ attr: value, text: value });
  });

  it.each([
    ['NUL', '\u0000'],
    ['a C0 control', '\u0001\u001f'],
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'x\udc00y'],
    ['U+FFFE and U+FFFF', '\ufffe\uffff'],
  ])('turns %s, which XML cannot carry, into U+FFFD', (_, value) => {
    const expected = value.replace(/[^xy]/g, '\ufffd');
    expect(escapeAttr(value)).toBe(expected);
    expect(escapeText(value)).toBe(expected);
    expect(readBack(value).attr).toBe(expected);
  });
});
