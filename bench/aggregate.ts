/**
 * The aggregate manager over real HTTPS on loopback, with real certificates and credentials
 * issued by the authority's own registry; the server runs in its own process
 * (bench/aggregate-server.ts), the clients here.
 *
 * 1. ListResources of a 10,000-node testbed: built afresh (`cached: false`) and from the cache
 *    of prepared bytes, plain and `geni_compressed`; where the uncached time goes; the server's
 *    memory. Aims: ≤ 150 ms uncached, ≤ 5 ms cached. Python SFA for scale: its RSpec builder
 *    alone takes 402 ms for the same ad on a machine of this kind.
 * 2. Allocate from 32 concurrent clients on keep-alive connections, (a) each call on a node of
 *    its own, (b) all on the same few exclusive nodes and the same port; then a check, from the
 *    tables, that nothing was double-booked. Aim: ≥ 300 calls/s.
 *
 * Every loop is bounded in calls and in time; all traffic goes to 127.0.0.1.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Agent } from 'node:https';
import { fileURLToPath } from 'node:url';
import { inflateSync } from 'node:zlib';
import Sqlite from 'better-sqlite3';
import { paths } from '../src/config.js';
import { GeniCode } from '../src/faults.js';
import {
  createKeepAliveAgent,
  DEFAULT_MAX_RESPONSE_BYTES,
  xmlRpcCall,
} from '../src/xmlrpc/client.js';
import { parseMethodResponse } from '../src/xmlrpc/parse.js';
import { serializeMethodCall } from '../src/xmlrpc/serialize.js';
import type { XmlRpcStruct, XmlRpcWritable } from '../src/xmlrpc/value.js';
import { bootstrapUser } from '../test/support/authority.js';
import { CALL_LIMITS } from '../src/limits.js';
import {
  BENCH_LAB,
  benchNode,
  CM_URN,
  makeBenchAuthority,
  NODES_PER_SITE,
  SITES,
  type BenchClient,
  type BenchNode,
} from './aggregate-fixture.js';
import type {
  AdParts,
  MemoryFigures,
  ServedCall,
  ServerMessage,
  ServerRequest,
} from './aggregate-server.js';
import { checkBookings, isClean, type BookingCheck } from './double-booking.js';
import { amCall, CALL_TIMEOUT_MS, geniCode, rawCall } from './am-client.js';
import { mb, ms, percentile } from './stats.js';
import { SqliteDatabase } from '../src/store/sql.js';

const CLIENTS = 32;
const GENI3 = { type: 'GENI', version: '3' };
/** Bounds of the ListResources runs (calls per variant). */
const UNCACHED_RUNS = 9;
const CACHED_RUNS = 21;
/** Bounds of each Allocate round. */
const ROUND_MAX_CALLS = 4000;
const ROUND_MAX_MS = 8000;
/** Round (b): this many exclusive nodes and as many shared ones, all asking for this port. */
const CONTENDED_PAIRS = 4;
const CONTENDED_PORT = 'tcp:9000';
/** How often round (b) looks at the tables while it runs. */
const SNAPSHOT_EVERY_MS = 100;

const CODE_NAMES = new Map<number, string>(Object.entries(GeniCode).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------------------------------------
// The server process

/** A request without its id (Omit on each member of the union). */
type ServerAsk = ServerRequest extends infer R
  ? R extends unknown
    ? Omit<R, 'id'>
    : never
  : never;

interface BenchServer {
  urls: { registry: string; aggregate: string };
  startMemory: MemoryFigures;
  ask<T>(req: ServerAsk): Promise<T>;
  close(): Promise<void>;
}

function startServer(dir: string): Promise<BenchServer> {
  const entry = fileURLToPath(new URL('./aggregate-server.ts', import.meta.url));
  // The same loader as this process (tsx), and a gc() to measure the heap after a collection.
  // SFA_BENCH_CPU_PROF=<dir> writes a CPU profile of the server there (for a closer look).
  const profile = process.env['SFA_BENCH_CPU_PROF'];
  const child: ChildProcess = fork(entry, [dir], {
    execArgv: [
      ...process.execArgv,
      '--expose-gc',
      ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []),
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill();
      reject(new Error('the benchmark server did not start within 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      const err = new Error(`the benchmark server exited (code ${code})`);
      for (const p of pending.values()) p.reject(err);
      reject(err);
    });
    child.on('message', (raw) => {
      const m = raw as ServerMessage;
      if (m.type === 'ready') {
        clearTimeout(timer);
        resolve({
          urls: m.urls,
          startMemory: m.memory,
          ask: <T>(req: ServerAsk) =>
            new Promise<T>((res, rej) => {
              const id = nextId++;
              pending.set(id, { resolve: res as (v: unknown) => void, reject: rej });
              child.send({ ...req, id });
            }),
          close: async () => {
            if (child.exitCode !== null) return;
            const exited = new Promise((res) => child.once('exit', res));
            child.send({ op: 'close', id: nextId++ });
            const killer = setTimeout(() => child.kill(), 10_000);
            await exited;
            clearTimeout(killer);
          },
        });
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.type === 'answer') p.resolve(m.result);
      else p.reject(new Error(m.message));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Clients

interface Researcher extends BenchClient {
  keyPem: string;
  /** The user's GID from the registry: the TLS client certificate. */
  gid: string;
  userCred: string;
  sliceCreds: XmlRpcStruct[];
}

/** sfi's way: self-signed certificate → GetSelfCredential → Resolve → GetCredential(slice). */
async function researchers(registryUrl: string, clients: BenchClient[]): Promise<Researcher[]> {
  return Promise.all(
    clients.map(async (c) => {
      const b = await bootstrapUser(registryUrl, c.user);
      const sliceCred = (await b.registry('GetCredential', b.cred, c.sliceHrn, 'slice')) as string;
      return {
        ...c,
        keyPem: c.user.keyPem,
        gid: b.gid,
        userCred: b.cred,
        sliceCreds: [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: sliceCred }],
      };
    }),
  );
}

/** The allocation states of the slivers in a Status answer. */
const sliversOf = (answer: XmlRpcStruct): string[] =>
  (((answer['value'] as XmlRpcStruct)['geni_slivers'] ?? []) as XmlRpcStruct[]).map((s) =>
    String(s['geni_allocation_status']),
  );

/**
 * One XML-RPC call over `agent` read to its last byte but not parsed: what the server and the
 * wire cost, apart from the client's XML parsing.
 */

// ---------------------------------------------------------------------------------------------
// 1. ListResources

interface ListRun {
  label: string;
  server: number[];
  lastByte: number[];
  total: number[];
  bytes: number;
  valueBytes: number;
}

async function listResourcesRuns(
  server: BenchServer,
  r: Researcher,
  agent: Agent,
  opts: { cached: boolean; compressed: boolean; runs: number; label: string },
  expectNodes: number,
): Promise<ListRun> {
  const body = Buffer.from(
    serializeMethodCall('ListResources', [
      [r.userCred],
      { geni_rspec_version: GENI3, cached: opts.cached, geni_compressed: opts.compressed },
    ]),
  );
  const url = server.urls.aggregate;
  // Warm-up, and for the cached runs, the call that fills the cache.
  await rawCall(url, body, r, agent);
  await server.ask<ServedCall[]>({ op: 'calls' });
  const run: ListRun = {
    label: opts.label,
    server: [],
    lastByte: [],
    total: [],
    bytes: 0,
    valueBytes: 0,
  };
  for (let i = 0; i < opts.runs; i++) {
    const start = performance.now();
    const raw = await rawCall(url, body, r, agent);
    // What xmlRpcCall would do next: parse the answer (and an sfi-like client inflates it).
    const parsed = parseMethodResponse(raw.body, { maxBytes: DEFAULT_MAX_RESPONSE_BYTES });
    if (!('value' in parsed)) throw new Error(`ListResources answered a fault`);
    const answer = parsed.value as XmlRpcStruct;
    if (geniCode(answer) !== 0) throw new Error(`ListResources: ${String(answer['output'])}`);
    let ad = answer['value'] as string;
    if (opts.compressed) ad = inflateSync(Buffer.from(ad, 'base64')).toString('utf8');
    run.total.push(performance.now() - start);
    run.lastByte.push(raw.ms);
    run.bytes = raw.body.length;
    run.valueBytes = Buffer.byteLength(answer['value'] as string);
    if (i === 0) {
      const nodes = ad.split('<node ').length - 1;
      if (nodes !== expectNodes) {
        throw new Error(`ListResources listed ${nodes} nodes, expected ${expectNodes}`);
      }
    }
  }
  const served = await server.ask<ServedCall[]>({ op: 'calls' });
  run.server = served.filter((c) => c.method === 'ListResources').map((c) => c.ms);
  return run;
}

/** `median / p95`, right-aligned in 15 characters. */
const medianP95 = (xs: readonly number[]): string =>
  `${ms(percentile(xs, 50)).padStart(6)} / ${ms(percentile(xs, 95)).padEnd(6)}`;

function listLine(run: ListRun): void {
  console.log(
    `    ${run.label.padEnd(26)} ${String(run.lastByte.length).padStart(5)}  ${medianP95(run.server)}  ` +
      `${medianP95(run.lastByte)}  ${medianP95(run.total)}  ${mb(run.bytes).padStart(7)}`,
  );
}

function memoryLine(label: string, m: MemoryFigures): void {
  console.log(
    `    ${label.padEnd(44)} rss ${mb(m.rss).padStart(8)}   heap used ${mb(m.heapUsed).padStart(8)}` +
      `   external ${mb(m.external).padStart(8)}`,
  );
}

async function benchListResources(server: BenchServer, r: Researcher, nodes: number) {
  const agent = createKeepAliveAgent({ maxSockets: 1 });
  try {
    const variants = [
      { cached: false, compressed: false, runs: UNCACHED_RUNS, label: 'uncached' },
      { cached: false, compressed: true, runs: UNCACHED_RUNS, label: 'uncached, geni_compressed' },
      { cached: true, compressed: false, runs: CACHED_RUNS, label: 'cached' },
      { cached: true, compressed: true, runs: CACHED_RUNS, label: 'cached, geni_compressed' },
    ];
    console.log(
      `  ListResources of ${nodes.toLocaleString('en')} nodes, one client on a keep-alive connection` +
        ' (ms, median / p95; aims: ≤ 150 uncached, ≤ 5 cached)',
    );
    console.log(
      `    ${''.padEnd(26)} ${'calls'.padStart(5)}  ${'server handler'.padEnd(15)}  ${'last byte'.padEnd(15)}` +
        `  ${'+ client parse'.padEnd(15)}  answer`,
    );
    const runs: ListRun[] = [];
    for (const v of variants) {
      const run = await listResourcesRuns(server, r, agent, v, nodes);
      runs.push(run);
      listLine(run);
    }
    const plain = runs[0]!;
    console.log(
      '    server handler: credential check to prepared bytes, in the server; last byte: request' +
        ' sent to answer read,\n    at the client; + client parse: and the answer parsed' +
        ' (XML-RPC), and inflated when compressed',
    );
    const afterCalls = await server.ask<MemoryFigures>({ op: 'memory', gc: false });
    const afterGc = await server.ask<MemoryFigures>({ op: 'memory', gc: true });

    const parts = await server.ask<AdParts>({ op: 'parts', runs: 5 });
    console.log('  where the uncached time goes (in the server process, median of 5):');
    const part = (label: string, x: number) =>
      console.log(`    ${label.padEnd(56)} ${ms(x).padStart(7)} ms`);
    part(`engine.listNodes (${parts.nodes} nodes from SQLite)`, parts.listNodesMs);
    part('toAdNode mapping', parts.toAdNodeMs);
    part(`writeAdvertisement (${mb(parts.adBytes)})`, parts.writeAdvertisementMs);
    part(
      `XML-RPC serialization of the ad (${mb(parts.responseBytes)} methodResponse)`,
      parts.serializeMs,
    );
    part('geni_compressed: deflate + base64', parts.deflateBase64Ms);
    part('geni_compressed: XML-RPC serialization', parts.serializeCompressedMs);
    const sum =
      parts.listNodesMs + parts.toAdNodeMs + parts.writeAdvertisementMs + parts.serializeMs;
    part('sum of the plain steps (compare: server p50 above)', sum);
    console.log(
      `    the ad: ${plain.valueBytes} B plain, ${runs[1]!.valueBytes} B geni_compressed (base64 of zlib)`,
    );
    console.log('  aggregate server memory:');
    memoryLine('after start (inventory loaded, no call yet)', server.startMemory);
    memoryLine('after the setup and ListResources calls', afterCalls);
    memoryLine('same, after a full GC', afterGc);
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Allocate

const RSPEC_OPEN =
  '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3"' +
  ' xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1">';

function nodeElement(clientId: string, n: BenchNode, ports?: string): string {
  const attr = ports ? `<planetlab:attribute name="ports" value="${ports}"/>` : '';
  return (
    `<node client_id="${clientId}" component_id="${n.urn}" component_manager_id="${CM_URN}"` +
    ` exclusive="${n.exclusive}"><sliver_type name="plab-vserver">${attr}</sliver_type></node>`
  );
}

const requestRspec = (...nodes: string[]): string => `${RSPEC_OPEN}${nodes.join('')}</rspec>`;

interface RoundStats {
  calls: number;
  wallMs: number;
  latencies: number[];
  codes: Map<number, number>;
  messages: Map<number, string>;
  transportErrors: number;
  firstTransportError?: string;
  /** Processor time in this (client) process and in the server, over the round. */
  clientCpuMs: number;
  serverCpuMs: number;
  /** Share of the round the server's event loop was busy (1: the server was the limit). */
  serverLoopBusy: number;
  served: ServedCall[];
}

function emptyStats(): RoundStats {
  return {
    calls: 0,
    wallMs: 0,
    latencies: [],
    codes: new Map(),
    messages: new Map(),
    transportErrors: 0,
    clientCpuMs: 0,
    serverCpuMs: 0,
    serverLoopBusy: 0,
    served: [],
  };
}

/**
 * Run `step` from CLIENTS concurrent loops until `maxCalls` calls are issued, `maxMs` has
 * passed, or a step says there is nothing left to do.
 */
async function hammer(
  server: BenchServer,
  step: (client: number, k: number, stats: RoundStats, last: () => boolean) => Promise<boolean>,
): Promise<RoundStats> {
  await server.ask<ServedCall[]>({ op: 'calls' });
  const stats: RoundStats = emptyStats();
  const serverCpu0 = await server.ask<number>({ op: 'cpu' });
  await server.ask<number>({ op: 'elu' });
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const deadline = start + ROUND_MAX_MS;
  let issued = 0;
  /** No call will be issued after this one. */
  const last = (): boolean => issued >= ROUND_MAX_CALLS || performance.now() >= deadline;
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, c) => {
      for (let k = 0; !last(); k++) {
        issued++;
        if (!(await step(c, k, stats, last))) break;
      }
    }),
  );
  stats.wallMs = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  stats.clientCpuMs = (cpu.user + cpu.system) / 1000;
  stats.serverLoopBusy = await server.ask<number>({ op: 'elu' });
  stats.serverCpuMs = ((await server.ask<number>({ op: 'cpu' })) - serverCpu0) / 1000;
  stats.served = await server.ask<ServedCall[]>({ op: 'calls' });
  return stats;
}

/** Time one AM call into `stats`; the answer, or undefined on a transport error. */
async function timed(
  stats: RoundStats,
  call: () => Promise<XmlRpcStruct>,
): Promise<XmlRpcStruct | undefined> {
  const start = performance.now();
  try {
    const answer = await call();
    stats.latencies.push(performance.now() - start);
    stats.calls++;
    const code = geniCode(answer);
    stats.codes.set(code, (stats.codes.get(code) ?? 0) + 1);
    if (code !== 0 && !stats.messages.has(code)) stats.messages.set(code, String(answer['output']));
    return answer;
  } catch (e) {
    stats.transportErrors++;
    stats.firstTransportError ??= (e as Error).message;
    return undefined;
  }
}

function roundHeader(): void {
  console.log(
    `    ${''.padEnd(28)} ${'calls'.padStart(5)} ${'calls/s'.padStart(7)}  ${'p50'.padStart(6)} ${'p95'.padStart(6)}` +
      ` ${'p99'.padStart(6)}  ${'handler p50/p99'.padStart(15)}  ${'CPU/call'.padStart(8)}  server loop busy, CPU; client CPU`,
  );
}

function roundLine(label: string, s: RoundStats, method = 'Allocate'): void {
  const q = (p: number) => ms(percentile(s.latencies, p)).padStart(6);
  const handler = s.served.filter((c) => c.method === method).map((c) => c.ms);
  const served = s.served.length || s.calls;
  const share = (cpuMs: number) => `${((100 * cpuMs) / s.wallMs).toFixed(0)}%`;
  console.log(
    `    ${label.padEnd(28)} ${String(s.calls).padStart(5)} ${((s.calls * 1000) / s.wallMs).toFixed(0).padStart(7)}` +
      `  ${q(50)} ${q(95)} ${q(99)}  ${`${ms(percentile(handler, 50))} / ${ms(percentile(handler, 99))}`.padStart(15)}` +
      `  ${ms(s.serverCpuMs / served, 2).padStart(8)}  ${(100 * s.serverLoopBusy).toFixed(0)}%, ${share(s.serverCpuMs)}; ${share(s.clientCpuMs)}`,
  );
  const codes = [...s.codes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([code, n]) => `${CODE_NAMES.get(code) ?? code} ${n}`)
    .join(', ');
  const transport = s.transportErrors
    ? `; transport errors ${s.transportErrors} (${s.firstTransportError})`
    : '';
  console.log(`      answers: ${codes || 'none'}${transport}`);
  for (const [code, message] of s.messages) {
    console.log(`      e.g. ${CODE_NAMES.get(code) ?? code}: ${message.slice(0, 150)}…`);
  }
}

function checkLine(label: string, c: BookingCheck): void {
  console.log(
    `    ${label}: ${isClean(c) ? 'OK' : 'DOUBLE-BOOKED'} — ${c.sharedExclusiveNodes} exclusive nodes with` +
      ` slivers of 2+ slices, ${c.overlappingLeases} overlapping leases, ${c.overlappingPorts}` +
      ` overlapping port reservations\n      (in the tables, through the server's store: ${c.liveSlivers}` +
      ` live slivers, ${c.exclusiveNodesHeld} exclusive nodes held, ${c.portReservations} port reservations)`,
  );
}

/** Delete every sliver of every slice (outside any timing), and make sure none is left. */
async function releaseAll(
  server: BenchServer,
  url: string,
  rs: Researcher[],
  agent: Agent,
): Promise<void> {
  await Promise.all(rs.map((r) => amCall(url, r, agent, 'Delete', [r.sliceUrn], r.sliceCreds, {})));
  const left = await server.ask<BookingCheck>({ op: 'check' });
  if (left.liveSlivers !== 0) throw new Error(`${left.liveSlivers} slivers left after Delete`);
  await server.ask<ServedCall[]>({ op: 'calls' });
}

async function benchAllocate(server: BenchServer, rs: Researcher[], dbPath: string) {
  const url = server.urls.aggregate;
  // One pool; connections are pooled per client certificate, so each client keeps its own.
  const agent = createKeepAliveAgent({ maxSockets: 1 });
  try {
    // Each client connects and has its slice credential verified once (the server caches it).
    await Promise.all(
      rs.map((r) => amCall(url, r, agent, 'Status', [r.sliceUrn], r.sliceCreds, {})),
    );

    const contended = Array.from({ length: CONTENDED_PAIRS }, (_, k) => ({
      exclusive: benchNode(k, 0),
      shared: benchNode(k, 1),
    }));
    const reserved = new Set(contended.flatMap((p) => [p.exclusive.hostname, p.shared.hostname]));
    // Round (a)'s nodes, site by site in turn so that consecutive calls spread over the sites.
    const distinct: BenchNode[] = [];
    for (let j = 0; j < NODES_PER_SITE; j++) {
      for (let s = 0; s < SITES; s++) {
        const n = benchNode(s, j);
        if (n.booted && !reserved.has(n.hostname)) distinct.push(n);
      }
    }

    console.log(
      `  Allocate, ${CLIENTS} concurrent clients (a researcher and a slice each) on keep-alive` +
        ` connections, ≤ ${ROUND_MAX_CALLS} calls or ${ROUND_MAX_MS / 1000} s per round` +
        ' (ms; aim ≥ 300 calls/s)',
    );
    roundHeader();

    // (a) Every call a node of its own (one in ten exclusive), each with a port.
    const won = new Set<string>();
    const a = await hammer(server, async (c, k, stats) => {
      const node = distinct[c + CLIENTS * k];
      if (!node) return false;
      const r = rs[c]!;
      const answer = await timed(stats, () =>
        amCall(
          url,
          r,
          agent,
          'Allocate',
          r.sliceUrn,
          r.sliceCreds,
          requestRspec(nodeElement(`n${k}`, node, 'tcp:8080')),
          {},
        ),
      );
      if (answer && geniCode(answer) === 0) won.add(node.hostname);
      return true;
    });
    roundLine('(a) distinct nodes', a);
    const afterA = await server.ask<BookingCheck>({ op: 'check' });
    checkLine('double-booking check after (a)', afterA);
    if (afterA.liveSlivers !== won.size) {
      console.log(
        `      MISMATCH: ${won.size} Allocates succeeded but ${afterA.liveSlivers} slivers are live`,
      );
    }
    await releaseAll(server, url, rs, agent);

    // (b) Everyone wants the same few exclusive nodes and the same port on the same few shared
    // nodes. A winner confirms with Status that it holds them, then gives them back (while the
    // round goes on), so the nodes keep changing hands; meanwhile another connection looks at
    // the tables.
    const reader = new SqliteDatabase(new Sqlite(dbPath, { readonly: true, fileMustExist: true }));
    const snapshots: BookingCheck[] = [];
    const watcher = setInterval(
      () => snapshots.push(checkBookings(reader, new Date())),
      SNAPSHOT_EVERY_MS,
    );
    const statuses = emptyStats();
    const deletes = emptyStats();
    let unconfirmed = 0;
    /**
     * What the clients saw: each held `pair` at least from the answer to its Allocate to the
     * answer to its Status (Delete comes after); two such spans of one pair must not overlap.
     */
    const holds: { pair: number; from: number; to: number }[] = [];
    let b: RoundStats;
    try {
      b = await hammer(server, async (c, k, stats, last) => {
        const pair = (c + k) % CONTENDED_PAIRS;
        const p = contended[pair]!;
        const r = rs[c]!;
        const answer = await timed(stats, () =>
          amCall(
            url,
            r,
            agent,
            'Allocate',
            r.sliceUrn,
            r.sliceCreds,
            requestRspec(nodeElement('x', p.exclusive), nodeElement('s', p.shared, CONTENDED_PORT)),
            {},
          ),
        );
        if (!answer || geniCode(answer) !== 0) return true;
        const from = performance.now();
        if (last()) {
          holds.push({ pair, from, to: Infinity });
          return false; // the last winners keep their slivers for the final check
        }
        const status = await timed(statuses, () =>
          amCall(url, r, agent, 'Status', [r.sliceUrn], r.sliceCreds, {}),
        );
        const slivers = status && geniCode(status) === 0 ? sliversOf(status) : [];
        if (slivers.length !== 2 || slivers.some((v) => v !== 'geni_allocated')) unconfirmed++;
        holds.push({ pair, from, to: performance.now() });
        await timed(deletes, () => amCall(url, r, agent, 'Delete', [r.sliceUrn], r.sliceCreds, {}));
        return true;
      });
    } finally {
      clearInterval(watcher);
      reader.close();
    }
    roundLine(`(b) contended (${CONTENDED_PAIRS}+${CONTENDED_PAIRS} nodes)`, b);
    const wins = b.codes.get(0) ?? 0;
    const all = b.calls + statuses.calls + deletes.calls;
    console.log(
      `      ${wins} Allocates won; each winner but the last ones checked its slivers with Status` +
        ` (${statuses.calls} calls, p50 ${ms(percentile(statuses.latencies, 50))} ms) and gave them back` +
        ` with Delete\n      (${deletes.calls} calls, p50 ${ms(percentile(deletes.latencies, 50))} ms);` +
        ` with these, ${((all * 1000) / b.wallMs).toFixed(0)} calls/s in all`,
    );

    // A pair held by two clients at once, as the clients saw it, would be a double booking.
    let clientOverlaps = 0;
    for (let pair = 0; pair < CONTENDED_PAIRS; pair++) {
      const mine = holds.filter((h) => h.pair === pair).sort((x, y) => x.from - y.from);
      let held = -Infinity;
      for (const h of mine) {
        if (h.from < held) clientOverlaps++;
        held = Math.max(held, h.to);
      }
    }
    const dirty = snapshots.filter((s) => !isClean(s)).length;
    const busiest = snapshots.reduce((m, s) => Math.max(m, s.exclusiveNodesHeld), 0);
    const ok = dirty === 0 && clientOverlaps === 0 && unconfirmed === 0;
    console.log(
      `    double-booking checks during (b): ${ok ? 'OK' : 'DOUBLE-BOOKED'} —` +
        ` ${dirty} of ${snapshots.length} snapshots of the tables (another connection, every` +
        ` ${SNAPSHOT_EVERY_MS} ms) with a double booking\n      (up to ${busiest} exclusive nodes` +
        ` held at once); ${clientOverlaps} overlapping Allocate-to-Status spans of one node pair;` +
        ` ${unconfirmed} wins that Status did not confirm`,
    );
    checkLine('double-booking check after (b)', await server.ask<BookingCheck>({ op: 'check' }));
    await releaseAll(server, url, rs, agent);
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// 3. A heavy call and everyone else

/** Runs of each heavy call. */
const STALL_RUNS = 5;
/** How often the prober calls GetVersion while a heavy call runs. */
const PROBE_EVERY_MS = 5;

interface StallFigures {
  heavyMs: number;
  code: string;
  probes: number;
  probeMaxMs: number;
  probeP50Ms: number;
  loopMaxMs: number;
}

/**
 * Run `heavy` while a second client calls GetVersion every few ms on its own connection:
 * how long the heavy call took, how late the GetVersions answered, and the server event loop's
 * worst delay over the same time.
 */
async function underHeavyCall(
  server: BenchServer,
  prober: Researcher,
  agent: Agent,
  heavy: () => Promise<unknown>,
): Promise<StallFigures> {
  const probe = () => amCall(server.urls.aggregate, prober, agent, 'GetVersion', {});
  await probe(); // connected and warm
  await server.ask({ op: 'loop' });
  const latencies: number[] = [];
  let running = true;
  const probing = (async () => {
    while (running) {
      const t = performance.now();
      await probe();
      latencies.push(performance.now() - t);
      await new Promise((r) => setTimeout(r, PROBE_EVERY_MS));
    }
  })();
  const t0 = performance.now();
  let code: string;
  try {
    const answer = (await heavy()) as XmlRpcStruct | undefined;
    const c = answer && typeof answer === 'object' && 'code' in answer ? geniCode(answer) : 0;
    code = CODE_NAMES.get(c) ?? String(c);
  } catch (e) {
    const f = e as { faultCode?: number };
    code =
      f.faultCode !== undefined
        ? (CODE_NAMES.get(f.faultCode) ?? `fault ${f.faultCode}`)
        : String(e);
  }
  const heavyMs = performance.now() - t0;
  running = false;
  await probing;
  const loop = await server.ask<{ maxMs: number }>({ op: 'loop' });
  return {
    heavyMs,
    code,
    probes: latencies.length,
    probeMaxMs: Math.max(...latencies),
    probeP50Ms: percentile(latencies, 50),
    loopMaxMs: loop.maxMs,
  };
}

async function benchHeavyCalls(server: BenchServer, rs: Researcher[]): Promise<void> {
  const [pi, prober] = [rs[0]!, rs[1]!];
  const agent = createKeepAliveAgent({ maxSockets: 1 });
  const registry = (method: string, ...params: XmlRpcWritable[]) =>
    xmlRpcCall(server.urls.registry, method, params, {
      key: pi.keyPem,
      cert: pi.gid,
      timeoutMs: CALL_TIMEOUT_MS,
    });
  const unbound = (count: number) =>
    requestRspec(
      ...Array.from(
        { length: count },
        (_, i) =>
          `<node client_id="u${i}" component_manager_id="${CM_URN}" exclusive="false"><sliver_type name="plab-vserver"/></node>`,
      ),
    );
  const names = (count: number) =>
    Array.from({ length: count }, (_, i) => `${BENCH_LAB}.u${i % CLIENTS}`);
  try {
    const labCred = (await registry(
      'GetCredential',
      pi.userCred,
      BENCH_LAB,
      'authority',
    )) as string;
    let slice = 0;
    // The request is written before the timing; sending it still costs this process (where the
    // prober runs too) its serialization: the server's own delay is the event-loop figure.
    const allocate = (nodes: number) => {
      const rspec = unbound(nodes);
      return () =>
        amCall(server.urls.aggregate, pi, agent, 'Allocate', pi.sliceUrn, pi.sliceCreds, rspec, {});
    };
    const cases: [string, () => Promise<unknown>][] = [
      // What the probe sees with no heavy call: the floor (GC pauses, the other process).
      ['nothing else, for 200 ms (the baseline)', () => new Promise((r) => setTimeout(r, 200))],
      [
        `Allocate, ${CALL_LIMITS.requestNodes.toLocaleString('en')} unbound nodes (the limit)`,
        allocate(CALL_LIMITS.requestNodes),
      ],
      ['Allocate, 5,000 unbound nodes (refused)', allocate(5000)],
      ['Allocate, 40,000 unbound nodes (refused)', allocate(40_000)],
      [
        `Resolve, ${CALL_LIMITS.names.toLocaleString('en')} names (the limit)`,
        () => registry('Resolve', names(CALL_LIMITS.names), pi.userCred, {}),
      ],
      [
        'Resolve, 20,000 names (refused)',
        () => registry('Resolve', names(20_000), pi.userCred, {}),
      ],
      [
        'Register a slice (a new RSA key)',
        () => registry('Register', { hrn: `${BENCH_LAB}.heavy${slice++}`, type: 'slice' }, labCred),
      ],
      [
        'CreateGid without a certificate (a new RSA key)',
        () => registry('CreateGid', labCred, `${BENCH_LAB}.u1`, ''),
      ],
    ];
    console.log(
      `  (c) a heavy call and GetVersion every ${PROBE_EVERY_MS} ms from another client (median of ${STALL_RUNS} runs, and the worst run):`,
    );
    for (const [name, heavy] of cases) {
      const runs: StallFigures[] = [];
      for (let i = 0; i < STALL_RUNS; i++) {
        runs.push(await underHeavyCall(server, prober, agent, heavy));
        await amCall(server.urls.aggregate, pi, agent, 'Delete', [pi.sliceUrn], pi.sliceCreds, {});
      }
      const median = (f: (x: StallFigures) => number) => ms(percentile(runs.map(f), 50));
      const worst = (f: (x: StallFigures) => number) => ms(Math.max(...runs.map(f)));
      console.log(
        `    ${name}: ${runs[0]!.code}, ${median((r) => r.heavyMs)} ms;` +
          ` GetVersion p50 ${median((r) => r.probeP50Ms)} ms, slowest ${median((r) => r.probeMaxMs)} ms` +
          ` (${worst((r) => r.probeMaxMs)} in the worst run); server event loop's worst delay` +
          ` ${median((r) => r.loopMaxMs)} ms (${worst((r) => r.loopMaxMs)})`,
      );
    }
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

export async function benchAggregate(): Promise<void> {
  const t0 = performance.now();
  const made = await makeBenchAuthority(CLIENTS);
  let server: BenchServer | undefined;
  try {
    server = await startServer(made.dir);
    const rs = await researchers(server.urls.registry, made.clients);
    console.log(
      `aggregate manager (${made.nodes.toLocaleString('en')} nodes over ${made.sites} sites; server in its own process,` +
        ` HTTPS on 127.0.0.1; set-up ${((performance.now() - t0) / 1000).toFixed(1)} s;` +
        ` load average ${loadavg()[0]!.toFixed(1)} before the runs)`,
    );
    await benchListResources(server, rs[0]!, made.nodes);
    await benchAllocate(server, rs, paths.aggregateDatabase(made.dir));
    await benchHeavyCalls(server, rs);
  } finally {
    await server?.close();
    rmSync(made.dir, { recursive: true, force: true });
  }
}
