/**
 * The node manager (`sfa nodemanager`): one pass asks the aggregate what the node must run
 * (GetSlivers, over HTTPS with the node's key and GID, the aggregate's certificate checked
 * against root.gid), keeps the answer on disk, plans (reconcile.ts), applies the plan through the
 * container runtime and reports the node's status (ReportNodeStatus).
 *
 * NODEDIR holds, besides what `sfa node credentials` wrote:
 * - `state/last-slivers.json`: the last answer and when it came (local clock); when the
 *   aggregate cannot be reached, the pass plans from it, so expiry is enforced offline (the
 *   aggregate's clock is advanced by the local time elapsed since);
 * - `state/uids.json`: the agent's per-sliver state, by sliver name: its uid range index (host
 *   uid base + 65536 × index), the sliver URN it was made for, the cores reserved for it
 *   (`cpu_cores`) and its initscript's outcome (so the script runs once: initscript.ts);
 * - `runc/` (runc's --root), `bundles/`, `slivers/<name>/{home,var,tmp}` (writable data),
 *   `images/` (base images; default, see --images-dir).
 * NODEDIR and `slivers/` are made searchable by others (o+x): a sliver's mapped root mounts its
 * folders from there. Nothing secret is readable by others (node.pkey stays 0600).
 */
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { freemem, loadavg, totalmem, uptime } from 'node:os';
import { join } from 'node:path';
import { TrustStore, verifyChain } from '../credentials/chain.js';
import { Gid } from '../credentials/gid.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { xmlRpcCall } from '../xmlrpc/client.js';
import type { XmlRpcStruct, XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';
import { readNodeDir, type NodeDir } from './node-config.js';
import {
  AnswerError,
  parseAnswer,
  plan,
  type Action,
  type Plan,
  type SliverEntry,
  type SliversAnswer,
} from './reconcile.js';
import { readCounters } from './counters.js';
import {
  initscriptCode,
  initscriptError,
  runInitscript,
  startRecord,
  type InitscriptRecord,
} from './initscript.js';
import { inParallel } from './in-parallel.js';
import { NodeNetwork, rateOf, type SliverNet } from './network.js';
import { VsysService } from './vsys.js';
import type { LoginTarget } from './login.js';
import { DEFAULT_ID_RANGE, pickCores } from './runtime/bundle.js';
import { resolveImage } from './runtime/base-image.js';
import { RuncRuntime } from './runtime/runc.js';
import type { ContainerRuntime } from './runtime/runtime.js';
import { parseCpuList, sliverContainerSpec, sliverLimits } from './sliver-spec.js';

/** Host uid of the first sliver's root with an explicit base of old (`--uid-base 200000`). */
export const DEFAULT_UID_BASE = 200_000;
/** The most sliver uid ranges with an explicit base (200000 + 65536 × 60000 < 2^32). */
const MAX_RANGES = 60_000;
/**
 * Default uid bases: the host uid space above 2^26 is cut into slots of 1024 sliver ranges
 * (1024 × 65536 = 2^26 uids; PlanetLab Europe had at most 721 slices on a node). Slot 0 holds the
 * machine's own users and slot 63 would reach uid 2^32 − 1 (invalid): slots 1–62.
 */
export const SLOT_RANGES = 1024;
const SLOT_COUNT = 62;

/**
 * The default host uid base of a node: a slot chosen by a hash of its prefix (sha256), so two
 * node managers of one machine (two prefixes) get disjoint uid ranges without the operator's
 * help, the same at every run. Two prefixes share a slot with a chance of 1 in 62: an operator
 * running many simulated nodes on one machine gives each its own `--uid-base`.
 */
export function defaultUidBase(nodePrefix: string): number {
  const slot = createHash('sha256').update(nodePrefix).digest().readUInt32BE(0) % SLOT_COUNT;
  return (slot + 1) * SLOT_RANGES * DEFAULT_ID_RANGE;
}
/** The operator's folder of vsys scripts, unless --vsys-dir says another. */
export const DEFAULT_VSYS_DIR = '/etc/sfa/vsys';
/** The longest the agent uses an answer it was told is unchanged before asking for it whole. */
const HELD_MS = 10 * 60_000;
/** How often a pass checks that the node's bridge and tables are still there. */
const INTACT_CHECK_MS = 10_000;
/** Containers made, started or stopped at once in a pass (runc's work is mostly waiting). */
const PARALLEL_ACTIONS = 4;
/** Default report interval until the aggregate says otherwise. */
const DEFAULT_REPORT_SECONDS = 60;

export interface AgentOptions {
  nodeDir: string;
  /** Base images (default NODEDIR/images). */
  imagesDir?: string;
  /** The node's prefix on this machine (default from the hostname: `sfa-node1-inria-fr`). */
  nodePrefix?: string;
  uidBase?: number;
  /** Time for one call to the aggregate (default 30 s, plus the long poll's wait). */
  timeoutMs?: number;
  /** The runtime (default runc under NODEDIR). */
  runtime?: ContainerRuntime;
  /** Time a slice's initscript may take (default 60 s). */
  initscriptTimeoutMs?: number;
  /** The cores slivers may reserve (default: the machine's online cores). */
  onlineCores?: readonly number[];
  /** How often a pass checks the node's bridge and tables are still there (default 10 s). */
  networkCheckMs?: number;
  /** The operator's vsys scripts (default /etc/sfa/vsys). */
  vsysDir?: string;
  /** The slivers' networks (default: made from node.json's `network`); false: none (lo only). */
  network?: NodeNetwork | false;
  log?: (line: string) => void;
}

/** What one pass did. */
export interface PassResult {
  /** Where the plan came from: a fresh answer, or the saved one (aggregate unreachable). */
  source: 'aggregate' | 'saved' | 'none';
  generation: number | undefined;
  actions: Action[];
  /** Each kept sliver's realized state. */
  slivers: {
    sliverUrn: string;
    name: string;
    state: 'running' | 'stopped' | 'failed';
    error?: string;
    /** CPU time used by the running container (cpuacct.usage), in seconds. */
    cpuSeconds?: number;
    /** Its memory use now (memory.usage_in_bytes). */
    memoryBytes?: number;
    /** Its traffic so far (the node's end of its veth). */
    bytesIn?: number;
    bytesOut?: number;
    packetsIn?: number;
    packetsOut?: number;
    /** Its init's pid, while the pass reads its counters. */
    pid?: number | undefined;
  }[];
  reported: boolean;
  nextReportSeconds: number;
  /** Why the aggregate could not be asked or told, when it could not. */
  errors: string[];
}

interface SavedAnswer {
  received_at: string;
  answer: SliversAnswer;
}

/** The agent's state of one sliver name (kept in `state/uids.json`). */
interface SliverState {
  index: number;
  sliver_urn: string;
  /** The cpuset reserved for it (`cpu_cores`), while it has one. */
  cpus?: string;
  /** Its initscript's outcome, once it was started. */
  initscript?: InitscriptRecord;
}

interface UidMap {
  [name: string]: SliverState;
}

/** The machine's online cores. */
function onlineCores(): number[] {
  try {
    return parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8'));
  } catch {
    return [];
  }
}

/** `sfa-` and the hostname in lowercase letters, digits and '-' (with a hash when cut). */
export function nodePrefixOf(hostname: string): string {
  const clean = hostname
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  const full = `sfa-${clean}`;
  if (full.length <= 40) return full;
  const hash = createHash('sha256').update(hostname).digest('hex').slice(0, 8);
  return `${full.slice(0, 31).replace(/-+$/, '')}-${hash}`;
}

function errorText(e: unknown): string {
  const f = e as { faultCode?: number; faultString?: string; message?: string };
  if (f.faultString !== undefined) return `fault ${f.faultCode}: ${f.faultString}`;
  return f.message ?? String(e);
}

export class NodeAgent {
  readonly node: NodeDir;
  readonly runtime: ContainerRuntime;
  readonly network: NodeNetwork | undefined;
  readonly vsys: VsysService;
  /** Whether this process has set the node's bridge up. */
  private networkReady = false;
  /** When the node's network was last checked to be intact (ms), and how often it is. */
  private networkCheckedAt = 0;
  private readonly networkCheckMs: number;
  /** What the network could not do for a running sliver (said in its error). */
  private networkNotes = new Map<string, string>();
  /** Whether this process has removed the namespaces left by slivers that are gone. */
  private networkSwept = false;
  readonly nodePrefix: string;
  readonly imagesDir: string;
  readonly uidBase: number;
  /** How many sliver uid ranges this node may use from its base. */
  private readonly maxRanges: number;
  private readonly timeoutMs: number;
  private readonly log: (line: string) => void;
  private readonly trust: TrustStore;
  private readonly stateDir: string;
  private readonly sliversDir: string;
  private readonly initscriptTimeoutMs: number | undefined;
  private readonly onlineCores: readonly number[] | undefined;
  generation: number | undefined;
  nextReportSeconds = DEFAULT_REPORT_SECONDS;
  /** The login names of the last pass (for the login service), with their expiry. */
  private logins = new Map<string, LoginTarget & { expires: number }>();
  /** The aggregate's clock minus ours, at the last pass. */
  private clockOffsetMs = 0;
  /** The last whole GetSlivers answer, and when it came (ms): asked again only if changed. */
  private held: { answer: SliversAnswer; at: number; epoch?: number } | undefined;
  /** The generation of the answer saved on disk. */
  private savedGeneration: number | undefined;
  /** The last report: when, and the sliver states it told. */
  private lastReport: { at: number; states: string } | undefined;
  /** uids.json as last read or written. */
  private uidsText: string | undefined;

  constructor(options: AgentOptions) {
    this.node = readNodeDir(options.nodeDir);
    const dir = options.nodeDir;
    this.nodePrefix = options.nodePrefix ?? nodePrefixOf(this.node.config.hostname);
    this.imagesDir = options.imagesDir ?? join(dir, 'images');
    this.uidBase = options.uidBase ?? defaultUidBase(this.nodePrefix);
    this.maxRanges = options.uidBase === undefined ? SLOT_RANGES : MAX_RANGES;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.log = options.log ?? (() => {});
    this.initscriptTimeoutMs = options.initscriptTimeoutMs;
    this.onlineCores = options.onlineCores;
    this.trust = new TrustStore([this.node.root]);
    this.network =
      options.network === false
        ? undefined
        : (options.network ?? new NodeNetwork(this.nodePrefix, this.node.config.network));
    this.networkCheckMs = options.networkCheckMs ?? INTACT_CHECK_MS;
    this.stateDir = join(dir, 'state');
    this.sliversDir = join(dir, 'slivers');
    this.vsys = new VsysService(options.vsysDir ?? DEFAULT_VSYS_DIR, this.sliversDir, this.log);
    this.runtime =
      options.runtime ??
      new RuncRuntime({
        nodePrefix: this.nodePrefix,
        stateDir: join(dir, 'runc'),
        bundlesDir: join(dir, 'bundles'),
      });
  }

  /** The aggregate's certificate must chain to the node's root.gid. */
  private verifyServer = (pem: string): boolean => {
    try {
      verifyChain(Gid.fromPem(pem), [], this.trust, new Date());
      return true;
    } catch {
      return false;
    }
  };

  private call(method: string, params: XmlRpcWritable[], extraMs = 0): Promise<XmlRpcValue> {
    return xmlRpcCall(this.node.config.aggregate, method, params, {
      key: this.node.keyPem,
      cert: this.node.gidPem,
      verifyServer: this.verifyServer,
      timeoutMs: this.timeoutMs + extraMs,
    });
  }

  /**
   * A login name of this node as the last pass left it (the login service's only source), or
   * undefined once its sliver has expired by the aggregate's clock, even before the next pass.
   */
  loginTarget = (login: string): LoginTarget | undefined => {
    const t = this.logins.get(login);
    if (t === undefined || !(t.expires > Date.now() + this.clockOffsetMs)) return undefined;
    return t;
  };

  /** GetSlivers; the answer is saved before it is used. */
  async getSlivers(waitSeconds = 0, save = true): Promise<SliversAnswer> {
    const options: XmlRpcStruct = {};
    if (waitSeconds > 0 && this.generation !== undefined) {
      options['generation'] = this.generation;
      options['wait_seconds'] = waitSeconds;
    }
    // With an answer in hand (not too old: a full one at least every HELD_MS), only what changed.
    const held = this.held;
    if (held !== undefined && Date.now() - held.at < HELD_MS) {
      options['generation'] = held.answer.generation;
      options['if_changed'] = true;
      if (held.epoch !== undefined) options['epoch'] = held.epoch;
    }
    const raw = await this.call('GetSlivers', [options], waitSeconds * 1000);
    const r = raw as XmlRpcStruct;
    let answer: SliversAnswer;
    if (
      held !== undefined &&
      r['unchanged'] === true &&
      r['generation'] === held.answer.generation &&
      r['epoch'] === held.epoch
    ) {
      if (typeof r['now'] !== 'string' || Number.isNaN(Date.parse(r['now']))) {
        throw new AnswerError('GetSlivers answer.now must be an RFC 3339 time');
      }
      answer = { ...held.answer, now: r['now'] };
    } else {
      answer = parseAnswer(raw);
      const epoch = r['epoch'];
      this.held = { answer, at: Date.now(), ...(typeof epoch === 'number' ? { epoch } : {}) };
    }
    if (save) this.keep(answer);
    return answer;
  }

  /**
   * Save an answer (before it is used) and remember its generation for the long poll. One of
   * the generation saved already holds the same slivers: not written again (its `now` and
   * `received_at` still give the aggregate's time when offline).
   */
  private keep(answer: SliversAnswer): void {
    if (answer.generation !== this.savedGeneration) {
      this.save(answer);
      this.savedGeneration = answer.generation;
    }
    this.generation = answer.generation;
  }

  private ensureFolders(): void {
    // The sliver's mapped root walks down NODEDIR to its folders: o+x, nothing more.
    const mode = statSync(this.node.dir).mode & 0o7777;
    if ((mode & 0o001) === 0) chmodSync(this.node.dir, mode | 0o011);
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    mkdirSync(this.sliversDir, { recursive: true, mode: 0o711 });
    mkdirSync(this.imagesDir, { recursive: true, mode: 0o755 });
  }

  private save(answer: SliversAnswer): void {
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const saved: SavedAnswer = { received_at: new Date().toISOString(), answer };
    writeFileAtomic(join(this.stateDir, 'last-slivers.json'), `${JSON.stringify(saved)}\n`, {
      mode: 0o600,
    });
  }

  /** The saved answer, and the aggregate's time now as estimated from it. */
  private saved(): { answer: SliversAnswer; now: Date } | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.stateDir, 'last-slivers.json'), 'utf8');
    } catch {
      return undefined;
    }
    const s = JSON.parse(text) as SavedAnswer;
    const elapsed = Math.max(0, Date.now() - Date.parse(s.received_at));
    return { answer: s.answer, now: new Date(Date.parse(s.answer.now) + elapsed) };
  }

  private readUids(): UidMap {
    try {
      const text = readFileSync(join(this.stateDir, 'uids.json'), 'utf8');
      this.uidsText = text;
      return JSON.parse(text) as UidMap;
    } catch {
      this.uidsText = undefined;
      return {};
    }
  }

  /** Write uids.json (whole, synced), unless it already says exactly this. */
  private writeUids(map: UidMap): void {
    const text = `${JSON.stringify(map, null, 1)}\n`;
    if (text === this.uidsText) return;
    writeFileAtomic(join(this.stateDir, 'uids.json'), text, { mode: 0o600 });
    this.uidsText = text;
  }

  private dataNames(): string[] {
    try {
      return readdirSync(this.sliversDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name);
    } catch {
      return [];
    }
  }

  private sliverDir(name: string): string {
    return join(this.sliversDir, name);
  }

  /**
   * One pass. `answer` is a fresh GetSlivers answer (loop mode); without it the pass asks the
   * aggregate, and plans from the saved answer when the aggregate cannot be reached (or at once
   * with `null`: the caller's GetSlivers just failed).
   */
  async pass(fresh?: SliversAnswer | null): Promise<PassResult> {
    this.ensureFolders();
    const errors: string[] = [];
    let answer: SliversAnswer | undefined = fresh ?? undefined;
    let source: PassResult['source'] = 'aggregate';
    let now: Date;
    if (fresh === undefined) {
      try {
        answer = await this.getSlivers();
      } catch (e) {
        errors.push(`GetSlivers: ${errorText(e)}`);
      }
    }
    if (answer !== undefined) {
      now = new Date(answer.now);
    } else {
      const saved = this.saved();
      if (saved === undefined) {
        return {
          source: 'none',
          generation: undefined,
          actions: [],
          slivers: [],
          reported: false,
          nextReportSeconds: this.nextReportSeconds,
          errors,
        };
      }
      answer = saved.answer;
      now = saved.now;
      source = 'saved';
    }

    const uids = this.readUids();
    const containers = await this.runtime.list();
    const dataNames = this.dataNames();
    // A sliver with neither container nor data is gone (a pass killed after deleting it, before
    // saving): its uid range and cores are free again.
    const present = new Set([...containers.map((c) => c.name), ...dataNames]);
    for (const name of Object.keys(uids)) if (!present.has(name)) delete uids[name];
    const owners = Object.fromEntries(Object.entries(uids).map(([n, u]) => [n, u.sliver_urn]));
    const imageOk = new Map<string, string | undefined>();
    const p: Plan = plan({
      answer,
      containers,
      dataNames,
      owners,
      now,
      check: (s) => {
        const vref = s.vref ?? '';
        if (!imageOk.has(vref)) {
          try {
            resolveImage(this.imagesDir, s.vref);
            imageOk.set(vref, undefined);
          } catch (e) {
            imageOk.set(vref, (e as Error).message);
          }
        }
        if (this.network !== undefined) {
          try {
            rateOf(s.attributes);
          } catch (e) {
            return (e as Error).message;
          }
        }
        return imageOk.get(vref);
      },
    });

    const failures = new Map<string, string>();
    const wanted = new Map(p.slivers.map((k) => [k.name, k.sliver]));
    // The node's network as set up, checked at most every INTACT_CHECK_MS (a process each).
    const checkNow = Date.now() - this.networkCheckedAt >= this.networkCheckMs;
    if (checkNow) this.networkCheckedAt = Date.now();
    if (
      this.network !== undefined &&
      this.networkReady &&
      checkNow &&
      !(await this.network.intact())
    ) {
      this.log(
        `nodemanager ${this.node.config.hostname}: the node's bridge or nftables tables were removed; setting them up again`,
      );
      this.networkReady = false;
    }
    if (this.network !== undefined && !this.networkReady) {
      try {
        await this.network.ensureNode();
        this.networkReady = true;
      } catch (e) {
        errors.push(`network: ${(e as Error).message}`);
      }
    }
    const applyOne = async (a: Action) => {
      try {
        await this.apply(a, uids, wanted);
      } catch (e) {
        const msg = `${a.kind} ${a.name}: ${(e as Error).message}`;
        failures.set(a.name, msg);
        errors.push(msg);
      }
    };
    // Deletions first (they free login names, uid ranges and cores), then stops (on an
    // exclusive node the lease's sliver starts once the others are stopped), then the rest, a
    // few at a time: each action is about one name, and what they share (uid ranges, cores,
    // uids.json) is taken synchronously before their first wait.
    for (const phase of [['delete'], ['stop'], ['create', 'recreate', 'start']]) {
      const some = p.actions.filter((a) => phase.includes(a.kind));
      await inParallel(some, PARALLEL_ACTIONS, applyOne);
    }
    this.writeUids(uids);
    if (this.network !== undefined && this.networkReady) {
      await this.syncNetwork(p, uids, failures, errors);
    }

    // Listing 500 containers costs runc ~150 ms: read again only when this pass changed some.
    const after = new Map(
      (p.actions.length === 0 ? containers : await this.runtime.list()).map((c) => [c.name, c]),
    );
    const slivers: PassResult['slivers'] = [
      ...p.slivers.map((k) => {
        const error = failures.get(k.name);
        const c = after.get(k.name);
        const state: 'running' | 'stopped' | 'failed' =
          error !== undefined
            ? 'failed'
            : c?.status === 'running'
              ? 'running'
              : k.run
                ? 'failed'
                : 'stopped';
        // A failed initscript leaves the sliver running (usable, the script can be rerun by
        // its users) with the script's failure as its error.
        const why =
          error ??
          (state === 'failed'
            ? `the container is ${c?.status ?? 'missing'}`
            : state === 'running'
              ? initscriptError(uids[k.name]?.initscript)
              : undefined);
        return {
          sliverUrn: k.sliver.sliverUrn,
          name: k.name,
          state,
          ...(why === undefined ? {} : { error: why }),
          pid: state === 'running' ? c?.pid : undefined,
        };
      }),
      ...p.failed.map((f) => ({
        sliverUrn: f.sliverUrn,
        name: f.name,
        state: 'failed' as const,
        error: f.error,
      })),
    ];

    this.syncVsys(p, slivers, uids);
    this.clockOffsetMs = now.getTime() - Date.now();
    const running = new Set(slivers.filter((x) => x.state === 'running').map((x) => x.name));
    this.logins = new Map(
      p.slivers.map((k) => [
        k.name,
        {
          name: k.name,
          sliceHrn: k.sliver.sliceHrn,
          keys: k.sliver.keys,
          running: running.has(k.name),
          expires: Date.parse(k.sliver.expires),
        },
      ]),
    );

    let reported = false;
    const states = JSON.stringify(slivers.map((x) => [x.sliverUrn, x.state, x.error ?? '']));
    if (source === 'aggregate' && this.reportDue(p.actions.length > 0, states)) {
      // Counters are read for reports only (two cgroup files per running sliver).
      for (const x of slivers) {
        if (x.pid !== undefined) Object.assign(x, readCounters(x.pid));
        const index = uids[x.name]?.index;
        const traffic = index === undefined ? undefined : this.network?.counters(index);
        if (traffic !== undefined) Object.assign(x, traffic);
      }
      try {
        await this.report(slivers);
        reported = true;
        this.lastReport = { at: Date.now(), states };
      } catch (e) {
        errors.push(`ReportNodeStatus: ${errorText(e)}`);
      }
    }
    for (const x of slivers) delete x.pid;
    const result: PassResult = {
      source,
      generation: answer.generation,
      actions: p.actions,
      slivers,
      reported,
      nextReportSeconds: this.nextReportSeconds,
      errors,
    };
    this.log(passLine(this.node.config.hostname, result));
    return result;
  }

  /** Serve the vsys scripts of the running slivers; a refused name is the sliver's error. */
  private syncVsys(p: Plan, slivers: PassResult['slivers'], uids: UidMap): void {
    const byName = new Map(p.slivers.map((k) => [k.name, k.sliver]));
    const running = slivers.filter((x) => x.state === 'running' && uids[x.name] !== undefined);
    const refusals = this.vsys.sync(
      running.map((x) => ({
        name: x.name,
        dir: join(this.sliverDir(x.name), 'vsys'),
        hostId: this.uidBase + DEFAULT_ID_RANGE * uids[x.name]!.index,
        values: (byName.get(x.name)?.attributes ?? [])
          .filter((a) => a.name === 'vsys')
          .map((a) => ({ value: a.value, source: a.source })),
      })),
    );
    for (const x of slivers) {
      if (x.state !== 'running') continue;
      for (const note of [refusals.get(x.name), this.networkNotes.get(x.name)]) {
        if (note !== undefined) x.error = x.error === undefined ? note : `${x.error}; ${note}`;
      }
    }
  }

  /**
   * The node's table and rates for the slivers kept (granted ports forwarded, `net_max_rate`
   * applied); namespaces of slivers that are gone (a pass killed midway) removed.
   */
  private async syncNetwork(
    p: Plan,
    uids: UidMap,
    failures: Map<string, string>,
    errors: string[],
  ): Promise<void> {
    const network = this.network!;
    const nets: SliverNet[] = [];
    for (const k of p.slivers) {
      const index = uids[k.name]?.index;
      if (index === undefined || failures.has(k.name)) continue;
      const rate = rateOf(k.sliver.attributes);
      nets.push({
        name: k.name,
        index,
        ports: k.sliver.ports,
        ...(rate === undefined ? {} : { rateKbit: rate }),
      });
    }
    try {
      const { problems, notes } = await network.apply(nets);
      this.networkNotes = notes;
      for (const [name, why] of problems) {
        failures.set(name, `network: ${why}`);
        errors.push(`network ${name}: ${why}`);
      }
      if (p.actions.length > 0 || !this.networkSwept) {
        for (const { veth, name } of await network.sliverVeths()) {
          const index = uids[name]?.index;
          if (
            index === undefined ||
            (network.hostVeth(index) !== veth && network.ifb(index) !== veth)
          ) {
            await network.deleteVeth(veth);
          }
        }
        this.networkSwept = true;
      }
    } catch (e) {
      errors.push(`network: ${(e as Error).message}`);
    }
  }

  /**
   * Report after a pass that changed something, or saw a sliver's state change, and at least
   * twice per report interval (the aggregate counts one expected report per interval).
   */
  private reportDue(acted: boolean, states: string): boolean {
    const last = this.lastReport;
    return (
      acted ||
      last === undefined ||
      last.states !== states ||
      Date.now() - last.at >= (this.nextReportSeconds * 1000) / 2
    );
  }

  /**
   * After a container's start: the slice's initscript, if the sliver has one and it never ran
   * for this sliver (a later stop/start or an adoption does not run it again). Its start is
   * saved before it runs, so a node manager killed during it does not run it twice.
   */
  private async firstStart(name: string, sliver: SliverEntry, uids: UidMap): Promise<void> {
    const entry = uids[name];
    const code = initscriptCode(sliver.attributes);
    if (entry === undefined || entry.initscript !== undefined || code === undefined) return;
    entry.initscript = startRecord(code);
    this.writeUids(uids);
    entry.initscript = await runInitscript(
      this.runtime,
      name,
      code,
      this.initscriptTimeoutMs === undefined ? {} : { timeoutMs: this.initscriptTimeoutMs },
      entry.initscript,
    );
    this.writeUids(uids);
    const failed = initscriptError(entry.initscript);
    if (failed !== undefined) this.log(`nodemanager ${name}: ${failed}`);
  }

  /** The cpuset for a sliver asking for `count` cores: its own previous one if still free. */
  private coresFor(name: string, count: number, uids: UidMap): string {
    const taken = new Set<number>();
    for (const [n, u] of Object.entries(uids)) {
      if (n !== name && u.cpus !== undefined) for (const c of parseCpuList(u.cpus)) taken.add(c);
    }
    return pickCores(count, this.onlineCores ?? onlineCores(), taken);
  }

  private async apply(a: Action, uids: UidMap, wanted: Map<string, SliverEntry>): Promise<void> {
    switch (a.kind) {
      case 'delete': {
        await this.runtime.delete(a.name);
        await this.network?.removeSliver(a.name, uids[a.name]?.index);
        rmSync(this.sliverDir(a.name), { recursive: true, force: true });
        delete uids[a.name];
        return;
      }
      case 'stop':
        return this.runtime.stop(a.name);
      case 'start': {
        // Made by a pass that was stopped before its start: given its network again.
        const index = uids[a.name]?.index;
        const c = await this.runtime.state(a.name);
        if (this.network !== undefined && index !== undefined && c?.pid !== undefined) {
          await this.network.attachSliver(a.name, index, c.pid);
        }
        await this.runtime.start(a.name);
        const s = wanted.get(a.name);
        if (s !== undefined) await this.firstStart(a.name, s, uids);
        return;
      }
      case 'recreate':
      case 'create': {
        if (a.kind === 'recreate') await this.runtime.delete(a.name);
        const s = a.sliver;
        let entry = uids[a.name];
        if (entry === undefined || entry.sliver_urn !== s.sliverUrn) {
          const used = new Set(Object.values(uids).map((u) => u.index));
          let index = entry?.index ?? 0;
          if (entry === undefined) while (used.has(index)) index++;
          if (index >= this.maxRanges) throw new Error('no uid range left on this node');
          entry = { index, sliver_urn: s.sliverUrn };
          uids[a.name] = entry;
        }
        // Its folder first: a create that fails below is still removed with the sliver.
        const dir = this.sliverDir(a.name);
        mkdirSync(dir, { recursive: true, mode: 0o711 });
        const limits = sliverLimits(s.attributes);
        if (limits.cpuCores === undefined) delete entry.cpus;
        else entry.cpus = this.coresFor(a.name, limits.cpuCores, uids);
        // Saved before the container exists: a node manager killed from here on finds the
        // sliver's uid range and cores recorded, so no later sliver is given them.
        this.writeUids(uids);
        if (this.network !== undefined && !this.networkReady) {
          throw new Error('the node network is not set up (see the pass errors)');
        }
        const rootfs = resolveImage(this.imagesDir, s.vref);
        // The sliver's vsys folder: the node root's; bound at /vsys when the image has it.
        const vsysDir = join(dir, 'vsys');
        const hasVsys = existsSync(join(rootfs, 'vsys'));
        if (hasVsys) mkdirSync(vsysDir, { recursive: true, mode: 0o755 });
        const created = await this.runtime.create(a.name, {
          ...sliverContainerSpec(s, {
            rootfs,
            writable: { home: join(dir, 'home'), var: join(dir, 'var'), tmp: join(dir, 'tmp') },
            hostId: this.uidBase + DEFAULT_ID_RANGE * entry.index,
            ...(entry.cpus === undefined ? {} : { cpus: entry.cpus }),
          }),
          ...(hasVsys ? { vsys: vsysDir } : {}),
        });
        if (this.network !== undefined) {
          await this.network.attachSliver(a.name, entry.index, created.pid!);
        }
        if (a.kind === 'recreate' || a.start) {
          await this.runtime.start(a.name);
          await this.firstStart(a.name, s, uids);
        }
        return;
      }
    }
  }

  /** ReportNodeStatus with the node's load, memory, uptime and the slivers' realized states. */
  async report(slivers: PassResult['slivers']): Promise<void> {
    const answer = (await this.call('ReportNodeStatus', [
      {
        load_average: loadavg()[0] ?? 0,
        memory_total: totalmem(),
        memory_free: Math.min(freemem(), totalmem()),
        uptime: Math.floor(uptime()),
        slivers: slivers.map((s) => ({
          sliver_urn: s.sliverUrn,
          state: s.state,
          ...(s.error === undefined ? {} : { error: s.error }),
          ...(s.cpuSeconds === undefined ? {} : { cpu_seconds: s.cpuSeconds }),
          ...(s.memoryBytes === undefined ? {} : { memory_bytes: s.memoryBytes }),
          ...(s.bytesIn === undefined
            ? {}
            : {
                bytes_in: s.bytesIn,
                bytes_out: s.bytesOut ?? 0,
                packets_in: s.packetsIn ?? 0,
                packets_out: s.packetsOut ?? 0,
              }),
        })),
      },
    ])) as XmlRpcStruct;
    const next = answer['next_report_seconds'];
    if (typeof next === 'number' && next > 0) this.nextReportSeconds = next;
  }

  /**
   * Loop: long-poll GetSlivers, a pass after each answer (each pass reports), at least one pass
   * (and report) every next_report_seconds; when the aggregate cannot be reached, passes from the
   * saved answer. Resolves when `stop` resolves (between passes: containers keep running).
   */
  async loop(stop: Promise<void>): Promise<void> {
    let stopped = false;
    void stop.then(() => {
      stopped = true;
    });
    const sleep = (ms: number) =>
      Promise.race([new Promise<void>((r) => setTimeout(r, ms).unref()), stop]);
    while (!stopped) {
      const wait = Math.max(1, Math.min(60, Math.floor(this.nextReportSeconds / 2)));
      let failed = false;
      const got = await Promise.race([
        this.getSlivers(this.generation === undefined ? 0 : wait, false).then(
          (a) => a,
          (e: unknown) => {
            failed = true;
            this.log(`nodemanager ${this.node.config.hostname}: GetSlivers: ${errorText(e)}`);
            return undefined;
          },
        ),
        stop.then(() => undefined),
      ]);
      // Stopped during the long poll: its late answer is not kept (the node may be cleaned up).
      if (stopped) break;
      if (got !== undefined) this.keep(got);
      try {
        await this.pass(failed ? null : got);
      } catch (e) {
        this.log(`nodemanager ${this.node.config.hostname}: pass failed: ${errorText(e)}`);
      }
      if (failed && !stopped) await sleep(5000);
    }
  }

  /** Remove every container, cgroup and folder of this node, and its state (not its identity). */
  async cleanup(): Promise<void> {
    this.vsys.stop();
    await this.runtime.cleanup();
    await this.network?.cleanup();
    this.networkReady = false;
    for (const d of ['slivers', 'state', 'bundles', 'runc']) {
      rmSync(join(this.node.dir, d), { recursive: true, force: true });
    }
    // The default image is made by the node manager; other images are the operator's.
    rmSync(join(this.imagesDir, 'busybox'), { recursive: true, force: true });
    try {
      if (readdirSync(this.imagesDir).length === 0) rmSync(this.imagesDir, { recursive: true });
    } catch {
      // No images folder.
    }
  }
}

/** The one log line of a pass. */
export function passLine(hostname: string, r: PassResult): string {
  const count = (k: Action['kind']) => r.actions.filter((a) => a.kind === k).length;
  const states = (s: string) => r.slivers.filter((x) => x.state === s).length;
  const parts = [
    `nodemanager ${hostname}: pass (${r.source}${r.generation === undefined ? '' : ` generation ${r.generation}`})`,
    `created ${count('create') + count('recreate')} started ${count('start')} stopped ${count('stop')} deleted ${count('delete')}`,
    `running ${states('running')} stopped ${states('stopped')} failed ${states('failed')}`,
    r.reported ? 'reported' : 'not reported',
  ];
  const line = parts.join('; ');
  return r.errors.length === 0 ? line : `${line}; errors: ${r.errors.join('; ').slice(0, 1000)}`;
}
