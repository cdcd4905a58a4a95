/**
 * Text from outside on its way into a message or the log. Callers choose what they send, so
 * whatever of it is echoed is bounded, carried by XML (a NUL or other control character would
 * break the answer's serialization), and, in the log, kept on its line.
 */

/** Longest message a fault carries (the AM `output`, an XML-RPC faultString). */
export const MAX_MESSAGE_LENGTH = 2000;

/** Characters XML 1.0 cannot carry: C0 controls but tab, LF and CR; lone surrogates; U+FFFE/F. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** `s` cut to `max` characters, saying how much was left out. */
export function bounded(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length - max} more characters)`;
}

/** `s` as a fault message: bounded, and every character XML cannot carry replaced by U+FFFD. */
export function messageText(s: string, max = MAX_MESSAGE_LENGTH): string {
  return bounded(s, max).replace(NOT_XML, '\uFFFD');
}

/**
 * `s` as one field of a log line: bounded, with every control character (newlines included)
 * and backslash escaped, so nothing from outside can start a line of its own.
 */
export function logText(s: string, max = 200): string {
  return bounded(s, max).replace(
    // eslint-disable-next-line no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]/g,
    (c) => (c === '\\' ? '\\\\' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
  );
}

/**
 * A caller's value, quoted for a message that says what was wrong with it: a string in JSON
 * quotes, bounded; other values by their XML-RPC type, never by their contents (a struct has no
 * useful text, and a base64 value may be anything). Never throws.
 */
export function quote(value: unknown): string {
  if (typeof value === 'string') return bounded(JSON.stringify(value), 120);
  if (value === null || value === undefined) return 'nothing';
  if (typeof value === 'number')
    return Number.isInteger(value) ? `the int ${value}` : `the double ${value}`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (value instanceof Date) return 'a dateTime';
  if (Buffer.isBuffer(value) || value instanceof Uint8Array)
    return `base64 (${value.length} bytes)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return 'a struct';
}

/** Why a file could not be read, in words for a message (`no such file`, `permission denied`). */
export function readFailure(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT'
    ? 'no such file'
    : code === 'EACCES'
      ? 'permission denied'
      : (e as Error).message;
}
