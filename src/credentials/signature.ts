/**
 * The XML-DSig profile of SFA credentials, as xmlsec1 writes and reads it:
 * `<Signature xml:id="Sig_refN">` in `<signatures>`, one Reference `URI="#refN"` to a
 * `<credential xml:id="refN">`, enveloped-signature transform, inclusive C14N 1.0,
 * RSA-SHA1/SHA-1 by default (RSA-SHA256/SHA-256 accepted and available), and the signer's
 * certificate chain in `KeyInfo/X509Data`.
 *
 * Only the algorithms below are accepted; a key is never taken from `KeyValue`.
 */
import { createHash, createSign, createVerify, timingSafeEqual, type KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { CredentialInvalid } from '../faults.js';
import { C14N_10, canonicalizeSubset } from './c14n.js';
import { childElements, textOf, XMLDSIG_NS } from './xml.js';

export const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

export type SignatureAlgorithm = 'rsa-sha1' | 'rsa-sha256';

/** Signature method URI → node:crypto algorithm. */
const SIGNATURE_METHODS: Readonly<Record<string, string>> = {
  'http://www.w3.org/2000/09/xmldsig#rsa-sha1': 'RSA-SHA1',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256': 'RSA-SHA256',
};
/** Digest method URI → node:crypto hash. */
const DIGEST_METHODS: Readonly<Record<string, string>> = {
  'http://www.w3.org/2000/09/xmldsig#sha1': 'sha1',
  'http://www.w3.org/2001/04/xmlenc#sha256': 'sha256',
};
const ALGORITHMS: Record<SignatureAlgorithm, { signature: string; digest: string }> = {
  'rsa-sha1': {
    signature: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
    digest: 'http://www.w3.org/2000/09/xmldsig#sha1',
  },
  'rsa-sha256': {
    signature: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    digest: 'http://www.w3.org/2001/04/xmlenc#sha256',
  },
};
// Transforms a credential signature may list: the enveloped-signature transform, and inclusive
// C14N 1.0 which is what happens anyway. Anything else (XPath, XSLT, exclusive C14N) is refused.
const ALLOWED_TRANSFORMS = new Set([ENVELOPED, C14N_10]);

/** A `<Signature>` element read strictly; nothing here is trusted until checked. */
export interface SignatureElement {
  readonly element: Element;
  readonly signedInfo: Element;
  /** The id its single Reference points at (`ref0` for `URI="#ref0"`). */
  readonly referencedId: string;
  readonly signatureMethod: string;
  readonly digestMethod: string;
  readonly digestValue: Buffer;
  readonly signatureValue: Buffer;
  /** The KeyInfo/X509Data certificates, as PEM, in document order. */
  readonly certificates: string[];
}

function invalid(message: string): CredentialInvalid {
  return new CredentialInvalid(`credential signature: ${message}`);
}

/** The single element child of `parent` named `local` in the XML-DSig namespace. */
function one(parent: Element, local: string): Element {
  const found = childElements(parent).filter(
    (c) => c.localName === local && c.namespaceURI === XMLDSIG_NS,
  );
  if (found.length !== 1) throw invalid(`expected exactly one <${local}> in <${parent.localName}>`);
  return found[0]!;
}

function algorithmOf(el: Element): string {
  return el.getAttribute('Algorithm') ?? '';
}

function base64Of(el: Element, what: string): Buffer {
  const text = textOf(el, what).replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text === '') throw invalid(`${what} is not base64`);
  return Buffer.from(text, 'base64');
}

/**
 * Read a `<Signature>` element: exactly one SignedInfo holding exactly one Reference, with
 * algorithms from the allow-list. Throws CredentialInvalid naming what is wrong.
 */
export function readSignatureElement(sig: Element): SignatureElement {
  if (sig.localName !== 'Signature' || sig.namespaceURI !== XMLDSIG_NS) {
    throw invalid(`unexpected <${sig.tagName}> in <signatures>`);
  }
  const signedInfo = one(sig, 'SignedInfo');
  const c14n = algorithmOf(one(signedInfo, 'CanonicalizationMethod'));
  if (c14n !== C14N_10)
    throw invalid(`canonicalization '${c14n}' is not accepted (use ${C14N_10})`);
  const signatureMethod = algorithmOf(one(signedInfo, 'SignatureMethod'));
  if (!SIGNATURE_METHODS[signatureMethod]) {
    throw invalid(`signature method '${signatureMethod}' is not accepted (rsa-sha1 or rsa-sha256)`);
  }
  const reference = one(signedInfo, 'Reference');
  const uri = reference.getAttribute('URI') ?? '';
  if (!/^#[A-Za-z_][\w.-]*$/.test(uri))
    throw invalid(`Reference URI '${uri}' must be '#<credential xml:id>'`);
  const transforms = childElements(reference).filter((c) => c.localName === 'Transforms');
  for (const list of transforms) {
    for (const t of childElements(list)) {
      if (!ALLOWED_TRANSFORMS.has(algorithmOf(t))) {
        throw invalid(`transform '${algorithmOf(t)}' is not accepted`);
      }
    }
  }
  const digestMethod = algorithmOf(one(reference, 'DigestMethod'));
  if (!DIGEST_METHODS[digestMethod])
    throw invalid(`digest method '${digestMethod}' is not accepted (sha1 or sha256)`);
  const keyInfo = one(sig, 'KeyInfo');
  const certificates: string[] = [];
  for (const data of childElements(keyInfo).filter((c) => c.localName === 'X509Data')) {
    for (const c of childElements(data).filter((e) => e.localName === 'X509Certificate')) {
      const der = base64Of(c, 'X509Certificate');
      certificates.push(toPem(der));
    }
  }
  if (certificates.length === 0) throw invalid('KeyInfo holds no X509Certificate for the signer');
  return {
    element: sig,
    signedInfo,
    referencedId: uri.slice(1),
    signatureMethod,
    digestMethod,
    digestValue: base64Of(one(reference, 'DigestValue'), 'DigestValue'),
    signatureValue: base64Of(one(sig, 'SignatureValue'), 'SignatureValue'),
    certificates,
  };
}

function toPem(der: Buffer): string {
  const b64 = der.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 64) lines.push(b64.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`;
}

/** Does the digest of `target` (canonicalized in its document) match the signature's? */
export function digestMatches(sig: SignatureElement, target: Element): boolean {
  const hash = DIGEST_METHODS[sig.digestMethod]!;
  const digest = createHash(hash).update(canonicalizeSubset(target, sig.element)).digest();
  return digest.length === sig.digestValue.length && timingSafeEqual(digest, sig.digestValue);
}

/** Does `key` verify the signature over the canonical SignedInfo? */
export function signatureValueMatches(sig: SignatureElement, key: KeyObject): boolean {
  const algorithm = SIGNATURE_METHODS[sig.signatureMethod]!;
  const canonical = canonicalizeSubset(sig.signedInfo);
  try {
    return createVerify(algorithm).update(canonical).verify(key, sig.signatureValue);
  } catch {
    return false; // a key of the wrong type: not a valid signature
  }
}

/**
 * The `<Signature>` template for `refid`, with the signer's chain (base64 DER, leaf first)
 * and empty DigestValue/SignatureValue to be filled by {@link fillSignature}.
 */
export function signatureTemplate(
  refid: string,
  chainDer: Buffer[],
  alg: SignatureAlgorithm,
): string {
  const a = ALGORITHMS[alg];
  const certs = chainDer
    .map((d) => `      <X509Certificate>${d.toString('base64')}</X509Certificate>`)
    .join('\n');
  return (
    `<Signature xml:id="Sig_${refid}" xmlns="${XMLDSIG_NS}">\n` +
    `  <SignedInfo>\n` +
    `    <CanonicalizationMethod Algorithm="${C14N_10}"/>\n` +
    `    <SignatureMethod Algorithm="${a.signature}"/>\n` +
    `    <Reference URI="#${refid}">\n` +
    `      <Transforms>\n` +
    `        <Transform Algorithm="${ENVELOPED}"/>\n` +
    `      </Transforms>\n` +
    `      <DigestMethod Algorithm="${a.digest}"/>\n` +
    `      <DigestValue></DigestValue>\n` +
    `    </Reference>\n` +
    `  </SignedInfo>\n` +
    `  <SignatureValue></SignatureValue>\n` +
    `  <KeyInfo>\n` +
    `    <X509Data>\n${certs}\n    </X509Data>\n` +
    `  </KeyInfo>\n` +
    `</Signature>`
  );
}

/**
 * Compute the digest of `target` and the signature value for the template `sig` (both already in
 * the final document, so that inherited namespaces and xml:* attributes are what a verifier
 * sees). Returns the two base64 values; the caller writes them into the document text.
 */
export function computeSignature(
  sig: Element,
  target: Element,
  key: KeyObject,
  alg: SignatureAlgorithm,
): { digestValue: string; signatureValue: string } {
  const a = ALGORITHMS[alg];
  const signedInfo = one(sig, 'SignedInfo');
  const digestEl = one(one(signedInfo, 'Reference'), 'DigestValue');
  const digestValue = createHash(DIGEST_METHODS[a.digest]!)
    .update(canonicalizeSubset(target, sig))
    .digest('base64');
  // The signed bytes are the canonical SignedInfo with the digest in place.
  digestEl.appendChild(digestEl.ownerDocument!.createTextNode(digestValue));
  const signatureValue = createSign(SIGNATURE_METHODS[a.signature]!)
    .update(canonicalizeSubset(signedInfo))
    .sign(key)
    .toString('base64');
  return { digestValue, signatureValue };
}
