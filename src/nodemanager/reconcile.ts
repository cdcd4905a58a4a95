/**
 * The node manager's planner: from what the aggregate wants on this node (the GetSlivers answer),
 * what the runtime has (its container list and the slivers' data folders) and the time, the
 * actions that make the node match. Pure: no disk, no runtime, no clock of its own.
 *
 * Rules:
 * - a sliver absent from the answer (deleted) or expired at `now` loses its container and its
 *   writable data;
 * - a sliver runs when its desired state is `started` and, on an exclusive node that has leases,
 *   when one of its leases (by sliver or slice URN) is current; otherwise it is stopped;
 * - a container that runs and should run is never touched (a restarted node manager adopts it);
 *   a stopped container that should run is made again (runc cannot restart a stopped init), its
 *   writable data kept;
 * - a bad entry (unknown `vref`, absurd `cpu_share`, `cpu_cores`, `memory_max` or `pids_max`
 *   (sliver-spec.ts), a login name that cannot name a container) fails that sliver alone, with
 *   the reason; the others go on.
 */
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { MAX_CPU_SHARE } from './runtime/bundle.js';
import type { ContainerInfo } from './runtime/runtime.js';
import { limitsProblem } from './sliver-spec.js';

/** One sliver as GetSlivers describes it (the fields the node manager uses). */
export interface SliverEntry {
  sliverUrn: string;
  sliceUrn: string;
  sliceHrn: string;
  loginName: string;
  keys: string[];
  attributes: { name: string; value: string; source: string }[];
  initscripts: string[];
  vref?: string;
  cpuShare: number;
  desiredState: 'started' | 'stopped';
  /** RFC 3339. */
  expires: string;
  /** The ports the aggregate granted the slice on this node (forwarded to the sliver). */
  ports: PortGrant[];
}

/** A granted port range (`from`–`to`, inclusive) of one protocol. */
export interface PortGrant {
  proto: 'tcp' | 'udp';
  from: number;
  to: number;
}

export interface LeaseEntry {
  sliceUrn: string;
  sliverUrn: string;
  start: string;
  end: string;
}

/** A GetSlivers answer, checked and typed. */
export interface SliversAnswer {
  node: { hostname: string; urn: string; exclusive: boolean };
  generation: number;
  /** The aggregate's clock when it answered (RFC 3339). */
  now: string;
  slivers: SliverEntry[];
  leases: LeaseEntry[];
}

/** An answer that is not what GetSlivers gives; the message names the field. */
export class AnswerError extends Error {
  override readonly name = 'AnswerError';
}

/** Container names (runtime.ts's rule): the sliver's login name. */
const CONTAINER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    !(v instanceof Date) &&
    !Buffer.isBuffer(v)
  );
}

function str(s: XmlRpcStruct, key: string, at: string): string {
  const v = s[key];
  if (typeof v !== 'string') throw new AnswerError(`${at}.${key} must be a string`);
  return v;
}

function list(s: XmlRpcStruct, key: string, at: string): XmlRpcValue[] {
  const v = s[key] ?? [];
  if (!Array.isArray(v)) throw new AnswerError(`${at}.${key} must be an array`);
  return v;
}

/**
 * Read a GetSlivers answer. The answer as a whole must have its shape (else AnswerError); a
 * sliver's values are checked later, by {@link plan}, so that one bad sliver fails alone.
 */
export function parseAnswer(v: XmlRpcValue): SliversAnswer {
  if (!isStruct(v)) throw new AnswerError('the GetSlivers answer must be a struct');
  const node = v['node'];
  if (!isStruct(node)) throw new AnswerError('GetSlivers answer.node must be a struct');
  const generation = v['generation'];
  if (typeof generation !== 'number' || !Number.isSafeInteger(generation))
    throw new AnswerError('GetSlivers answer.generation must be an integer');
  const now = str(v, 'now', 'answer');
  if (Number.isNaN(Date.parse(now))) throw new AnswerError(`answer.now is not a time: ${now}`);
  const slivers = list(v, 'slivers', 'answer').map((item, i): SliverEntry => {
    const at = `answer.slivers[${i}]`;
    if (!isStruct(item)) throw new AnswerError(`${at} must be a struct`);
    const attrs = list(item, 'attributes', at).flatMap((a) =>
      isStruct(a) && typeof a['name'] === 'string'
        ? [{ name: a['name'], value: String(a['value'] ?? ''), source: String(a['source'] ?? '') }]
        : [],
    );
    const vref = item['vref'];
    const share = item['cpu_share'];
    return {
      sliverUrn: str(item, 'sliver_urn', at),
      sliceUrn: str(item, 'slice_urn', at),
      sliceHrn: typeof item['slice_hrn'] === 'string' ? item['slice_hrn'] : '',
      loginName: str(item, 'login_name', at),
      keys: list(item, 'keys', at).filter((k): k is string => typeof k === 'string'),
      attributes: attrs,
      initscripts: list(item, 'initscripts', at).filter((k): k is string => typeof k === 'string'),
      ...(typeof vref === 'string' && vref !== '' ? { vref } : {}),
      cpuShare: typeof share === 'number' ? share : Number(share ?? 1),
      desiredState: item['desired_state'] === 'stopped' ? 'stopped' : 'started',
      expires: str(item, 'expires', at),
      ports: list(item, 'ports', at).flatMap((p): PortGrant[] => {
        if (!isStruct(p)) return [];
        const { proto, from, to } = p;
        const port = (n: unknown): n is number =>
          Number.isInteger(n) && (n as number) >= 1 && (n as number) <= 65535;
        return (proto === 'tcp' || proto === 'udp') && port(from) && port(to) && from <= to
          ? [{ proto, from, to }]
          : [];
      }),
    };
  });
  const leases = list(v, 'leases', 'answer').flatMap((item): LeaseEntry[] =>
    isStruct(item)
      ? [
          {
            sliceUrn: String(item['slice_urn'] ?? ''),
            sliverUrn: String(item['sliver_urn'] ?? ''),
            start: String(item['start'] ?? ''),
            end: String(item['end'] ?? ''),
          },
        ]
      : [],
  );
  return {
    node: {
      hostname: typeof node['hostname'] === 'string' ? node['hostname'] : '',
      urn: typeof node['urn'] === 'string' ? node['urn'] : '',
      exclusive: node['exclusive'] === true,
    },
    generation,
    now,
    slivers,
    leases,
  };
}

export type Action =
  /** Make the container (its writable folders too) and start it when `start`. */
  | { kind: 'create'; name: string; sliver: SliverEntry; start: boolean }
  /** Start a created (not yet started) container. */
  | { kind: 'start'; name: string; sliverUrn: string }
  /** Remove a stopped container, keeping its data, then make and start it again. */
  | { kind: 'recreate'; name: string; sliver: SliverEntry }
  | { kind: 'stop'; name: string; sliverUrn: string }
  /** Remove the container and the sliver's writable data. */
  | { kind: 'delete'; name: string; reason: string };

export interface PlanInput {
  answer: SliversAnswer;
  /** The runtime's containers of this node. */
  containers: readonly ContainerInfo[];
  /** Names of the slivers that have writable data on the node (whether a container exists or not). */
  dataNames: readonly string[];
  /** Which sliver (URN) each name was made for, when known: a new sliver under an old name starts afresh. */
  owners?: Readonly<Record<string, string>>;
  now: Date;
  /** Extra checks of an entry (e.g. that its `vref` is an image of this node): the reason it is bad. */
  check?: (sliver: SliverEntry) => string | undefined;
}

export interface PlannedSliver {
  name: string;
  sliver: SliverEntry;
  /** Should it run now? */
  run: boolean;
}

export interface Plan {
  actions: Action[];
  /** The slivers the node keeps, with whether each should run. */
  slivers: PlannedSliver[];
  /** Entries that cannot be realized, with the reason (reported `failed`). */
  failed: { sliverUrn: string; name: string; error: string }[];
}

/** Why an entry cannot be realized, or undefined when it can. */
export function entryProblem(s: SliverEntry): string | undefined {
  if (!CONTAINER_NAME.test(s.loginName))
    return `login name ${JSON.stringify(s.loginName)} cannot name a container`;
  if (!Number.isFinite(s.cpuShare) || s.cpuShare <= 0 || s.cpuShare > MAX_CPU_SHARE)
    return `cpu_share must be a number above 0 and at most ${MAX_CPU_SHARE}, not ${s.cpuShare}`;
  if (Number.isNaN(Date.parse(s.expires))) return `expires is not a time: ${s.expires}`;
  return limitsProblem(s.attributes);
}

function leaseCurrent(l: LeaseEntry, s: SliverEntry, now: number): boolean {
  const start = Date.parse(l.start);
  const end = Date.parse(l.end);
  const mine = l.sliverUrn === s.sliverUrn || (l.sliverUrn === '' && l.sliceUrn === s.sliceUrn);
  return mine && start <= now && now < end;
}

/** The actions that bring the node to what `input.answer` asks, at `input.now`. */
export function plan(input: PlanInput): Plan {
  const now = input.now.getTime();
  const { answer } = input;
  const byName = new Map(input.containers.map((c) => [c.name, c]));
  const actions: Action[] = [];
  const failed: Plan['failed'] = [];
  const kept: PlannedSliver[] = [];
  const keep = new Set<string>();
  const gated = answer.node.exclusive && answer.leases.length > 0;

  for (const s of answer.slivers) {
    const expires = Date.parse(s.expires);
    if (!Number.isNaN(expires) && expires <= now) continue; // Expired: removed below.
    const problem = entryProblem(s) ?? input.check?.(s);
    if (problem === undefined && keep.has(s.loginName)) {
      failed.push({
        sliverUrn: s.sliverUrn,
        name: s.loginName,
        error: `another sliver on this node has the login name ${s.loginName}`,
      });
      continue;
    }
    if (problem !== undefined) {
      failed.push({ sliverUrn: s.sliverUrn, name: s.loginName, error: problem });
      // Its container and data stay as they are: the entry may be fixed on the aggregate.
      if (CONTAINER_NAME.test(s.loginName)) keep.add(s.loginName);
      continue;
    }
    const name = s.loginName;
    keep.add(name);
    const run =
      s.desiredState === 'started' &&
      (!gated || answer.leases.some((l) => leaseCurrent(l, s, now)));
    kept.push({ name, sliver: s, run });
    const c = byName.get(name);
    const owner = input.owners?.[name];
    if (owner !== undefined && owner !== s.sliverUrn && (c || input.dataNames.includes(name))) {
      // Same login name, another sliver (the slice was deleted and made again): start afresh.
      actions.push({ kind: 'delete', name, reason: `replaced by ${s.sliverUrn}` });
      if (run) actions.push({ kind: 'create', name, sliver: s, start: true });
      continue;
    }
    if (!c) {
      if (run) actions.push({ kind: 'create', name, sliver: s, start: true });
    } else if (c.status === 'running' || c.status === 'paused') {
      if (!run) actions.push({ kind: 'stop', name, sliverUrn: s.sliverUrn });
    } else if (c.status === 'created') {
      if (run) actions.push({ kind: 'start', name, sliverUrn: s.sliverUrn });
    } else if (run) {
      actions.push({ kind: 'recreate', name, sliver: s });
    }
  }

  const gone = new Set([...input.containers.map((c) => c.name), ...input.dataNames]);
  for (const name of [...gone].sort()) {
    if (keep.has(name)) continue;
    const entry = answer.slivers.find((s) => s.loginName === name);
    actions.push({
      kind: 'delete',
      name,
      reason: entry ? `expired at ${entry.expires}` : 'no longer provisioned on this node',
    });
  }
  // Deletions first: they free login names, uid ranges and cores for what is made next.
  const order = (a: Action): number => (a.kind === 'delete' ? 0 : 1);
  actions.sort((a, b) => order(a) - order(b));
  return { actions, slivers: kept, failed };
}
