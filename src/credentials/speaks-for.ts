/**
 * GENI speaks-for: a tool calls with its own certificate, `options.geni_speaking_for = <user
 * URN>`, and an ABAC credential signed by the user asserting `U.speaks_for_U ← T`
 * ("the user says the tool may speak for the user"). Key ids are lower-case hex
 * subjectKeyIdentifiers. The user's certificate comes from that signature's chain; the caller
 * then checks the user's own credentials in full, as if the user had called (the Python SFA
 * skips that second check: we do not).
 */
import type { Element } from '@xmldom/xmldom';
import {
  CredentialExpired,
  CredentialInvalid,
  CredentialMismatch,
  CredentialSignerUntrusted,
} from '../faults.js';
import { verifyChain, type TrustStore, type VerifiedCertCache } from './chain.js';
import { Gid, keyIdentifier } from './gid.js';
import { spkiDer } from './keys.js';
import { digestMatches, readSignatureElement, signatureValueMatches } from './signature.js';
import { formatRfc3339, parseRfc3339 } from './time.js';
import { childElements, parseXml, textOf, XML_NS } from './xml.js';
import { sameUrn } from './xrn.js';

/**
 * The key id ABAC uses for a certificate: the SHA-1 key identifier computed from its public key
 * (what subjectKeyIdentifier holds in GENI certificates). Security: never read from the
 * extension itself, which the certificate's issuer could set to another principal's key id.
 */
export function abacKeyId(gid: Gid): string {
  return keyIdentifier(spkiDer(gid.publicKey)).toLowerCase();
}

function child(parent: Element, name: string, what: string): Element {
  const found = childElements(parent).filter((e) => e.localName === name);
  if (found.length !== 1)
    throw new CredentialInvalid(`speaks-for credential: expected one <${name}> in ${what}`);
  return found[0]!;
}

export interface SpeaksForOptions {
  /** The TLS caller: the tool. */
  tool: Gid;
  /** `options.geni_speaking_for`. */
  speakingForUrn: string;
  trust: TrustStore;
  now: Date;
  cache?: VerifiedCertCache;
}

/** Verify a speaks-for credential; returns the user's certificate (with its chain). */
export function verifySpeaksFor(xml: string, opts: SpeaksForOptions): Gid {
  const doc = parseXml(xml, 'speaks-for credential', { maxLength: 1024 * 1024 });
  const root = doc.documentElement!;
  const top = childElements(root);
  if (
    root.localName !== 'signed-credential' ||
    top.length !== 2 ||
    top[0]!.localName !== 'credential' ||
    top[1]!.localName !== 'signatures'
  ) {
    throw new CredentialInvalid(
      'speaks-for credential: expected <signed-credential> with <credential> and <signatures>',
    );
  }
  const cred = top[0]!;
  const id = cred.getAttributeNS(XML_NS, 'id');
  if (textOf(child(cred, 'type', '<credential>'), 'type').trim() !== 'abac') {
    throw new CredentialInvalid('speaks-for credential: <type> must be abac');
  }
  const sigs = childElements(top[1]!);
  if (sigs.length !== 1)
    throw new CredentialInvalid('speaks-for credential: expected exactly one signature');
  const sig = readSignatureElement(sigs[0]!);
  if (!id || sig.referencedId !== id || doc.getElementsByTagName('*').length === 0) {
    throw new CredentialInvalid(
      "speaks-for credential: the signature does not reference the credential's xml:id",
    );
  }
  let count = 0;
  for (const el of Array.from(doc.getElementsByTagName('*')))
    if (el.getAttributeNS(XML_NS, 'id') === id) count++;
  if (count !== 1)
    throw new CredentialInvalid(`speaks-for credential: xml:id '${id}' appears more than once`);
  if (!digestMatches(sig, cred))
    throw new CredentialInvalid(
      'speaks-for credential was altered after it was signed (digest mismatch)',
    );

  const certs = sig.certificates.map((pem) => Gid.fromPem(pem));
  const user =
    certs.find((c) => !certs.some((o) => o !== c && o.x509.checkIssued(c.x509))) ?? certs[0]!;
  try {
    verifyChain(user, certs, opts.trust, opts.now, opts.cache);
  } catch (e) {
    if (e instanceof CredentialExpired) throw e;
    throw new CredentialSignerUntrusted(
      `the signer of the speaks-for credential (${user.label}) is not trusted: ${(e as Error).message}`,
    );
  }
  if (!signatureValueMatches(sig, user.publicKey)) {
    throw new CredentialInvalid(
      `the speaks-for credential's signature does not verify with ${user.label}'s key`,
    );
  }
  try {
    verifyChain(opts.tool, [], opts.trust, opts.now, opts.cache);
  } catch (e) {
    throw new CredentialSignerUntrusted(
      `the tool's certificate (${opts.tool.label}) is not trusted: ${(e as Error).message}`,
    );
  }

  const expires = parseRfc3339(
    textOf(child(cred, 'expires', '<credential>'), 'expires'),
    'expires',
  );
  if (expires.getTime() <= opts.now.getTime()) {
    throw new CredentialExpired(`the speaks-for credential expired at ${formatRfc3339(expires)}`);
  }
  const sameUser = sameUrn(opts.speakingForUrn, user.urn);
  if (!sameUser) {
    throw new CredentialMismatch(
      `geni_speaking_for is ${opts.speakingForUrn}, but the speaks-for credential was signed by ${user.urn || user.label}`,
    );
  }
  const rt0 = child(child(cred, 'abac', '<credential>'), 'rt0', '<abac>');
  const head = child(rt0, 'head', '<rt0>');
  const tails = childElements(rt0).filter((e) => e.localName === 'tail');
  if (tails.length !== 1)
    throw new CredentialInvalid('speaks-for credential: exactly one <tail> is needed');
  const keyid = (el: Element) =>
    textOf(
      child(child(el, 'ABACprincipal', `<${el.localName}>`), 'keyid', '<ABACprincipal>'),
      'keyid',
    )
      .trim()
      .toLowerCase();
  const userKey = abacKeyId(user);
  const role = textOf(child(head, 'role', '<head>'), 'role').trim();
  if (
    keyid(head) !== userKey ||
    role !== `speaks_for_${userKey}` ||
    keyid(tails[0]!) !== abacKeyId(opts.tool)
  ) {
    throw new CredentialMismatch(
      `the speaks-for credential does not say that ${opts.tool.label} speaks for ${user.urn}`,
    );
  }
  return user;
}

/** Write the ABAC `<credential>` element of a speaks-for credential (for tools and tests). */
export function writeSpeaksForElement(refid: string, user: Gid, tool: Gid, expires: Date): string {
  const u = abacKeyId(user);
  return (
    `<credential xml:id="${refid}"><type>abac</type><serial/><owner_gid/><owner_urn/><target_gid/><target_urn/><uuid/>` +
    `<expires>${formatRfc3339(expires)}</expires><abac><rt0><version>1.1</version>` +
    `<head><ABACprincipal><keyid>${u}</keyid><mnemonic>${user.urn}</mnemonic></ABACprincipal><role>speaks_for_${u}</role></head>` +
    `<tail><ABACprincipal><keyid>${abacKeyId(tool)}</keyid><mnemonic>${tool.urn}</mnemonic></ABACprincipal></tail>` +
    `</rt0></abac></credential>`
  );
}
