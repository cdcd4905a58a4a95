import { describe, expect, it } from 'vitest';
import { nestedDeeperThan } from './nesting.js';

describe('nestedDeeperThan', () => {
  it('counts element nesting', () => {
    expect(nestedDeeperThan('<a><b><c/></b></a>', 3)).toBe(false);
    expect(nestedDeeperThan('<a><b><c/></b></a>', 2)).toBe(true);
    expect(nestedDeeperThan('<a><b></b><b></b><b/></a>', 2)).toBe(false);
  });

  it('does not count markup-like text in comments, CDATA, PIs and quoted attributes', () => {
    const noise = '<!-- <x><x><x> --><![CDATA[<x><x>]]><?pi <x><x>?><x a="<>" b=\'/>\'/>';
    expect(nestedDeeperThan(`<?xml version="1.0"?><a>${noise}<b/></a>`, 2)).toBe(false);
    expect(nestedDeeperThan('<a b=">"><c d="/>"><e/></c></a>', 2)).toBe(true);
  });

  it('leaves what is not XML to the parser', () => {
    expect(nestedDeeperThan('<urn:publicid:IDN+x+node+n> a <http://x/y> .'.repeat(100), 2)).toBe(
      false,
    );
    expect(nestedDeeperThan('<a><b', 1)).toBe(false);
    expect(nestedDeeperThan('<a><!-- unterminated', 0)).toBe(true);
    expect(nestedDeeperThan('', 0)).toBe(false);
  });
});
