/**
 * The slice manager (port 12347): the AM API v3 in front of every known aggregate, local and
 * peers'. It checks the caller's credentials here, relays to the aggregates concurrently with
 * credentials a peer can verify (credentials.ts), and merges their answers. Per-aggregate
 * statistics go in `sfa_ts_aggregates` (a prefixed top-level field: `geni_` is reserved) and, for
 * RSpecs, in `sfa-ts:aggregate_status` elements. A call naming a slice goes to every aggregate;
 * one naming slivers, to the aggregates that issued them (route-urns.ts), and when it names no
 * slice the slice is the caller's slice credential's (slice-credential.ts).
 */
import { hostname } from 'node:os';
import { deflateSync } from 'node:zlib';
import { logText, quote } from '../text.js';
import { BadArgs, GeniFault, ServerError, Unsupported } from '../faults.js';
import type { AuthorityIdentity } from '../authority/keystore.js';
import type { TrustStore } from '../credentials/chain.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import { Gid } from '../credentials/gid.js';
import { isUrn, Xrn } from '../credentials/xrn.js';
import { rspecVersions, matchRspecVersion } from '../rspec/version.js';
import { CODE_TAG, CODE_URL } from '../registry/get-version.js';
import type { XmlRpcStruct, XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from '../aggregate/authorize-am.js';
import { checkV3Signature } from '../aggregate/api.js';
import { amFailure, amSuccess } from '../aggregate/envelope.js';
import { trustedCerts } from '../aggregate/trusted-certs.js';
import {
  ORIGIN_OPTION,
  isAuthorityCaller,
  readOptions,
  readOrigin,
  type AmOptions,
} from '../aggregate/options.js';
import { readSliceUrn, readUrns } from '../aggregate/v3/common.js';
import type { VerifiedCredential } from '../credentials/verify-credential.js';
import type { RelayCredentials } from './credentials.js';
import { storageFault } from '../store/storage-fault.js';
import { mergeRspecs } from './merge.js';
import { relayAll, relayOne, statsField, type Aggregate, type RelayOutcome } from './relay.js';
import type { RelayStats } from './relay-stats.js';
import { routeUrns } from './route-urns.js';
import { sliceCredential } from './slice-credential.js';
import { splitRequest } from './split-request.js';

export interface SmContext {
  readonly authority: string;
  readonly hostname: string;
  readonly identity: AuthorityIdentity;
  readonly trust: TrustStore;
  readonly verifier: CredentialVerifier;
  readonly credentials: RelayCredentials;
  /** Every aggregate to relay to: the local one first, then the peers'. */
  readonly aggregates: () => Aggregate[];
  readonly timeoutMs: number;
  /** Merged ads are served this long when no slice is named (0: never cached). */
  readonly adCacheMs: number;
  readonly url: string;
  /** Where each relayed call's duration and outcome is remembered (the web view's peers page). */
  readonly relayStats?: RelayStats;
}

const STATS = 'sfa_ts_aggregates';
const RELAYED_BY = 'sfa_ts_relayed_by';
const ORIGIN = ORIGIN_OPTION;
const AD_LIFETIME_MS = 3_600_000;

interface Answer {
  answer: XmlRpcStruct;
  code: number;
  message?: string;
}

const adCache = new WeakMap<SmContext, Map<string, { at: number; answer: XmlRpcStruct }>>();

function aggregateUrn(a: Aggregate): string {
  return Xrn.fromHrn(a.hrn, 'authority+am').urn;
}

/** The authorities a relayed call has passed through: a list of HRNs, or none. */
function readRelayedBy(options: XmlRpcStruct): string[] {
  const v = options[RELAYED_BY];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((h) => typeof h === 'string')) {
    throw new BadArgs(`option ${RELAYED_BY} must be a list of authority HRNs, not ${quote(v)}`);
  }
  return v as string[];
}

/** The aggregates a call may go to: never back to the caller's own authority or a relayer. */
function targets(
  ctx: SmContext,
  caller: AmCaller,
  options: XmlRpcStruct,
  only?: ReadonlySet<string>,
): Aggregate[] {
  const relayedBy = readRelayedBy(options).map((h) => h.toLowerCase());
  if (relayedBy.includes(ctx.authority.toLowerCase())) {
    throw new BadArgs(`relay loop: this call has already passed through ${ctx.authority}`);
  }
  let callerAuthority: string | undefined;
  try {
    const x = caller.peerCertPem ? Xrn.fromUrn(Gid.fromPem(caller.peerCertPem).urn) : undefined;
    if (x && x.type.startsWith('authority')) callerAuthority = x.hrn.toLowerCase();
  } catch {
    callerAuthority = undefined;
  }
  return ctx
    .aggregates()
    .filter(
      (a) => !relayedBy.includes(a.hrn.toLowerCase()) && a.hrn.toLowerCase() !== callerAuthority,
    )
    .filter((a) => !only || only.has(a.hrn.toLowerCase()));
}
function optionsOut(ctx: SmContext, raw: XmlRpcStruct, caller: AmCaller): XmlRpcStruct {
  const relayedBy = readRelayedBy(raw);
  // The caller's own speaks-for and call_id are ours to honour, not the aggregates'.
  const rest: XmlRpcStruct = { ...raw };
  delete rest['geni_speaking_for'];
  delete rest['call_id'];
  // Who called us, with which client, for the aggregates' records (a slice's history); never
  // used to authorize anything. An origin already in the options is kept only from another
  // authority's slice manager (its TLS caller is an authority): a researcher cannot name
  // someone else as the caller.
  const passedOn = isAuthorityCaller(caller.origin?.caller) ? readOrigin(raw) : undefined;
  const origin =
    passedOn ??
    (caller.origin && {
      caller: caller.origin.caller,
      ...(caller.origin.client === undefined ? {} : { client: caller.origin.client }),
    });
  return {
    ...rest,
    [RELAYED_BY]: [...relayedBy, ctx.authority],
    ...(origin ? { [ORIGIN]: origin } : {}),
  };
}

function failureSummary(
  outcomes: readonly RelayOutcome[],
): { code: number; message: string } | undefined {
  const bad = outcomes.filter((o) => o.code !== 0);
  if (bad.length === 0) return undefined;
  return { code: bad[0]!.code, message: bad.map((o) => o.message).join('; ') };
}

type Method = (
  ctx: SmContext,
  caller: AmCaller,
  params: XmlRpcValue[],
  options: AmOptions,
  raw: XmlRpcStruct,
) => Answer | Promise<Answer>;

const onSlice =
  (method: string): Method =>
  (ctx, caller, params, options, raw) =>
    sliceCall(ctx, caller, method, params, options, raw);

/**
 * Every method of the AM API v3 the aggregate answers (aggregate/api.ts), in its order; GetVersion
 * lists these names in `sfa_ts_methods`.
 */
const METHODS: Readonly<Record<string, Method>> = {
  GetVersion: (ctx) => ok(getVersion(ctx)),
  ListResources: (ctx, caller, params, options, raw) =>
    listResources(ctx, caller, params[0]!, options, raw),
  Describe: onSlice('Describe'),
  Allocate: allocate,
  Provision: onSlice('Provision'),
  PerformOperationalAction: onSlice('PerformOperationalAction'),
  Status: onSlice('Status'),
  Renew: onSlice('Renew'),
  Delete: onSlice('Delete'),
  Shutdown: onSlice('Shutdown'),
  get_trusted_certs: (ctx, caller, params) => ok(trustedCerts(ctx, caller, params[0])),
};

/** Run one SM method; errors become the AM envelope (never faults). */
export async function callSliceManager(
  ctx: SmContext,
  caller: AmCaller,
  method: string,
  params: XmlRpcValue[],
  log: (line: string) => void,
): Promise<Answer> {
  try {
    const spec = checkV3Signature(method, params);
    const run = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
    if (!run) throw new Unsupported(`${method} is not a method of the slice manager`);
    const raw = spec.options === undefined ? undefined : params[spec.options];
    const options = readOptions(raw);
    const rawOptions: XmlRpcStruct = (raw ?? {}) as XmlRpcStruct; // a struct: readOptions checked
    return await run(ctx, caller, params, options, rawOptions);
  } catch (e) {
    if (e instanceof GeniFault)
      return { answer: amFailure(3, method, e), code: e.geniCode, message: e.message };
    // The store (the routes to peers, the registry's records) failed: the operator's to fix.
    const storage = storageFault(e);
    if (storage) {
      log(`slicemgr ${logText(method, 80)}: ${logText((e as Error).message, 500)}`);
      return {
        answer: amFailure(3, method, storage),
        code: storage.geniCode,
        message: storage.message,
      };
    }
    log(`slicemgr ${logText(method, 80)}: internal error: ${(e as Error).stack ?? String(e)}`);
    const fault = new ServerError(
      'internal error; the operator can find the details in the slice manager log',
    );
    return { answer: amFailure(3, method, fault), code: fault.geniCode, message: fault.message };
  }
}

function ok(value: XmlRpcValue, extra: XmlRpcStruct = {}): Answer {
  return { answer: amSuccess(3, value, extra), code: 0 };
}

function partial(value: XmlRpcValue, outcomes: readonly RelayOutcome[], readOnly: boolean): Answer {
  const stats = { [STATS]: statsField(outcomes) };
  const failed = failureSummary(outcomes);
  if (!failed || (readOnly && outcomes.some((o) => o.code === 0))) return ok(value, stats);
  return {
    answer: {
      ...amSuccess(3, value, stats),
      code: { geni_code: failed.code, am_type: 'sfa-ts', am_code: failed.code },
      output: failed.message,
    },
    code: failed.code,
    message: failed.message,
  };
}

function getVersion(ctx: SmContext): XmlRpcStruct {
  const peers: XmlRpcStruct = {};
  for (const a of ctx.aggregates()) if (a.hrn !== ctx.authority) peers[a.hrn] = a.url;
  return {
    geni_api: 3,
    geni_api_versions: { '3': ctx.url },
    ...(rspecVersions() as unknown as XmlRpcStruct),
    geni_credential_types: [
      { geni_type: 'geni_sfa', geni_version: '2' },
      { geni_type: 'geni_sfa', geni_version: '3' },
    ],
    geni_single_allocation: 0,
    geni_allocate: 'geni_many',
    geni_handles_speaksfor: true,
    code_tag: CODE_TAG,
    code_url: CODE_URL,
    hostname: ctx.hostname || hostname(),
    interface: 'slicemgr',
    sfa: 3,
    hrn: ctx.authority,
    urn: Xrn.fromHrn(ctx.authority, 'authority+sm').urn,
    peers,
    // What this interface answers: every AM API v3 method, as the aggregate does.
    sfa_ts_methods: Object.keys(METHODS),
  };
}

async function listResources(
  ctx: SmContext,
  caller: AmCaller,
  creds: XmlRpcValue,
  options: AmOptions,
  raw: XmlRpcStruct,
): Promise<Answer> {
  authorizeAm(caller, {
    credentials: creds,
    operation: 'listnodes',
    speakingFor: options.speakingFor,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  if (options.sliceUrn)
    throw new BadArgs(
      'ListResources takes no geni_slice_urn in AM API v3: use Describe for a slice',
    );
  matchRspecVersion(options.rspecVersion);
  const key = `${options.available}|${options.listLeases}`;
  let cache = adCache.get(ctx);
  if (!cache) adCache.set(ctx, (cache = new Map()));
  const hit = cache.get(key);
  if (hit && options.cached && ctx.adCacheMs > 0 && caller.now.getTime() - hit.at <= ctx.adCacheMs)
    return ok(compressIfAsked(hit.answer['value'] as string, options.compressed), {
      [STATS]: hit.answer[STATS]!,
    });
  const aggs = targets(ctx, caller, raw);
  const relayOptions = { ...optionsOut(ctx, raw, caller), geni_compressed: false };
  const outcomes = await relayAll(
    aggs,
    'ListResources',
    () => [ctx.credentials.authority(caller.now), relayOptions],
    ctx.identity,
    ctx.timeoutMs,
    ctx.relayStats,
  );
  const rspec = mergeRspecs({
    type: 'advertisement',
    parts: outcomes.map((o) => ({
      outcome: o,
      rspec: typeof o.value === 'string' ? o.value : undefined,
      urn: aggregateUrn(o.aggregate),
    })),
    now: caller.now,
    expires: new Date(caller.now.getTime() + AD_LIFETIME_MS),
  });
  const answer: XmlRpcStruct = { value: rspec, [STATS]: statsField(outcomes) };
  if (outcomes.every((o) => o.code === 0)) cache.set(key, { at: caller.now.getTime(), answer });
  return partial(compressIfAsked(rspec, options.compressed), outcomes, true);
}

/** `geni_compressed`: the merged ad as zlib + base64, as an aggregate answers it. */
function compressIfAsked(rspec: string, compressed: boolean): string {
  return compressed ? deflateSync(rspec).toString('base64') : rspec;
}

const OPERATIONS: Record<string, string> = {
  Describe: 'getsliceresources',
  Provision: 'createsliver',
  Status: 'sliverstatus',
  Delete: 'deleteslice',
  Renew: 'renewsliver',
  PerformOperationalAction: 'createsliver',
  Shutdown: 'shutdown',
};

/** What a call on a slice or its slivers acts on, checked, and where it goes. */
interface SliceTargets {
  readonly slice: string;
  /** The caller's credential for the slice, allowing the method's operation. */
  readonly cred: VerifiedCredential;
  readonly aggs: Aggregate[];
  /** The URNs each aggregate is sent: the slice URN if named, and the slivers it issued. */
  readonly urnsFor: (a: Aggregate) => string[];
  /** Does the call name slivers? Then an aggregate's SEARCHFAILED means one is not there. */
  readonly namesSlivers: boolean;
}

/**
 * The slice is the slice URN named or, when only slivers are named (sfi sends them alone), the
 * one the caller's slice credential is for; each aggregate checks that the slivers it is sent
 * belong to that slice. Slivers go only to the aggregates that issued them; a call naming only
 * the slice goes to every aggregate.
 */
function sliceAndTargets(
  ctx: SmContext,
  caller: AmCaller,
  method: string,
  params: XmlRpcValue[],
  options: AmOptions,
  raw: XmlRpcStruct,
): SliceTargets {
  const urns = method === 'Shutdown' ? [readSliceUrn(params[0])] : readUrns(params[0]);
  const { slice: named, slivers } = routeUrns(urns, ctx.aggregates());
  const auth = {
    credentials: params[1]!,
    operation: OPERATIONS[method]!,
    speakingFor: options.speakingFor,
    verifier: ctx.verifier,
    trust: ctx.trust,
  };
  const cred = named
    ? authorizeAm(caller, { ...auth, sliceUrn: named })
    : sliceCredential(caller, auth);
  const slice = named ?? cred.targetUrn;
  if (slivers.size === 0) {
    return {
      slice,
      cred,
      aggs: targets(ctx, caller, raw),
      urnsFor: () => urns,
      namesSlivers: false,
    };
  }
  const wanted = new Set(slivers.values());
  const aggs = targets(ctx, caller, raw, wanted);
  for (const hrn of wanted) {
    if (!aggs.some((a) => a.hrn.toLowerCase() === hrn)) {
      const urn = [...slivers].find(([, h]) => h === hrn)![0];
      throw new BadArgs(
        `sliver ${urn} is at aggregate ${hrn}, and this call came from there: ask that aggregate directly`,
      );
    }
  }
  return {
    slice,
    cred,
    aggs,
    urnsFor: (a) =>
      urns.filter((u) => {
        const hrn = slivers.get(u);
        return hrn === undefined || hrn === a.hrn.toLowerCase();
      }),
    namesSlivers: true,
  };
}

async function sliceCall(
  ctx: SmContext,
  caller: AmCaller,
  method: string,
  params: XmlRpcValue[],
  options: AmOptions,
  raw: XmlRpcStruct,
): Promise<Answer> {
  const { slice, cred, aggs, urnsFor, namesSlivers } = sliceAndTargets(
    ctx,
    caller,
    method,
    params,
    options,
    raw,
  );
  if (method === 'Describe' || method === 'Provision') matchRspecVersion(options.rspecVersion);
  const relayCreds = ctx.credentials.forSlice(params[1]!, cred, caller.now);
  if (!relayCreds) {
    throw new GeniFaultFor(
      `slice ${slice} is not under ${ctx.authority}: delegate your slice credential to ${ctx.identity.gid.urn} (sfi -d) to use it through this slice manager`,
    );
  }
  const out = optionsOut(ctx, raw, caller);
  const paramsFor = (a: Aggregate): XmlRpcWritable[] => {
    const mine = urnsFor(a);
    switch (method) {
      case 'Renew':
      case 'PerformOperationalAction':
        return [mine, relayCreds, params[2] ?? '', out];
      case 'Shutdown':
        return [slice, relayCreds, out];
      default:
        return [mine, relayCreds, out];
    }
  };
  const outcomes = await relayAll(
    aggs,
    method,
    paramsFor,
    ctx.identity,
    ctx.timeoutMs,
    ctx.relayStats,
  );
  // Asked about the whole slice, an aggregate where it has nothing answers SEARCHFAILED: not a
  // failure here. Asked about slivers it issued, SEARCHFAILED says one is not there (unless
  // another aggregate of the same authority answered for them).
  const answered = (o: RelayOutcome) =>
    outcomes.some(
      (p) =>
        p !== o && p.code === 0 && p.aggregate.hrn.toLowerCase() === o.aggregate.hrn.toLowerCase(),
    );
  const relevant = outcomes.map((o) =>
    o.code === 12 && (!namesSlivers || answered(o))
      ? { ...o, code: 0, message: '', value: undefined }
      : o,
  );
  const values = relevant.filter((o) => o.code === 0 && o.value !== undefined).map((o) => o.value!);
  const readOnly = method === 'Describe' || method === 'Status';
  switch (method) {
    case 'Describe':
    case 'Provision': {
      const rspec = mergeRspecs({
        type: 'manifest',
        parts: relevant.map((o) => ({
          outcome: o,
          rspec:
            typeof (o.value as XmlRpcStruct | undefined)?.['geni_rspec'] === 'string'
              ? ((o.value as XmlRpcStruct)['geni_rspec'] as string)
              : undefined,
          urn: aggregateUrn(o.aggregate),
        })),
        now: caller.now,
        expires: cred.expires,
      });
      const slivers = values.flatMap(
        (v) => ((v as XmlRpcStruct)['geni_slivers'] as XmlRpcValue[] | undefined) ?? [],
      );
      return partial(
        { geni_rspec: rspec, geni_urn: slice, geni_slivers: slivers },
        relevant,
        readOnly,
      );
    }
    case 'Status': {
      const slivers = values.flatMap(
        (v) => ((v as XmlRpcStruct)['geni_slivers'] as XmlRpcValue[] | undefined) ?? [],
      );
      return partial({ geni_urn: slice, geni_slivers: slivers }, relevant, true);
    }
    case 'Shutdown':
      return partial(
        relevant.every((o) => o.code === 0),
        relevant,
        false,
      );
    default:
      return partial(
        values.flatMap((v) => (Array.isArray(v) ? v : [])),
        relevant,
        false,
      );
  }
}

/** FORBIDDEN with a message: the slice manager cannot speak for this slice at the peers. */
class GeniFaultFor extends GeniFault {
  readonly fault = 'FORBIDDEN';
}

/**
 * Allocate through the slice manager stays all-or-nothing: the request is split by aggregate;
 * if one refuses, what the others granted in this call is deleted again, and the error names
 * the aggregate and its reason.
 */
async function allocate(
  ctx: SmContext,
  caller: AmCaller,
  params: XmlRpcValue[],
  options: AmOptions,
  raw: XmlRpcStruct,
): Promise<Answer> {
  const slice = readSliceUrn(params[0]);
  const cred = authorizeAm(caller, {
    credentials: params[1]!,
    operation: 'createsliver',
    speakingFor: options.speakingFor,
    sliceUrn: slice,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  const all = targets(ctx, caller, raw);
  const byHrn = new Map(all.map((a) => [a.hrn.toLowerCase(), a]));
  const parts = splitRequest(
    typeof params[2] === 'string' ? params[2] : '',
    ctx.authority,
    new Set(byHrn.keys()),
  );
  const relayCreds = ctx.credentials.forSlice(params[1]!, cred, caller.now);
  if (!relayCreds) {
    throw new GeniFaultFor(
      `slice ${slice} is not under ${ctx.authority}: delegate your slice credential to ${ctx.identity.gid.urn} (sfi -d) to use it through this slice manager`,
    );
  }
  const out = optionsOut(ctx, raw, caller);
  const aggs = [...parts.keys()].map((h) => byHrn.get(h)!);
  const outcomes = await relayAll(
    aggs,
    'Allocate',
    (a) => [slice, relayCreds, parts.get(a.hrn.toLowerCase())!, out],
    ctx.identity,
    ctx.timeoutMs,
    ctx.relayStats,
  );
  const failed = outcomes.filter((o) => o.code !== 0);
  if (failed.length > 0) {
    // Undo what the others granted in this call.
    const granted = outcomes.filter((o) => o.code === 0);
    await Promise.all(
      granted.map((o) => {
        const urns = (((o.value as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[]) ?? [])
          .map((s) => s['geni_sliver_urn'] as string)
          .filter((u) => isUrn(u));
        return urns.length
          ? relayOne(
              o.aggregate,
              'Delete',
              [urns, relayCreds, out],
              ctx.identity,
              ctx.timeoutMs,
              ctx.relayStats,
            )
          : Promise.resolve(undefined);
      }),
    );
    const first = failed[0]!;
    // Each message already names its aggregate once ("plj: node … is held …"): no other prefix.
    const message =
      `Allocate refused by ${failed.map((f) => f.message).join('; ')}` +
      (granted.length
        ? ` (what ${granted.map((g) => g.aggregate.hrn).join(', ')} granted was released)`
        : '');
    const fault = new GeniFaultCode(first.code, message);
    return {
      answer: {
        ...amFailure(3, 'Allocate', fault),
        // The message starts with "Allocate refused by": no second "Allocate: " before it.
        output: fault.message,
        [STATS]: statsField(outcomes),
      },
      code: first.code,
      message: fault.message,
    };
  }
  const rspec = mergeRspecs({
    type: 'manifest',
    parts: outcomes.map((o) => ({
      outcome: o,
      rspec: (o.value as XmlRpcStruct)['geni_rspec'] as string,
      urn: aggregateUrn(o.aggregate),
    })),
    now: caller.now,
    expires: cred.expires,
  });
  const slivers = outcomes.flatMap(
    (o) => ((o.value as XmlRpcStruct)['geni_slivers'] as XmlRpcValue[]) ?? [],
  );
  return ok({ geni_rspec: rspec, geni_slivers: slivers }, { [STATS]: statsField(outcomes) });
}

/** A fault carrying an aggregate's own code through the slice manager. */
class GeniFaultCode extends GeniFault {
  readonly fault = 'ERROR';
  constructor(
    private readonly code: number,
    message: string,
  ) {
    super(message);
  }
  override get geniCode(): number {
    return this.code;
  }
}
