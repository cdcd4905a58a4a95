import { describe, expect, it } from 'vitest';
import { XmlRpcParseError } from './errors.js';
import { parseMethodCall, parseMethodCallAsync } from './parse.js';
import { serializeMethodCall } from './serialize.js';

describe('parseMethodCallAsync: the server parses a large body a slice at a time', () => {
  it('reads what parseMethodCall reads, whichever character a slice boundary falls on', async () => {
    // Shifting the text by one character at a time puts the boundary before, inside and after
    // the emoji's surrogate pair, and inside the escaped '&amp;'.
    const call = (rspec: string) =>
      serializeMethodCall('Allocate', ['urn:x', { rspec, n: [1, 2, { a: true }] }]);
    const offset = call('MARK').indexOf('MARK'); // where the rspec text starts in the body
    for (let shift = -6; shift < 6; shift++) {
      const rspec = `${'x'.repeat(64 * 1024 - offset + shift)}😀 & <node/> ${'é'.repeat(70_000)}`;
      const xml = call(rspec);
      expect(Math.abs(xml.indexOf('😀') - 64 * 1024)).toBeLessThan(8);
      for (const body of [xml, Buffer.from(xml, 'utf8')]) {
        expect(await parseMethodCallAsync(body)).toEqual(parseMethodCall(body));
      }
    }
  });

  it('yields to the event loop while it parses', async () => {
    const xml = serializeMethodCall('Resolve', [Array.from({ length: 40_000 }, (_, i) => `n${i}`)]);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      await parseMethodCallAsync(xml);
    } finally {
      clearInterval(ticker);
    }
    expect(xml.length).toBeGreaterThan(10 * 64 * 1024);
    expect(turns).toBeGreaterThan(0);
  });

  it('refuses what parseMethodCall refuses, with the same message', async () => {
    for (const bad of [
      '<methodCall><methodName>x</methodName><params><param></param></params></methodCall>',
      `<methodCall><methodName>x</methodName><params>${'<param><value><string>a</string></value></param>'.repeat(10_000)}<bogus/></params></methodCall>`,
      '<!DOCTYPE x [<!ENTITY a "b">]><methodCall/>',
    ]) {
      let sync: unknown;
      try {
        parseMethodCall(bad);
      } catch (e) {
        sync = e;
      }
      expect(sync).toBeInstanceOf(XmlRpcParseError);
      await expect(parseMethodCallAsync(bad)).rejects.toThrow((sync as Error).message);
    }
  });
});
