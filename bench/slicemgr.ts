/**
 * The slice manager's fan-out, in one process on 127.0.0.1: `ple`, `plc`, `plj` and `elc`
 * (demo inventory, 36 nodes each), peered so that ple's slice manager relays to all four
 * aggregates and every peer trusts ple. A ple researcher (alice) calls ListResources through
 * ple's slice manager (`cached: false`, the SM's merged-ad cache off).
 *
 * 0. Baseline: ListResources directly at each aggregate alone; S = the slowest median.
 * a. One peer (elc) refuses connections: its aggregate URL points at a closed port.
 *    Aim: no more than S + 50 ms.
 * b. One peer hangs: a TLS server that accepts and never answers; relay timeout T.
 *    Aim: no more than T + 50 ms, with the other aggregates' nodes in the merged ad and `ok` in
 *    `sfa_ts_aggregates`.
 * Then where the time beyond S goes: the servers' own call times (their log lines), the
 * per-aggregate relay times the SM reports, garbage collection, new TLS connections per call,
 * and the pure steps of the path (merge, XML-RPC, key comparison, a TLS handshake) alone.
 *
 * Everything (four authorities, the hanging peer, the researcher) shares one event loop, so
 * aggregates that the SM asks "concurrently" are in fact served one after another: the row
 * "ple, plc, plj at once, direct" is the floor of any fan-out measured this way.
 *
 * Every loop is bounded in runs and by a time budget; everything opened is closed at the end.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, globalAgent } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { XMLSerializer } from '@xmldom/xmldom';
import { initAuthority } from '../src/authority/init-authority.js';
import { paths } from '../src/config.js';
import { Gid, issueGid } from '../src/credentials/gid.js';
import { generateKeyPair, sameKey } from '../src/credentials/keys.js';
import { childElements, parseXml } from '../src/credentials/xml.js';
import { openRegistry, type OpenRegistry } from '../src/registry/open-registry.js';
import { startAuthority, type RunningAuthority } from '../src/server/authority.js';
import { mergeRspecs } from '../src/slicemgr/merge.js';
import type { RelayOutcome } from '../src/slicemgr/relay.js';
import { createKeepAliveAgent, xmlRpcCall } from '../src/xmlrpc/client.js';
import { parseMethodResponse } from '../src/xmlrpc/parse.js';
import { serializeMethodResponse } from '../src/xmlrpc/serialize.js';
import type { XmlRpcStruct, XmlRpcValue } from '../src/xmlrpc/value.js';
import { bootstrapUser, makeAuthorityDir } from '../test/support/authority.js';
import { medianMs, ms, percentile } from './stats.js';

const LIST_OPTIONS: XmlRpcStruct = {
  geni_rspec_version: { type: 'GENI', version: '3' },
  cached: false,
};
/** The SM's deadline per aggregate (T). */
const RELAY_TIMEOUT_MS = 1_000;
const AIM_MARGIN_MS = 50;
const PEERS = ['plc', 'plj', 'elc'] as const;
/** The peer made to refuse, then to hang; the others stay healthy. */
const FAULTY = 'elc';
const HEALTHY = ['ple', 'plc', 'plj'] as const;
/** Bounds: measured rounds (after the warm-up rounds), hanging runs, and a time budget. */
const ROUNDS = 30;
const WARMUP_ROUNDS = 3;
const HANG_RUNS = 8;
const COLD_RUNS = 10;
/** For the rounds; the hanging runs get T each on top. */
const MEASURE_BUDGET_MS = 25_000;
const PURE_RUNS = 30;
const HANDSHAKE_RUNS = 15;
const CALL_TIMEOUT_MS = 10_000;
const MAX_LOG_LINES = 1_000;
const MAX_GC_ENTRIES = 50_000;

/** One call as a server logged it (src/server/log.ts callLine). */
interface Served {
  iface: string;
  method: string;
  ms: number;
}

// `<time> <iface> <method> caller=<label> code=<n> <ms>ms …`
const SERVED_LINE = /^\S+ (\S+) (\S+) caller=.*? code=\d+ ([\d.]+)ms/;

interface Federation {
  authorities: Map<string, RunningAuthority>;
  /** The operator's own connection to ple's registry (to repoint elc's aggregate). */
  pleRegistry: OpenRegistry;
  list: (url: string) => Promise<XmlRpcValue>;
  /** What the servers logged since the last clear (cleared before every run, and bounded). */
  served: Served[];
  tempDirs: string[];
  /** ple's authority identity, as the SM presents it (for the handshake timing). */
  pleKeyPem: string;
  pleGidPem: string;
}

function running(fed: Federation, hrn: string): RunningAuthority {
  const a = fed.authorities.get(hrn);
  if (!a) throw new Error(`no authority ${hrn}`);
  return a;
}

async function startFederation(): Promise<Federation> {
  // Made a minute ago by the wall clock: these servers run on the real clock.
  const now = new Date(Date.now() - 60_000);
  const made = await makeAuthorityDir(now);
  const dirs = new Map<string, string>([['ple', made.dir]]);
  const tempDirs = [made.dir];
  const authorities = new Map<string, RunningAuthority>();
  let pleRegistry: OpenRegistry | undefined;
  const served: Served[] = [];
  const log = (line: string): void => {
    const m = SERVED_LINE.exec(line);
    if (m && served.length < MAX_LOG_LINES)
      served.push({ iface: m[1]!, method: m[2]!, ms: Number(m[3]) });
  };
  try {
    for (const hrn of PEERS) {
      const dir = mkdtempSync(join(tmpdir(), `sfa-bench-${hrn}-`));
      tempDirs.push(dir);
      await initAuthority({ dir, authority: hrn, hostname: 'localhost', now, demoInventory: true });
      dirs.set(hrn, dir);
    }
    for (const [hrn, dir] of dirs) {
      authorities.set(
        hrn,
        await startAuthority({
          dir,
          listen: '127.0.0.1',
          ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
          log,
          relayTimeoutMs: RELAY_TIMEOUT_MS,
          smAdCacheMs: 0,
        }),
      );
    }
    // Peering, as `sfa peer add` does it: ple knows every peer, every peer knows ple.
    const peerEntry = (hrn: string) => {
      const a = authorities.get(hrn)!;
      return {
        hrn,
        registryUrl: a.urls.registry,
        aggregateUrls: [a.urls.aggregate],
        root: Gid.fromPem(readFileSync(paths.gid(dirs.get(hrn)!, hrn))),
      };
    };
    pleRegistry = openRegistry(dirs.get('ple')!);
    for (const hrn of PEERS) {
      pleRegistry.ctx.peerStore.add(peerEntry(hrn), new Date(), 'bench');
      const at = openRegistry(dirs.get(hrn)!);
      try {
        at.ctx.peerStore.add(peerEntry('ple'), new Date(), 'bench');
      } finally {
        at.close();
      }
    }
    const a = await bootstrapUser(authorities.get('ple')!.urls.registry, made.alice);
    const identity = pleRegistry.ctx.keys.get('ple');
    return {
      authorities,
      pleRegistry,
      list: (url) =>
        xmlRpcCall(url, 'ListResources', [[a.cred], LIST_OPTIONS], {
          key: made.alice.keyPem,
          cert: a.gid,
          timeoutMs: CALL_TIMEOUT_MS,
        }),
      served,
      tempDirs,
      pleKeyPem: identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
      pleGidPem: identity.gid.pem,
    };
  } catch (e) {
    await Promise.all([...authorities.values()].map((x) => x.close()));
    pleRegistry?.close();
    for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
    throw e;
  }
}

async function stopFederation(fed: Federation): Promise<void> {
  await Promise.all([...fed.authorities.values()].map((a) => a.close()));
  fed.pleRegistry.close();
  for (const d of fed.tempDirs) rmSync(d, { recursive: true, force: true });
}

/** A peer aggregate that completes the TLS handshake, reads the request and never answers. */
async function startHangingPeer(): Promise<{ url: string; close: () => Promise<void> }> {
  const k = generateKeyPair();
  const cert = issueGid({
    hrn: 'hang',
    type: 'authority',
    subjectPublicKey: k.privateKeyPem,
    notBefore: new Date(Date.now() - 86_400_000),
  });
  const sockets = new Set<Socket>();
  const server: TlsServer = createTlsServer({ key: k.privateKeyPem, cert: cert.pem }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
  });
  server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A URL on 127.0.0.1 where nothing listens (a port just bound and released). */
async function closedPortUrl(): Promise<string> {
  const probe = createNetServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `https://127.0.0.1:${port}/`;
}

/**
 * Point ple's record of elc's aggregate at `url`, then let ple's servers see the change (a
 * GetVersion at its SM refreshes the trusted roots), so that the next measured call pays nothing
 * for it.
 */
async function repoint(fed: Federation, url: string): Promise<void> {
  const current = fed.pleRegistry.ctx.peerStore.get(FAULTY)?.aggregateUrls[0];
  if (current === url) return;
  fed.pleRegistry.ctx.peerStore.update(FAULTY, { aggregateUrls: [url] }, new Date(), 'bench');
  await xmlRpcCall(running(fed, 'ple').urls.slicemgr, 'GetVersion', [], {
    timeoutMs: CALL_TIMEOUT_MS,
  });
}

// ---------------------------------------------------------------------------------------------
// Runs

/** Sockets the process's default agent has pooled so far (the SM relays through it). */
const seenSockets = new WeakSet<object>();
function newPooledSockets(): number {
  let fresh = 0;
  const pools = [...Object.values(globalAgent.freeSockets), ...Object.values(globalAgent.sockets)];
  for (const pool of pools) {
    for (const s of pool ?? []) {
      if (!seenSockets.has(s)) {
        seenSockets.add(s);
        fresh++;
      }
    }
  }
  return fresh;
}

/** One ListResources, at an aggregate directly or through the SM. */
interface Run {
  start: number;
  wall: number;
  /** The handler time of the server called, from its log line (the SM's: check, relay, merge). */
  handler: number;
  /** Through the SM: slowest relay leg as the SM reports it (whole ms), failing legs included. */
  relayMax: number;
  /** Through the SM: slowest healthy leg. */
  relayOkMax: number;
  /** Slowest aggregate handler time in the run (their log lines). */
  amMax: number;
  /** Connections opened during the call and pooled (client→server, SM→aggregates). */
  newConnections: number;
  /** What is wrong with the answer ('' when it holds what it should). */
  problem: string;
}

function checkAnswer(r: XmlRpcValue, faulty: { code: number } | undefined): string {
  const answer = r as XmlRpcStruct;
  const code = (answer['code'] as XmlRpcStruct | undefined)?.['geni_code'];
  if (code !== 0) return `geni_code ${String(code)}: ${String(answer['output'])}`;
  const ad = answer['value'];
  const stats = (answer['sfa_ts_aggregates'] as XmlRpcStruct[] | undefined) ?? [];
  if (typeof ad !== 'string') return 'no advertisement';
  const healthy: readonly string[] = faulty ? HEALTHY : [...HEALTHY, FAULTY];
  for (const hrn of healthy) {
    if (!ad.includes(`component_id="urn:publicid:IDN+${hrn}:inria+node+node1.inria.fr"`))
      return `${hrn}'s nodes missing from the merged ad`;
    const s = stats.find((x) => x['hrn'] === hrn);
    if (s?.['status'] !== 'ok') return `${hrn} not ok in sfa_ts_aggregates`;
  }
  if (faulty) {
    const s = stats.find((x) => x['hrn'] === FAULTY);
    if (s?.['status'] !== 'error' || s['geni_code'] !== faulty.code)
      return `${FAULTY} reported ${String(s?.['status'])} ${String(s?.['geni_code'])}, not error ${faulty.code}`;
  }
  return '';
}

async function timedList(fed: Federation, url: string): Promise<{ r: XmlRpcValue; run: Run }> {
  newPooledSockets();
  fed.served.length = 0;
  const start = performance.now();
  const r = await fed.list(url);
  const wall = performance.now() - start;
  const ams = fed.served.filter((s) => s.iface === 'aggregate' && s.method === 'ListResources');
  const amMax = Math.max(0, ...ams.map((s) => s.ms));
  return {
    r,
    run: {
      start,
      wall,
      handler: fed.served.find((s) => s.iface === 'slicemgr')?.ms ?? amMax,
      relayMax: NaN,
      relayOkMax: NaN,
      amMax,
      newConnections: newPooledSockets(),
      problem: '',
    },
  };
}

async function directRun(fed: Federation, hrn: string, ads: Map<string, string>): Promise<Run> {
  const { r, run } = await timedList(fed, running(fed, hrn).urls.aggregate);
  const ad = (r as XmlRpcStruct)['value'];
  if (typeof ad === 'string') ads.set(hrn, ad);
  return { ...run, problem: typeof ad === 'string' ? '' : String((r as XmlRpcStruct)['output']) };
}

async function smRun(fed: Federation, faulty: { code: number } | undefined): Promise<Run> {
  const { r, run } = await timedList(fed, running(fed, 'ple').urls.slicemgr);
  const stats = ((r as XmlRpcStruct)['sfa_ts_aggregates'] as XmlRpcStruct[] | undefined) ?? [];
  const slowest = (okOnly: boolean) =>
    Math.max(
      0,
      ...stats.filter((s) => !okOnly || s['status'] === 'ok').map((s) => Number(s['elapsed_ms'])),
    );
  return {
    ...run,
    relayMax: slowest(false),
    relayOkMax: slowest(true),
    problem: checkAnswer(r, faulty),
  };
}

async function wallMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Garbage-collection pauses, to charge each run with those that fell inside it. */
function watchGc(): { pausedMs: (from: number, to: number) => number; stop: () => void } {
  const pauses: { start: number; duration: number }[] = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (pauses.length < MAX_GC_ENTRIES) pauses.push({ start: e.startTime, duration: e.duration });
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    pausedMs: (from, to) =>
      pauses.filter((p) => p.start >= from && p.start < to).reduce((t, p) => t + p.duration, 0),
    stop: () => observer.disconnect(),
  };
}

// ---------------------------------------------------------------------------------------------
// Report

const med = (xs: readonly number[]) => percentile(xs, 50);
const p95 = (xs: readonly number[]) => percentile(xs, 95);
const walls = (runs: readonly Run[]) => runs.map((r) => r.wall);

function row(label: string, xs: readonly number[], aim = '', verdict = ''): string {
  return (
    `  ${label.padEnd(42)}${String(xs.length).padStart(5)}${ms(med(xs)).padStart(9)}` +
    `${ms(p95(xs)).padStart(9)}   ${aim.padEnd(20)}${verdict}`
  );
}

function verdictOf(value: number, limit: number): string {
  return value <= limit ? 'met' : `MISSED by ${ms(value - limit)} ms`;
}

function answers(runs: readonly Run[]): string {
  const bad = runs.filter((r) => r.problem);
  return bad.length === 0
    ? `all ${runs.length} intact`
    : `${bad.length}/${runs.length} WRONG (${bad[0]!.problem})`;
}

const BREAKDOWN_COLUMNS = [
  'wall',
  'server',
  'relay',
  'relayOK',
  'AM hdl',
  'cli↔srv',
  'SM own',
  'leg I/O',
  'GC avg',
  'new TLS',
];

function breakdownRow(label: string, runs: readonly Run[], gcMs: (r: Run) => number): string {
  const median = (f: (r: Run) => number) => ms(med(runs.map(f)));
  const cells = [
    median((r) => r.wall),
    median((r) => r.handler),
    median((r) => r.relayMax),
    median((r) => r.relayOkMax),
    median((r) => r.amMax),
    median((r) => r.wall - r.handler),
    median((r) => r.handler - r.relayMax),
    median((r) => r.relayOkMax - r.amMax),
    ms(runs.reduce((t, r) => t + gcMs(r), 0) / runs.length),
    median((r) => r.newConnections),
  ];
  return `  ${label.padEnd(24)}${cells.map((c) => c.padStart(8)).join('')}`;
}

/** The pure steps of the SM's path, on the ads the aggregates really serve. */
function pureSteps(fed: Federation, ads: Map<string, string>): [string, number][] {
  const now = new Date();
  const outcome = (hrn: string, code: number): RelayOutcome => ({
    aggregate: { hrn, url: `https://127.0.0.1:1/${hrn}` },
    elapsedMs: 5,
    code,
    message: code ? `${hrn}: unreachable` : '',
    ...(code ? {} : { value: ads.get(hrn)! }),
  });
  const parts = [...HEALTHY.map((h) => outcome(h, 0)), outcome(FAULTY, 11)].map((o) => ({
    outcome: o,
    rspec: typeof o.value === 'string' ? o.value : undefined,
    urn: `urn:publicid:IDN+${o.aggregate.hrn}+authority+am`,
  }));
  const mergeInput = { type: 'advertisement' as const, parts, now, expires: now };
  let merged = '';
  const mergeMs = medianMs(() => void (merged = mergeRspecs(mergeInput)), PURE_RUNS);
  // The two halves of mergeRspecs, for one ad: the DOM parse and the serialization of the children.
  const oneAd = ads.get('plc')!;
  const root = parseXml(oneAd, 'ad').documentElement!;
  const serializer = new XMLSerializer();
  const parseAdMs = medianMs(() => void parseXml(oneAd, 'ad'), PURE_RUNS);
  const serializeAdMs = medianMs(() => {
    for (const child of childElements(root)) serializer.serializeToString(child);
  }, PURE_RUNS);
  const oneAnswer = serializeMethodResponse({ code: { geni_code: 0 }, value: oneAd, output: '' });
  const smValue = { code: { geni_code: 0 }, value: merged, output: '' };
  const smAnswer = serializeMethodResponse(smValue);
  // authorizeAm compares the credential owner's key with the TLS caller's on every call.
  const owner = Gid.fromPem(fed.pleGidPem).publicKey;
  const caller = createPublicKey(fed.pleGidPem);
  const peers = fed.pleRegistry.ctx.peerStore;
  const kB = (s: string) => `${(s.length / 1e3).toFixed(0)} kB`;
  return [
    [`mergeRspecs: 3 ads + 1 failure → ${kB(merged)}`, mergeMs],
    [`  of which per ad: parseXml (xmldom), ${kB(oneAd)}`, parseAdMs],
    [`  of which per ad: serialize its children (xmldom)`, serializeAdMs],
    [
      `parse one aggregate's answer (${kB(oneAnswer)})`,
      medianMs(() => void parseMethodResponse(oneAnswer), PURE_RUNS),
    ],
    [
      `serialize the SM's answer (${kB(smAnswer)})`,
      medianMs(() => void serializeMethodResponse(smValue), PURE_RUNS),
    ],
    [`parse the SM's answer`, medianMs(() => void parseMethodResponse(smAnswer), PURE_RUNS)],
    [
      `sameKey (authorizeAm, every call at SM and AMs)`,
      medianMs(() => void sameKey(owner, caller), PURE_RUNS),
    ],
    [`KeyObject.equals, the same comparison`, medianMs(() => void owner.equals(caller), PURE_RUNS)],
    [
      `peerStore.list() (the SM's aggregates(), every call)`,
      medianMs(() => void peers.list(), PURE_RUNS),
    ],
  ];
}

/** GetVersion at ple's aggregate with ple's identity: on a new connection, and on a pooled one. */
async function handshakeCost(fed: Federation): Promise<{ fresh: number[]; pooled: number[] }> {
  const url = running(fed, 'ple').urls.aggregate;
  const opts = { key: fed.pleKeyPem, cert: fed.pleGidPem, timeoutMs: CALL_TIMEOUT_MS };
  const freshOnce = async () => {
    const agent = new Agent({ keepAlive: false, rejectUnauthorized: false });
    try {
      return await wallMs(() => xmlRpcCall(url, 'GetVersion', [], { ...opts, agent }));
    } finally {
      agent.destroy();
    }
  };
  const pooledAgent = createKeepAliveAgent({ maxSockets: 1 });
  try {
    const fresh: number[] = [];
    const pooled: number[] = [];
    for (let i = 0; i < HANDSHAKE_RUNS + 2; i++) {
      const f = await freshOnce();
      const p = await wallMs(() =>
        xmlRpcCall(url, 'GetVersion', [], { ...opts, agent: pooledAgent }),
      );
      if (i >= 2) {
        fresh.push(f);
        pooled.push(p);
      }
    }
    return { fresh, pooled };
  } finally {
    pooledAgent.destroy();
  }
}

/**
 * Measure the slice manager's fan-out and print the tables; everything it starts is closed
 * before it returns, on failure too.
 */
export async function benchSliceManager(): Promise<void> {
  const benchStarted = performance.now();
  console.log(
    `Slice manager fan-out: ListResources through ple's SM to 4 aggregates (36 nodes each),` +
      ` one process on 127.0.0.1, relay timeout T = ${RELAY_TIMEOUT_MS} ms, SM ad cache off` +
      ` (load average ${loadavg()[0]!.toFixed(1)})`,
  );
  const gc = watchGc();
  const fed = await startFederation().catch((e: unknown) => {
    gc.stop();
    throw e;
  });
  const hang = await startHangingPeer().catch(async (e: unknown) => {
    gc.stop();
    await stopFederation(fed);
    throw e;
  });
  try {
    const setupMs = performance.now() - benchStarted;
    const deadline = performance.now() + MEASURE_BUDGET_MS;
    const elcUrl = running(fed, FAULTY).urls.aggregate;
    const closedUrl = await closedPortUrl();

    // Rounds, each with one run of every fast row, so that drift and other load on the machine
    // fall on all rows alike; the first rounds only warm up.
    const direct = new Map<string, Run[]>([...HEALTHY, FAULTY].map((h) => [h, []]));
    const ads = new Map<string, string>();
    const together: number[] = [];
    const healthy: Run[] = [];
    const refused: Run[] = [];
    for (let round = 0; round < WARMUP_ROUNDS + ROUNDS; round++) {
      if (round >= WARMUP_ROUNDS + 3 && performance.now() > deadline) break;
      const keep = round >= WARMUP_ROUNDS;
      for (const hrn of [...HEALTHY, FAULTY]) {
        const run = await directRun(fed, hrn, ads);
        if (keep) direct.get(hrn)!.push(run);
      }
      const t = await wallMs(() =>
        Promise.all(HEALTHY.map((h) => fed.list(running(fed, h).urls.aggregate))),
      );
      await repoint(fed, elcUrl);
      const h = await smRun(fed, undefined);
      await repoint(fed, closedUrl);
      const a = await smRun(fed, { code: 11 });
      if (keep) {
        together.push(t);
        healthy.push(h);
        refused.push(a);
      }
    }
    const slowest = HEALTHY.reduce((x, y) =>
      med(walls(direct.get(x)!)) >= med(walls(direct.get(y)!)) ? x : y,
    );
    const sRuns = walls(direct.get(slowest)!);
    const S = med(sRuns);

    // (a) again, as the first call after the pooled connections closed (node's default agent,
    // which the SM relays through, drops idle sockets after 5 s): every leg shakes hands anew.
    const cold: Run[] = [];
    for (let i = 0; i < COLD_RUNS && performance.now() < deadline + 5_000; i++) {
      globalAgent.destroy(); // the sockets only: the agent stays usable
      cold.push(await smRun(fed, { code: 11 }));
    }

    // (b): one warm-up, then HANG_RUNS runs of about T each.
    await repoint(fed, hang.url);
    const hanging: Run[] = [];
    await smRun(fed, { code: 8 });
    for (let i = 0; i < HANG_RUNS; i++) hanging.push(await smRun(fed, { code: 8 }));
    await repoint(fed, elcUrl);

    const handshake = await handshakeCost(fed);
    const pure = pureSteps(fed, ads);
    // GC entries are delivered asynchronously: let them arrive before charging them.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const gcMs = (r: Run) => gc.pausedMs(r.start, r.start + r.wall);

    // The report.
    const aimA = S + AIM_MARGIN_MS;
    const aimB = RELAY_TIMEOUT_MS + AIM_MARGIN_MS;
    console.log(`  (setup ${ms(setupMs / 1000)} s)\n`);
    console.log(
      `  ${'ListResources, wall time at the client, ms'.padEnd(42)} runs   median      p95   aim`,
    );
    for (const hrn of [...HEALTHY, FAULTY]) {
      const mark = hrn === slowest ? '  ← S (slowest healthy median)' : '';
      console.log(row(`(0) ${hrn}'s aggregate alone, direct`, walls(direct.get(hrn)!)) + mark);
    }
    console.log(row(`    ${HEALTHY.join(', ')} at once, direct`, together, 'one-process floor'));
    console.log(row('    SM, 4 healthy aggregates', walls(healthy), 'reference'));
    console.log(
      row(
        `(a) SM, ${FAULTY} refuses connections`,
        walls(refused),
        `≤ S+${AIM_MARGIN_MS} = ${ms(aimA)}`,
        `median ${verdictOf(med(walls(refused)), aimA)}; ` +
          `p95 vs S's p95+${AIM_MARGIN_MS}: ${verdictOf(p95(walls(refused)), p95(sRuns) + AIM_MARGIN_MS)}`,
      ),
    );
    console.log(
      row(
        `    (a) on new connections (idle > 5 s)`,
        walls(cold),
        `≤ S+${AIM_MARGIN_MS}`,
        `median ${verdictOf(med(walls(cold)), aimA)}`,
      ),
    );
    console.log(
      row(
        `(b) SM, ${FAULTY} hangs`,
        walls(hanging),
        `≤ T+${AIM_MARGIN_MS} = ${aimB}`,
        `median ${verdictOf(med(walls(hanging)), aimB)}; p95 ${verdictOf(p95(walls(hanging)), aimB)}`,
      ),
    );
    console.log(
      `      beyond S: (a) +${ms(med(walls(refused)) - S)} ms (median); beyond T: (b) ` +
        `+${ms(med(walls(hanging)) - RELAY_TIMEOUT_MS)} ms (median)`,
    );
    console.log(
      `      answers: direct ${answers([...direct.values()].flat())}; SM healthy ` +
        `${answers(healthy)}; (a) ${answers([...refused, ...cold])}; (b) ${answers(hanging)} ` +
        `(the others' nodes in the ad, ok in sfa_ts_aggregates, ${FAULTY} error 11 / 8)`,
    );

    console.log('\n  Where the time goes (median of each column but GC avg, ms)');
    console.log(`  ${''.padEnd(24)}${BREAKDOWN_COLUMNS.map((c) => c.padStart(8)).join('')}`);
    console.log(breakdownRow(`(0) ${slowest} alone (S)`, direct.get(slowest)!, gcMs));
    console.log(breakdownRow('SM, 4 healthy', healthy, gcMs));
    console.log(breakdownRow(`(a) ${FAULTY} refuses`, refused, gcMs));
    console.log(breakdownRow(`(a) new connections`, cold, gcMs));
    console.log(breakdownRow(`(b) ${FAULTY} hangs`, hanging, gcMs));
    console.log(
      '    server: handler time of the server called (its log line; for the SM: credential check,\n' +
        '    relay and merge); relay: slowest leg the SM reports (whole ms); relayOK: slowest\n' +
        '    healthy leg; AM hdl: slowest aggregate handler; cli↔srv = wall − server (request and\n' +
        '    answer (de)serialization, TLS I/O); SM own = server − relay (check + merge); leg I/O =\n' +
        '    relayOK − AM hdl (in one process: the other legs’ work too); GC avg: mean of the GC\n' +
        '    pauses inside a call; new TLS: connections opened per call.',
    );
    console.log('\n  Pure steps of the path, alone (median ms)');
    const stepRow = (label: string, value: number) =>
      console.log(`  ${label.padEnd(56)}${ms(value, 2).padStart(8)}`);
    for (const [label, value] of pure) stepRow(label, value);
    stepRow(`GetVersion at ple's AM, ple's identity, new connection`, med(handshake.fresh));
    stepRow(`GetVersion at ple's AM, ple's identity, pooled connection`, med(handshake.pooled));
    console.log(`\n  (total ${ms((performance.now() - benchStarted) / 1000)} s)`);
  } finally {
    gc.stop();
    await hang.close();
    await stopFederation(fed);
  }
}
