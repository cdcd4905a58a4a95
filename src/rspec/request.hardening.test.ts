/**
 * Hostile request RSpecs: each attack class is refused with BadArgs, quickly, before it can cost
 * memory or time; and no mangled input makes the parser throw anything but BadArgs.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { RSPEC3_NS } from './namespaces.js';
import { parseRequest } from './request.js';
import { GENI_ACCEPTANCE } from '../../test/support/paths.js';

/** Run `fn`; return the BadArgs it throws and how long it took. */
function refusedIn(fn: () => unknown): { fault: BadArgs; ms: number } {
  const start = performance.now();
  try {
    fn();
  } catch (e) {
    const ms = performance.now() - start;
    expect(e).toBeInstanceOf(BadArgs);
    return { fault: e as BadArgs, ms };
  }
  throw new Error('expected BadArgs, nothing was thrown');
}

const BILLION_LAUGHS = `<?xml version="1.0"?>
<!DOCTYPE rspec [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<rspec type="request" xmlns="${RSPEC3_NS}"><node client_id="&lol9;"/></rspec>`;

const XXE = `<?xml version="1.0"?>
<!DOCTYPE rspec [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rspec type="request" xmlns="${RSPEC3_NS}"><node client_id="&xxe;"/></rspec>`;

describe('Security: entity expansion', () => {
  it('refuses a billion-laughs DOCTYPE before parsing', () => {
    const { fault, ms } = refusedIn(() => parseRequest(BILLION_LAUGHS));
    expect(fault.message).toMatch(/contains a DOCTYPE or ENTITY declaration/);
    expect(ms).toBeLessThan(100);
  });

  it('refuses an external entity (XXE)', () => {
    expect(refusedIn(() => parseRequest(XXE)).fault.message).toMatch(/DOCTYPE or ENTITY/);
  });

  it('refuses a reference to an undeclared entity', () => {
    const xml = `<rspec type="request" xmlns="${RSPEC3_NS}"><node client_id="&lol9;"/></rspec>`;
    expect(refusedIn(() => parseRequest(xml)).fault.message).toMatch(/not well-formed XML/);
  });
});

describe('Security: resource exhaustion', () => {
  it('refuses 100,000-deep nesting before building a DOM', () => {
    const deep = `<rspec type="request" xmlns="${RSPEC3_NS}">${'<x>'.repeat(100_000)}${'</x>'.repeat(100_000)}</rspec>`;
    const { fault, ms } = refusedIn(() => parseRequest(deep));
    expect(fault.message).toBe('request RSpec is nested deeper than 64 elements');
    expect(ms).toBeLessThan(200);
  });

  it('refuses deep nesting hidden behind comments, CDATA and quoted ">"', () => {
    const noise = '<!-- <a> --><![CDATA[<b>]]><?pi <c>?>';
    const deep = `<rspec type="request" xmlns="${RSPEC3_NS}">${noise}${'<x a="/>">'.repeat(70)}${'</x>'.repeat(70)}</rspec>`;
    expect(refusedIn(() => parseRequest(deep)).fault.message).toMatch(/nested deeper than 64/);
  });

  it('refuses a 20 MB document by its size alone', () => {
    const node = '<node client_id="n" component_id="urn:publicid:IDN+ple:x+node+n"/>';
    const huge = `<rspec type="request" xmlns="${RSPEC3_NS}">${node.repeat(Math.ceil(20e6 / node.length))}</rspec>`;
    expect(huge.length).toBeGreaterThan(20e6);
    const { fault, ms } = refusedIn(() => parseRequest(huge));
    expect(fault.message).toMatch(/request RSpec is too large \(\d+ characters, limit 4194304\)/);
    expect(ms).toBeLessThan(50);
  });

  it('lets the limits be set per call', () => {
    const xml = `<rspec type="request" xmlns="${RSPEC3_NS}"><node client_id="a"/></rspec>`;
    expect(refusedIn(() => parseRequest(xml, { maxLength: 20 })).fault.message).toMatch(
      /too large/,
    );
    expect(refusedIn(() => parseRequest(xml, { maxDepth: 1 })).fault.message).toMatch(
      /deeper than 1/,
    );
    expect(parseRequest(xml, { maxDepth: 2 }).nodes).toHaveLength(1);
  });
});

describe('Robustness: mangled requests', () => {
  // A small deterministic generator, so a failure names a reproducible case.
  function prng(seed: number): () => number {
    let s = seed >>> 0;
    return () => {
      s = (s + 0x6d2b79f5) >>> 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
  }

  const dir = GENI_ACCEPTANCE;
  const seeds = readdirSync(dir)
    .filter((f) => f.startsWith('request'))
    .map((f) => readFileSync(join(dir, f), 'utf8'));
  seeds.push(
    `<rspec type="request" xmlns="${RSPEC3_NS}" xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1" xmlns:sfa-ts="http://sfa-ts.org/resources/rspec/ext/sfa-ts/1">` +
      '<node client_id="a" component_id="urn:publicid:IDN+ple:x+node+a" exclusive="true"><sliver_type name="plab-vserver"><planetlab:attribute name="k" value="v"/><planetlab:initscript name="i"/></sliver_type></node>' +
      '<lease slice_id="urn:publicid:IDN+ple:x+slice+s" start_time="1795593600" duration="2"><node component_id="urn:publicid:IDN+ple:x+node+a"/></lease>' +
      '<sfa-ts:lease start_time="2026-11-25T08:00:00Z" end_time="2026-11-25T09:00:00Z"><sfa-ts:node component_id="urn:publicid:IDN+ple:x+node+a"/></sfa-ts:lease></rspec>',
  );
  const ALPHABET = [
    '<',
    '>',
    '&',
    '"',
    "'",
    '/',
    '=',
    ' ',
    '\u0000',
    '\ud800',
    ':',
    'x',
    '0',
    '<!--',
    ']]>',
    '&#0;',
    '&#xD800;',
  ];

  it('throws only BadArgs on 3,000 mutations of real requests', () => {
    const rand = prng(20261125);
    const other: string[] = [];
    let parsed = 0;
    for (let i = 0; i < 3000; i++) {
      let xml = seeds[Math.floor(rand() * seeds.length)]!;
      const edits = 1 + Math.floor(rand() * 4);
      for (let e = 0; e < edits; e++) {
        const at = Math.floor(rand() * xml.length);
        const op = rand();
        if (op < 0.3) xml = xml.slice(0, at) + xml.slice(at + 1 + Math.floor(rand() * 20));
        else if (op < 0.7)
          xml = xml.slice(0, at) + ALPHABET[Math.floor(rand() * ALPHABET.length)]! + xml.slice(at);
        else if (op < 0.85) xml = xml.slice(0, at);
        else {
          const from = Math.floor(rand() * xml.length);
          xml = xml.slice(0, at) + xml.slice(from, from + 80) + xml.slice(at);
        }
      }
      try {
        parseRequest(xml);
        parsed++;
      } catch (e) {
        if (!(e instanceof BadArgs)) other.push(`case ${i}: ${String(e)}`);
      }
    }
    expect(other).toEqual([]);
    expect(parsed).toBeGreaterThan(0);
  });
});
