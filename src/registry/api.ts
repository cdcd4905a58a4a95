/**
 * The SFA Registry API: method names, their arguments as clients send them, and the operation
 * each runs. The transport calls {@link callRegistry}; faults it throws become XML-RPC faults.
 */
import { BadArgs, Unsupported } from '../faults.js';
import { credentialStrings } from '../credentials/authorize.js';
import { quote } from '../text.js';
import { readName, readNames, readType } from './common.js';
import { checkArguments, type ArgumentShapes } from '../xmlrpc/arguments.js';
import { isStruct, type XmlRpcValue } from '../xmlrpc/value.js';
import type { Call, RegistryContext } from './context.js';
import { createGid } from './create-gid.js';
import { getCredential } from './get-credential.js';
import { getGids } from './get-gids.js';
import { getSelfCredential } from './get-self-credential.js';
import { getTrustedCerts } from './get-trusted-certs.js';
import { getVersion } from './get-version.js';
import { list } from './list.js';
import { register } from './register.js';
import { remove } from './remove.js';
import { resolve } from './resolve.js';
import { update } from './update.js';

type Args = (XmlRpcValue | undefined)[];

interface MethodSpec {
  /** Argument names, for messages; the first `required` are mandatory. */
  readonly args: readonly string[];
  readonly required: number;
  /** A promise when the answer comes from a peer (Resolve and List of a peer's names). */
  readonly run: (ctx: RegistryContext, call: Call, a: Args) => XmlRpcValue | Promise<XmlRpcValue>;
}

const METHODS: Readonly<Record<string, MethodSpec>> = {
  GetVersion: { args: ['options'], required: 0, run: (ctx) => getVersion(ctx) },
  GetSelfCredential: {
    args: ['cert', 'xrn', 'type'],
    required: 2,
    run: (ctx, call, a) => getSelfCredential(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  GetCredential: {
    args: ['credentials', 'xrn', 'type'],
    required: 2,
    run: (ctx, call, a) => getCredential(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  Resolve: {
    args: ['xrns', 'credentials', 'options'],
    required: 2,
    run: (ctx, call, a) => resolve(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  List: {
    args: ['xrn', 'credentials', 'options'],
    required: 2,
    run: (ctx, call, a) => list(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  Register: {
    args: ['record', 'credentials'],
    required: 2,
    run: (ctx, call, a) => register(ctx, call, a[0]!, a[1]!),
  },
  Update: {
    args: ['record', 'credentials'],
    required: 2,
    run: (ctx, call, a) => update(ctx, call, a[0]!, a[1]!),
  },
  Remove: {
    args: ['xrn', 'credentials', 'type'],
    required: 2,
    run: (ctx, call, a) => remove(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  CreateGid: {
    args: ['credentials', 'xrn', 'cert'],
    required: 2,
    run: (ctx, call, a) => createGid(ctx, call, a[0]!, a[1]!, a[2] ?? null),
  },
  GetGids: {
    args: ['xrns', 'credentials'],
    required: 2,
    run: (ctx, call, a) => getGids(ctx, call, a[0]!, a[1]!),
  },
  get_trusted_certs: {
    args: ['credential'],
    required: 0,
    run: (ctx, call, a) => getTrustedCerts(ctx, call, a[0]),
  },
};

/**
 * Run registry method `method`; throws (or, for a call forwarded to a peer, rejects with) a
 * GeniFault for anything the caller must fix.
 */
export function callRegistry(
  ctx: RegistryContext,
  call: Call,
  method: string,
  params: XmlRpcValue[],
): XmlRpcValue | Promise<XmlRpcValue> {
  // Peers added, rotated or revoked since the last call (by `sfa peer`, another process) and
  // overlaps that ended take effect now, before any credential is looked at.
  ctx.trustSource.refresh(call.now);
  const spec = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!spec) throw new Unsupported(`Invalid method ${method} for interface registry`);
  checkArguments(spec, params, ARGUMENT_SHAPES);
  return spec.run(ctx, call, params);
}

/**
 * The shape of each argument, checked for every call before any credential or record is looked
 * at, so that a wrong type is BADARGS naming the argument whatever the method checks first.
 */
const ARGUMENT_SHAPES: ArgumentShapes = {
  credentials: (v) => credentialStrings(v),
  xrns: (v) => readNames(v),
  xrn: (v) => readName(v),
  type: (v) => readType(v),
  record: (v) => {
    if (!isStruct(v)) throw new BadArgs(`record must be a struct, not ${quote(v)}`);
  },
  options: (v) => {
    if (v !== null && v !== '' && !isStruct(v))
      throw new BadArgs(`options must be a struct, not ${quote(v)}`);
  },
  cert: (v) => {
    if (v !== null && typeof v !== 'string')
      throw new BadArgs(`cert must be a PEM certificate string, not ${quote(v)}`);
  },
};

/** The registry's methods, for GetVersion-like listings and tests. */
export const REGISTRY_METHODS = Object.keys(METHODS);
