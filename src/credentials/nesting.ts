/**
 * A linear pre-scan of element nesting, run before any DOM is built.
 *
 * @xmldom/xmldom takes seconds to build a 100,000-deep document before parseXml can measure its
 * depth; this scan refuses it in about a millisecond. It only counts: comments, CDATA sections,
 * processing instructions and quoted attribute values are skipped so that a `<` or `>` inside
 * them is not taken for a tag. On markup it cannot follow it stops and answers "not too deep",
 * leaving the verdict to the parser, which refuses malformed XML and measures depth again.
 */

/** True if some element of `text` is nested deeper than `maxDepth`. */
export function nestedDeeperThan(text: string, maxDepth: number): boolean {
  const len = text.length;
  let depth = 0;
  let i = text.indexOf('<');
  while (i !== -1) {
    const next = text.charCodeAt(i + 1);
    let end: number;
    if (next === 0x21 /* ! */) {
      if (text.startsWith('<!--', i)) end = skipPast(text, '-->', i + 4);
      else if (text.startsWith('<![CDATA[', i)) end = skipPast(text, ']]>', i + 9);
      else end = skipPast(text, '>', i + 2);
    } else if (next === 0x3f /* ? */) {
      end = skipPast(text, '?>', i + 2);
    } else if (next === 0x2f /* / */) {
      depth--;
      end = skipPast(text, '>', i + 2);
    } else {
      // A start tag: a name, then its end is the first `>` outside a quoted attribute value.
      let j = i + 1;
      while (j < len && isNameChar(text.charCodeAt(j))) j++;
      const stop = text.charCodeAt(j);
      if (j === i + 1 || !(stop === 0x3e || stop === 0x2f || isSpace(stop))) return false;
      let quote = 0;
      for (; j < len; j++) {
        const c = text.charCodeAt(j);
        if (quote !== 0) {
          if (c === quote) quote = 0;
        } else if (c === 0x22 || c === 0x27) quote = c;
        else if (c === 0x3e) break;
      }
      if (j >= len) return false;
      // Depth as parseXml counts it: the root is 1, and an empty element counts at its level.
      if (depth + 1 > maxDepth) return true;
      if (text.charCodeAt(j - 1) !== 0x2f /* not self-closing */) depth++;
      end = j + 1;
    }
    if (end < 0) return false;
    i = text.indexOf('<', end);
  }
  return false;
}

// Letters, digits, `-._:` and anything beyond ASCII (which the parser then judges).
function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x30 && c <= 0x3a) ||
    c === 0x2d ||
    c === 0x2e ||
    c === 0x5f ||
    c >= 0x80
  );
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** The index just past the next `marker` from `from`, or -1. */
function skipPast(text: string, marker: string, from: number): number {
  const at = text.indexOf(marker, from);
  return at === -1 ? -1 : at + marker.length;
}
