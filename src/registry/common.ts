/**
 * Helpers the registry operations share: reading names, finding records, the target rule,
 * issuing GIDs and credentials signed by the right authority.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { BadArgs, Forbidden, SearchFailed } from '../faults.js';
import { CALL_LIMITS } from '../limits.js';
import { GID_LIFETIME_DAYS } from '../authority/keystore.js';
import type { Gid } from '../credentials/gid.js';
import { issueGid } from '../credentials/gid.js';
import { authorize, credentialStrings } from '../credentials/authorize.js';
import { issueCredential } from '../credentials/issue-credential.js';
import { generateKeyPairAsync } from '../credentials/keys.js';
import type { Privilege } from '../credentials/privileges.js';
import type { VerifiedCredential } from '../credentials/verify-credential.js';
import { isAuthorityType, isHrnPrefix, isUrn, Xrn } from '../credentials/xrn.js';
import type { RecordRow, RecordType } from '../store/registry-store.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { CREDENTIAL_LIFETIME_MS, type Call, type RegistryContext } from './context.js';

/**
 * Check a registry call's credentials (see authorize.ts): the first one that verifies, belongs
 * to the TLS caller and allows `operation`.
 */
export function authorizeCall(
  ctx: RegistryContext,
  call: Call,
  creds: XmlRpcValue,
  operation: string,
): VerifiedCredential {
  return authorize({
    credentials: credentialStrings(creds),
    operation,
    peerKey: call.peerKey,
    now: call.now,
    verifier: ctx.verifier,
  });
}

/** A name argument: an HRN or a URN. Returns the HRN and the type when a URN gave one. */
export function readName(
  value: XmlRpcValue | undefined,
  what = 'xrn',
): { hrn: string; type?: string } {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new BadArgs(`${what} must be an HRN or a URN string`);
  }
  const text = value.trim();
  if (isUrn(text)) {
    const x = Xrn.fromUrn(text);
    return { hrn: x.hrn, type: x.type };
  }
  // Validates the HRN's form (empty components, bad characters) without needing its type.
  return { hrn: Xrn.fromHrn(text, 'authority').hrn };
}

/** A list of names: a string or a list of strings. */
export function readNames(value: XmlRpcValue | undefined, what = 'xrns'): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.length > CALL_LIMITS.names) {
    throw new BadArgs(
      `${what} lists ${value.length} names; one call may name at most ${CALL_LIMITS.names}: split the call`,
    );
  }
  if (Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string')) {
    return value as string[];
  }
  throw new BadArgs(`${what} must be an HRN or URN, or a non-empty list of them`);
}

/** An optional type argument: nil, '' or a type name (`authority+sa` reads as `authority`). */
export function readType(value: XmlRpcValue | undefined): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string')
    throw new BadArgs('type must be a string such as user, slice, authority or node');
  if (value === 'sliver') return 'slice';
  return value.startsWith('authority') ? 'authority' : value;
}

/** The record named `hrn` (of `type`, when given); SEARCHFAILED when there is none. */
export function findRecord(ctx: RegistryContext, hrn: string, type?: string): RecordRow {
  const row = type ? ctx.store.get(hrn, type as RecordType) : ctx.store.findByHrn(hrn)[0];
  if (!row) throw new SearchFailed(`Record not found: ${hrn}${type ? ` (type ${type})` : ''}`);
  return row;
}

/**
 * The target rule for changing a record: the credential is about the record itself, or about an
 * authority at or above it (an authority credential for `ple.inria` covers `ple.inria.alice`).
 */
export function requireTargetCovers(cred: VerifiedCredential, hrn: string, type: string): void {
  const target = cred.targetGid;
  const sameRecord =
    target.hrn.toLowerCase() === hrn.toLowerCase() && target.type.split('+')[0] === type;
  const authorityAbove = isAuthorityType(target.type) && isHrnPrefix(target.hrn, hrn);
  if (!sameRecord && !authorityAbove) {
    throw new Forbidden(`a credential for ${cred.targetUrn} does not cover ${type} ${hrn}`);
  }
}

/**
 * Issue a GID for `hrn` of `type`, signed by its authority (the nearest local one), on
 * `publicKey`; without a key, on a fresh key pair whose private half is discarded (generated on
 * the thread pool: the event loop keeps serving other calls meanwhile).
 *
 * The GID is never a CA, whatever the type: an authority's CA certificate is made once, with
 * the authority's own key, by the keystore (`sfa authority add`, Register). Here the key may be
 * anyone's (CreateGid takes the caller's), and a CA:TRUE GID for `ple.inria` on it would let its
 * holder issue GIDs and credentials for every name under `ple.inria`, for years.
 */
export async function issueRecordGid(
  ctx: RegistryContext,
  hrn: string,
  type: string,
  now: Date,
  publicKey?: KeyObject,
  email?: string,
): Promise<Gid> {
  const signer = ctx.keys.signerFor(hrn);
  const subjectPublicKey =
    publicKey ?? createPublicKey((await generateKeyPairAsync()).publicKeyPem);
  return issueGid({
    urn: Xrn.fromHrn(hrn, type).urn,
    subjectPublicKey,
    issuerKey: signer.key,
    issuerGid: signer.gid,
    email: email || undefined,
    notBefore: now,
    lifetimeDays: GID_LIFETIME_DAYS,
    isCA: false,
  });
}

/**
 * A credential giving `owner` `privileges` (all delegable) on `record`, signed by the record's
 * authority, expiring at the record's expiry if set, else in 31 days.
 */
export function issueRecordCredential(
  ctx: RegistryContext,
  call: Call,
  owner: Gid,
  record: RecordRow,
  target: Gid,
  names: readonly string[],
): string {
  const signer =
    record.type === 'authority' && record.authority === null
      ? ctx.keys.get(record.hrn)
      : ctx.keys.signerFor(record.hrn);
  const privileges: Privilege[] = names.map((name) => ({ name, canDelegate: true }));
  const expires = record.expires ?? new Date(call.now.getTime() + CREDENTIAL_LIFETIME_MS);
  return issueCredential({
    owner,
    target,
    privileges,
    expires,
    signerKey: signer.key,
    signerGid: signer.gid,
  });
}
