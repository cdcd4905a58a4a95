/**
 * The GENI AM API, v3 and v2: method names, arguments as clients send them, the answer envelope,
 * call_id replay, the advertisement cache. The transport calls {@link callAggregate}.
 */
import { createHash } from 'node:crypto';
import { BadArgs, Busy, GeniFault, ServerError, Unsupported } from '../faults.js';
import { spkiDer } from '../credentials/keys.js';
import { checkArguments, type ArgumentShapes } from '../xmlrpc/arguments.js';
import { PreparedResponse, prepareResponse } from '../xmlrpc/server.js';
import { REPLAYED_METHODS } from './call-ids.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import type { AmCaller } from './authorize-am.js';
import { trustedCerts } from './trusted-certs.js';
import type { AmContext } from './context.js';
import { storageFault } from '../store/storage-fault.js';
import { logText } from '../text.js';
import { amFailure, amSuccess } from './envelope.js';
import { readOptions, type AmOptions } from './options.js';
import { credentialStrings } from '../credentials/authorize.js';
import { quote } from '../text.js';
import { requireTimeShape } from './renew-time.js';
import { readRspecText, readSliceUrn, readUrns, requireStringArg } from './v3/common.js';
import {
  createSliver,
  deleteSliver,
  listResourcesV2,
  renewSliver,
  sliverStatus,
} from './v2/operations.js';
import { getVersion } from './v3/get-version.js';
import { listResources } from './v3/list-resources.js';
import {
  allocate,
  deleteSlivers,
  describe,
  performOperationalAction,
  provision,
  renew,
  shutdown,
  status,
} from './v3/slice-ops.js';

type Args = (XmlRpcValue | undefined)[];
type Run = (
  ctx: AmContext,
  caller: AmCaller,
  a: Args,
  o: AmOptions,
) => XmlRpcValue | PreparedResponse;

interface MethodSpec {
  readonly args: readonly string[];
  readonly required: number;
  /** Index of the options struct among the arguments, if the method takes one. */
  readonly options?: number;
  readonly run: Run;
}

const V3: Readonly<Record<string, MethodSpec>> = {
  GetVersion: { args: ['options'], required: 0, options: 0, run: (ctx) => getVersion(ctx, 3) },
  ListResources: {
    args: ['credentials', 'options'],
    required: 1,
    options: 1,
    run: (ctx, c, a, o) => listResources(ctx, c, a[0]!, o),
  },
  Describe: {
    args: ['urns', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => describe(ctx, c, a[0]!, a[1]!, o),
  },
  Allocate: {
    args: ['slice_urn', 'credentials', 'rspec', 'options'],
    required: 3,
    options: 3,
    run: (ctx, c, a, o) => allocate(ctx, c, a[0]!, a[1]!, a[2]!, o),
  },
  Provision: {
    args: ['urns', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => provision(ctx, c, a[0]!, a[1]!, o),
  },
  PerformOperationalAction: {
    args: ['urns', 'credentials', 'action', 'options'],
    required: 3,
    options: 3,
    run: (ctx, c, a, o) => performOperationalAction(ctx, c, a[0]!, a[1]!, a[2]!, o),
  },
  Status: {
    args: ['urns', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => status(ctx, c, a[0]!, a[1]!, o),
  },
  Renew: {
    args: ['urns', 'credentials', 'expiration_time', 'options'],
    required: 3,
    options: 3,
    run: (ctx, c, a, o) => renew(ctx, c, a[0]!, a[1]!, a[2]!, o),
  },
  Delete: {
    args: ['urns', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => deleteSlivers(ctx, c, a[0]!, a[1]!, o),
  },
  Shutdown: {
    args: ['slice_urn', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => shutdown(ctx, c, a[0]!, a[1]!, o),
  },
  get_trusted_certs: {
    args: ['credential'],
    required: 0,
    run: (ctx, c, a) => trustedCerts(ctx, c, a[0]),
  },
};

/** The AM API v3 method names, in order (the slice manager answers the same). */
export const V3_METHODS: readonly string[] = Object.keys(V3);

const V2: Readonly<Record<string, MethodSpec>> = {
  GetVersion: { args: ['options'], required: 0, options: 0, run: (ctx) => getVersion(ctx, 2) },
  ListResources: {
    args: ['credentials', 'options'],
    required: 2,
    options: 1,
    run: (ctx, c, a, o) => listResourcesV2(ctx, c, a[0]!, o),
  },
  CreateSliver: {
    args: ['slice_urn', 'credentials', 'rspec', 'users', 'options'],
    required: 4,
    options: 4,
    run: (ctx, c, a, o) => createSliver(ctx, c, a[0]!, a[1]!, a[2]!, a[3]!, o),
  },
  SliverStatus: {
    args: ['slice_urn', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => sliverStatus(ctx, c, a[0]!, a[1]!, o),
  },
  RenewSliver: {
    args: ['slice_urn', 'credentials', 'expiration_time', 'options'],
    required: 3,
    options: 3,
    run: (ctx, c, a, o) => renewSliver(ctx, c, a[0]!, a[1]!, a[2]!, o),
  },
  DeleteSliver: {
    args: ['slice_urn', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => deleteSliver(ctx, c, a[0]!, a[1]!, o),
  },
  Shutdown: {
    args: ['slice_urn', 'credentials', 'options'],
    required: 2,
    options: 2,
    run: (ctx, c, a, o) => shutdown(ctx, c, a[0]!, a[1]!, o),
  },
};

/** What a caller must send to `method`: its arguments and where its options are. */
export type Signature = Pick<MethodSpec, 'args' | 'required' | 'options'>;

/**
 * The shape of each argument, checked for every call before anything else runs, so that a
 * wrong type is BADARGS naming the argument whatever the method would have looked at first.
 */
const ARGUMENT_SHAPES: ArgumentShapes = {
  slice_urn: (v) => readSliceUrn(v),
  urns: (v) => readUrns(v),
  credentials: (v) => credentialStrings(v),
  rspec: (v) => readRspecText(v),
  expiration_time: (v) => requireTimeShape(v, 'expiration_time'),
  action: (v) => requireStringArg(v, 'action'),
  users: (v) => {
    if (!Array.isArray(v))
      throw new BadArgs(`users must be a list of {urn, keys} structs, not ${quote(v)}`);
  },
};

function checkSignature<T extends Signature>(
  table: Readonly<Record<string, T>>,
  api: number,
  method: string,
  params: readonly XmlRpcValue[],
): T {
  const spec = Object.hasOwn(table, method) ? table[method] : undefined;
  if (!spec) throw new Unsupported(`${method} is not a method of the GENI AM API v${api}`);
  checkArguments(spec, params, ARGUMENT_SHAPES);
  return spec;
}

/**
 * The AM API v3 signature of `method`, checked against `params` (UNSUPPORTED for an unknown
 * method, BADARGS for a wrong count): the slice manager answers the same calls.
 */
export function checkV3Signature(method: string, params: readonly XmlRpcValue[]): Signature {
  return checkSignature(V3, 3, method, params);
}

export interface AmAnswer {
  readonly answer: XmlRpcStruct | PreparedResponse;
  /** The GENI code of the answer, for the log. */
  readonly code: number;
  readonly message?: string;
}

/** Is `path` the v2 endpoint? Everything else is v3 (sfi posts to `/` or `/RPC2`). */
export function isV2Path(path: string): boolean {
  return /^\/v2\/?$/i.test(path) || /\/am\/2\/?$/i.test(path);
}

/** Forget a call_id marked as running; a store that fails here leaves a mark that expires. */
function releaseCallId(
  ctx: AmContext,
  callKey: string,
  method: string,
  callId: string,
  log: (line: string) => void,
): void {
  try {
    ctx.callIds.release(callKey, method, callId);
  } catch (e) {
    log(`aggregate ${logText(method, 80)}: call_id mark not removed: ${(e as Error).message}`);
  }
}

/**
 * Run AM method `method` and wrap the result. API errors become `{code, value: '', output}`
 * answers, never faults. `log` receives unexpected errors (internals stay off the wire).
 */
export function callAggregate(
  ctx: AmContext,
  caller: AmCaller,
  path: string,
  method: string,
  params: XmlRpcValue[],
  log: (line: string) => void,
): AmAnswer {
  const api = isV2Path(path) ? 2 : 3;
  const table = api === 2 ? V2 : V3;
  try {
    const spec = checkSignature(table, api, method, params);
    const options = readOptions(spec.options === undefined ? undefined : params[spec.options]);
    const replayed = REPLAYED_METHODS.has(`${api}:${method}`) ? options.callId : undefined;
    // The caller is its TLS key and, for a tool speaking for users, the user it speaks for:
    // one tool's call_ids for two users never share an answer.
    const callKey =
      replayed && caller.peerKey
        ? createHash('sha256')
            .update(spkiDer(caller.peerKey))
            .update('\u0000')
            .update(options.speakingFor ?? '')
            .digest('hex')
        : undefined;
    if (callKey && replayed) {
      const claim = ctx.callIds.claim(callKey, `${api}:${method}`, replayed, caller.now);
      if (claim === 'running') {
        throw new Busy(
          `the first attempt of call_id ${logText(replayed, 80)} is still running at this aggregate; retry it in a moment for its answer`,
        );
      }
      if (claim !== 'run') return { answer: claim.body, code: claim.code, message: claim.message };
    }
    let value: ReturnType<typeof spec.run>;
    try {
      value = spec.run(ctx, caller, params, options);
    } catch (e) {
      // A failure is not kept: the mark goes, and a retry runs the call again.
      if (callKey && replayed) releaseCallId(ctx, callKey, `${api}:${method}`, replayed, log);
      throw e;
    }
    const answer: AmAnswer = {
      answer: value instanceof PreparedResponse ? value : amSuccess(api, value),
      code: 0,
    };
    if (callKey && replayed) {
      const body =
        answer.answer instanceof PreparedResponse ? answer.answer : prepareResponse(answer.answer);
      try {
        ctx.callIds.put(callKey, `${api}:${method}`, replayed, caller.now, { body, code: 0 });
      } catch (e) {
        // The call took effect: say so. Only a retry of it will run again.
        log(`aggregate ${logText(method, 80)}: call_id answer not kept: ${(e as Error).message}`);
      }
      return { answer: body, code: 0 };
    }
    return answer;
  } catch (e) {
    if (e instanceof GeniFault)
      return { answer: amFailure(api, method, e), code: e.geniCode, message: e.message };
    const storage = storageFault(e);
    if (storage) {
      log(`aggregate ${logText(method, 80)}: ${logText((e as Error).message, 500)}`);
      return {
        answer: amFailure(api, method, storage),
        code: storage.geniCode,
        message: storage.message,
      };
    }
    log(`aggregate ${logText(method, 80)}: internal error: ${(e as Error).stack ?? String(e)}`);
    const fault = new ServerError(
      'internal error; the operator can find the details in the aggregate log',
    );
    return { answer: amFailure(api, method, fault), code: fault.geniCode, message: fault.message };
  }
}
