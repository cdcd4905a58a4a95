/**
 * Writing XML-RPC documents, byte for byte in the layout of Python's xmlrpc.client
 * (`dumps(..., allow_none=True)`): the same XML declaration, newlines and element order, so
 * that a call we send and the one sfi sends for the same values are identical.
 *
 * Two deliberate differences from Python, both only where Python writes something broken:
 * - a carriage return in text is written `&#13;` (Python writes it raw, and every XML parser
 *   turns it into a line feed, so the value would not survive the trip);
 * - characters that XML 1.0 cannot carry (controls other than tab/LF/CR, lone surrogates,
 *   U+FFFE/U+FFFF) are refused with {@link XmlRpcSerializeError} naming where they are, instead
 *   of producing a document that the peer's parser rejects. Fault strings are the exception:
 *   there such characters become U+FFFD, because a fault must always be deliverable.
 */
import { XmlRpcSerializeError } from './errors.js';
import { Double, INT32_MAX, INT32_MIN, isStruct, type XmlRpcWritable } from './value.js';

const XML_DECLARATION = "<?xml version='1.0'?>\n";

/** A `<methodCall>` document. */
export function serializeMethodCall(methodName: string, params: readonly XmlRpcWritable[]): string {
  if (methodName.length === 0) throw new XmlRpcSerializeError('the method name is empty');
  const out: string[] = [
    XML_DECLARATION,
    '<methodCall>\n<methodName>',
    checkedText(methodName, 'the method name'),
    '</methodName>\n',
  ];
  writeParams(out, params);
  out.push('</methodCall>\n');
  return out.join('');
}

/** A `<methodResponse>` document carrying one value. */
export function serializeMethodResponse(value: XmlRpcWritable): string {
  const out: string[] = [XML_DECLARATION, '<methodResponse>\n'];
  writeParams(out, [value]);
  out.push('</methodResponse>\n');
  return out.join('');
}

/**
 * A `<methodResponse>` document carrying a `<fault>`. The code must be an int32; characters
 * that XML cannot carry in the message are replaced by U+FFFD.
 */
export function serializeFault(faultCode: number, faultString: string): string {
  if (!Number.isInteger(faultCode) || faultCode < INT32_MIN || faultCode > INT32_MAX) {
    throw new XmlRpcSerializeError(`faultCode ${faultCode} is not a 32-bit integer`);
  }
  const message = faultString.replace(INVALID_XML_CHAR_G, '\uFFFD');
  return (
    XML_DECLARATION +
    '<methodResponse>\n<fault>\n<value><struct>\n' +
    `<member>\n<name>faultCode</name>\n<value><int>${faultCode}</int></value>\n</member>\n` +
    `<member>\n<name>faultString</name>\n<value><string>${escape(message)}</string></value>\n</member>\n` +
    '</struct></value>\n</fault>\n</methodResponse>\n'
  );
}

/** Format a date as XML-RPC does: `YYYYMMDDTHH:MM:SS`, UTC, milliseconds dropped. */
export function formatDateTime(d: Date): string {
  const t = d.getTime();
  if (Number.isNaN(t)) throw new XmlRpcSerializeError('an invalid Date cannot be written');
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) {
    throw new XmlRpcSerializeError(`year ${y} cannot be written as a dateTime.iso8601`);
  }
  return (
    `${pad(y, 4)}${pad(d.getUTCMonth() + 1, 2)}${pad(d.getUTCDate(), 2)}` +
    `T${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`
  );
}

function writeParams(out: string[], params: readonly XmlRpcWritable[]): void {
  const w = new Writer(out);
  out.push('<params>\n');
  params.forEach((p, i) => {
    out.push('<param>\n');
    w.path.push(`params[${i}]`);
    w.value(p);
    w.path.pop();
    out.push('</param>\n');
  });
  out.push('</params>\n');
}

class Writer {
  /** Where we are, for error messages: ['params[1]', 'options', '[0]']. */
  readonly path: string[] = [];
  /** Arrays and structs being written: a value met again inside itself is a cycle. */
  private readonly open = new Set<object>();

  constructor(private readonly out: string[]) {}

  value(v: unknown): void {
    const out = this.out;
    switch (typeof v) {
      case 'string':
        out.push('<value><string>', this.text(v), '</string></value>\n');
        return;
      case 'boolean':
        out.push(
          v ? '<value><boolean>1</boolean></value>\n' : '<value><boolean>0</boolean></value>\n',
        );
        return;
      case 'number':
        if (Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX) {
          out.push(`<value><int>${v}</int></value>\n`);
        } else {
          out.push(`<value><double>${this.double(v)}</double></value>\n`);
        }
        return;
      case 'object':
        break;
      default:
        this.fail(
          typeof v === 'undefined'
            ? 'undefined cannot be written (use null for nil)'
            : `a ${typeof v} cannot be written as XML-RPC`,
        );
    }
    if (v === null) {
      // Python writes no newline after nil; keep its bytes.
      out.push('<value><nil/></value>');
      return;
    }
    if (v instanceof Double) {
      out.push(`<value><double>${this.double(v.value)}</double></value>\n`);
      return;
    }
    if (v instanceof Date) {
      out.push(`<value><dateTime.iso8601>${this.date(v)}</dateTime.iso8601></value>\n`);
      return;
    }
    if (v instanceof Uint8Array) {
      out.push('<value><base64>\n', base64Lines(v), '</base64></value>\n');
      return;
    }
    const obj = v as object;
    if (Array.isArray(obj)) {
      this.enter(obj);
      out.push('<value><array><data>\n');
      obj.forEach((item, i) => {
        this.path.push(`[${i}]`);
        this.value(item);
        this.path.pop();
      });
      out.push('</data></array></value>\n');
      this.open.delete(obj);
      return;
    }
    if (isStruct(obj)) {
      this.enter(obj);
      out.push('<value><struct>\n');
      for (const [name, member] of Object.entries(obj)) {
        this.path.push(name);
        out.push('<member>\n<name>', this.text(name), '</name>\n');
        this.value(member);
        out.push('</member>\n');
        this.path.pop();
      }
      out.push('</struct></value>\n');
      this.open.delete(obj);
      return;
    }
    const kind = (obj.constructor as { name?: string } | undefined)?.name ?? 'object';
    this.fail(`a ${kind} cannot be written as XML-RPC (use a plain object for a struct)`);
  }

  private enter(obj: object): void {
    if (this.open.has(obj)) this.fail('a value that contains itself cannot be written');
    this.open.add(obj);
  }

  private text(s: string): string {
    return checkedText(s, this.pathText());
  }

  private double(n: number): string {
    if (!Number.isFinite(n)) this.fail(`${n} cannot be written (XML-RPC doubles are finite)`);
    // Python's repr: integral doubles keep a ".0" so they read back as doubles.
    if (Number.isInteger(n) && Math.abs(n) < 1e21) return `${Object.is(n, -0) ? '-0' : n}.0`;
    return String(n);
  }

  private date(d: Date): string {
    try {
      return formatDateTime(d);
    } catch (e) {
      return this.fail((e as Error).message);
    }
  }

  private fail(message: string): never {
    throw new XmlRpcSerializeError(`XML-RPC: ${message} at ${this.pathText()}`);
  }

  private pathText(): string {
    return this.path.map((p, i) => (i === 0 || p.startsWith('[') ? p : `.${p}`)).join('');
  }
}

/**
 * Not a character of XML 1.0 (`Char` production): C0 controls other than tab, LF and CR,
 * lone surrogates, U+FFFE and U+FFFF. With the `u` flag a lone surrogate is one code point.
 */
const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const INVALID_XML_CHAR_G = new RegExp(INVALID_XML_CHAR.source, 'gu');

/** `s` escaped, or XmlRpcSerializeError naming `where` when XML cannot carry one of its characters. */
function checkedText(s: string, where: string): string {
  const bad = INVALID_XML_CHAR.exec(s);
  if (bad) {
    const cp = bad[0].codePointAt(0)!;
    throw new XmlRpcSerializeError(
      `XML-RPC: character U+${cp.toString(16).toUpperCase().padStart(4, '0')} at offset` +
        ` ${bad.index} of ${where} cannot be carried by XML`,
    );
  }
  return escape(s);
}

/** Escape text as Python does (`&`, `<`, `>`), plus CR (see the file comment). */
function escape(s: string): string {
  if (!/[&<>\r]/.test(s)) return s;
  // A hand loop: several times faster in V8 than replace() with a regex or replaceAll chains
  // on large values (RSpecs and credentials are escaped XML).
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    let entity: string;
    switch (s.charCodeAt(i)) {
      case 0x26:
        entity = '&amp;';
        break;
      case 0x3c:
        entity = '&lt;';
        break;
      case 0x3e:
        entity = '&gt;';
        break;
      case 0x0d:
        entity = '&#13;';
        break;
      default:
        continue;
    }
    out += s.slice(last, i) + entity;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** base64 in lines of 76 characters, each ending in a newline (Python's base64.encodebytes). */
function base64Lines(bytes: Uint8Array): string {
  const b64 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += 76) out += `${b64.slice(i, i + 76)}\n`;
  return out;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}
