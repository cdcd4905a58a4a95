import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  formatDateTime,
  parseDateTime,
  parseMethodCall,
  parseMethodResponse,
  serializeFault,
  serializeMethodCall,
  serializeMethodResponse,
} from './codec.js';
import { XmlRpcParseError, XmlRpcSerializeError } from './errors.js';
import {
  Double,
  INT32_MAX,
  INT32_MIN,
  type XmlRpcStruct,
  type XmlRpcValue,
  type XmlRpcWritable,
} from './value.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const fixture = (name: string): Buffer => readFileSync(join(FIXTURES, name));

/** A methodCall around one param's `<value>` XML. */
const call = (valueXml: string): string =>
  `<?xml version="1.0"?><methodCall><methodName>M</methodName><params><param>${valueXml}</param></params></methodCall>`;
const one = (valueXml: string): XmlRpcValue => parseMethodCall(call(valueXml)).params[0]!;

function parseError(fn: () => unknown): XmlRpcParseError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XmlRpcParseError);
    expect((e as XmlRpcParseError).geniCode).toBe(1);
    return e as XmlRpcParseError;
  }
  throw new Error('expected XmlRpcParseError');
}

function serializeError(fn: () => unknown): XmlRpcSerializeError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(XmlRpcSerializeError);
    return e as XmlRpcSerializeError;
  }
  throw new Error('expected XmlRpcSerializeError');
}

const D = new Date(Date.UTC(2024, 0, 2, 3, 4, 5));

describe('what the Python client sends (captured from sfi)', () => {
  it('GetSelfCredential: three strings, the first a PEM certificate with its newlines', () => {
    const raw = fixture('sfi.GetSelfCredential.sscert.request.xml');
    const c = parseMethodCall(raw);
    expect(c.methodName).toBe('GetSelfCredential');
    expect(c.params).toHaveLength(3);
    expect(c.params[0]).toMatch(
      /^-----BEGIN CERTIFICATE-----\nMIIC.*\n-----END CERTIFICATE-----\n$/s,
    );
    expect(c.params.slice(1)).toEqual(['plc.alice', 'user']);
  });

  it('List: <nil/> inside the options struct, booleans, an escaped credential string', () => {
    const c = parseMethodCall(fixture('sfi.List.nil-in-struct.request.xml'));
    expect(c.methodName).toBe('List');
    expect(c.params[0]).toBe('plc');
    expect(c.params[1]).toMatch(/^<\?xml version="1.0" encoding="utf-8"\?>\n<signed-credential /);
    expect(c.params[1]).toContain('<owner_urn>urn:publicid:IDN+plc+user+alice</owner_urn>');
    expect(c.params[2]).toEqual({
      help: false,
      show_credential: false,
      type: 'all',
      file: null,
      format: 'text',
      fileformat: 'xml',
      recursive: false,
      verbose: false,
    });
    expect(Object.getPrototypeOf(c.params[2])).toBeNull();
  });

  it('Allocate: arrays of structs in structs, ints and Python dates inside', () => {
    const c = parseMethodCall(fixture('sfi.Allocate.nested-array-struct-datetime.request.xml'));
    expect(c.methodName).toBe('Allocate');
    expect(c.params[0]).toBe('urn:publicid:IDN+plc+slice+s1');
    const creds = c.params[1] as XmlRpcStruct[];
    expect(creds).toHaveLength(1);
    expect(creds[0]!['geni_type']).toBe('geni_sfa');
    expect(creds[0]!['geni_version']).toBe('3');
    expect(creds[0]!['geni_value']).toMatch(/<signed-credential/);
    const options = c.params[3] as XmlRpcStruct;
    const users = options['sfa_users'] as XmlRpcStruct[];
    expect(users[0]!['urn']).toBe('urn:publicid:IDN+plc+user+alice');
    expect(users[0]!['keys']).toEqual(['ssh-rsa AAAAB3NzaC1yc2E alice@host']);
    const record = users[0]!['slice_record'] as XmlRpcStruct;
    expect(record['record_id']).toBe(2);
    expect(record['pointer']).toBe(-1);
    expect(record['date_created']).toEqual(D);
  });

  it.each([
    'sfi.GetSelfCredential.sscert.request.xml',
    'sfi.List.nil-in-struct.request.xml',
    'sfi.Allocate.nested-array-struct-datetime.request.xml',
  ])('%s: written back byte for byte', (name) => {
    const raw = fixture(name);
    const c = parseMethodCall(raw);
    expect(serializeMethodCall(c.methodName, c.params)).toBe(raw.toString('utf8'));
  });

  it('a Python response with nil and dates is read and written back byte for byte', () => {
    const raw = fixture('sfa.Resolve.datetime.response.xml');
    const r = parseMethodResponse(raw);
    if (!('value' in r)) throw new Error('expected a value');
    const rec = (r.value as XmlRpcStruct[])[0]!;
    expect(rec['peer_authority']).toBeNull();
    expect(rec['date_created']).toEqual(D);
    expect(rec['hrn']).toBe('plc.alice');
    expect(serializeMethodResponse(r.value)).toBe(raw.toString('utf8'));
  });

  it('a Python fault is read, and ours is byte for byte the same', () => {
    const raw = fixture('python.fault.response.xml').toString('utf8');
    const faultString = ": Resolve: Record not found: ['plc.nothere']";
    expect(parseMethodResponse(raw)).toEqual({ fault: { faultCode: 2, faultString } });
    expect(serializeFault(2, faultString)).toBe(raw);
  });

  it('every type Python writes is written back the same, but an integral double', () => {
    const raw = fixture('python.all-types.request.xml').toString('utf8');
    const c = parseMethodCall(raw);
    // <double>3.0</double> reads as the number 3, which goes out as <int>: the one difference.
    expect(serializeMethodCall(c.methodName, c.params)).toBe(
      raw.replace('<double>3.0</double>', '<int>3</int>'),
    );
    const params: XmlRpcWritable[] = [...c.params];
    params[9] = new Double(c.params[9] as number);
    expect(serializeMethodCall(c.methodName, params)).toBe(raw);
  });

  it('every type Python writes reads as the expected value', () => {
    const c = parseMethodCall(fixture('python.all-types.request.xml'));
    // JSON.parse makes __proto__ an own member, as the parser does.
    const struct = JSON.parse(
      '{"name":"x","__proto__":{"polluted":"yes"},"nested":{"list":[{"k":null}]},"empty":{}}',
    ) as XmlRpcStruct;
    expect(c.params).toEqual([
      'plain',
      'a & b < c > d "quoted"',
      '',
      'h\u00e9llo \u2713 \u{1F600}',
      0,
      -1,
      INT32_MAX,
      INT32_MIN,
      1.5,
      3,
      -0.25,
      true,
      false,
      null,
      D,
      Buffer.from(Array.from({ length: 64 }, (_, i) => i)),
      [1, 'two', [null, []]],
      struct,
    ]);
  });
});

describe('round trips', () => {
  it('every type, nested, survives serialize then parse', () => {
    const value = {
      s: 'h\u00e9llo <&> "q" \u{1F600}',
      empty: '',
      spaces: '  leading and trailing\n\t',
      cr: 'line\r\nbreak\r',
      i: 42,
      neg: -7,
      max: INT32_MAX,
      min: INT32_MIN,
      d: 1.5,
      beyondInt32: 2 ** 40,
      t: true,
      f: false,
      date: D,
      bin: Buffer.from([0, 1, 2, 254, 255]),
      emptyBin: Buffer.alloc(0),
      nil: null,
      arr: [1, 'two', [3, { four: 4, five: [null] }], []],
      nested: { a: { b: { c: [null, { d: D }] } } },
      emptyStruct: {},
    };
    const parsed = parseMethodCall(serializeMethodCall('Echo', [value, null, []]));
    expect(parsed.methodName).toBe('Echo');
    expect(parsed.params).toEqual([value, null, []]);
    const r = parseMethodResponse(serializeMethodResponse(value));
    expect(r).toEqual({ value });
  });

  it('a call without <params> has no parameters', () => {
    expect(parseMethodCall('<methodCall><methodName>GetVersion</methodName></methodCall>')).toEqual(
      { methodName: 'GetVersion', params: [] },
    );
  });
});

describe('writing', () => {
  it('writes each type as Python xmlrpc.client does', () => {
    expect(serializeMethodResponse(['a&b<c>', 7, 2.5, new Double(3), true, null, D])).toBe(
      "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n<value><array><data>\n" +
        '<value><string>a&amp;b&lt;c&gt;</string></value>\n' +
        '<value><int>7</int></value>\n' +
        '<value><double>2.5</double></value>\n' +
        '<value><double>3.0</double></value>\n' +
        '<value><boolean>1</boolean></value>\n' +
        '<value><nil/></value>' +
        '<value><dateTime.iso8601>20240102T03:04:05</dateTime.iso8601></value>\n' +
        '</data></array></value>\n</param>\n</params>\n</methodResponse>\n',
    );
  });

  it('integers beyond int32 go out as <double>, not <int> (Python refuses them as int)', () => {
    expect(serializeMethodResponse(2 ** 31)).toContain('<double>2147483648.0</double>');
    expect(serializeMethodResponse(-(2 ** 31) - 1)).toContain('<double>-2147483649.0</double>');
    expect(serializeMethodResponse(1e300)).toContain('<double>1e+300</double>');
  });

  it('base64 in 76-character lines, as Python', () => {
    const xml = serializeMethodResponse(Buffer.alloc(60, 0xff));
    expect(xml).toContain(
      `<value><base64>\n${'/'.repeat(76)}\n${'/'.repeat(4)}\n</base64></value>`,
    );
  });

  it('dates are written in UTC without milliseconds', () => {
    expect(formatDateTime(new Date('2024-01-02T03:04:05.678+02:00'))).toBe('20240102T01:04:05');
    expect(formatDateTime(new Date('0099-03-04T05:06:07Z'))).toBe('00990304T05:06:07');
  });

  it('a carriage return is written as &#13; so that it survives XML line-end normalisation', () => {
    expect(serializeMethodResponse('a\r\nb')).toContain('<string>a&#13;\nb</string>');
  });

  it('refuses characters XML cannot carry, saying where', () => {
    const e = serializeError(() =>
      serializeMethodCall('M', ['ok', { list: ['fine', 'bad\u0001'] }]),
    );
    expect(e.message).toBe(
      'XML-RPC: character U+0001 at offset 3 of params[1].list[1] cannot be carried by XML',
    );
    expect(serializeError(() => serializeMethodResponse({ ['k\uFFFE']: 1 })).message).toBe(
      'XML-RPC: character U+FFFE at offset 1 of params[0].k\uFFFE cannot be carried by XML',
    );
    expect(serializeError(() => serializeMethodResponse('\uD800')).message).toBe(
      'XML-RPC: character U+D800 at offset 0 of params[0] cannot be carried by XML',
    );
  });

  it('refuses what has no XML-RPC form', () => {
    const bad = (v: unknown): string =>
      serializeError(() => serializeMethodResponse({ x: v } as never)).message;
    expect(bad(undefined)).toBe(
      'XML-RPC: undefined cannot be written (use null for nil) at params[0].x',
    );
    expect(bad(NaN)).toBe(
      'XML-RPC: NaN cannot be written (XML-RPC doubles are finite) at params[0].x',
    );
    expect(bad(new Double(Infinity))).toBe(
      'XML-RPC: Infinity cannot be written (XML-RPC doubles are finite) at params[0].x',
    );
    expect(bad(10n)).toBe('XML-RPC: a bigint cannot be written as XML-RPC at params[0].x');
    expect(bad(new Map())).toBe(
      'XML-RPC: a Map cannot be written as XML-RPC (use a plain object for a struct) at params[0].x',
    );
    expect(bad(new Date(NaN))).toBe('XML-RPC: an invalid Date cannot be written at params[0].x');
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(bad(cyclic)).toBe(
      'XML-RPC: a value that contains itself cannot be written at params[0].x[0]',
    );
    // The same object twice side by side is not a cycle.
    const shared = { a: 1 };
    expect(() => serializeMethodResponse([shared, shared])).not.toThrow();
  });

  it('a fault string with characters XML cannot carry is still delivered, with U+FFFD', () => {
    const xml = serializeFault(5, 'bad\u0000byte');
    expect(parseMethodResponse(xml)).toEqual({
      fault: { faultCode: 5, faultString: 'bad\uFFFDbyte' },
    });
    expect(serializeError(() => serializeFault(1.5, 'x')).message).toBe(
      'faultCode 1.5 is not a 32-bit integer',
    );
  });
});

describe('reading values', () => {
  it('an untyped <value> is a string, whitespace preserved', () => {
    expect(one('<value>  spaced text\n</value>')).toBe('  spaced text\n');
    expect(one('<value></value>')).toBe('');
    expect(one('<value/>')).toBe('');
    expect(one('<value><string>  kept  </string></value>')).toBe('  kept  ');
    expect(one('<value><string/></value>')).toBe('');
    expect(one('<value><![CDATA[<raw & text>]]></value>')).toBe('<raw & text>');
  });

  it('whitespace around a typed value is layout, not data', () => {
    expect(one('<value>\n  <int>5</int>\n</value>')).toBe(5);
  });

  it('integers: int, i4, i8, Apache ex:i8, signs, surrounding whitespace', () => {
    expect(one('<value><int>42</int></value>')).toBe(42);
    expect(one('<value><i4>-42</i4></value>')).toBe(-42);
    expect(one('<value><int>+7</int></value>')).toBe(7);
    expect(one('<value><int> 8 </int></value>')).toBe(8);
    expect(one('<value><i8>9007199254740991</i8></value>')).toBe(Number.MAX_SAFE_INTEGER);
    expect(
      one(
        '<value><ex:i8 xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions">3</ex:i8></value>',
      ),
    ).toBe(3);
    expect(Object.is(one('<value><int>-0</int></value>'), 0)).toBe(true);
  });

  it('nil: <nil/> and Apache <ex:nil/>, top level and in structs', () => {
    expect(one('<value><nil/></value>')).toBeNull();
    expect(
      one('<value><ex:nil xmlns:ex="http://ws.apache.org/xmlrpc/namespaces/extensions"/></value>'),
    ).toBeNull();
    expect(
      one('<value><struct><member><name>a</name><value><nil/></value></member></struct></value>'),
    ).toEqual({ a: null });
  });

  it('doubles, including what Python writes for non-finite values', () => {
    expect(one('<value><double>-1.25e3</double></value>')).toBe(-1250);
    expect(one('<value><double>.5</double></value>')).toBe(0.5);
    expect(one('<value><double>inf</double></value>')).toBe(Infinity);
    expect(one('<value><double>-inf</double></value>')).toBe(-Infinity);
    expect(one('<value><double>nan</double></value>')).toBeNaN();
  });

  it('base64 with line breaks, and empty', () => {
    expect(one('<value><base64>\nAAEC\n/w==\n</base64></value>')).toEqual(
      Buffer.from([0, 1, 2, 255]),
    );
    expect(one('<value><base64></base64></value>')).toEqual(Buffer.alloc(0));
  });

  it('dates: Python form, ISO 8601 forms, zones; no zone means UTC', () => {
    const dt = (s: string): XmlRpcValue =>
      one(`<value><dateTime.iso8601>${s}</dateTime.iso8601></value>`);
    expect(dt('20240102T03:04:05')).toEqual(D);
    expect(dt('2024-01-02T03:04:05')).toEqual(D);
    expect(dt('20240102T030405')).toEqual(D);
    expect(dt('20240102T03:04:05Z')).toEqual(D);
    expect(dt('2024-01-02T05:04:05+02:00')).toEqual(D);
    expect(dt('2024-01-02T00:04:05-0300')).toEqual(D);
    expect(dt('2024-01-02T03:04:05.250Z')).toEqual(new Date(D.getTime() + 250));
    // Date.UTC would have made this 1999.
    expect(parseDateTime('00990102T00:00:00')?.getUTCFullYear()).toBe(99);
  });

  it.each([
    ['2024-02-30T00:00:00', 'not a calendar day'],
    ['20241302T00:00:00', 'month 13'],
    ['20240102T24:00:00', 'hour 24'],
    ['2024-01-02 03:04:05', 'a space for T'],
    ['202401-02T03:04:05', 'mixed forms'],
    ['yesterday', 'words'],
  ])('refuses the date %s (%s)', (s) => {
    expect(
      parseError(() => one(`<value><dateTime.iso8601>${s}</dateTime.iso8601></value>`)).message,
    ).toContain(
      `<dateTime.iso8601> "${s}" is not a date-time (expected e.g. 20240102T03:04:05 or 2024-01-02T03:04:05Z)`,
    );
  });

  it('a repeated struct member keeps the last value, as Python does', () => {
    expect(
      one(
        '<value><struct><member><name>a</name><value>1</value></member>' +
          '<member><name>a</name><value>2</value></member></struct></value>',
      ),
    ).toEqual({ a: '2' });
  });

  it('reads ISO-8859-1 bodies when the declaration says so', () => {
    const body = Buffer.from(
      "<?xml version='1.0' encoding='ISO-8859-1'?><methodCall><methodName>M</methodName><params><param><value>caf\xe9</value></param></params></methodCall>",
      'latin1',
    );
    expect(parseMethodCall(body).params).toEqual(['caf\u00e9']);
  });
});

describe('malformed documents are refused with what is wrong', () => {
  const cases: [string, string, string][] = [
    [
      'bad boolean',
      call('<value><boolean>true</boolean></value>'),
      '<boolean> must be 0 or 1, found "true"',
    ],
    ['bad int', call('<value><int>4.2</int></value>'), '<int> must hold an integer, found "4.2"'],
    ['empty int', call('<value><int></int></value>'), '<int> must hold an integer, found ""'],
    ['hex int', call('<value><int>0x10</int></value>'), '<int> must hold an integer, found "0x10"'],
    [
      'i8 beyond 2^53',
      call('<value><i8>9007199254740993</i8></value>'),
      '<i8> "9007199254740993" is beyond ±2^53, which cannot be read exactly',
    ],
    [
      'bad double',
      call('<value><double>1,5</double></value>'),
      '<double> must hold a number, found "1,5"',
    ],
    ['bad base64', call('<value><base64>!!!!</base64></value>'), '<base64> is not valid base64'],
    [
      'base64 without padding',
      call('<value><base64>AAE</base64></value>'),
      '<base64> is not valid base64',
    ],
    [
      'member without name',
      call('<value><struct><member><value>1</value></member></struct></value>'),
      'struct <member> without <name>',
    ],
    [
      'member without value',
      call('<value><struct><member><name>a</name></member></struct></value>'),
      "struct member 'a' has no <value>",
    ],
    [
      'member with two values',
      call(
        '<value><struct><member><name>a</name><value>1</value><value>2</value></member></struct></value>',
      ),
      'struct member with two <value>',
    ],
    [
      'member with two names',
      call('<value><struct><member><name>a</name><name>b</name></member></struct></value>'),
      'struct member with two <name>',
    ],
    [
      'two values in a param',
      '<methodCall><methodName>M</methodName><params><param><value>1</value><value>2</value></param></params></methodCall>',
      '<param> holds more than one value',
    ],
    [
      'two types in a value',
      call('<value><int>1</int><string>x</string></value>'),
      '<value> holds more than one value',
    ],
    [
      'text beside a type',
      call('<value>text<int>1</int></value>'),
      '<value> holds both text "text" and a type element',
    ],
    [
      'text where elements belong',
      '<methodCall><methodName>M</methodName><params>oops<param><value>1</value></param></params></methodCall>',
      'text "oops" where only elements belong, inside <params>',
    ],
    [
      'text in a struct',
      call('<value><struct>loose<member><name>a</name><value>1</value></member></struct></value>'),
      'text "loose" where only elements belong, inside <struct>',
    ],
    ['unknown type', call('<value><foo>1</foo></value>'), '<foo> is not allowed inside <value>'],
    [
      'element in a string',
      call('<value><string>a<b/>c</string></value>'),
      '<string> cannot contain elements, found <b>',
    ],
    ['array without data', call('<value><array></array></value>'), '<array> without <data>'],
    [
      'param without value',
      '<methodCall><methodName>M</methodName><params><param></param></params></methodCall>',
      '<param> without <value>',
    ],
    ['no methodName', '<methodCall><params/></methodCall>', '<methodCall> has no <methodName>'],
    [
      'empty methodName',
      '<methodCall><methodName></methodName></methodCall>',
      '<methodName> is empty',
    ],
    [
      'two methodNames',
      '<methodCall><methodName>A</methodName><methodName>B</methodName></methodCall>',
      'two <methodName>',
    ],
    [
      'wrong root',
      '<methodResponse><params/></methodResponse>',
      'expected <methodCall> as the root element, found <methodResponse>',
    ],
    [
      'nil with content',
      call('<value><nil>x</nil></value>'),
      'text "x" where only elements belong, inside <nil>',
    ],
  ];
  it.each(cases)('%s', (_, xml, expected) => {
    expect(parseError(() => parseMethodCall(xml)).message).toContain(expected);
  });

  it('messages say where: line and column', () => {
    const xml =
      '<methodCall>\n<methodName>M</methodName>\n<params><param>\n<value><boolean>2</boolean></value>';
    expect(parseError(() => parseMethodCall(`${xml}</param></params></methodCall>`)).message).toBe(
      'XML-RPC: line 4, column 27: <boolean> must be 0 or 1, found "2"',
    );
  });

  it('not XML at all, or not well-formed', () => {
    expect(parseError(() => parseMethodCall('hello')).message).toMatch(/^malformed XML: /);
    expect(
      parseError(() => parseMethodCall('<methodCall><methodName>M</methodCall>')).message,
    ).toMatch(/^malformed XML: .*unexpected close tag/);
    expect(parseError(() => parseMethodCall('')).message).toMatch(/^malformed XML: /);
  });

  it('invalid UTF-8 and UTF-16 bodies', () => {
    const bad = Buffer.concat([
      Buffer.from(call('<value>')),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('</value></param></params></methodCall>'),
    ]);
    expect(parseError(() => parseMethodCall(bad)).message).toBe(
      'XML-RPC: the body is not valid utf-8',
    );
    expect(
      parseError(() => parseMethodCall(Buffer.from('\ufeff<methodCall/>', 'utf16le'))).message,
    ).toBe('XML-RPC: UTF-16 bodies are not supported; send UTF-8');
  });

  it('responses: exactly one param, or a fault with an int code and a string', () => {
    const resp = (inner: string): string => `<methodResponse>${inner}</methodResponse>`;
    expect(parseError(() => parseMethodResponse(resp('<params></params>'))).message).toBe(
      'XML-RPC: a <methodResponse> carries exactly one <param>, this one has 0',
    );
    expect(
      parseError(() =>
        parseMethodResponse(
          resp('<params><param><value>1</value></param><param><value>2</value></param></params>'),
        ),
      ).message,
    ).toBe('XML-RPC: a <methodResponse> carries exactly one <param>, this one has 2');
    expect(
      parseError(() =>
        parseMethodResponse(
          resp(
            '<fault><value><struct><member><name>faultString</name><value>x</value></member></struct></value></fault>',
          ),
        ),
      ).message,
    ).toBe('XML-RPC: the <fault> struct has no integer faultCode');
    expect(parseError(() => parseMethodResponse(resp(''))).message).toBe(
      'XML-RPC: <methodResponse> holds neither <params> nor <fault>',
    );
    expect(
      parseError(() =>
        parseMethodResponse(resp('<params><param><value>1</value></param></params><fault/>')),
      ).message,
    ).toContain('a <methodResponse> holds one <params> or one <fault>, not two');
  });
});
