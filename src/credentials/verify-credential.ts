/**
 * Verify a signed SFA/GENI credential completely, or say exactly why not.
 *
 * Order matters: the document's shape is checked first, then every signature (digest over the
 * canonical credential, signature value with a key whose certificate chains to a trusted root),
 * then what the credentials say. Every field is read from the very elements whose digests were
 * checked, and read strictly (see credential.ts), so that no second reading of the bytes can
 * disagree with the one the signature check made.
 */
import type { Element } from '@xmldom/xmldom';
import {
  CredentialExpired,
  CredentialInvalid,
  CredentialSignerUntrusted,
  GeniFault,
} from '../faults.js';
import type { VerifiedCertCache, TrustStore } from './chain.js';
import { verifyChain, whyNotIssuer } from './chain.js';
import { readCredentialElement, type CredentialBody } from './credential.js';
import { Gid } from './gid.js';
import { sameKey } from './keys.js';
import { expandPrivileges, uncoveredPrivilege, type Privilege } from './privileges.js';
import {
  digestMatches,
  readSignatureElement,
  signatureValueMatches,
  type SignatureElement,
} from './signature.js';
import { formatRfc3339 } from './time.js';
import { childElements, parseXml, XML_NS } from './xml.js';
import { isAuthorityType, isHrnPrefix, sameUrn } from './xrn.js';

/** A delegation chain longer than this is refused (SFA chains are one or two deep). */
const MAX_CHAIN = 8;
/** Credentials are a few tens of KB; refuse anything absurdly larger before parsing. */
const MAX_LENGTH = 1024 * 1024;

export interface VerifyOptions {
  trust: TrustStore;
  /** The time to verify at: pass the clock in, never read it here. */
  now: Date;
  /** Remembers certificate signatures already checked (see chain.ts). */
  cache?: VerifiedCertCache;
}

/** A credential whose every signature, chain and rule has been checked. */
export interface VerifiedCredential {
  readonly xml: string;
  readonly ownerGid: Gid;
  readonly ownerUrn: string;
  readonly targetGid: Gid;
  readonly targetUrn: string;
  readonly expires: Date;
  /** Effective privileges: `*` expanded for the target's type. */
  readonly privileges: readonly Privilege[];
  /** The credential and its parents, newest first. */
  readonly chain: readonly CredentialBody[];
  /** Who signed the newest credential. */
  readonly signer: Gid;
  /**
   * The window in which every certificate involved is valid and no credential of the chain has
   * expired: outside it, the same bytes no longer verify.
   */
  readonly validFrom: Date;
  readonly validUntil: Date;
}

interface ChainLink {
  readonly refid: string;
  readonly element: Element;
  readonly body: CredentialBody;
  signature?: SignatureElement;
  signer?: Gid;
}

/**
 * Verify `xml` at `opts.now` against the trusted roots. Returns the verified credential or throws
 * a GeniFault: CredentialInvalid (20), CredentialExpired (21), CredentialSignerUntrusted (23).
 */
export function verifyCredential(xml: string, opts: VerifyOptions): VerifiedCredential {
  try {
    return verify(xml, opts);
  } catch (e) {
    if (e instanceof GeniFault) {
      // A malformed document (BadArgs from the parser) is an invalid credential to the caller.
      if (e.fault === 'BADARGS') throw new CredentialInvalid(e.message, { cause: e });
      throw e;
    }
    throw new CredentialInvalid(`credential could not be read: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/** The validity window of everything checked so far. */
interface Window {
  from: number;
  until: number;
}

function narrow(window: Window, path: readonly Gid[]): void {
  for (const g of path) {
    window.from = Math.max(window.from, g.notBefore.getTime());
    window.until = Math.min(window.until, g.notAfter.getTime());
  }
}

function verify(xml: string, opts: VerifyOptions): VerifiedCredential {
  const window: Window = { from: -Infinity, until: Infinity };
  const doc = parseXml(xml, 'credential', { maxLength: MAX_LENGTH });
  const root = doc.documentElement!;
  if (root.localName !== 'signed-credential' || root.namespaceURI) {
    throw new CredentialInvalid(`expected <signed-credential>, found <${root.tagName}>`);
  }
  const top = childElements(root);
  const credentials = top.filter((e) => e.localName === 'credential');
  const signaturesEls = top.filter((e) => e.localName === 'signatures');
  if (credentials.length !== 1) {
    throw new CredentialInvalid(
      `<signed-credential> must hold exactly one <credential>, found ${credentials.length}`,
    );
  }
  if (signaturesEls.length !== 1 || top.length !== 2) {
    throw new CredentialInvalid(
      '<signed-credential> must hold one <credential> and one <signatures>, nothing else',
    );
  }

  const ids = collectIds(root);
  const chain = readChain(credentials[0]!);
  const byId = new Map(chain.map((l) => [l.refid, l]));

  // Each credential of the chain is signed by exactly one signature; each signature signs
  // exactly one credential of the chain (no stray signatures that a reader might trust).
  for (const sigEl of childElements(signaturesEls[0]!)) {
    const sig = readSignatureElement(sigEl);
    const link = byId.get(sig.referencedId);
    if (!link || ids.get(sig.referencedId) !== link.element) {
      throw new CredentialInvalid(
        `signature ${sigId(sigEl)} references '#${sig.referencedId}', which is not a credential of the chain`,
      );
    }
    if (link.signature) {
      throw new CredentialInvalid(`credential ${link.refid} is signed more than once`);
    }
    link.signature = sig;
  }
  for (const link of chain) {
    const sig = link.signature;
    if (!sig)
      throw new CredentialInvalid(
        `credential ${link.refid} (${link.body.targetUrn}) is not signed`,
      );
    if (!digestMatches(sig, link.element)) {
      throw new CredentialInvalid(
        `credential ${link.refid} was altered after it was signed (digest mismatch)`,
      );
    }
    link.signer = signerOf(sig, link, opts, window);
    if (!signatureValueMatches(sig, link.signer.publicKey)) {
      throw new CredentialInvalid(
        `the signature on credential ${link.refid} does not verify with ${link.signer.urn}'s key`,
      );
    }
  }

  checkSemantics(chain, opts, window);

  const newest = chain[0]!;
  const body = newest.body;
  return {
    xml,
    ownerGid: body.ownerGid,
    ownerUrn: body.ownerUrn,
    targetGid: body.targetGid,
    targetUrn: body.targetUrn,
    expires: body.expires,
    privileges: expandPrivileges(body.privileges, body.targetGid.type),
    chain: chain.map((l) => l.body),
    signer: newest.signer!,
    validFrom: new Date(window.from),
    validUntil: new Date(window.until),
  };
}

/** Every xml:id in the document; a repeated one is refused (signature wrapping). */
function collectIds(root: Element): Map<string, Element> {
  const ids = new Map<string, Element>();
  const walk: Element[] = [root];
  while (walk.length > 0) {
    const el = walk.pop()!;
    const id = el.getAttributeNS(XML_NS, 'id');
    if (id) {
      if (ids.has(id)) throw new CredentialInvalid(`xml:id '${id}' appears more than once`);
      ids.set(id, el);
    }
    walk.push(...childElements(el));
  }
  return ids;
}

function readChain(first: Element): ChainLink[] {
  const chain: ChainLink[] = [];
  let el: Element | undefined = first;
  while (el) {
    if (chain.length >= MAX_CHAIN)
      throw new CredentialInvalid(`delegation chain longer than ${MAX_CHAIN}`);
    const read = readCredentialElement(el);
    chain.push({ refid: read.refid, element: el, body: read.body });
    el = read.parentElement;
  }
  return chain;
}

function sigId(el: Element): string {
  return el.getAttributeNS(XML_NS, 'id') || '(without xml:id)';
}

/**
 * The signer's certificate: the KeyInfo certificate that issued none of the others, which must
 * chain to a trusted root. KeyValue is never read: a bare key proves nothing about who signed.
 */
function signerOf(
  sig: SignatureElement,
  link: ChainLink,
  opts: VerifyOptions,
  window: Window,
): Gid {
  const certs = sig.certificates.map((pem) => Gid.fromPem(pem));
  const leaf =
    certs.find((c) => !certs.some((o) => o !== c && o.x509.checkIssued(c.x509))) ?? certs[0]!;
  try {
    narrow(window, verifyChain(leaf, certs, opts.trust, opts.now, opts.cache));
  } catch (e) {
    if (e instanceof CredentialExpired) throw e;
    throw new CredentialSignerUntrusted(
      `the signer of credential ${link.refid} (${leaf.urn || leaf.subjectCN}) is not trusted: ${(e as Error).message}`,
      { cause: e },
    );
  }
  return leaf;
}

function checkSemantics(chain: ChainLink[], opts: VerifyOptions, window: Window): void {
  for (const [i, link] of chain.entries()) {
    const b = link.body;
    window.until = Math.min(window.until, b.expires.getTime());
    if (b.expires.getTime() <= opts.now.getTime()) {
      throw new CredentialExpired(
        `credential ${link.refid} for ${b.targetUrn} expired at ${formatRfc3339(b.expires)}`,
      );
    }
    if (!sameUrn(b.ownerUrn, b.ownerGid.urn) || !sameUrn(b.targetUrn, b.targetGid.urn)) {
      throw new CredentialInvalid(
        `credential ${link.refid}: owner_urn/target_urn do not match the GIDs' URNs`,
      );
    }
    narrow(window, verifyGid(b.ownerGid, 'owner', link, opts));
    narrow(window, verifyGid(b.targetGid, 'target', link, opts));

    const parent = chain[i + 1];
    if (!parent) {
      checkRootSigner(link);
      continue;
    }
    const p = parent.body;
    if (
      !sameKey(link.signer!.publicKey, p.ownerGid.publicKey) ||
      !sameUrn(link.signer!.urn, p.ownerGid.urn)
    ) {
      throw new CredentialInvalid(
        `delegated credential ${link.refid} is not signed by ${p.ownerUrn}, the owner of its parent`,
      );
    }
    if (b.targetGid.x509.fingerprint256 !== p.targetGid.x509.fingerprint256) {
      throw new CredentialInvalid(
        `delegated credential ${link.refid} is about ${b.targetUrn}, its parent about ${p.targetUrn}`,
      );
    }
    if (b.expires.getTime() > p.expires.getTime()) {
      throw new CredentialInvalid(
        `delegated credential ${link.refid} outlives its parent (${formatRfc3339(b.expires)} > ${formatRfc3339(p.expires)})`,
      );
    }
    const type = b.targetGid.type;
    const missing = uncoveredPrivilege(
      expandPrivileges(p.privileges, type),
      expandPrivileges(b.privileges, type),
    );
    if (missing) {
      throw new CredentialInvalid(
        `delegated credential ${link.refid} grants '${missing.name}', which its parent does not allow to delegate`,
      );
    }
  }
}

function verifyGid(gid: Gid, role: string, link: ChainLink, opts: VerifyOptions): Gid[] {
  try {
    return verifyChain(gid, [], opts.trust, opts.now, opts.cache);
  } catch (e) {
    if (e instanceof CredentialExpired) throw e;
    throw new CredentialSignerUntrusted(
      `the ${role} of credential ${link.refid} (${gid.urn}) is not trusted: ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/**
 * The oldest credential of the chain must be signed by an authority over its target: the
 * target's own authority or one above it (SFA's verify_issuer), with its CA certificate.
 */
function checkRootSigner(link: ChainLink): void {
  const signer = link.signer!;
  const target = link.body.targetGid;
  const signerIsAuthority = isAuthorityType(signer.type);
  if (!signerIsAuthority || !isHrnPrefix(signer.hrn, target.hrn)) {
    throw new CredentialSignerUntrusted(
      `credential ${link.refid} for ${target.urn} is signed by ${signer.urn}, which is not an authority over it`,
    );
  }
  // An authority's name on a CA:FALSE certificate is not the authority: the registry hands such
  // GIDs out (CreateGid) on any key the caller chooses. Only the CA certificate the authority
  // issues under speaks for it, here exactly as in a certificate chain (chain.ts).
  if (!signer.mayIssue) {
    throw new CredentialSignerUntrusted(
      `credential ${link.refid} for ${target.urn} is signed with a certificate of ${signer.urn} that ${whyNotIssuer(signer)}: an authority signs credentials with its CA certificate`,
    );
  }
}
