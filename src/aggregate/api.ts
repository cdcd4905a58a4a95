/**
 * The GENI AM API, v3 and v2: method names, arguments as clients send them, the answer envelope,
 * call_id replay, the advertisement cache. The transport calls {@link callAggregate}.
 */
import { createHash } from 'node:crypto';
import { BadArgs, GeniFault, ServerError, Unsupported } from '../faults.js';
import { spkiDer } from '../credentials/keys.js';
import { PreparedResponse } from '../xmlrpc/server.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from './authorize-am.js';
import type { AmContext } from './context.js';
import { amFailure, amSuccess } from './envelope.js';
import { readOptions, type AmOptions } from './options.js';
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

/**
 * get_trusted_certs(cred?): this aggregate's GID without a credential (peers bootstrap from it);
 * with one allowing `gettrustedcerts`, every trusted root (sfi's `trusted`).
 */
function trustedCerts(ctx: AmContext, caller: AmCaller, cred: XmlRpcValue | undefined): string[] {
  if (cred === undefined || cred === null || cred === '') return [ctx.identity.gid.pem];
  authorizeAm(caller, {
    credentials: cred,
    operation: 'gettrustedcerts',
    speakingFor: undefined,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  return ctx.trust.roots.map((g) => g.pem);
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
    const spec = Object.hasOwn(table, method) ? table[method] : undefined;
    if (!spec) throw new Unsupported(`${method} is not a method of the GENI AM API v${api}`);
    if (params.length < spec.required || params.length > spec.args.length) {
      const range =
        spec.required === spec.args.length
          ? `${spec.required}`
          : `${spec.required}-${spec.args.length}`;
      throw new BadArgs(
        `expected ${range} arguments (${spec.args.join(', ')}), got ${params.length}`,
      );
    }
    const options = readOptions(spec.options === undefined ? undefined : params[spec.options]);
    const callKey =
      options.callId && caller.peerKey
        ? createHash('sha256').update(spkiDer(caller.peerKey)).digest('hex')
        : undefined;
    if (callKey && options.callId) {
      const stored = ctx.callIds.get(callKey, `${api}:${method}`, options.callId, caller.now);
      if (stored) return stored as AmAnswer;
    }
    const value = spec.run(ctx, caller, params, options);
    const answer: AmAnswer = {
      answer: value instanceof PreparedResponse ? value : amSuccess(api, value),
      code: 0,
    };
    if (callKey && options.callId)
      ctx.callIds.put(callKey, `${api}:${method}`, options.callId, caller.now, answer);
    return answer;
  } catch (e) {
    if (e instanceof GeniFault)
      return { answer: amFailure(api, method, e), code: e.geniCode, message: e.message };
    log(`aggregate ${method}: internal error: ${(e as Error).stack ?? String(e)}`);
    const fault = new ServerError(
      'internal error; the operator can find the details in the aggregate log',
    );
    return { answer: amFailure(api, method, fault), code: fault.geniCode, message: fault.message };
  }
}
