/**
 * Certificate chains of GIDs: build the path from a GID to a configured trusted root, and check
 * it the way SFA means it.
 *
 * Besides X.509 (every signature, validity at the given time, CA bit and keyCertSign on every
 * issuer), SFA adds a namespace rule (gid.py verify_chain): an issuer must be an authority, and
 * may only certify names under its own HRN; a trusted root is trusted only for names under its
 * HRN. So a trusted `plc` root cannot vouch for `ple.inria.alice`, and neither a user
 * certificate nor an authority's CA:FALSE GID (CreateGid's) can issue anything.
 *
 * Signatures are checked with node:crypto (OpenSSL). Certificates arrive unordered (a GID's own
 * chain, a credential's KeyInfo); several may share a subject name (a root being rotated), so
 * every candidate issuer is tried before failing.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BadArgs, CredentialExpired, CredentialSignerUntrusted, GeniFault } from '../faults.js';
import { Gid } from './gid.js';
import { formatRfc3339 } from './time.js';
import { isAuthorityType, isHrnPrefix } from './xrn.js';

/** Longest path accepted, leaf and root included (SFA hierarchies are a few levels deep). */
export const MAX_PATH_LENGTH = 10;
/** Issuer candidates tried per verification: bounds the search over a hostile pool. */
const MAX_ATTEMPTS = 64;
/** Certificates a caller may offer per verification (the GID's chain plus the pool). */
const MAX_POOL = 64;

/** File names read from a trusted-roots directory. */
const ROOT_FILE = /\.(gid|pem|cert|crt)$/i;

/** The configured trust anchors: GIDs trusted as roots, each only for names under its HRN. */
export class TrustStore {
  private readonly byFingerprint = new Map<string, Gid>();
  private changes = 0;

  /** Changes every time the set of roots changes: results computed under another are stale. */
  get generation(): number {
    return this.changes;
  }

  /** Trust these GIDs; only each GID's own certificate is trusted, not the chain it carries. */
  constructor(roots: Iterable<Gid> = []) {
    for (const r of roots) this.add(r);
  }

  /**
   * Read trusted roots from PEM files and directories (every `*.gid`, `*.pem`, `*.cert`, `*.crt`
   * in them, not recursively). Each file is a GID: its first certificate is trusted, the chain
   * after it is not (trusting `ple.inria.gid` must not mean trusting `ple`).
   * Throws BadArgs naming the file that cannot be read.
   */
  static fromFiles(paths: string[]): TrustStore {
    const store = new TrustStore();
    for (const path of paths) {
      let isDir: boolean;
      try {
        isDir = statSync(path).isDirectory();
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new BadArgs(
          `trusted root '${path}': ${code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`,
        );
      }
      const files = isDir
        ? readdirSync(path)
            .filter((f) => ROOT_FILE.test(f))
            .sort()
            .map((f) => join(path, f))
        : [path];
      for (const file of files) {
        let text: string;
        try {
          text = readFileSync(file, 'utf8');
        } catch (e) {
          throw new BadArgs(`trusted root file '${file}' cannot be read: ${(e as Error).message}`);
        }
        try {
          store.add(Gid.fromPem(text));
        } catch (e) {
          throw new BadArgs(`trusted root file '${file}' is not a GID: ${(e as Error).message}`, {
            cause: e,
          });
        }
      }
    }
    return store;
  }

  /** Trust `gid`'s own certificate as a root (its chain, if any, is ignored). */
  add(gid: Gid): void {
    if (!this.byFingerprint.has(gid.fingerprint256)) {
      this.byFingerprint.set(gid.fingerprint256, gid.parent ? gid.withParent(undefined) : gid);
      this.changes++;
    }
  }

  /**
   * Trust exactly `roots` from now on (each only for its own certificate, as {@link add}), in
   * place: whoever holds this store sees the new set. The generation changes only when the set
   * of certificates does, so results cached under an unchanged set stay valid.
   * @returns whether the set changed.
   */
  replaceAll(roots: Iterable<Gid>): boolean {
    const next = new Map<string, Gid>();
    for (const r of roots) {
      if (!next.has(r.fingerprint256))
        next.set(r.fingerprint256, r.parent ? r.withParent(undefined) : r);
    }
    const same =
      next.size === this.byFingerprint.size &&
      [...next.keys()].every((fp) => this.byFingerprint.has(fp));
    if (same) return false;
    this.byFingerprint.clear();
    for (const [fp, g] of next) this.byFingerprint.set(fp, g);
    this.changes++;
    return true;
  }

  /**
   * Stop trusting `gid`'s certificate (same DER). @returns whether it was trusted.
   */
  remove(gid: Gid): boolean {
    if (!this.byFingerprint.delete(gid.fingerprint256)) return false;
    this.changes++;
    return true;
  }

  /** The trusted root certificates, in the order added. */
  get roots(): Gid[] {
    return [...this.byFingerprint.values()];
  }

  get size(): number {
    return this.byFingerprint.size;
  }

  /** True when this very certificate (same DER) is a configured root. */
  isTrusted(gid: Gid): boolean {
    return this.byFingerprint.has(gid.fingerprint256);
  }
}

/**
 * Remembers (certificate, issuer) pairs whose signature verified. A signature does not depend on
 * the time, so it is safe to remember; validity, CA and namespace checks still run every time.
 * Bounded: the oldest entries are dropped beyond `maxEntries`.
 */
export class VerifiedCertCache {
  private readonly seen = new Map<string, true>();

  constructor(readonly maxEntries = 10_000) {}

  /** True when `child`'s signature was verified with `issuer`'s key before. */
  has(child: Gid, issuer: Gid): boolean {
    return this.seen.has(pairKey(child, issuer));
  }

  /** Record that `child`'s signature verified with `issuer`'s key. */
  add(child: Gid, issuer: Gid): void {
    const key = pairKey(child, issuer);
    if (this.seen.has(key)) return;
    if (this.seen.size >= this.maxEntries) {
      const oldest = this.seen.keys().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    this.seen.set(key, true);
  }

  get size(): number {
    return this.seen.size;
  }

  clear(): void {
    this.seen.clear();
  }
}

/** SHA-256 fingerprints of both DERs: as good as the DERs themselves for identity. */
function pairKey(child: Gid, issuer: Gid): string {
  return `${child.fingerprint256}/${issuer.fingerprint256}`;
}

interface Search {
  readonly leaf: Gid;
  readonly pool: Gid[];
  readonly trust: TrustStore;
  readonly now: Date;
  readonly cache: VerifiedCertCache | undefined;
  attempts: number;
}

/** The candidate budget ran out: stop the whole search rather than try further candidates. */
class SearchExhausted extends CredentialSignerUntrusted {}

/** A failed candidate issuer, ranked: a failure past a good signature says more. */
interface Failure {
  error: GeniFault;
  signatureVerified: boolean;
}

/**
 * Verify that `leaf` chains to a root of `trust` at time `now`, and return the path from the
 * leaf to that root (the root last; just `[leaf]` when the leaf itself is a root).
 *
 * Issuers are looked for among `leaf.chain()`, the GIDs of `pool` (and their chains) and the
 * trusted roots, in any order. Checked: every signature on the path, the validity of every
 * certificate at `now`, CA:TRUE (and keyCertSign when keyUsage is present) on every issuer,
 * SFA's namespace rule (every issuer is an authority whose HRN is a prefix of its subject's),
 * and that the path ends at a configured root (the same certificate, not just the same name)
 * that is an authority over the leaf.
 *
 * @throws CredentialExpired when a certificate of the path is outside its validity period.
 * @throws CredentialSignerUntrusted for anything else: no path to a trusted root, a bad
 *   signature, an issuer that is not a CA or not an authority, a namespace violation.
 */
export function verifyChain(
  leaf: Gid,
  pool: readonly Gid[],
  trust: TrustStore,
  now: Date,
  cache?: VerifiedCertCache,
): Gid[] {
  if (!(now instanceof Date) || Number.isNaN(now.getTime()))
    throw new BadArgs('verifyChain needs a valid Date as now');
  const seen = new Map<string, Gid>();
  for (const g of [...leaf.chain().slice(1), ...pool.flatMap((p) => p.chain())]) {
    if (!seen.has(g.fingerprint256)) seen.set(g.fingerprint256, g);
  }
  // Only what the caller offers is bounded; a federation may configure many roots.
  if (seen.size > MAX_POOL) {
    throw new CredentialSignerUntrusted(
      `too many certificates (${seen.size}) offered to verify ${leaf.label}; at most ${MAX_POOL}`,
    );
  }
  for (const r of trust.roots) if (!seen.has(r.fingerprint256)) seen.set(r.fingerprint256, r);
  const search: Search = { leaf, pool: [...seen.values()], trust, now, cache, attempts: 0 };
  return extend(search, [leaf]);
}

/** Extend `path` (leaf .. current) up to a trusted root, trying every candidate issuer. */
function extend(s: Search, path: Gid[]): Gid[] {
  const cert = path[path.length - 1]!;
  checkValidity(cert, s.now);
  if (s.trust.isTrusted(cert)) {
    checkRootScope(cert, s.leaf);
    return path;
  }
  if (path.length >= MAX_PATH_LENGTH) {
    throw new CredentialSignerUntrusted(
      `the chain of ${s.leaf.label} is longer than ${MAX_PATH_LENGTH} certificates without reaching a trusted root`,
    );
  }

  const onPath = new Set(path.map((g) => g.fingerprint256));
  const candidates = s.pool.filter((c) => !onPath.has(c.fingerprint256) && issuedBy(cert, c));
  // Prefer the issuer whose key identifier the certificate names (a rotated root shares its name).
  if (cert.aki) candidates.sort((a, b) => Number(b.ski === cert.aki) - Number(a.ski === cert.aki));

  let best: Failure | undefined;
  for (const issuer of candidates) {
    if (++s.attempts > MAX_ATTEMPTS) {
      throw new SearchExhausted(
        `gave up building the chain of ${s.leaf.label} after ${MAX_ATTEMPTS} candidate issuers`,
      );
    }
    let signatureVerified = false;
    try {
      checkSignature(cert, issuer, s.cache);
      signatureVerified = true;
      checkIssuer(cert, issuer);
      return extend(s, [...path, issuer]);
    } catch (e) {
      if (!(e instanceof GeniFault) || e instanceof SearchExhausted) throw e;
      if (!best || (signatureVerified && !best.signatureVerified))
        best = { error: e, signatureVerified };
    }
  }
  // A failure past a good signature is the real story; otherwise an untrusted self-signed
  // certificate (an impostor or unconfigured root) is best called just that.
  if (best?.signatureVerified) throw best.error;
  if (cert.isSelfIssued && signatureMatches(cert, cert)) {
    throw new CredentialSignerUntrusted(
      `${cert.label} is self-signed and is not one of the ${s.trust.size} trusted roots`,
    );
  }
  if (best) throw best.error;
  // No candidate at all: OpenSSL's match also drops an issuer whose keyUsage forbids signing
  // certificates. When the named issuer is there and its signature is good, say what is wrong
  // with it rather than that it is missing.
  for (const named of s.pool) {
    if (onPath.has(named.fingerprint256) || !named.subjectDer.equals(cert.issuerDer)) continue;
    if (++s.attempts > MAX_ATTEMPTS) break;
    if (signatureMatches(cert, named)) checkIssuer(cert, named);
  }
  throw new CredentialSignerUntrusted(
    `the issuer of ${cert.label} (${cert.issuerDN}) is neither in the chain nor a trusted root`,
  );
}

/** OpenSSL's issuer match: names, key identifiers, keyCertSign when keyUsage is present. */
function issuedBy(cert: Gid, issuer: Gid): boolean {
  try {
    return cert.x509.checkIssued(issuer.x509);
  } catch {
    return false;
  }
}

function signatureMatches(cert: Gid, issuer: Gid): boolean {
  try {
    return cert.x509.verify(issuer.publicKey);
  } catch {
    return false;
  }
}

function checkSignature(cert: Gid, issuer: Gid, cache: VerifiedCertCache | undefined): void {
  if (cache?.has(cert, issuer)) return;
  if (!signatureMatches(cert, issuer)) {
    throw new CredentialSignerUntrusted(
      `the signature on ${cert.label} does not verify with the key of ${issuer.label}`,
    );
  }
  cache?.add(cert, issuer);
}

/**
 * An issuer must be a CA (CA:TRUE and, when keyUsage is present, keyCertSign) and an SFA
 * authority over the name it certifies. The namespace rule alone is not enough: CreateGid hands
 * out GIDs for an authority's own name on a key of the caller's choice, and only their CA:FALSE
 * keeps them from issuing GIDs for every name under it.
 */
function checkIssuer(cert: Gid, issuer: Gid): void {
  if (!issuer.mayIssue) {
    throw new CredentialSignerUntrusted(
      `${issuer.label} ${whyNotIssuer(issuer)} and cannot issue ${cert.label}`,
    );
  }
  if (!isAuthorityType(issuer.type)) {
    throw new CredentialSignerUntrusted(
      `${issuer.label} is ${issuer.type ? `of type ${issuer.type}` : 'not an SFA GID (no URN)'}, not an authority, and cannot issue ${cert.label}`,
    );
  }
  if (!cert.hrn) {
    throw new CredentialSignerUntrusted(`${cert.label} has no SFA URN in its subjectAltName`);
  }
  if (!isHrnPrefix(issuer.hrn, cert.hrn)) {
    throw new CredentialSignerUntrusted(
      `namespace violation: ${issuer.urn} may only certify names under ${issuer.hrn}, not ${cert.urn}`,
    );
  }
}

/**
 * Why `gid` may not sign certificates (see {@link Gid.mayIssue}), for messages: its keyUsage
 * (which OpenSSL, and so node's `isCA`, also counts) or its basicConstraints.
 */
export function whyNotIssuer(gid: Gid): string {
  return gid.keyUsage !== undefined && !gid.keyUsage.includes('keyCertSign')
    ? 'may not sign certificates (its keyUsage lacks keyCertSign)'
    : 'is not a CA (basicConstraints CA:FALSE)';
}

/** A trusted root is trusted only as an authority, and only for names under its own HRN. */
function checkRootScope(root: Gid, leaf: Gid): void {
  if (!isAuthorityType(root.type)) {
    throw new CredentialSignerUntrusted(
      `trusted root ${root.label} is ${root.type ? `of type ${root.type}` : 'not an SFA GID (no URN)'}, not an authority`,
    );
  }
  if (!leaf.hrn || !isHrnPrefix(root.hrn, leaf.hrn)) {
    throw new CredentialSignerUntrusted(
      `trusted root ${root.urn} is trusted only for names under ${root.hrn}, not for ${leaf.urn || leaf.label}`,
    );
  }
}

function checkValidity(cert: Gid, now: Date): void {
  if (now.getTime() < cert.notBefore.getTime()) {
    throw new CredentialExpired(
      `certificate ${cert.label} is not valid before ${formatRfc3339(cert.notBefore)}`,
    );
  }
  if (now.getTime() > cert.notAfter.getTime()) {
    throw new CredentialExpired(
      `certificate ${cert.label} expired at ${formatRfc3339(cert.notAfter)}`,
    );
  }
}
