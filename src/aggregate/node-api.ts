/**
 * The node API: what a node's agent (the node manager) calls on the aggregate's port, at path
 * `/node`, with its node GID as TLS client certificate. Each node asks about itself only: no
 * argument names a node.
 *
 *   GetSlivers(options?)      → {node, generation, now, slivers, leases}
 *     options.generation      the generation the node last saw
 *     options.wait_seconds    when nothing changed since it, wait up to this long (≤ 60)
 *     options.epoch           the answer's `epoch` (the node's record): with if_changed
 *     options.if_changed      true: when nothing changed since it (after the wait), answer
 *                             only {generation, now, unchanged: true}: the node keeps using the
 *                             answer it has (700 slivers are ~1 MB of XML, each idle poll)
 *   ReportNodeStatus(report)  → {accepted, next_report_seconds, unknown_slivers}
 *     report                  {load_average, memory_total, memory_free, uptime, slivers}
 *     report.slivers[i]       {sliver_urn, state (running | stopped | failed), error?,
 *                             cpu_seconds?, memory_bytes?, bytes_in?, bytes_out?,
 *                             packets_in?, packets_out?}: counters are numbers ≥ 0; Status
 *                             shows each sliver's last ones (sfa_ts_… keys), the ad and
 *                             `sfa node inventory` the node's sums of bytes and packets
 *
 * Errors are XML-RPC faults whose code is the GENI code and whose string names the method and
 * what to fix; internals go to the log only.
 */
import { BadArgs, Forbidden, GeniFault, ServerError, Unsupported } from '../faults.js';
import { verifyChain } from '../credentials/chain.js';
import { Gid } from '../credentials/gid.js';
import { formatRfc3339 } from '../credentials/time.js';
import { storageFault } from '../store/storage-fault.js';
import { REALIZED_STATES, type NodeRow, type RealizedState } from '../store/aggregate-store.js';
import { logText, quote } from '../text.js';
import { XmlRpcFault } from '../xmlrpc/errors.js';
import type { XmlRpcStruct, XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';
import type { AmContext } from './context.js';
import {
  REPORT_INTERVAL_SECONDS,
  type NodeSliver,
  type SliverReportInput,
} from './engine/engine.js';
import type { NodeChanges } from './node-changes.js';

/** The longest a GetSlivers call waits (longer asks are cut to this). */
export const MAX_WAIT_SECONDS = 60;
/** How often a node should report (ReportNodeStatus answers it; silence is counted in it). */
export const NEXT_REPORT_SECONDS = REPORT_INTERVAL_SECONDS;
/** Bounds on a report: sliver lines, and the length of one error message. */
const MAX_REPORTED_SLIVERS = 10_000;
const MAX_ERROR_LENGTH = 2_000;

/** Is `path` the node API's? */
export function isNodePath(path: string): boolean {
  return /^\/node\/?$/i.test(path);
}

export interface NodeCaller {
  peerCertPem: string | undefined;
  peerChainPem?: string | undefined;
  now: Date;
}

export interface NodeAnswer {
  /** The value to answer, or the fault to answer with. */
  readonly result: { value: XmlRpcWritable } | { fault: XmlRpcFault };
  /** The GENI code, for the log. */
  readonly code: number;
  readonly message?: string;
  /** The caller's node, once known (for the log). */
  readonly node?: string;
}

const CREDENTIALS_HINT =
  'a node calls with its own GID and key: run `sfa node credentials HOST --out NODEDIR` on the authority and start the node manager with that folder';

/**
 * The node the TLS caller is: its certificate must be a node GID chaining to a trusted root at
 * `now`, for a node of this aggregate's inventory.
 * @throws Forbidden or CredentialSignerUntrusted / CredentialExpired, saying what to fix.
 */
export function authenticateNode(ctx: AmContext, caller: NodeCaller): NodeRow {
  if (!caller.peerCertPem) {
    throw new Forbidden(
      `the node API needs the node's GID as TLS client certificate, and none was presented; ${CREDENTIALS_HINT}`,
    );
  }
  let gid: Gid;
  try {
    gid = Gid.fromPem(caller.peerChainPem ?? caller.peerCertPem);
  } catch {
    throw new Forbidden(`the TLS client certificate is not a GID; ${CREDENTIALS_HINT}`);
  }
  try {
    verifyChain(gid, [], ctx.trust, caller.now, ctx.verifier.certificates);
  } catch (e) {
    if (e instanceof GeniFault) {
      const Fault = e.constructor as new (message: string) => GeniFault;
      throw new Fault(`${e.message}; ${CREDENTIALS_HINT}`);
    }
    throw e;
  }
  if (gid.type !== 'node') {
    throw new Forbidden(
      `only nodes may call the node API, and the TLS client certificate is ${gid.urn ? `the ${gid.type} ${gid.urn}` : `CN=${gid.subjectCN}`}; ${CREDENTIALS_HINT}`,
    );
  }
  const node = ctx.engine.nodeByUrn(gid.urn);
  if (!node) {
    throw new Forbidden(
      `node ${gid.urn} is not in this aggregate's inventory: add it on the authority (sfa node add …), or check the node's GID is for the right host`,
    );
  }
  return node;
}

// ---- Arguments ----

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    !Buffer.isBuffer(v)
  );
}

function requireStruct(v: XmlRpcValue | undefined, what: string): XmlRpcStruct {
  if (!isStruct(v)) throw new BadArgs(`${what} must be a struct, not ${quote(v)}`);
  return v;
}

/** A finite number ≥ 0 (int or double). */
function requireCount(v: XmlRpcValue | undefined, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
    throw new BadArgs(`${what} must be a number ≥ 0, not ${quote(v)}`);
  }
  return v;
}

function optionalCount(v: XmlRpcValue | undefined, what: string): number | undefined {
  return v === undefined ? undefined : requireCount(v, what);
}

function checkParamCount(method: string, params: readonly XmlRpcValue[], max: number, min = 0) {
  if (params.length < min || params.length > max) {
    const takes = min === max ? `${max}` : `${min} to ${max}`;
    throw new BadArgs(`${method} takes ${takes} argument(s), not ${params.length}`);
  }
}

interface GetSliversOptions {
  generation?: number;
  waitSeconds: number;
  ifChanged: boolean;
  epoch?: number;
}

function readGetSliversOptions(v: XmlRpcValue | undefined): GetSliversOptions {
  if (v === undefined) return { waitSeconds: 0, ifChanged: false };
  const o = requireStruct(v, 'options');
  const g = o['generation'];
  if (g !== undefined && (typeof g !== 'number' || !Number.isSafeInteger(g) || g < 0)) {
    throw new BadArgs(
      `options.generation must be the integer generation of an earlier answer, not ${quote(g)}`,
    );
  }
  const w = optionalCount(o['wait_seconds'], 'options.wait_seconds') ?? 0;
  const ifChanged = o['if_changed'] ?? false;
  if (typeof ifChanged !== 'boolean') {
    throw new BadArgs(`options.if_changed must be a boolean, not ${quote(ifChanged)}`);
  }
  if (ifChanged && g === undefined) {
    throw new BadArgs('options.if_changed needs options.generation (the generation the node has)');
  }
  const epoch = optionalCount(o['epoch'], 'options.epoch');
  return {
    ...(g === undefined ? {} : { generation: g }),
    waitSeconds: Math.min(w, MAX_WAIT_SECONDS),
    ifChanged,
    ...(epoch === undefined ? {} : { epoch }),
  };
}

function readReport(v: XmlRpcValue | undefined) {
  const r = requireStruct(v, 'report');
  const list = r['slivers'] ?? [];
  if (!Array.isArray(list))
    throw new BadArgs(`report.slivers must be an array, not ${quote(list)}`);
  if (list.length > MAX_REPORTED_SLIVERS) {
    throw new BadArgs(
      `report.slivers has ${list.length} entries; at most ${MAX_REPORTED_SLIVERS} are taken`,
    );
  }
  const slivers = list.map((item, i): SliverReportInput => {
    const at = `report.slivers[${i}]`;
    const s = requireStruct(item, at);
    const urn = s['sliver_urn'];
    if (typeof urn !== 'string' || urn === '') {
      throw new BadArgs(`${at}.sliver_urn must be a sliver URN string, not ${quote(urn)}`);
    }
    const state = s['state'];
    if (typeof state !== 'string' || !(REALIZED_STATES as readonly string[]).includes(state)) {
      throw new BadArgs(
        `${at}.state must be one of ${REALIZED_STATES.join(', ')}, not ${quote(state)}`,
      );
    }
    const error = s['error'];
    if (error !== undefined && typeof error !== 'string') {
      throw new BadArgs(`${at}.error must be a string, not ${quote(error)}`);
    }
    const counters = {
      cpuSeconds: optionalCount(s['cpu_seconds'], `${at}.cpu_seconds`),
      memoryBytes: optionalCount(s['memory_bytes'], `${at}.memory_bytes`),
      bytesIn: optionalCount(s['bytes_in'], `${at}.bytes_in`),
      bytesOut: optionalCount(s['bytes_out'], `${at}.bytes_out`),
      packetsIn: optionalCount(s['packets_in'], `${at}.packets_in`),
      packetsOut: optionalCount(s['packets_out'], `${at}.packets_out`),
    };
    return {
      sliverUrn: urn,
      state: state as RealizedState,
      ...(error === undefined || error === '' ? {} : { error: error.slice(0, MAX_ERROR_LENGTH) }),
      ...Object.fromEntries(Object.entries(counters).filter(([, c]) => c !== undefined)),
    };
  });
  const memoryTotal = requireCount(r['memory_total'], 'report.memory_total');
  const memoryFree = requireCount(r['memory_free'], 'report.memory_free');
  if (memoryFree > memoryTotal) {
    throw new BadArgs(
      `report.memory_free (${memoryFree}) is more than report.memory_total (${memoryTotal})`,
    );
  }
  return {
    loadAverage: requireCount(r['load_average'], 'report.load_average'),
    memoryTotal,
    memoryFree,
    uptime: requireCount(r['uptime'], 'report.uptime'),
    slivers,
  };
}

// ---- Answers ----

/**
 * Started or stopped, as the researcher last asked (Provision, geni_start / geni_stop): stored
 * apart from the state shown, which on a managed node follows this node's own reports.
 */
const desiredState = (s: NodeSliver): 'started' | 'stopped' => s.info.desiredState;

function sliverValue(s: NodeSliver): XmlRpcStruct {
  const { info } = s;
  const vref = info.attributes.find((a) => a.name === 'vref');
  const keys = [...new Set(s.users.flatMap((u) => u.keys))];
  return {
    sliver_urn: info.urn,
    client_id: info.clientId,
    slice_urn: info.sliceUrn,
    slice_hrn: s.sliceHrn,
    login_name: info.loginName,
    users: s.users.map((u) => ({ urn: u.urn, keys: [...u.keys] })),
    keys,
    attributes: info.attributes.map((a) => ({ name: a.name, value: a.value, source: a.source })),
    initscripts: [...info.initscripts],
    ...(vref ? { vref: vref.value } : {}),
    cpu_share: info.cpuShare,
    ports: info.ports.map((p) => ({ proto: p.proto, from: p.from, to: p.to })),
    desired_state: desiredState(s),
    expires: formatRfc3339(info.expires),
  };
}

async function getSlivers(
  ctx: AmContext,
  changes: NodeChanges,
  node: NodeRow,
  params: readonly XmlRpcValue[],
  clock: () => Date,
): Promise<XmlRpcStruct> {
  checkParamCount('GetSlivers', params, 1);
  const options = readGetSliversOptions(params[0]);
  if (options.generation !== undefined && options.waitSeconds > 0) {
    await changes.wait(node.id, options.generation, options.waitSeconds * 1000);
  }
  const now = clock();
  // Generations count from 0 again for a node removed and added anew: `epoch` (its row)
  // tells the two apart, so an answer of the old node is never confirmed for the new one.
  const sameNode = options.epoch === undefined || options.epoch === node.id;
  if (options.ifChanged && sameNode && ctx.engine.nodeGeneration(node.id) === options.generation) {
    return {
      generation: options.generation,
      epoch: node.id,
      now: formatRfc3339(now),
      unchanged: true,
    };
  }
  const view = ctx.engine.nodeSlivers(node.id, now);
  return {
    node: {
      hostname: view.node.hostname,
      urn: view.node.urn,
      hrn: view.node.hrn,
      site: view.node.site,
      exclusive: view.node.exclusive,
    },
    generation: view.generation,
    epoch: node.id,
    now: formatRfc3339(now),
    slivers: view.slivers.map(sliverValue),
    leases: view.leases.map((l) => ({
      slice_urn: l.sliceUrn,
      sliver_urn: l.sliverUrn,
      kind: l.kind,
      start: formatRfc3339(l.start),
      end: formatRfc3339(l.end),
    })),
  };
}

function reportNodeStatus(
  ctx: AmContext,
  node: NodeRow,
  params: readonly XmlRpcValue[],
  now: Date,
): XmlRpcStruct {
  checkParamCount('ReportNodeStatus', params, 1, 1);
  const report = readReport(params[0]);
  const { unknown, cameBack } = ctx.engine.recordNodeReport(node.id, report, now);
  // A node that is managed for the first time, or reports after a silence, is available again:
  // a cached ad would hide it. Other changes (load, reliability) may wait for the cache's TTL,
  // or every report of every node would empty the cache.
  if (cameBack) ctx.ads.invalidate();
  return { accepted: true, next_report_seconds: NEXT_REPORT_SECONDS, unknown_slivers: unknown };
}

const METHODS = ['GetSlivers', 'ReportNodeStatus'] as const;

/**
 * Answer one node API call. Never throws: faults come back as `result.fault`, and unexpected
 * errors are logged and answered as SERVERERROR without their details.
 */
export async function callNodeApi(
  ctx: AmContext,
  changes: NodeChanges,
  caller: NodeCaller,
  method: string,
  params: readonly XmlRpcValue[],
  clock: () => Date,
  log: (line: string) => void,
): Promise<NodeAnswer> {
  let node: NodeRow | undefined;
  try {
    if (!(METHODS as readonly string[]).includes(method)) {
      throw new Unsupported(
        `${method} is not a method of the node API; it has ${METHODS.join(', ')}`,
      );
    }
    node = authenticateNode(ctx, caller);
    const value =
      method === 'GetSlivers'
        ? await getSlivers(ctx, changes, node, params, clock)
        : reportNodeStatus(ctx, node, params, caller.now);
    return { result: { value }, code: 0, node: node.urn };
  } catch (e) {
    let fault = e instanceof GeniFault ? e : storageFault(e);
    if (!fault) {
      log(`aggregate/node ${logText(method, 80)}: internal error: ${(e as Error).stack ?? e}`);
      fault = new ServerError(
        'internal error; the operator can find the details in the aggregate log',
      );
    } else if (fault !== e) {
      log(`aggregate/node ${logText(method, 80)}: ${logText((e as Error).message, 500)}`);
    }
    return {
      result: { fault: new XmlRpcFault(fault.geniCode, `${method}: ${fault.message}`) },
      code: fault.geniCode,
      message: fault.message,
      ...(node ? { node: node.urn } : {}),
    };
  }
}
