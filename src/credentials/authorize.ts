/**
 * The one place where a call's credentials are checked: verified in full, owned by the TLS
 * caller, and granting the operation. Registry, aggregate and slice manager all use it.
 */
import type { KeyObject } from 'node:crypto';
import { BadArgs, CredentialMismatch, Forbidden, GeniFault } from '../faults.js';
import { quote } from '../text.js';
import { CALL_LIMITS } from '../limits.js';
import { sameKey } from './keys.js';
import { canPerform } from './privileges.js';
import type { CredentialVerifier } from './verifier.js';
import type { VerifiedCredential } from './verify-credential.js';
import { sameUrn } from './xrn.js';

/** The credential types this implementation reads (others in a list are skipped, not fatal). */
const SFA_TYPES = new Set(['geni_sfa']);

/**
 * The credentials of a call as the clients send them: a bare string, a list of strings, or a
 * list of `{geni_type, geni_version, geni_value}` structs (AM API v3). Structs of other types
 * (ABAC speaks-for credentials, say) are left out here. Throws BadArgs on any other shape.
 */
export function credentialStrings(value: unknown, what = 'credentials'): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length > CALL_LIMITS.credentials) {
    throw new BadArgs(
      `${what} holds ${list.length} credentials; one call may carry at most ${CALL_LIMITS.credentials}: send only the ones this call needs`,
    );
  }
  const out: string[] = [];
  list.forEach((item: unknown, i) => {
    const where = Array.isArray(value) ? `${what}[${i}]` : what;
    if (typeof item === 'string') {
      if (item.trim() !== '' && !/<type>\s*abac\s*<\/type>/.test(item)) out.push(item);
      return;
    }
    const s = isStruct(item) ? item : undefined;
    if (!s || typeof s['geni_type'] !== 'string' || typeof s['geni_value'] !== 'string') {
      throw new BadArgs(
        `${where} must be a credential string or a {geni_type, geni_version, geni_value} struct, not ${quote(item)}`,
      );
    }
    if (SFA_TYPES.has(s['geni_type'].toLowerCase())) out.push(s['geni_value']);
  });
  return out;
}

function isStruct(v: unknown): v is Record<string, unknown> {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    !(v instanceof Uint8Array)
  );
}

/**
 * The ABAC credentials of a call (speaks-for): `{geni_type: 'geni_abac', geni_value}` structs,
 * and bare strings whose credential type is `abac`.
 */
export function abacCredentialStrings(value: unknown): string[] {
  const list = Array.isArray(value) ? value : [value];
  const out: string[] = [];
  for (const item of list) {
    if (typeof item === 'string' && /<type>\s*abac\s*<\/type>/.test(item)) out.push(item);
    else if (isStruct(item)) {
      const s = item;
      if (
        typeof s['geni_type'] === 'string' &&
        s['geni_type'].toLowerCase() === 'geni_abac' &&
        typeof s['geni_value'] === 'string'
      ) {
        out.push(s['geni_value']);
      }
    }
  }
  return out;
}

export interface AuthorizeOptions {
  credentials: readonly string[];
  /** The SFA operation the call performs (`resolve`, `register`, `createsliver`, …). */
  operation: string;
  /** The TLS caller's public key; undefined when the client presented no certificate. */
  peerKey: KeyObject | undefined;
  /** The caller's URN when its certificate carries one: the credential owner must have it. */
  peerUrn?: string;
  now: Date;
  verifier: CredentialVerifier;
  /** Further check on a credential that passed the others (e.g. the target must be the slice). */
  accept?: (cred: VerifiedCredential) => void;
}

/**
 * Return the first credential that verifies, belongs to the TLS caller and allows the operation.
 * When none does, throw the fault that says the most: a credential of someone else →
 * CREDENTIAL_MISMATCH; one that does not grant the operation → FORBIDDEN; otherwise the
 * verification fault itself (CREDENTIAL_INVALID, _EXPIRED, _SIGNER_UNTRUSTED).
 */
export function authorize(opts: AuthorizeOptions): VerifiedCredential {
  if (!opts.peerKey) {
    throw new CredentialMismatch(
      'no client certificate: connect with the certificate (GID) of the credential owner',
    );
  }
  if (opts.credentials.length === 0) {
    throw new BadArgs(`no credential given: '${opts.operation}' needs a geni_sfa credential`);
  }
  const faults: GeniFault[] = [];
  for (const xml of opts.credentials) {
    try {
      const cred = opts.verifier.verify(xml, opts.now);
      if (!sameKey(cred.ownerGid.publicKey, opts.peerKey)) {
        throw new CredentialMismatch(
          `the credential belongs to ${cred.ownerUrn}, but the caller's certificate holds another key`,
        );
      }
      if (opts.peerUrn && !sameUrn(opts.peerUrn, cred.ownerUrn)) {
        throw new CredentialMismatch(
          `the credential belongs to ${cred.ownerUrn}, but the caller is ${opts.peerUrn}`,
        );
      }
      // Is it a credential for the object acted on at all? Then: does it allow the operation?
      opts.accept?.(cred);
      if (!canPerform(cred.privileges, opts.operation)) {
        throw new Forbidden(
          `the credential for ${cred.targetUrn} grants [${cred.privileges.map((p) => p.name).join(', ')}], which does not allow '${opts.operation}'`,
        );
      }
      return cred;
    } catch (e) {
      if (!(e instanceof GeniFault)) throw e;
      faults.push(e);
    }
  }
  const rank = (f: GeniFault) =>
    f.fault === 'FORBIDDEN' ? 0 : f.fault === 'CREDENTIAL_MISMATCH' ? 1 : 2;
  faults.sort((a, b) => rank(a) - rank(b));
  throw faults[0]!;
}
