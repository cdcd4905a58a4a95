import { describe, expect, it } from 'vitest';
import { parseMethodCall, parseMethodResponse } from './codec.js';
import { XmlRpcParseError } from './errors.js';
import type { XmlRpcStruct } from './value.js';

function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XmlRpcParseError);
    expect((e as XmlRpcParseError).geniCode).toBe(1);
    return (e as Error).message;
  }
  throw new Error('expected XmlRpcParseError');
}

const DOCTYPE_REFUSED =
  'XML-RPC: a DOCTYPE is not allowed (document type declarations can define entities)';

describe('Security: entity expansion (billion laughs) and external entities', () => {
  it('refuses a billion-laughs document before expanding anything', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [',
      '  <!ENTITY lol "lol">',
      ...Array.from(
        { length: 9 },
        (_, i) => `  <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
      ),
      ']>',
      '<methodCall><methodName>M</methodName><params><param><value>&lol9;</value></param></params></methodCall>',
    ].join('\n');
    // Refused before any entity is declared, let alone expanded.
    expect(refusal(() => parseMethodCall(lol))).toBe(DOCTYPE_REFUSED);
  });

  it('refuses an external entity (XXE)', () => {
    const xxe =
      '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>' +
      '<methodCall><methodName>M</methodName><params><param><value>&xxe;</value></param></params></methodCall>';
    expect(refusal(() => parseMethodCall(xxe))).toBe(DOCTYPE_REFUSED);
  });

  it('refuses a DOCTYPE hidden behind a comment that looks like an element', () => {
    // The prolog scan stops at "<a" inside the comment; the parser's doctype event catches it.
    const hidden =
      '<?xml version="1.0"?><!-- <a --><!DOCTYPE methodCall>' +
      '<methodCall><methodName>M</methodName></methodCall>';
    expect(refusal(() => parseMethodCall(hidden))).toBe(DOCTYPE_REFUSED);
  });

  it('refuses references to undeclared entities', () => {
    const xml =
      '<methodCall><methodName>M</methodName><params><param><value>&xxe;</value></param></params></methodCall>';
    expect(refusal(() => parseMethodCall(xml))).toMatch(/^malformed XML: .*undefined entity/);
  });

  it('refuses character references to characters XML forbids', () => {
    const xml =
      '<methodCall><methodName>M</methodName><params><param><value>&#1;</value></param></params></methodCall>';
    expect(refusal(() => parseMethodCall(xml))).toMatch(/^malformed XML: /);
  });

  it('a DOCTYPE written inside a string value is text, not a declaration', () => {
    const xml =
      '<methodCall><methodName>M</methodName><params><param><value>&lt;!DOCTYPE x&gt;</value></param></params></methodCall>';
    expect(parseMethodCall(xml).params).toEqual(['<!DOCTYPE x>']);
  });
});

describe('Security: deep nesting', () => {
  const nested = (depth: number): string =>
    '<methodCall><methodName>M</methodName><params><param>' +
    '<value><array><data>'.repeat(depth) +
    '<value>x</value>' +
    '</data></array></value>'.repeat(depth) +
    '</param></params></methodCall>';

  it('refuses 100 000 nested arrays without exhausting the stack', () => {
    expect(refusal(() => parseMethodCall(nested(100_000)))).toMatch(
      /^XML-RPC: line 1, column \d+: elements nested deeper than 64$/,
    );
  });

  it('the limit counts elements: 64 deep is read, 65 is not', () => {
    // methodCall, params, param = 3; each array level = value, array, data = 3; the leaf value 1.
    expect(parseMethodCall(nested(20)).params).toHaveLength(1); // 3 + 60 + 1 = 64
    expect(refusal(() => parseMethodCall(nested(21)))).toContain('nested deeper than 64');
    expect(parseMethodCall(nested(21), { maxDepth: 67 }).params).toHaveLength(1);
  });
});

describe('Security: oversize bodies', () => {
  it('refuses a body past the limit before parsing it', () => {
    const big = `<methodCall><methodName>M</methodName><params><param><value>${'a'.repeat(8 * 1024 * 1024)}</value></param></params></methodCall>`;
    expect(refusal(() => parseMethodCall(big))).toBe(
      `XML-RPC: body of ${Buffer.byteLength(big)} bytes exceeds the limit of 8388608`,
    );
    expect(refusal(() => parseMethodCall(Buffer.from(big), { maxBytes: 1000 }))).toBe(
      `XML-RPC: body of ${Buffer.byteLength(big)} bytes exceeds the limit of 1000`,
    );
  });

  it('counts UTF-8 bytes, not UTF-16 code units', () => {
    const body = `<methodCall><methodName>M</methodName><params><param><value>${'\u00e9'.repeat(600)}</value></param></params></methodCall>`;
    expect(body.length).toBeLessThan(1000);
    expect(refusal(() => parseMethodCall(body, { maxBytes: 1000 }))).toContain('exceeds the limit');
  });
});

describe('Security: prototype pollution through member names', () => {
  it('__proto__, constructor and prototype are ordinary members', () => {
    const xml =
      '<methodCall><methodName>M</methodName><params><param><value><struct>' +
      '<member><name>__proto__</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member>' +
      '<member><name>constructor</name><value><struct><member><name>prototype</name><value><struct><member><name>polluted</name><value>yes</value></member></struct></value></member></struct></value></member>' +
      '<member><name>hasOwnProperty</name><value>shadowed</value></member>' +
      '</struct></value></param></params></methodCall>';
    const s = parseMethodCall(xml).params[0] as XmlRpcStruct;
    expect(Object.getPrototypeOf(s)).toBeNull();
    expect(Object.keys(s)).toEqual(['__proto__', 'constructor', 'hasOwnProperty']);
    expect(Object.getOwnPropertyDescriptor(s, '__proto__')?.value).toEqual({ polluted: 'yes' });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.getPrototypeOf((s['__proto__'] as XmlRpcStruct) ?? {})).toBeNull();
  });

  it('in fault structs too', () => {
    const xml =
      '<methodResponse><fault><value><struct>' +
      '<member><name>__proto__</name><value><struct><member><name>faultCode</name><value><int>1</int></value></member></struct></value></member>' +
      '</struct></value></fault></methodResponse>';
    // faultCode is not inherited from a member called __proto__.
    expect(refusal(() => parseMethodResponse(xml))).toBe(
      'XML-RPC: the <fault> struct has no integer faultCode',
    );
  });
});
