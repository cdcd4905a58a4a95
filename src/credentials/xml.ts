/**
 * Safe XML parsing for everything that arrives from outside.
 *
 * A document type declaration is refused before any parser sees the bytes: no DTD means no
 * entity expansion (billion laughs, external entities) and no DTD-declared ID attributes that
 * could make a second element answer to a signature's reference.
 */
import { DOMParser, type Document, type Element, type Node } from '@xmldom/xmldom';
import { BadArgs } from '../faults.js';
import { nestedDeeperThan } from './nesting.js';

export const XMLDSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
export const XML_NS = 'http://www.w3.org/XML/1998/namespace';

export const NodeType = { ELEMENT: 1, TEXT: 3, CDATA: 4, PI: 7, COMMENT: 8 } as const;

/** Thrown for XML that is not well-formed or is refused outright (DOCTYPE, entities, size). */
export class XmlRefused extends BadArgs {}

export interface ParseLimits {
  /** Refuse documents larger than this many characters. */
  maxLength?: number;
  /** Refuse element nesting deeper than this. */
  maxDepth?: number;
}

const DEFAULT_LIMITS = { maxLength: 4 * 1024 * 1024, maxDepth: 64 };

/**
 * Parse untrusted XML into a DOM, refusing DOCTYPE/ENTITY declarations, malformed markup,
 * oversized documents and deep nesting. `what` names the document in messages.
 */
export function parseXml(text: string, what: string, limits: ParseLimits = {}): Document {
  const maxLength = limits.maxLength ?? DEFAULT_LIMITS.maxLength;
  const maxDepth = limits.maxDepth ?? DEFAULT_LIMITS.maxDepth;
  if (typeof text !== 'string' || text.trim() === '') {
    throw new XmlRefused(`${what} is empty: expected an XML document`);
  }
  if (text.length > maxLength) {
    throw new XmlRefused(`${what} is too large (${text.length} characters, limit ${maxLength})`);
  }
  // Before parsing: a DOCTYPE can declare entities and ID attributes; we accept neither.
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlRefused(`${what} contains a DOCTYPE or ENTITY declaration, which is not accepted`);
  }
  // Before any DOM is built: building a 100,000-deep document alone takes seconds.
  if (nestedDeeperThan(text, maxDepth)) {
    throw new XmlRefused(`${what} is nested deeper than ${maxDepth} elements`);
  }
  const errors: string[] = [];
  let doc: Document;
  try {
    doc = new DOMParser({
      onError: (level, message) => {
        if (level !== 'warning') errors.push(message.split('\n')[0] ?? message);
      },
    }).parseFromString(text, 'text/xml');
  } catch (e) {
    throw new XmlRefused(`${what} is not well-formed XML: ${(e as Error).message.split('\n')[0]}`);
  }
  if (errors.length > 0 || !doc.documentElement) {
    throw new XmlRefused(`${what} is not well-formed XML: ${errors[0] ?? 'no root element'}`);
  }
  checkDepth(doc.documentElement, maxDepth, what);
  return doc;
}

function checkDepth(root: Element, maxDepth: number, what: string): void {
  // Iterative walk: a hostile document must not be able to overflow our stack either.
  const stack: Array<[Node, number]> = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!;
    if (depth > maxDepth) {
      throw new XmlRefused(`${what} is nested deeper than ${maxDepth} elements`);
    }
    for (let c = node.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === NodeType.ELEMENT) stack.push([c, depth + 1]);
      // Security: a processing instruction inside a signed element is canonicalized (by
      // xml-crypto) as if it were text, but no reader sees it as text: it could hide part of a
      // field from the reader while the digest still matches. No SFA document has one.
      else if (c.nodeType === NodeType.PI) {
        throw new XmlRefused(
          `${what} contains a processing instruction inside <${root.tagName}>, which is not accepted`,
        );
      }
    }
  }
}

/** Element children of `parent`, in document order. */
export function childElements(parent: Node): Element[] {
  const out: Element[] = [];
  for (let c = parent.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === NodeType.ELEMENT) out.push(c as Element);
  }
  return out;
}

/**
 * The text of an element: every text and CDATA child concatenated, comments skipped, exactly as
 * the canonical form (without comments) that a signature covers. A comment splitting a value
 * therefore cannot make us read less (or other) than what was signed. Child elements are refused.
 */
export function textOf(el: Element, what: string): string {
  let out = '';
  for (let c = el.firstChild; c; c = c.nextSibling) {
    if (c.nodeType === NodeType.TEXT || c.nodeType === NodeType.CDATA) {
      out += (c as unknown as { data: string }).data;
    } else if (c.nodeType !== NodeType.COMMENT) {
      // Elements, and anything else a canonical form might render as text, are refused.
      throw new XmlRefused(`${what}: <${el.tagName}> must hold text only`);
    }
  }
  return out;
}
