/**
 * GIDs: the X.509 certificates that name an SFA principal (authority, user, slice, node).
 *
 * A GID names its subject by a URN in subjectAltName (`URI:urn:publicid:IDN+...`) next to a
 * `URI:urn:uuid:...`, and, for users, an `email:`. SFA writes a GID file as the leaf followed by
 * its issuer chain; {@link Gid.fromPem} keeps that chain as `parent` links.
 *
 * Reading uses node:crypto's X509Certificate; node-forge's ASN.1 layer is used only for what
 * node does not expose (raw names, key identifiers, the validity dates exactly) and to build
 * the certificates we issue, which node:crypto then signs.
 */
import {
  createHash,
  randomBytes,
  randomUUID,
  sign as cryptoSign,
  X509Certificate,
  type KeyObject,
} from 'node:crypto';
import forge from 'node-forge';
import { BadArgs } from '../faults.js';
import { loadPrivateKey, publicKeyOf, sameKey, spkiDer, type KeyLike } from './keys.js';
import { isAuthorityType, Xrn } from './xrn.js';

const asn1 = forge.asn1;
type Asn1 = forge.asn1.Asn1;

/** More certificates than this in one GID text is not a GID (SFA chains are a few deep). */
const MAX_CERTS_PER_TEXT = 16;
/** How many parsed GID texts to keep (oldest dropped first). */
const PARSED_GID_CACHE_SIZE = 4096;
const parsedGids = new Map<string, Gid>();

/** SFA's default GID lifetime (gid.py: lifeDays=1825). */
export const DEFAULT_LIFETIME_DAYS = 1825;

const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  sha256WithRSAEncryption: '1.2.840.113549.1.1.11',
} as const;

/** The parts of a certificate that node:crypto does not give us, read from its DER. */
interface DerFields {
  subjectDer: Buffer;
  issuerDer: Buffer;
  notBefore: Date;
  notAfter: Date;
  ski: string | undefined;
  aki: string | undefined;
  keyUsage: readonly KeyUsage[] | undefined;
}

/** The keyUsage bits (RFC 5280 4.2.1.3), in bit order. */
const KEY_USAGE_BITS = [
  'digitalSignature',
  'nonRepudiation',
  'keyEncipherment',
  'dataEncipherment',
  'keyAgreement',
  'keyCertSign',
  'cRLSign',
  'encipherOnly',
  'decipherOnly',
] as const;
export type KeyUsage = (typeof KEY_USAGE_BITS)[number];

/** An SFA GID: one certificate and, when the text carried it, its issuer chain. */
export class Gid {
  /** The certificate, parsed by node:crypto. */
  readonly x509: X509Certificate;
  /** The next certificate of the GID text: normally this one's issuer (not verified here). */
  readonly parent: Gid | undefined;
  /** `urn:publicid:IDN+...` from subjectAltName, or '' when the certificate has none. */
  readonly urn: string;
  /** The HRN and type derived from the URN ('' when there is no URN). */
  readonly hrn: string;
  readonly type: string;
  /** From `URI:urn:uuid:...` in subjectAltName, lowercase. */
  readonly uuid: string | undefined;
  /** From `email:` in subjectAltName. */
  readonly email: string | undefined;
  readonly subjectCN: string;
  /** The subject and issuer names as text, e.g. `CN=ple.inria` (for messages, not comparison). */
  readonly subjectDN: string;
  readonly issuerDN: string;
  /** DER of the subject and issuer Names: what issuers are matched by. */
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  /** Serial number, lowercase hex. */
  readonly serial: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * Usable as a CA, as OpenSSL judges it (X509_check_ca): basicConstraints CA:TRUE and, when
   * keyUsage is present, keyCertSign.
   */
  readonly isCA: boolean;
  /** subjectKeyIdentifier and authorityKeyIdentifier keyIdentifier, lowercase hex, if present. */
  readonly ski: string | undefined;
  readonly aki: string | undefined;
  /** The keyUsage bits that are set; undefined when the certificate has no keyUsage extension. */
  readonly keyUsage: readonly KeyUsage[] | undefined;

  private constructor(x509: X509Certificate, parent: Gid | undefined) {
    this.x509 = x509;
    this.parent = parent;
    const der = readDerFields(x509);
    this.subjectDer = der.subjectDer;
    this.issuerDer = der.issuerDer;
    this.notBefore = der.notBefore;
    this.notAfter = der.notAfter;
    this.ski = der.ski;
    this.aki = der.aki;
    this.keyUsage = der.keyUsage;
    this.subjectDN = dnText(x509.subject);
    this.issuerDN = dnText(x509.issuer);
    this.subjectCN = dnAttribute(x509.subject, 'CN') ?? '';
    this.serial = x509.serialNumber.toLowerCase();
    this.isCA = x509.ca;

    const names = parseAltNames(x509.subjectAltName ?? '');
    const urns = unique(
      names
        .filter((n) => n.kind === 'URI' && /^urn:publicid:idn\+/i.test(n.value))
        .map((n) => n.value),
    );
    if (urns.length > 1) {
      throw new BadArgs(
        `certificate CN=${this.subjectCN} names ${urns.length} different URNs (${urns.join(', ')})`,
      );
    }
    this.urn = urns[0] ?? '';
    if (this.urn) {
      let xrn: Xrn;
      try {
        xrn = Xrn.fromUrn(this.urn);
      } catch (e) {
        throw new BadArgs(
          `certificate CN=${this.subjectCN} has a malformed URN ${this.urn}: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
      this.hrn = xrn.hrn;
      this.type = xrn.type;
    } else {
      this.hrn = '';
      this.type = '';
    }
    const uuid = names.find((n) => n.kind === 'URI' && /^urn:uuid:/i.test(n.value));
    this.uuid = uuid ? uuid.value.slice('urn:uuid:'.length).toLowerCase() : undefined;
    this.email = names.find((n) => n.kind === 'email')?.value;
  }

  /**
   * Parse GID text: one or more PEM certificates, the leaf first, then its issuers. Text between
   * the PEM blocks is ignored. Throws BadArgs when no certificate can be read.
   */
  static fromPem(text: string | Buffer): Gid {
    const s = Buffer.isBuffer(text) ? text.toString('utf8') : text;
    // The same GID texts arrive again and again (in every credential a user presents); a Gid is
    // immutable, so the parse is shared. Trust is never cached here: chains are checked per use.
    const known = parsedGids.get(s);
    if (known) return known;
    const gid = Gid.parsePem(s);
    if (parsedGids.size >= PARSED_GID_CACHE_SIZE) {
      parsedGids.delete(parsedGids.keys().next().value!);
    }
    parsedGids.set(s, gid);
    return gid;
  }

  private static parsePem(s: string): Gid {
    const blocks = [
      ...s.matchAll(/-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/g),
    ];
    if (blocks.length === 0) {
      throw new BadArgs(
        s.includes('-----BEGIN CERTIFICATE-----')
          ? 'unterminated PEM certificate (no -----END CERTIFICATE-----)'
          : 'no PEM certificate found (expected -----BEGIN CERTIFICATE-----)',
      );
    }
    if (blocks.length > MAX_CERTS_PER_TEXT) {
      throw new BadArgs(
        `a GID holds at most ${MAX_CERTS_PER_TEXT} certificates, this text has ${blocks.length}`,
      );
    }
    const certs = blocks.map((m, i) => {
      const body = m[1]!.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
        throw new BadArgs(`PEM certificate ${i + 1} of ${blocks.length} is not valid base64`);
      }
      try {
        return new X509Certificate(Buffer.from(body, 'base64'));
      } catch (e) {
        throw new BadArgs(
          `PEM certificate ${i + 1} of ${blocks.length} is not an X.509 certificate: ${(e as Error).message}`,
          {
            cause: e,
          },
        );
      }
    });
    return Gid.fromCertificates(certs);
  }

  /** A GID from DER certificates, leaf first. */
  static fromDer(...ders: Buffer[]): Gid {
    if (ders.length === 0) throw new BadArgs('no certificate given');
    return Gid.fromCertificates(
      ders.map((d, i) => {
        try {
          return new X509Certificate(d);
        } catch (e) {
          throw new BadArgs(`certificate ${i + 1} is not DER X.509: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }),
    );
  }

  private static fromCertificates(certs: X509Certificate[]): Gid {
    let parent: Gid | undefined;
    for (let i = certs.length - 1; i >= 0; i--) parent = new Gid(certs[i]!, parent);
    return parent!;
  }

  /** This certificate with `parent` as its chain (this one's own chain is dropped). */
  withParent(parent: Gid | undefined): Gid {
    return new Gid(this.x509, parent);
  }

  private cachedPublicKey: KeyObject | undefined;

  /** The subject's public key. */
  get publicKey(): KeyObject {
    // node builds a new KeyObject on every access of x509.publicKey; build it once.
    this.cachedPublicKey ??= this.x509.publicKey;
    return this.cachedPublicKey;
  }

  /** DER of this certificate alone. */
  get der(): Buffer {
    return this.x509.raw;
  }

  /** PEM of this certificate alone. */
  get certPem(): string {
    return this.x509.toString();
  }

  /** PEM of the whole GID: this certificate followed by its chain, as SFA writes GID files. */
  get pem(): string {
    return this.chain()
      .map((g) => g.certPem)
      .join('');
  }

  /** SHA-256 of the DER, as node prints it (`AB:CD:...`). */
  get fingerprint256(): string {
    return this.x509.fingerprint256;
  }

  /**
   * May this certificate sign certificates (and, for an authority, credentials)? CA:TRUE and,
   * when keyUsage is present, keyCertSign. The Python SFA writes no keyUsage at all, so its
   * absence does not forbid it (RFC 5280: no keyUsage means no restriction). Checked here from
   * our own reading of keyUsage too, so as not to depend on how node reports `isCA`.
   */
  get mayIssue(): boolean {
    return this.isCA && (this.keyUsage === undefined || this.keyUsage.includes('keyCertSign'));
  }

  /** True when subject and issuer names are the same (a root, or a cross-signed copy of one). */
  get isSelfIssued(): boolean {
    return this.subjectDer.equals(this.issuerDer);
  }

  /** This GID and its parents, leaf first. */
  chain(): Gid[] {
    const out: Gid[] = [this];
    for (let g = this.parent; g; g = g.parent) out.push(g);
    return out;
  }

  /** A short name for messages: the URN, or the subject when there is none. */
  get label(): string {
    return this.urn || this.subjectDN || `serial ${this.serial}`;
  }

  toString(): string {
    return `Gid(${this.label})`;
  }
}

export interface IssueGidOptions {
  /** The subject's URN; or give `hrn` and `type`. */
  urn?: string;
  hrn?: string;
  type?: string;
  /** The subject's public key (a private key works too: its public half is used). */
  subjectPublicKey: KeyLike;
  /** The issuer's private key; omitted for a self-signed GID whose `subjectPublicKey` is private. */
  issuerKey?: KeyLike;
  /** The issuing authority's GID; omitted for a self-signed root. */
  issuerGid?: Gid;
  /** `urn:uuid:` value; a random v4 UUID when omitted. */
  uuid?: string;
  email?: string;
  /** Start of validity: callers pass their clock (no wall clock read here). */
  notBefore: Date;
  /** Validity in days from notBefore (SFA default 1825, five years). */
  lifetimeDays?: number;
  /** CA:TRUE; defaults to true exactly for authority types. */
  isCA?: boolean;
  /** Append the issuer's chain to the result's PEM (default true, as SFA GID files). */
  includeChain?: boolean;
}

/**
 * Issue a GID: X.509 v3, SHA-256 with RSA, subject `CN=<hrn>`, issuer name copied byte for byte
 * from the issuer's subject, subjectAltName with the URN, a UUID and an optional e-mail,
 * basicConstraints (critical; CA:TRUE for authorities, with keyUsage keyCertSign, cRLSign and
 * digitalSignature), subject and authority key identifiers, and a random 16-byte serial.
 *
 * This does not judge whether the issuer may certify the name: verifyChain (chain.ts) does.
 * Throws BadArgs for bad options, or when `issuerKey` does not belong to `issuerGid`.
 */
export function issueGid(opts: IssueGidOptions): Gid {
  const xrn = subjectXrn(opts);
  const subjectKey = publicKeyOf(opts.subjectPublicKey);
  if (subjectKey.asymmetricKeyType !== 'rsa') {
    throw new BadArgs(
      `SFA identities need an RSA key; the subject key of ${xrn.urn} is ${subjectKey.asymmetricKeyType}`,
    );
  }
  const issuerKey = resolveIssuerKey(opts, xrn.urn, subjectKey);
  const notBefore = checkDate(opts.notBefore);
  const days = opts.lifetimeDays ?? DEFAULT_LIFETIME_DAYS;
  if (!Number.isFinite(days) || days <= 0)
    throw new BadArgs(`lifetimeDays must be a positive number, not ${days}`);
  const notAfter = new Date(notBefore.getTime() + Math.round(days * 86_400_000));
  const uuid = opts.uuid ?? randomUUID();
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(uuid)) {
    throw new BadArgs(`uuid '${uuid}' is not a UUID`);
  }
  if (
    opts.email !== undefined &&
    !/^[\x21-\x3f\x41-\x7e]+@[\x21-\x3f\x41-\x7e]+$/.test(opts.email)
  ) {
    throw new BadArgs(`email '${opts.email}' is not an ASCII e-mail address`);
  }
  const isCA = opts.isCA ?? isAuthorityType(xrn.type);

  const subjectName = commonNameDer(xrn.hrn);
  const subjectSpki = spkiDer(subjectKey);
  const ski = keyIdentifier(subjectSpki);
  const issuerName = opts.issuerGid ? opts.issuerGid.subjectDer : subjectName;
  // AKI must equal the issuer's SKI; SFA-made issuers have none, so use the RFC 5280 key id
  // of the issuer's key, which is what an SKI for that key would have been.
  const aki = opts.issuerGid
    ? (opts.issuerGid.ski ?? keyIdentifier(spkiDer(opts.issuerGid.publicKey)))
    : ski;

  const extensions: Asn1[] = [extension(OID.basicConstraints, true, basicConstraints(isCA))];
  // digitalSignature (bit 0), keyCertSign (5), cRLSign (6): 0x86, one unused bit.
  if (isCA)
    extensions.push(
      extension(OID.keyUsage, true, asn1.create(U, asn1.Type.BITSTRING, false, '\x01\x86')),
    );
  // GeneralName [6] uniformResourceIdentifier and [1] rfc822Name, both IA5 (ASCII).
  const altNames = [
    ctx(6, ascii(xrn.urn, 'URN')),
    ctx(6, Buffer.from(`urn:uuid:${uuid.toLowerCase()}`)),
  ];
  if (opts.email !== undefined) altNames.push(ctx(1, Buffer.from(opts.email)));
  extensions.push(extension(OID.subjectAltName, false, seq(altNames)));
  extensions.push(extension(OID.subjectKeyIdentifier, false, octets(ski)));
  extensions.push(
    extension(OID.authorityKeyIdentifier, false, seq([ctx(0, Buffer.from(aki, 'hex'))])),
  );

  const signatureAlgorithm = seq([
    oid(OID.sha256WithRSAEncryption),
    asn1.create(U, asn1.Type.NULL, false, ''),
  ]);
  const tbs = seq([
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, [integer(Buffer.from([2]))]),
    integer(randomSerial()),
    signatureAlgorithm,
    fromDer(issuerName),
    seq([time(notBefore), time(notAfter)]),
    fromDer(subjectName),
    fromDer(subjectSpki),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 3, true, [seq(extensions)]),
  ]);
  const tbsDer = toDer(tbs);
  const signature = cryptoSign('sha256', tbsDer, issuerKey);
  const certDer = toDer(
    seq([
      fromDer(tbsDer),
      signatureAlgorithm,
      asn1.create(U, asn1.Type.BITSTRING, false, bin(Buffer.concat([Buffer.from([0]), signature]))),
    ]),
  );
  const includeChain = opts.includeChain ?? true;
  return Gid.fromDer(certDer).withParent(includeChain ? opts.issuerGid : undefined);
}

/** RFC 5280 method 1 key identifier: SHA-1 of the subjectPublicKey bits, lowercase hex. */
export function keyIdentifier(spki: Buffer): string {
  const node = fromDer(spki);
  const bits = children(node)[1];
  if (!bits || bits.type !== asn1.Type.BITSTRING || typeof bits.value !== 'string') {
    throw new BadArgs('not a SubjectPublicKeyInfo');
  }
  // Skip the unused-bits byte: the hash covers the key bits only.
  return createHash('sha1').update(Buffer.from(bits.value, 'binary').subarray(1)).digest('hex');
}

function subjectXrn(opts: IssueGidOptions): Xrn {
  try {
    if (opts.urn !== undefined) {
      if (opts.hrn !== undefined || opts.type !== undefined)
        throw new BadArgs('give either urn, or hrn and type, not both');
      return Xrn.fromUrn(opts.urn);
    }
    if (opts.hrn === undefined || opts.type === undefined)
      throw new BadArgs('give the subject as urn, or as hrn and type');
    return Xrn.fromHrn(opts.hrn, opts.type);
  } catch (e) {
    if (e instanceof BadArgs) throw e;
    throw new BadArgs(`bad subject name: ${(e as Error).message}`, { cause: e });
  }
}

function resolveIssuerKey(opts: IssueGidOptions, urn: string, subjectKey: KeyObject): KeyObject {
  if (opts.issuerGid) {
    if (opts.issuerKey === undefined)
      throw new BadArgs(
        `issuing ${urn} under ${opts.issuerGid.label} needs that issuer's private key`,
      );
    const key = loadPrivateKey(opts.issuerKey);
    if (!sameKey(key, opts.issuerGid.publicKey)) {
      throw new BadArgs(
        `the issuer key does not belong to ${opts.issuerGid.label}: its public key differs from the GID's`,
      );
    }
    return key;
  }
  // Self-signed: the signing key must be the subject's own, or the certificate cannot verify.
  const own = opts.issuerKey ?? opts.subjectPublicKey;
  if (typeof own !== 'string' && own.type !== 'private') {
    throw new BadArgs(`a self-signed GID for ${urn} needs the subject's private key as issuerKey`);
  }
  if (typeof own === 'string' && !/PRIVATE KEY-----/.test(own)) {
    throw new BadArgs(`a self-signed GID for ${urn} needs the subject's private key as issuerKey`);
  }
  const key = loadPrivateKey(own);
  if (!sameKey(key, subjectKey)) {
    throw new BadArgs(
      `self-signed GID for ${urn}: issuerKey is not the subject's key (give issuerGid to issue under another authority)`,
    );
  }
  return key;
}

function checkDate(d: Date): Date {
  if (!(d instanceof Date) || Number.isNaN(d.getTime()))
    throw new BadArgs('notBefore must be a valid Date');
  // Certificates carry whole seconds; drop the milliseconds so that notBefore reads back equal.
  return new Date(Math.floor(d.getTime() / 1000) * 1000);
}

/** 16 random bytes, positive and minimally encoded: top bit clear, next bit set. */
function randomSerial(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b;
}

// --- ASN.1 building and reading (node-forge asn1) ------------------------------------------

const U = asn1.Class.UNIVERSAL;

function bin(b: Buffer): string {
  return b.toString('binary');
}
function seq(items: Asn1[]): Asn1 {
  return asn1.create(U, asn1.Type.SEQUENCE, true, items);
}
function oid(id: string): Asn1 {
  return asn1.create(U, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
}
function integer(b: Buffer): Asn1 {
  return asn1.create(U, asn1.Type.INTEGER, false, bin(b));
}
function octets(hex: string): Asn1 {
  return asn1.create(U, asn1.Type.OCTETSTRING, false, bin(Buffer.from(hex, 'hex')));
}
/** A primitive context-specific [n] IMPLICIT value (GeneralName URI/email, AKI keyIdentifier). */
function ctx(n: number, value: Buffer): Asn1 {
  return asn1.create(asn1.Class.CONTEXT_SPECIFIC, n, false, bin(value));
}
function ascii(s: string, what: string): Buffer {
  if (!/^[\x20-\x7e]*$/.test(s))
    throw new BadArgs(`${what} '${s}' is not ASCII, which subjectAltName requires`);
  return Buffer.from(s, 'latin1');
}
function time(d: Date): Asn1 {
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  const y = d.getUTCFullYear();
  return y >= 1950 && y < 2050
    ? asn1.create(U, asn1.Type.UTCTIME, false, asn1.dateToUtcTime(d))
    : asn1.create(U, asn1.Type.GENERALIZEDTIME, false, asn1.dateToGeneralizedTime(d));
}
function basicConstraints(isCA: boolean): Asn1 {
  // DER omits the default cA FALSE: an empty SEQUENCE reads as CA:FALSE.
  return seq(isCA ? [asn1.create(U, asn1.Type.BOOLEAN, false, '\xff')] : []);
}
function extension(id: string, critical: boolean, value: Asn1): Asn1 {
  const parts = [oid(id)];
  if (critical) parts.push(asn1.create(U, asn1.Type.BOOLEAN, false, '\xff'));
  parts.push(asn1.create(U, asn1.Type.OCTETSTRING, false, bin(toDer(value))));
  return seq(parts);
}
/** `CN=<hrn>` as a UTF8String, as the Python SFA writes it. */
function commonNameDer(cn: string): Buffer {
  const atv = seq([
    oid(OID.commonName),
    asn1.create(U, asn1.Type.UTF8, false, forge.util.encodeUtf8(cn)),
  ]);
  return toDer(seq([asn1.create(U, asn1.Type.SET, true, [atv])]));
}

function fromDer(der: Buffer): Asn1 {
  // Bit strings stay opaque so that re-encoding gives back the very same bytes.
  const parse = asn1.fromDer as unknown as (
    bytes: string,
    options: { strict: boolean; parseAllBytes: boolean; decodeBitStrings: boolean },
  ) => Asn1;
  return parse(bin(der), { strict: true, parseAllBytes: true, decodeBitStrings: false });
}
function toDer(node: Asn1): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}
function children(node: Asn1): Asn1[] {
  return Array.isArray(node.value) ? node.value : [];
}

function readDerFields(x509: X509Certificate): DerFields {
  let cert: Asn1;
  try {
    cert = fromDer(x509.raw);
  } catch (e) {
    throw new BadArgs(
      `certificate ${dnText(x509.subject)} is not strict DER: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const tbs = children(cert)[0];
  const t = tbs ? children(tbs) : [];
  const hasVersion = t[0]?.tagClass === asn1.Class.CONTEXT_SPECIFIC && t[0].type === 0;
  const at = hasVersion ? 1 : 0;
  const issuer = t[at + 2];
  const validity = t[at + 3];
  const subject = t[at + 4];
  const [nb, na] = validity ? children(validity) : [];
  if (!issuer || !subject || !nb || !na)
    throw new BadArgs(`certificate ${dnText(x509.subject)} is not a well-formed X.509 certificate`);
  let ski: string | undefined;
  let aki: string | undefined;
  let keyUsage: KeyUsage[] | undefined;
  const extWrapper = t.find((n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 3);
  const exts = extWrapper ? children(children(extWrapper)[0] ?? extWrapper) : [];
  for (const ext of exts) {
    const parts = children(ext);
    const id = parts[0] && typeof parts[0].value === 'string' ? asn1.derToOid(parts[0].value) : '';
    const value = parts[parts.length - 1];
    if (!value || typeof value.value !== 'string') continue;
    if (id === OID.subjectKeyIdentifier) {
      const inner = fromDer(Buffer.from(value.value, 'binary'));
      if (typeof inner.value === 'string') ski = Buffer.from(inner.value, 'binary').toString('hex');
    } else if (id === OID.authorityKeyIdentifier) {
      const keyId = children(fromDer(Buffer.from(value.value, 'binary'))).find(
        (n) => n.tagClass === asn1.Class.CONTEXT_SPECIFIC && n.type === 0,
      );
      if (keyId && typeof keyId.value === 'string')
        aki = Buffer.from(keyId.value, 'binary').toString('hex');
    } else if (id === OID.keyUsage) {
      // A repeated keyUsage (invalid DER certificate) only ever narrows what the key may do.
      const bits = readKeyUsage(Buffer.from(value.value, 'binary'));
      keyUsage = keyUsage ? keyUsage.filter((u) => bits.includes(u)) : bits;
    }
  }
  return {
    subjectDer: toDer(subject),
    issuerDer: toDer(issuer),
    notBefore: readTime(nb),
    notAfter: readTime(na),
    ski,
    aki,
    keyUsage,
  };
}

/**
 * The set bits of a keyUsage BIT STRING (its DER: unused-bits count, then the bits, MSB first).
 * An unreadable one reads as no usage at all: it then restricts the key to nothing (fail closed)
 * instead of making the whole certificate unreadable.
 */
function readKeyUsage(der: Buffer): KeyUsage[] {
  let bits: Asn1;
  try {
    bits = fromDer(der);
  } catch {
    return [];
  }
  if (bits.type !== asn1.Type.BITSTRING || typeof bits.value !== 'string') return [];
  const bytes = Buffer.from(bits.value, 'binary').subarray(1);
  return KEY_USAGE_BITS.filter((_, i) => ((bytes[i >> 3] ?? 0) & (0x80 >> (i & 7))) !== 0);
}

function readTime(node: Asn1): Date {
  const v = typeof node.value === 'string' ? node.value : '';
  const d = node.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(v) : asn1.generalizedTimeToDate(v);
  if (Number.isNaN(d.getTime())) throw new BadArgs(`unreadable certificate validity time '${v}'`);
  return d;
}

// --- node:crypto's text forms ----------------------------------------------------------------

/** One `kind:value` entry of node's subjectAltName text; values with `,` or `"` come JSON-quoted. */
interface AltName {
  kind: string;
  value: string;
}

function parseAltNames(text: string): AltName[] {
  const out: AltName[] = [];
  let i = 0;
  while (i < text.length) {
    const colon = text.indexOf(':', i);
    if (colon < 0) break;
    const kind = text.slice(i, colon);
    let j = colon + 1;
    let value: string;
    if (text[j] === '"') {
      let k = j + 1;
      while (k < text.length && text[k] !== '"') k += text[k] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(j, k + 1)) as string;
      j = k + 1;
    } else {
      const comma = text.indexOf(', ', j);
      const end = comma < 0 ? text.length : comma;
      value = text.slice(j, end);
      j = end;
    }
    out.push({ kind, value });
    i = text.startsWith(', ', j) ? j + 2 : text.length;
  }
  return out;
}

/** `key=value` lines of node's subject/issuer text; quoted values are JSON strings. */
function dnEntries(text: string): Array<[string, string]> {
  return text
    .split('\n')
    .filter((l) => l.includes('='))
    .map((l) => {
      const eq = l.indexOf('=');
      const raw = l.slice(eq + 1);
      let value = raw;
      if (raw.startsWith('"')) {
        try {
          value = JSON.parse(raw) as string;
        } catch {
          value = raw;
        }
      }
      return [l.slice(0, eq), value];
    });
}

function dnAttribute(text: string, key: string): string | undefined {
  return dnEntries(text).find(([k]) => k === key)?.[1];
}

function dnText(text: string | undefined): string {
  return dnEntries(text ?? '')
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
}

function unique(xs: string[]): string[] {
  return [...new Set(xs)];
}
