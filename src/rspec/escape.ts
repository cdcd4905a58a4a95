/**
 * Escaping for XML built as strings. The writers build large documents directly (a DOM is ten
 * times slower for a 10,000-node ad), so every value goes through one of these two functions.
 *
 * Characters XML 1.0 cannot carry at all (C0 controls other than tab, newline and carriage
 * return; lone surrogates; U+FFFE/U+FFFF) cannot be escaped either: they become U+FFFD, so a
 * stray control character in a database field can never make a document unparseable.
 */

// Anything that may need work; most values match nothing and are returned as they are.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const ATTR_SPECIAL = /[&<>"\u0000-\u001f\ud800-\udfff\ufffe\uffff]/;
// eslint-disable-next-line no-control-regex -- as above
const TEXT_SPECIAL = /[&<>\u0000-\u0008\u000b\u000c\u000d-\u001f\ud800-\udfff\ufffe\uffff]/;

/** Escape `value` for a double-quoted attribute. Tab, newline and CR are kept as references. */
export function escapeAttr(value: string): string {
  return ATTR_SPECIAL.test(value) ? escapeSlow(value, true) : value;
}

/** Escape `value` for element content. */
export function escapeText(value: string): string {
  return TEXT_SPECIAL.test(value) ? escapeSlow(value, false) : value;
}

function escapeSlow(s: string, attr: boolean): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    if (c === 0x26) rep = '&amp;';
    else if (c === 0x3c) rep = '&lt;';
    else if (c === 0x3e) rep = '&gt;';
    else if (c === 0x22 && attr) rep = '&quot;';
    else if (c < 0x20) {
      // An attribute value's whitespace is normalized to spaces by every parser unless escaped.
      if (c === 0x09) {
        if (!attr) continue;
        rep = '&#9;';
      } else if (c === 0x0a) {
        if (!attr) continue;
        rep = '&#10;';
      } else if (c === 0x0d) rep = '&#13;';
      else rep = '\ufffd';
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++; // a well-formed pair
        continue;
      }
      rep = '\ufffd';
    } else if ((c >= 0xdc00 && c <= 0xdfff) || c === 0xfffe || c === 0xffff) rep = '\ufffd';
    else continue;
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}
