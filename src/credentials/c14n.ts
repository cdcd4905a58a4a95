/**
 * Inclusive Canonical XML 1.0 of a document subset, as libxml2 (inside xmlsec1) computes it.
 *
 * A signature reference such as `URI="#ref0"` selects an element and its descendants out of a
 * larger document. C14N 1.0 then renders on the subset's apex (a) every namespace in scope there,
 * including those declared on ancestors (`xmlns:xsi` on `<signed-credential>`), and (b) the
 * `xml:*` attributes the apex inherits from its ancestors (`xml:id="Sig_ref0"` from `<Signature>`
 * onto `<SignedInfo>`). xml-crypto's canonicalizer does (a) when given the ancestor namespaces but
 * not (b); without both, neither xmlsec1 nor we could verify what the other signed.
 */
import type { Element, Node } from '@xmldom/xmldom';
import { C14nCanonicalization } from 'xml-crypto';
import { XML_NS } from './xml.js';

export const C14N_10 = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';

/** C14N 1.0 attribute value escaping (section 2.2): `&`, `<`, `"`, TAB, LF and CR. */
function escapeAttribute(value: string): string {
  return value.replace(/[&<"\t\n\r]/g, (c) => ATTRIBUTE_ESCAPES[c]!);
}
const ATTRIBUTE_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '"': '&quot;',
  '\t': '&#x9;',
  '\n': '&#xA;',
  '\r': '&#xD;',
};

interface NsBinding {
  prefix: string;
  namespaceURI: string;
}
interface InheritedAttr {
  name: string;
  value: string;
  namespaceURI: string;
  localName: string;
}

class SubsetC14n extends C14nCanonicalization {
  constructor(
    private readonly apex: Element,
    private readonly inherited: InheritedAttr[],
    private readonly excluded: Node | undefined,
  ) {
    super();
  }

  // Same as the base class, plus the apex's inherited xml:* attributes in their sorted place.
  override renderAttrs(node: Element): string {
    const attrs: Array<{
      name: string;
      value: string;
      namespaceURI: string | null;
      localName: string | null;
    }> = [];
    for (let i = 0; i < node.attributes.length; i++) {
      const a = node.attributes.item(i)!;
      if (a.name.startsWith('xmlns')) continue; // namespace declarations are rendered apart
      attrs.push(a);
    }
    if (node === this.apex) {
      for (const a of this.inherited) {
        const own = attrs.some((b) => b.namespaceURI === XML_NS && b.localName === a.localName);
        if (!own) attrs.push(a);
      }
    }
    attrs.sort(this.attrCompare);
    return attrs.map((a) => ` ${a.name}="${escapeAttribute(a.value)}"`).join('');
  }

  // The enveloped-signature transform: the Signature that holds the reference is left out.
  override processInner(node: Node, ...rest: unknown[]): string {
    if (node === this.excluded) return '';
    return (super.processInner as (n: Node, ...r: unknown[]) => string)(node, ...rest);
  }
}

/**
 * Canonicalize `el` and its descendants as a document subset (inclusive C14N 1.0, comments
 * omitted), optionally leaving out `exclude` (the enveloping Signature element).
 */
export function canonicalizeSubset(el: Element, exclude?: Node): string {
  const namespaces: NsBinding[] = [];
  const inherited: InheritedAttr[] = [];
  const seenNs = new Set<string>();
  const seenXml = new Set<string>();
  // Nearest ancestor first, so the nearest declaration of a prefix (or xml:* attribute) wins.
  for (let p = el.parentNode; p && p.nodeType === 1; p = p.parentNode) {
    const attrs = (p as Element).attributes;
    for (let i = 0; i < attrs.length; i++) {
      const a = attrs.item(i)!;
      if (a.name === 'xmlns' || a.prefix === 'xmlns') {
        const prefix = a.name === 'xmlns' ? '' : (a.localName ?? '');
        if (seenNs.has(prefix)) continue;
        seenNs.add(prefix);
        // An undeclaration (xmlns="") only shadows outer bindings; it is no namespace node.
        if (a.value !== '') namespaces.push({ prefix, namespaceURI: a.value });
      } else if (a.namespaceURI === XML_NS && a.localName && !seenXml.has(a.localName)) {
        seenXml.add(a.localName);
        inherited.push({
          name: a.name,
          value: a.value,
          namespaceURI: XML_NS,
          localName: a.localName,
        });
      }
    }
  }
  // An unprefixed apex renders its own namespace as the default; an inherited default binding
  // would otherwise be rendered twice.
  const ancestorNamespaces = el.prefix ? namespaces : namespaces.filter((n) => n.prefix !== '');
  const c14n = new SubsetC14n(el, inherited, exclude);
  return c14n.process(el as unknown as globalThis.Node, { ancestorNamespaces });
}
