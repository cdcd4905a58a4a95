/**
 * Reading XML-RPC documents: `<methodCall>` (server side) and `<methodResponse>` (client side).
 *
 * A streaming parser (saxes: strict XML 1.0, no DTD processing, no entity expansion beyond the
 * five predefined ones) feeds a small state machine that accepts exactly the XML-RPC grammar
 * and says what is wrong, with the line and column, when the input is not XML-RPC.
 *
 * Hostile input is bounded before it can cost anything: the body size is checked before parsing,
 * a DOCTYPE (the door to entity expansion) is refused, the element depth is capped while
 * parsing (saxes keeps its own stack on the heap, so deep input cannot overflow ours), and
 * struct members go into null-prototype objects, so `__proto__` is an ordinary member name.
 *
 * Tag names are read without their namespace prefix, as Python's xmlrpc.client does: Apache
 * XML-RPC's `<ex:nil/>` and `<ex:i8>` are accepted like `<nil/>` and `<i8>`.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { XmlRpcParseError } from './errors.js';
import { newStruct, type XmlRpcStruct, type XmlRpcValue } from './value.js';

export interface ParseLimits {
  /** Largest body accepted, in bytes (UTF-8 bytes for a string body). Default 8 MiB. */
  maxBytes?: number;
  /** Deepest element nesting accepted (`<methodCall>` is depth 1). Default 64. */
  maxDepth?: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<Required<ParseLimits>> = Object.freeze({
  maxBytes: 8 * 1024 * 1024,
  maxDepth: 64,
});

export interface MethodCall {
  methodName: string;
  params: XmlRpcValue[];
}

export interface Fault {
  faultCode: number;
  faultString: string;
}

export type MethodResponse = { value: XmlRpcValue } | { fault: Fault };

/**
 * Parse a `<methodCall>`: the method name and its parameters (none when `<params>` is absent).
 * Throws {@link XmlRpcParseError} (BadArgs, GENI code 1) saying what is wrong.
 */
export function parseMethodCall(body: string | Buffer, limits?: ParseLimits): MethodCall {
  const doc = startDocument(body, 'methodCall', limits);
  doc.parser.write(doc.text).close();
  return methodCallOf(doc.root());
}

/** How much of a body is parsed before the event loop gets a turn. */
const SLICE_CHARS = 64 * 1024;

/**
 * {@link parseMethodCall} for a server: the body is parsed a slice at a time, giving the event
 * loop a turn between slices, so that an 8 MiB request delays the other calls by about a
 * millisecond at a time rather than by its whole parse.
 */
export async function parseMethodCallAsync(
  body: string | Buffer,
  limits?: ParseLimits,
): Promise<MethodCall> {
  const doc = startDocument(body, 'methodCall', limits);
  const { text, parser } = doc;
  for (let at = 0; at < text.length;) {
    let end = Math.min(text.length, at + SLICE_CHARS);
    // Never between the two halves of a surrogate pair.
    if (end < text.length && /[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end++;
    parser.write(text.slice(at, end));
    at = end;
    if (at < text.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  parser.close();
  return methodCallOf(doc.root());
}

function methodCallOf(root: Root): MethodCall {
  if (root.methodName === undefined) {
    throw new XmlRpcParseError('XML-RPC: <methodCall> has no <methodName>');
  }
  return { methodName: root.methodName, params: root.params ?? [] };
}

/**
 * Parse a `<methodResponse>`: its one value, or its fault (faultCode and faultString).
 * Throws {@link XmlRpcParseError} saying what is wrong.
 */
export function parseMethodResponse(body: string | Buffer, limits?: ParseLimits): MethodResponse {
  const doc = startDocument(body, 'methodResponse', limits);
  doc.parser.write(doc.text).close();
  return methodResponseOf(doc.root());
}

function methodResponseOf(root: Root): MethodResponse {
  if (root.fault !== undefined) return { fault: readFault(root.fault) };
  const params = root.params;
  if (params === undefined) {
    throw new XmlRpcParseError('XML-RPC: <methodResponse> holds neither <params> nor <fault>');
  }
  if (params.length !== 1) {
    throw new XmlRpcParseError(
      `XML-RPC: a <methodResponse> carries exactly one <param>, this one has ${params.length}`,
    );
  }
  return { value: params[0]! };
}

function readFault(v: XmlRpcValue): Fault {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Date) {
    throw new XmlRpcParseError('XML-RPC: the <fault> value is not a struct');
  }
  const s = v as XmlRpcStruct;
  const faultCode = s['faultCode'];
  const faultString = s['faultString'];
  if (typeof faultCode !== 'number' || !Number.isInteger(faultCode)) {
    throw new XmlRpcParseError('XML-RPC: the <fault> struct has no integer faultCode');
  }
  if (typeof faultString !== 'string') {
    throw new XmlRpcParseError('XML-RPC: the <fault> struct has no string faultString');
  }
  return { faultCode, faultString };
}

// ---------------------------------------------------------------------------------------------
// The state machine

type Kind =
  | 'methodCall'
  | 'methodResponse'
  | 'methodName'
  | 'params'
  | 'param'
  | 'fault'
  | 'value'
  | 'scalar'
  | 'nil'
  | 'struct'
  | 'member'
  | 'name'
  | 'array'
  | 'data';

/** The type elements, by local name: what may sit inside `<value>`. */
const SCALARS = new Set([
  'string',
  'int',
  'i4',
  'i1',
  'i2',
  'i8',
  'biginteger',
  'boolean',
  'double',
  'float',
  'dateTime.iso8601',
  'base64',
]);

/** Which child elements each element accepts. */
const CHILDREN: Record<Kind, readonly string[]> = {
  methodCall: ['methodName', 'params'],
  methodResponse: ['params', 'fault'],
  params: ['param'],
  param: ['value'],
  fault: ['value'],
  value: [...SCALARS, 'nil', 'struct', 'array'],
  struct: ['member'],
  member: ['name', 'value'],
  array: ['data'],
  data: ['value'],
  methodName: [],
  name: [],
  scalar: [],
  nil: [],
};

/** Elements whose text content is data; everywhere else only whitespace may appear. */
const TEXTUAL: ReadonlySet<Kind> = new Set(['methodName', 'name', 'value', 'scalar']);

interface Frame {
  kind: Kind;
  /** The local name, for messages and for the scalar type. */
  tag: string;
  text: string;
  /** value/param/fault/member: the one value inside; value: whether a type element gave it. */
  value?: XmlRpcValue;
  hasValue: boolean;
  /** member: its name. */
  name?: string;
  /** params/data: the values in order. */
  items?: XmlRpcValue[];
  /** struct: the members. */
  struct?: XmlRpcStruct;
  /** methodCall/methodResponse: what was read. */
  methodName?: string;
  params?: XmlRpcValue[];
  fault?: XmlRpcValue;
  /** array: whether its <data> was seen. */
  sawData?: boolean;
}

interface Root {
  methodName?: string;
  params?: XmlRpcValue[];
  fault?: XmlRpcValue;
}

/**
 * A parser for one document, its handlers set: write the text to it (at once or in slices),
 * close it, then read `root()`.
 */
function startDocument(
  body: string | Buffer,
  rootTag: 'methodCall' | 'methodResponse',
  limits: ParseLimits | undefined,
): { text: string; parser: SaxesParser; root: () => Root } {
  const maxBytes = limits?.maxBytes ?? DEFAULT_PARSE_LIMITS.maxBytes;
  const maxDepth = limits?.maxDepth ?? DEFAULT_PARSE_LIMITS.maxDepth;
  const text = decodeBody(body, maxBytes);
  refuseDoctype(text);

  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Frame[] = [];
  let root: Root | undefined;

  const fail = (message: string): never => {
    throw new XmlRpcParseError(`XML-RPC: line ${parser.line}, column ${parser.column}: ${message}`);
  };

  parser.on('error', (e) => {
    // saxes puts "line:column: " in front of its own messages.
    throw new XmlRpcParseError(`malformed XML: ${e.message}`);
  });
  parser.on('doctype', () => {
    // Reached only when the prolog scan missed it (a DOCTYPE after a comment, say).
    throw new XmlRpcParseError(DOCTYPE_REFUSED);
  });

  parser.on('opentag', (tag: SaxesTagPlain) => {
    const local = localName(tag.name);
    const parent = stack[stack.length - 1];
    let kind: Kind;
    if (parent === undefined) {
      if (root !== undefined) fail(`a second root element <${tag.name}>`);
      if (local !== rootTag) fail(`expected <${rootTag}> as the root element, found <${tag.name}>`);
      kind = rootTag;
    } else {
      if (!CHILDREN[parent.kind].includes(local)) {
        fail(
          CHILDREN[parent.kind].length === 0
            ? `<${parent.tag}> cannot contain elements, found <${tag.name}>`
            : `<${tag.name}> is not allowed inside <${parent.tag}>` +
                ` (expected ${CHILDREN[parent.kind].map((c) => `<${c}>`).join(', ')})`,
        );
      }
      kind = SCALARS.has(local) ? 'scalar' : (local as Kind);
      checkOnce(parent, local, fail);
    }
    if (stack.length >= maxDepth) fail(`elements nested deeper than ${maxDepth}`);
    const frame: Frame = { kind, tag: local, text: '', hasValue: false };
    if (kind === 'params' || kind === 'data') frame.items = [];
    if (kind === 'struct') frame.struct = newStruct();
    stack.push(frame);
  });

  const onText = (t: string): void => {
    const top = stack[stack.length - 1];
    if (top === undefined) return; // saxes itself refuses non-whitespace outside the root
    if (TEXTUAL.has(top.kind)) {
      top.text += t;
    } else if (!isWhitespace(t)) {
      fail(`text ${excerpt(t)} where only elements belong, inside <${top.tag}>`);
    }
  };
  parser.on('text', onText);
  parser.on('cdata', onText);

  parser.on('closetag', () => {
    const frame = stack.pop()!;
    const parent = stack[stack.length - 1];
    if (parent === undefined) {
      root = { methodName: frame.methodName, params: frame.params, fault: frame.fault };
      return;
    }
    switch (frame.kind) {
      case 'methodName':
        if (frame.text.length === 0) fail('<methodName> is empty');
        parent.methodName = frame.text;
        return;
      case 'params':
        parent.params = frame.items!;
        return;
      case 'param':
        if (!frame.hasValue) fail('<param> without <value>');
        parent.items!.push(frame.value!);
        return;
      case 'fault':
        if (!frame.hasValue) fail('<fault> without <value>');
        parent.fault = frame.value!;
        return;
      case 'value': {
        let v: XmlRpcValue;
        if (frame.hasValue) {
          if (!isWhitespace(frame.text)) {
            fail(`<value> holds both text ${excerpt(frame.text)} and a type element`);
          }
          v = frame.value!;
        } else {
          // An untyped <value>text</value> is a string, whitespace and all.
          v = frame.text;
        }
        if (parent.kind === 'data') parent.items!.push(v);
        else setValue(parent, v);
        return;
      }
      case 'scalar':
        setValue(parent, readScalar(frame.tag, frame.text, fail));
        return;
      case 'nil':
        setValue(parent, null);
        return;
      case 'struct':
        setValue(parent, frame.struct!);
        return;
      case 'member':
        if (frame.name === undefined) fail('struct <member> without <name>');
        if (!frame.hasValue) fail(`struct member '${frame.name!}' has no <value>`);
        // A repeated name keeps the last value, as Python's xmlrpc.client does.
        parent.struct![frame.name!] = frame.value!;
        return;
      case 'name':
        parent.name = frame.text;
        return;
      case 'array':
        if (!frame.sawData) fail('<array> without <data>');
        setValue(parent, frame.items ?? []);
        return;
      case 'data':
        parent.items = frame.items!;
        parent.sawData = true;
        return;
      default:
        return;
    }
  });

  return {
    text,
    parser,
    root: () => {
      if (root === undefined) throw new XmlRpcParseError(`XML-RPC: no <${rootTag}> element`);
      return root;
    },
  };
}

/** Refuse a second occurrence of an element that may appear once in its parent. */
function checkOnce(parent: Frame, local: string, fail: (m: string) => never): void {
  switch (parent.kind) {
    case 'methodCall':
      if (local === 'methodName' && parent.methodName !== undefined) fail('two <methodName>');
      if (local === 'params' && parent.params !== undefined) fail('two <params>');
      return;
    case 'methodResponse':
      if (parent.params !== undefined || parent.fault !== undefined) {
        fail('a <methodResponse> holds one <params> or one <fault>, not two');
      }
      return;
    case 'param':
    case 'fault':
    case 'value':
      if (parent.hasValue) fail(`<${parent.tag}> holds more than one value`);
      return;
    case 'member':
      if (local === 'name' && parent.name !== undefined) fail('struct member with two <name>');
      if (local === 'value' && parent.hasValue) fail('struct member with two <value>');
      return;
    case 'array':
      if (parent.sawData) fail('<array> with two <data>');
      return;
    default:
      return;
  }
}

function setValue(frame: Frame, v: XmlRpcValue): void {
  frame.value = v;
  frame.hasValue = true;
}

// ---------------------------------------------------------------------------------------------
// Scalars

const INT = /^[+-]?[0-9]+$/;
const DOUBLE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
// Python writes repr(float): 'inf', '-inf' and 'nan' for the non-finite values.
const NON_FINITE = /^([+-]?)(inf|infinity|nan)$/i;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function readScalar(tag: string, text: string, fail: (m: string) => never): XmlRpcValue {
  switch (tag) {
    case 'string':
      return text;
    case 'int':
    case 'i4':
    case 'i1':
    case 'i2':
    case 'i8':
    case 'biginteger': {
      const t = text.trim();
      if (!INT.test(t)) fail(`<${tag}> must hold an integer, found ${excerpt(text)}`);
      const n = Number(t);
      if (!Number.isSafeInteger(n)) {
        fail(`<${tag}> ${excerpt(t)} is beyond ±2^53, which cannot be read exactly`);
      }
      return n === 0 ? 0 : n; // no -0
    }
    case 'boolean': {
      const t = text.trim();
      if (t === '1') return true;
      if (t === '0') return false;
      return fail(`<boolean> must be 0 or 1, found ${excerpt(text)}`);
    }
    case 'double':
    case 'float': {
      const t = text.trim();
      if (DOUBLE.test(t)) return Number(t);
      const nf = NON_FINITE.exec(t);
      if (nf) {
        if (nf[2]!.toLowerCase() === 'nan') return NaN;
        return nf[1] === '-' ? -Infinity : Infinity;
      }
      return fail(`<${tag}> must hold a number, found ${excerpt(text)}`);
    }
    case 'dateTime.iso8601': {
      const d = parseDateTime(text.trim());
      if (d === undefined) {
        fail(
          `<dateTime.iso8601> ${excerpt(text)} is not a date-time` +
            ' (expected e.g. 20240102T03:04:05 or 2024-01-02T03:04:05Z)',
        );
      }
      return d!;
    }
    case 'base64': {
      // Python writes base64 in lines of 76 characters; whitespace is not data.
      const t = text.replace(/[ \t\r\n]+/g, '');
      if (!BASE64.test(t)) fail('<base64> is not valid base64');
      return Buffer.from(t, 'base64');
    }
    default:
      return fail(`unknown type <${tag}>`);
  }
}

// 20240102T03:04:05 (Python's xmlrpc.client), 2024-01-02T03:04:05 and the basic 20240102T030405,
// each with optional fractional seconds and an optional Z or offset. No zone means UTC.
const DATE_TIME =
  /^(\d{4})(?:(\d{2})(\d{2})|-(\d{2})-(\d{2}))T(\d{2})(?::(\d{2}):(\d{2})|(\d{2})(\d{2}))(\.\d{1,9})?(Z|[+-]\d{2}(?::?\d{2})?)?$/;

/** Parse an XML-RPC date-time (formats above); undefined when it is not one or not a real date. */
export function parseDateTime(text: string): Date | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2] ?? m[4]);
  const day = Number(m[3] ?? m[5]);
  const hour = Number(m[6]);
  const minute = Number(m[7] ?? m[9]);
  const second = Number(m[8] ?? m[10]);
  const ms = m[11] ? Math.floor(Number(m[11]) * 1000) : 0;
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const d = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC maps years 0–99 to 1900–1999.
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  if (d.getUTCDate() !== day) return undefined; // 31 February and the like
  const zone = m[12];
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offH = Number(digits.slice(0, 2));
    const offM = digits.length > 2 ? Number(digits.slice(2)) : 0;
    if (offH > 23 || offM > 59) return undefined;
    d.setTime(d.getTime() - sign * (offH * 60 + offM) * 60_000);
  }
  return d;
}

// ---------------------------------------------------------------------------------------------
// Bytes to text

const DOCTYPE_REFUSED =
  'XML-RPC: a DOCTYPE is not allowed (document type declarations can define entities)';

/**
 * Refuse a DOCTYPE before saxes reads it: one can only appear in the prolog, before the first
 * element, so only that part is scanned (a `<!DOCTYPE` inside a string value is `&lt;!DOCTYPE`,
 * and CDATA cannot appear in the prolog).
 */
function refuseDoctype(text: string): void {
  const firstElement = text.search(/<[A-Za-z_:]/);
  const prolog = firstElement < 0 ? text : text.slice(0, firstElement);
  if (/<!DOCTYPE/i.test(prolog) || /<!ENTITY/i.test(prolog)) {
    throw new XmlRpcParseError(DOCTYPE_REFUSED);
  }
}

const UTF8_NAMES = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);
const DECLARED_ENCODING = /^<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._-]+)["']/;

/**
 * The body as text: the size checked first, UTF-8 (strict: invalid bytes are refused) unless
 * the XML declaration names another single-byte encoding that TextDecoder knows.
 */
function decodeBody(body: string | Buffer, maxBytes: number): string {
  const size = typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
  if (size > maxBytes) {
    throw new XmlRpcParseError(`XML-RPC: body of ${size} bytes exceeds the limit of ${maxBytes}`);
  }
  if (typeof body === 'string') return body.startsWith('\uFEFF') ? body.slice(1) : body;
  if ((body[0] === 0xfe && body[1] === 0xff) || (body[0] === 0xff && body[1] === 0xfe)) {
    throw new XmlRpcParseError('XML-RPC: UTF-16 bodies are not supported; send UTF-8');
  }
  const head = body.subarray(0, 256).toString('latin1');
  const declared = DECLARED_ENCODING.exec(head.replace(/^\xEF\xBB\xBF/, ''))?.[1]?.toLowerCase();
  const encoding = declared === undefined || UTF8_NAMES.has(declared) ? 'utf-8' : declared;
  if (encoding.startsWith('utf-16') || encoding.startsWith('utf-32')) {
    throw new XmlRpcParseError(`XML-RPC: ${encoding} bodies are not supported; send UTF-8`);
  }
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(encoding, { fatal: true });
  } catch {
    throw new XmlRpcParseError(`XML-RPC: unsupported encoding '${declared}'; send UTF-8`);
  }
  try {
    return decoder.decode(body);
  } catch {
    throw new XmlRpcParseError(`XML-RPC: the body is not valid ${encoding}`);
  }
}

function localName(name: string): string {
  const colon = name.lastIndexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
}

function isWhitespace(s: string): boolean {
  return /^[ \t\r\n]*$/.test(s);
}

/** A short, quoted, single-line excerpt of text for a message. */
function excerpt(s: string): string {
  const short = s.length > 40 ? `${s.slice(0, 40)}…` : s;
  return JSON.stringify(short);
}
