/**
 * Assemble and sign a `<signed-credential>` document.
 */
import type { KeyObject } from 'node:crypto';
import type { Element } from '@xmldom/xmldom';
import { ServerError } from '../faults.js';
import { escapeXmlAttr } from './credential.js';
import type { Gid } from './gid.js';
import { computeSignature, signatureTemplate, type SignatureAlgorithm } from './signature.js';
import { childElements, parseXml, XMLDSIG_NS } from './xml.js';

/** What SFA writes on `<signed-credential>` (PlanetLab's copies of the ProtoGENI schemas). */
export const DEFAULT_ROOT_ATTRIBUTES: ReadonlyArray<readonly [string, string]> = [
  ['xmlns:xsi', 'http://www.w3.org/2001/XMLSchema-instance'],
  ['xsi:noNamespaceSchemaLocation', 'http://www.planet-lab.org/resources/sfa/credential.xsd'],
  [
    'xsi:schemaLocation',
    'http://www.planet-lab.org/resources/sfa/ext/policy/1 http://www.planet-lab.org/resources/sfa/ext/policy/1/policy.xsd',
  ],
];

export interface SignInput {
  /** Attributes of `<signed-credential>` (name, raw value). */
  rootAttributes: ReadonlyArray<readonly [string, string]>;
  /** The serialized `<credential xml:id="refid">` element. */
  credentialXml: string;
  refid: string;
  /** Serialized `<Signature>` elements of the parent chain, copied as they are. */
  parentSignaturesXml?: string;
  signerKey: KeyObject;
  /** The signer's GID; its whole chain goes into KeyInfo so a verifier can reach a root. */
  signerGid: Gid;
  algorithm: SignatureAlgorithm;
}

/** Build the document, sign the credential `refid`, and return the signed XML text. */
export function signCredentialDocument(input: SignInput): string {
  const attrs = input.rootAttributes.map(([k, v]) => ` ${k}="${escapeXmlAttr(v)}"`).join('');
  const template = signatureTemplate(
    input.refid,
    input.signerGid.chain().map((g) => g.x509.raw),
    input.algorithm,
  );
  const unsigned =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<signed-credential${attrs}>${input.credentialXml}` +
    `<signatures>${input.parentSignaturesXml ?? ''}${template}</signatures></signed-credential>\n`;
  // Sign within the final document, so that what is canonicalized here (inherited namespaces,
  // the Signature's xml:id on SignedInfo) is exactly what a verifier will canonicalize.
  const doc = parseXml(unsigned, 'credential being signed');
  const root = doc.documentElement!;
  const [credential, signatures] = childElements(root) as [Element, Element];
  const sigs = childElements(signatures).filter(
    (s) => s.localName === 'Signature' && s.namespaceURI === XMLDSIG_NS,
  );
  const { digestValue, signatureValue } = computeSignature(
    sigs[sigs.length - 1]!,
    credential,
    input.signerKey,
    input.algorithm,
  );
  // The new template is the only Signature with empty values; fill it in the text itself, so the
  // document we return is byte for byte the one we signed.
  const filled = replaceOnce(
    replaceOnce(
      unsigned,
      '<DigestValue></DigestValue>',
      `<DigestValue>${digestValue}</DigestValue>`,
    ),
    '<SignatureValue></SignatureValue>',
    `<SignatureValue>${signatureValue}</SignatureValue>`,
  );
  return filled;
}

function replaceOnce(text: string, marker: string, value: string): string {
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) {
    throw new ServerError(`signing failed: expected exactly one empty ${marker}`);
  }
  return text.slice(0, at) + value + text.slice(at + marker.length);
}
