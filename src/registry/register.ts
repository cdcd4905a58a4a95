import type { KeyObject } from 'node:crypto';
import { AlreadyExists, BadArgs, Forbidden, SearchFailed } from '../faults.js';
import { loadPublicKey } from '../credentials/keys.js';
import {
  hrnAuthority,
  hrnLeaf,
  isAuthorityType,
  isHrnPrefix,
  validateSliceName,
} from '../credentials/xrn.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall, issueRecordGid } from './common.js';
import type { Call, RegistryContext } from './context.js';
import { userIds } from './members.js';
import { readRecordInput, type RecordInput } from './records.js';

/**
 * Register(record, creds) → the new record's GID (PEM). Needs `register` on an authority
 * credential whose target is the new record's authority or above it.
 * - user: the GID is on the user's first SSH key (`ssh-rsa`), the SFA way: the researcher's
 *   SSH key is their SFA key. Without a key, on a fresh key pair whose private half is
 *   discarded, until a key is set with Update.
 * - authority: a new key pair kept in the data folder; the GID is a CA signed by its parent.
 * - slice, node: a GID on a fresh key pair.
 */
export async function register(
  ctx: RegistryContext,
  call: Call,
  record: XmlRpcValue,
  creds: XmlRpcValue,
): Promise<string> {
  const cred = authorizeCall(ctx, call, creds, 'register');
  const input = readRecordInput(record);
  const parent = hrnAuthority(input.hrn);
  const target = cred.targetGid;
  if (parent === '' || !isAuthorityType(target.type) || !isHrnPrefix(target.hrn, parent)) {
    throw new Forbidden(
      `a credential for ${cred.targetUrn} cannot register ${input.type} ${input.hrn}: it needs one for ${parent || input.hrn} or above`,
    );
  }
  return createRecord(ctx, input, call.now);
}

/**
 * Create a record (and its GID, and for an authority its key) once the caller is authorized:
 * Register and the operator's `sfa … add` commands both end here. Returns the GID (PEM).
 *
 * The key and the GID are made first, off the event loop, then the record is inserted in one
 * write transaction, with `alsoInTransaction` (the operator's extras, e.g. `--pi-of`): all of
 * it or none. A storage failure (a full disk) throws the file system's or SQLite's error, which
 * the transports answer as DBERROR (storage-fault.ts); no half-written key is left.
 */
export async function createRecord(
  ctx: RegistryContext,
  input: RecordInput,
  now: Date,
  alsoInTransaction?: () => void,
): Promise<string> {
  const parent = hrnAuthority(input.hrn);
  if (parent === '')
    throw new BadArgs(
      `${input.hrn} has no authority part: register names under ${ctx.config.authority}`,
    );
  if (!ctx.store.get(parent, 'authority')) {
    throw new SearchFailed(
      `Missing authority: ${parent} is not an authority of this registry (register it first)`,
    );
  }
  if (ctx.store.get(input.hrn, input.type))
    throw new AlreadyExists(`${input.type} ${input.hrn} already exists`);
  if (input.type === 'slice') validateSliceName(hrnLeaf(input.hrn));
  if (
    input.type === 'user' &&
    input.email !== undefined &&
    !/^[^\s@]+@[^\s@]+$/.test(input.email)
  ) {
    throw new BadArgs(`'${input.email}' is not an e-mail address`);
  }
  const researchers =
    input.type === 'slice' ? userIds(ctx, input.researchers ?? [], 'reg-researchers') : [];
  const pis = input.type === 'authority' ? userIds(ctx, input.pis ?? [], 'reg-pis') : [];
  const keys = input.type === 'user' ? (input.keys ?? []) : [];
  const userKey: KeyObject | undefined = keys[0] !== undefined ? loadPublicKey(keys[0]) : undefined;

  let gidPem: string;
  if (input.type === 'authority') {
    // An authority's key lives in the data folder; one left by an interrupted Register is reused.
    const identity = ctx.keys.has(input.hrn)
      ? ctx.keys.get(input.hrn)
      : await ctx.keys.create(input.hrn, now, ctx.keys.signerFor(input.hrn));
    gidPem = identity.gid.pem;
  } else {
    gidPem = (await issueRecordGid(ctx, input.hrn, input.type, now, userKey, input.email)).pem;
  }

  ctx.store.transaction(() => {
    // Checked again under the write lock: the key generation above let other calls run.
    if (!ctx.store.get(parent, 'authority')) {
      throw new SearchFailed(`Missing authority: ${parent} was removed meanwhile`);
    }
    const row = ctx.store.insert(
      {
        hrn: input.hrn,
        type: input.type,
        gid: gidPem,
        authority: parent,
        peerAuthority: null,
        pointer: -1,
        email: input.type === 'user' ? (input.email ?? null) : null,
        name: input.type === 'authority' ? (input.name ?? null) : null,
        expires: null,
      },
      now,
    );
    if (keys.length > 0) ctx.store.setKeys(row.id, keys);
    if (researchers.length > 0) ctx.store.setResearchers(row.id, researchers);
    if (pis.length > 0) ctx.store.setPis(row.id, pis);
    alsoInTransaction?.();
  });
  return gidPem;
}
