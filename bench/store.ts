/**
 * The authority's data in PostgreSQL against SQLite, served by real `sfa serve` processes
 * (front-ends) over HTTPS on 127.0.0.1, with real certificates and credentials.
 *
 * 1. Allocate from 32 concurrent clients (a researcher, a slice and a TLS key each, keep-alive
 *    connections, spread round-robin over the front-ends), each call on a shared node of its
 *    own so that no two calls conflict: SQLite with one front-end, PostgreSQL with one, two and
 *    four (one PostgreSQL server, a fresh database each). Aim: two front-ends ≥ 1.6× one on
 *    PostgreSQL. Where the processor time went (front-ends, PostgreSQL, this client process)
 *    says whether the machine, rather than the store, was the limit. A double-booking check
 *    from the tables after each configuration.
 * 2. ListResources of the 10,000-node inventory on one front-end, built afresh (`cached: false`)
 *    and from the cache, on each backend.
 *
 * The inventory is loaded into PostgreSQL once; each PostgreSQL configuration serves a copy
 * (`sfa serve --store`). `SFA_BENCH_PG_SETTINGS='synchronous_commit=off,…'` tries server
 * settings. Every loop is bounded in calls and time; everything made (processes, PostgreSQL,
 * folders) is removed at the end.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { Agent } from 'node:https';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { AggregateEngine } from '../src/aggregate/engine/engine.js';
import { initAuthority } from '../src/authority/init-authority.js';
import { storeLocation } from '../src/config.js';
import { GeniCode } from '../src/faults.js';
import { openRegistry } from '../src/registry/open-registry.js';
import { createRecord } from '../src/registry/register.js';
import { createKeepAliveAgent } from '../src/xmlrpc/client.js';
import { serializeMethodCall } from '../src/xmlrpc/serialize.js';
import type { XmlRpcStruct } from '../src/xmlrpc/value.js';
import { bootstrapUser, type TestUser } from '../test/support/authority.js';
import { postgresMissing, startPostgres, type TestPostgres } from '../test/support/postgres.js';
import { spawnAuthority, type ProcessAuthority } from '../test/support/process-authority.js';
import {
  AUTHORITY,
  BENCH_LAB,
  benchInventory,
  benchNode,
  CM_URN,
  NODES_PER_SITE,
  SITES,
  newResearcher,
  type BenchNode,
} from './aggregate-fixture.js';
import { checkBookings, isClean, type BookingCheck } from './double-booking.js';
import { amCall, geniCode, rawCall } from './am-client.js';
import { ms, percentile } from './stats.js';

const CLIENTS = 32;
/** Bounds of each Allocate round: the calls, and the time. */
const ROUND_MAX_CALLS = 4000;
const ROUND_MAX_MS = 8000;
/** Calls per ListResources variant (after one warm-up call). */
const LIST_RUNS = 5;
const AIM = 1.6;
const GENI3 = { type: 'GENI', version: '3' };

const CODE_NAMES = new Map<number, string>(Object.entries(GeniCode).map(([k, v]) => [v, k]));

// ---------------------------------------------------------------------------------------------
// The authority: as bench/aggregate-fixture.ts makes it, but in the store asked for

interface Made {
  dir: string;
  /** Where the aggregate's data is: the PostgreSQL URL or the SQLite file. */
  aggregateAt: string;
  nodes: number;
  inventoryMs: number;
  setupMs: number;
}

/**
 * A data folder under `root` for `ple`: the 10,000-node inventory and `users` (made once for
 * the whole part: their keys are the slow bit) with a slice each, in `store` (default SQLite).
 */
async function makeAuthority(root: string, users: TestUser[], store?: string): Promise<Made> {
  const t0 = performance.now();
  const dir = mkdtempSync(join(root, 'authority-'));
  const now = new Date(); // the front-ends run on the real clock
  await initAuthority({
    dir,
    authority: AUTHORITY,
    hostname: 'localhost',
    now,
    demoInventory: false,
    ...(store === undefined ? {} : { store }),
  });
  const aggregateAt = storeLocation(dir, store === undefined ? {} : { store }, 'aggregate');
  const engine = AggregateEngine.open(aggregateAt, { authority: AUTHORITY });
  let nodes: number;
  const t1 = performance.now();
  try {
    nodes = engine.loadInventory(benchInventory()).nodes;
  } finally {
    engine.close();
  }
  const inventoryMs = performance.now() - t1;
  const reg = openRegistry(dir);
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: BENCH_LAB, type: 'authority', name: 'Benchmark lab' }, now);
    for (const [i, u] of users.entries()) {
      const email = `${u.hrn.split('.').pop()}@bench.example.org`;
      await createRecord(ctx, { hrn: u.hrn, type: 'user', email, keys: [u.sshKey] }, now);
      await createRecord(
        ctx,
        { hrn: `${BENCH_LAB}.s${i}`, type: 'slice', researchers: [u.hrn] },
        now,
      );
    }
  } finally {
    reg.close();
  }
  return { dir, aggregateAt, nodes, inventoryMs, setupMs: performance.now() - t0 };
}

/** The double-booking check, from the tables, beside the front-ends. */
function bookings(aggregateAt: string): BookingCheck {
  const engine = AggregateEngine.open(aggregateAt, { authority: AUTHORITY });
  try {
    return checkBookings(engine.store.db, new Date());
  } finally {
    engine.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Clients

interface Researcher {
  keyPem: string;
  /** The user's GID from the registry: the TLS client certificate. */
  gid: string;
  userCred: string;
  sliceUrn: string;
  sliceCreds: XmlRpcStruct[];
}

/** sfi's way, at `registryUrl`: self-signed certificate → credential → GID → slice credential. */
function researchers(registryUrl: string, users: TestUser[]): Promise<Researcher[]> {
  return Promise.all(
    users.map(async (u, i) => {
      const b = await bootstrapUser(registryUrl, u);
      const slice = `${BENCH_LAB}.s${i}`;
      const cred = (await b.registry('GetCredential', b.cred, slice, 'slice')) as string;
      return {
        keyPem: u.keyPem,
        gid: b.gid,
        userCred: b.cred,
        sliceUrn: `urn:publicid:IDN+ple:bench+slice+s${i}`,
        sliceCreds: [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: cred }],
      };
    }),
  );
}

const allocateRspec = (clientId: string, n: BenchNode): string =>
  '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
  `<node client_id="${clientId}" component_id="${n.urn}" component_manager_id="${CM_URN}"` +
  ' exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>';

/** The shared (non-exclusive), booted nodes, site by site in turn: one per Allocate call. */
function sharedNodes(): BenchNode[] {
  const out: BenchNode[] = [];
  for (let j = 0; j < NODES_PER_SITE; j++) {
    for (let s = 0; s < SITES; s++) {
      const n = benchNode(s, j);
      if (n.booted && !n.exclusive) out.push(n);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Processor time: where the cores went

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process (all its threads), in ms; 0 once it is gone. */
function procCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command (which may hold spaces), from field 3 on: utime is 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return 0;
  }
}

/** The postmaster and its children (a backend per connection, and its helpers). */
function postgresCpuMs(postmaster: number | undefined): number {
  if (postmaster === undefined) return 0;
  let total = procCpuMs(postmaster);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += procCpuMs(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** Busy time of the whole machine (every core, every process), in ms, from /proc/stat. */
function machineCpuMs(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!; // cpu user nice system idle iowait …
  const [user, nice, system, , , irq, softirq, steal] = line
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  return ((user! + nice! + system! + irq! + softirq! + steal!) * 1000) / CLK_TCK;
}

interface CpuSample {
  frontEnds: number;
  postgres: number;
  client: number;
  machine: number;
}

function cpuSample(fes: ProcessAuthority[], pg: TestPostgres | undefined): CpuSample {
  const c = process.cpuUsage();
  return {
    frontEnds: fes.reduce((sum, fe) => sum + procCpuMs(fe.child.pid!), 0),
    postgres: postgresCpuMs(pg?.pid),
    client: (c.user + c.system) / 1000,
    machine: machineCpuMs(),
  };
}

// ---------------------------------------------------------------------------------------------
// 1. Allocate

interface Round {
  label: string;
  frontEnds: number;
  calls: number;
  wallMs: number;
  latencies: number[];
  codes: Map<number, number>;
  firstError?: string;
  transportErrors: number;
  /** Processor ms over the round. */
  cpu: CpuSample;
}

/**
 * CLIENTS loops, client c on front-end c mod F, each call allocating the next node of its own,
 * until ROUND_MAX_CALLS calls are issued or ROUND_MAX_MS has passed.
 */
async function allocateRound(
  label: string,
  fes: ProcessAuthority[],
  pg: TestPostgres | undefined,
  rs: Researcher[],
  agent: Agent,
): Promise<Round> {
  const nodes = sharedNodes();
  const url = (c: number) => fes[c % fes.length]!.urls.aggregate;
  // Warm-up: each client connects to its front-end and has its slice credential checked once.
  await Promise.all(
    rs.map((r, c) => amCall(url(c), r, agent, 'Status', [r.sliceUrn], r.sliceCreds, {})),
  );
  const round: Round = {
    label,
    frontEnds: fes.length,
    calls: 0,
    wallMs: 0,
    latencies: [],
    codes: new Map(),
    transportErrors: 0,
    cpu: { frontEnds: 0, postgres: 0, client: 0, machine: 0 },
  };
  const cpu0 = cpuSample(fes, pg);
  const start = performance.now();
  const deadline = start + ROUND_MAX_MS;
  let issued = 0;
  await Promise.all(
    rs.map(async (r, c) => {
      for (let k = 0; issued < ROUND_MAX_CALLS && performance.now() < deadline; k++) {
        const node = nodes[c + CLIENTS * k];
        if (!node) break;
        issued++;
        const t = performance.now();
        try {
          const answer = await amCall(
            url(c),
            r,
            agent,
            'Allocate',
            r.sliceUrn,
            r.sliceCreds,
            allocateRspec(`n${k}`, node),
            {},
          );
          round.latencies.push(performance.now() - t);
          round.calls++;
          const code = geniCode(answer);
          round.codes.set(code, (round.codes.get(code) ?? 0) + 1);
          if (code !== 0) round.firstError ??= String(answer['output']).slice(0, 150);
        } catch (e) {
          round.transportErrors++;
          round.firstError ??= (e as Error).message;
        }
      }
    }),
  );
  round.wallMs = performance.now() - start;
  const cpu1 = cpuSample(fes, pg);
  round.cpu = {
    frontEnds: cpu1.frontEnds - cpu0.frontEnds,
    postgres: cpu1.postgres - cpu0.postgres,
    client: cpu1.client - cpu0.client,
    machine: cpu1.machine - cpu0.machine,
  };
  return round;
}

const rate = (r: Round): number => (r.calls * 1000) / r.wallMs;
/** Processor time as cores busy over the round's wall time. */
const cores = (cpuMs: number, r: Round): string => (cpuMs / r.wallMs).toFixed(2);

function roundHeader(): void {
  console.log(
    `    ${'configuration'.padEnd(12)} ${'front-ends'.padStart(10)} ${'calls'.padStart(6)} ${'calls/s'.padStart(8)}` +
      ` ${'p50'.padStart(6)} ${'p95'.padStart(6)}   cores busy: ${'front-ends'.padStart(10)} ${'postgres'.padStart(8)}` +
      ` ${'client'.padStart(6)} ${'ours'.padStart(5)} ${'machine'.padStart(7)}`,
  );
}

function roundLine(r: Round): void {
  const q = (p: number) => ms(percentile(r.latencies, p)).padStart(6);
  const total = r.cpu.frontEnds + r.cpu.postgres + r.cpu.client;
  console.log(
    `    ${r.label.padEnd(12)} ${String(r.frontEnds).padStart(10)} ${String(r.calls).padStart(6)}` +
      ` ${rate(r).toFixed(0).padStart(8)} ${q(50)} ${q(95)}   ${''.padEnd(11)} ${cores(r.cpu.frontEnds, r).padStart(10)}` +
      ` ${cores(r.cpu.postgres, r).padStart(8)} ${cores(r.cpu.client, r).padStart(6)} ${cores(total, r).padStart(5)}` +
      ` ${cores(r.cpu.machine, r).padStart(7)}`,
  );
  const codes = [...r.codes.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([code, n]) => `${CODE_NAMES.get(code) ?? code} ${n}`)
    .join(', ');
  const transport = r.transportErrors ? `; transport errors ${r.transportErrors}` : '';
  const error = r.firstError ? ` (e.g. ${r.firstError})` : '';
  console.log(`      answers: ${codes || 'none'}${transport}${error}`);
}

function checkLine(c: BookingCheck, succeeded: number): void {
  const mismatch =
    c.liveSlivers === succeeded ? '' : ` — MISMATCH: ${succeeded} Allocates succeeded`;
  console.log(
    `      double-booking check: ${isClean(c) ? 'OK' : 'DOUBLE-BOOKED'} — ${c.sharedExclusiveNodes}` +
      ` exclusive nodes shared, ${c.overlappingLeases} overlapping leases, ${c.overlappingPorts}` +
      ` overlapping ports (${c.liveSlivers} live slivers${mismatch})`,
  );
}

// ---------------------------------------------------------------------------------------------
// 2. ListResources

/** One ListResources over `agent`, read to its last byte but not parsed: ms and answer bytes. */

// `<time> aggregate ListResources caller=<urn> code=0 3.2ms` (src/server/log.ts callLine).
const LIST_LINE = /^\S+ aggregate ListResources caller=.*? code=(\d+) ([\d.]+)ms/;

interface ListFigures {
  uncached: { server: number; lastByte: number };
  cached: { server: number; lastByte: number };
  bytes: number;
}

/** Median over LIST_RUNS calls (after a warm-up) of the handler time and the last-byte time. */
async function listResources(fe: ProcessAuthority, r: Researcher): Promise<ListFigures> {
  const agent = createKeepAliveAgent({ maxSockets: 1 });
  const url = fe.urls.aggregate;
  let bytes = 0;
  const runs = async (cached: boolean) => {
    const body = Buffer.from(
      serializeMethodCall('ListResources', [[r.userCred], { geni_rspec_version: GENI3, cached }]),
    );
    await rawCall(url, body, r, agent); // warm-up; fills the cache for the cached runs
    const from = fe.log.length;
    const lastByte: number[] = [];
    for (let i = 0; i < LIST_RUNS; i++) {
      const { ms: t, body: answer } = await rawCall(url, body, r, agent);
      const n = answer.length;
      lastByte.push(t);
      bytes = n;
    }
    // The call lines may come a moment after the answers.
    await new Promise((done) => setTimeout(done, 100));
    const server = fe.log
      .slice(from)
      .map((l) => LIST_LINE.exec(l))
      .filter((m): m is RegExpExecArray => m !== null && m[1] === '0')
      .map((m) => Number(m[2]));
    if (server.length !== LIST_RUNS) {
      throw new Error(`ListResources: ${server.length} successful calls logged, not ${LIST_RUNS}`);
    }
    return { server: percentile(server, 50), lastByte: percentile(lastByte, 50) };
  };
  try {
    return { uncached: await runs(false), cached: await runs(true), bytes };
  } finally {
    agent.destroy();
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Why two front-ends were not faster, from where the processor time went. Our processes
 * using no more cores with two front-ends than with one means the calls took turns (the
 * store's write lock) rather than ran side by side; the machine's cores all busy means there
 * was no core for a second front-end (others' processes included: on a shared machine, that
 * makes the run inconclusive).
 */
function whyNot(sqlite: Round, pg1: Round, pg2: Round): string {
  const n = cpus().length;
  const ours = (r: Round) => (r.cpu.frontEnds + r.cpu.postgres + r.cpu.client) / r.wallMs;
  const machine = (r: Round) => r.cpu.machine / r.wallMs;
  const others = (r: Round) => Math.max(0, machine(r) - ours(r));
  const perCall = (cpuMs: number, r: Round) => (cpuMs / r.calls).toFixed(2);
  const lines = [
    `    why: cores busy, ours / others' / of ${n}: one front-end ${ours(pg1).toFixed(2)} / ${others(pg1).toFixed(2)},` +
      ` two ${ours(pg2).toFixed(2)} / ${others(pg2).toFixed(2)}.`,
  ];
  if (ours(pg2) < 1.25 * ours(pg1)) {
    lines.push(
      '    Our processes used hardly more processor time with two front-ends than with one: the calls took' +
        '\n    turns instead of running side by side, i.e. they serialize on the store (its write lock).',
    );
  }
  if (machine(pg2) >= 0.85 * n) {
    lines.push(
      `    The machine's cores were busy (${machine(pg2).toFixed(2)} of ${n})` +
        `${others(pg2) > 0.25 ? ', partly with other processes than ours: run again on a quiet machine to be sure' : ': a second front-end had no core of its own'}.`,
    );
  } else {
    lines.push(
      `    Cores were left idle (${machine(pg2).toFixed(2)} of ${n} busy): not a lack of processors.`,
    );
  }
  lines.push(
    `    Processor ms per call: front-ends ${perCall(pg1.cpu.frontEnds, pg1)} (one) / ${perCall(pg2.cpu.frontEnds, pg2)} (two),` +
      ` PostgreSQL ${perCall(pg1.cpu.postgres, pg1)} / ${perCall(pg2.cpu.postgres, pg2)},` +
      ` client ${perCall(pg1.cpu.client, pg1)} / ${perCall(pg2.cpu.client, pg2)}; on SQLite, front-end ${perCall(sqlite.cpu.frontEnds, sqlite)}.`,
  );
  return lines.join('\n');
}

interface Configuration {
  label: string;
  frontEnds: number;
  postgres: boolean;
}

const CONFIGURATIONS: Configuration[] = [
  { label: 'SQLite', frontEnds: 1, postgres: false },
  { label: 'PostgreSQL', frontEnds: 1, postgres: true },
  { label: 'PostgreSQL', frontEnds: 2, postgres: true },
  { label: 'PostgreSQL', frontEnds: 4, postgres: true },
];

/**
 * A new database, a copy of `template` (CREATE DATABASE … TEMPLATE: a file copy, seconds,
 * where loading the inventory again row by row takes half a minute); its URL.
 */
async function copyDatabase(server: TestPostgres, template: string, name: string): Promise<string> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port: server.port,
    user: server.user,
    database: 'postgres',
  });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name} TEMPLATE ${template}`);
  } finally {
    await client.end();
  }
  return `postgres://${server.user}@127.0.0.1:${server.port}/${name}`;
}

/** `SFA_BENCH_PG_SETTINGS='name=value,…'`: extra PostgreSQL settings, to try one. */
function pgSettings(): Record<string, string> {
  const raw = process.env['SFA_BENCH_PG_SETTINGS'] ?? '';
  return Object.fromEntries(
    raw
      .split(',')
      .filter(Boolean)
      .map((kv) => kv.split('=', 2) as [string, string]),
  );
}

export async function benchStore(): Promise<void> {
  const missing = postgresMissing();
  if (missing) {
    console.log(`store: skipped (${missing})`);
    return;
  }
  const t0 = performance.now();
  const root = mkdtempSync(join(tmpdir(), 'sfa-bench-store-'));
  let server: TestPostgres | undefined;
  let fes: ProcessAuthority[] = [];
  try {
    const users = await Promise.all(
      Array.from({ length: CLIENTS }, (_, i) => newResearcher(`${BENCH_LAB}.u${i}`)),
    );
    const settings = pgSettings();
    server = await startPostgres({ settings });
    const shown = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
    console.log(
      `store: SQLite against PostgreSQL (a server of its own on 127.0.0.1` +
        `${shown.length ? `, ${shown.join(', ')}` : ''}), front-ends as \`sfa serve\` processes;` +
        ` ${cpus().length} cores shared by everything (front-ends, PostgreSQL, this client process)`,
    );
    // Two authorities made once: one on SQLite files, one in a PostgreSQL database that each
    // PostgreSQL configuration copies (`sfa serve --store` on the copy: a fresh database).
    const sqlite = await makeAuthority(root, users);
    const template = 'store_template';
    const postgres = await makeAuthority(root, users, await server.createDatabase(template));
    const setups = [
      `    SQLite       ${sqlite.nodes.toLocaleString('en')} nodes loaded in ${(sqlite.inventoryMs / 1000).toFixed(1)} s; whole set-up ${(sqlite.setupMs / 1000).toFixed(1)} s`,
      `    PostgreSQL   ${postgres.nodes.toLocaleString('en')} nodes loaded in ${(postgres.inventoryMs / 1000).toFixed(1)} s; whole set-up ${(postgres.setupMs / 1000).toFixed(1)} s`,
    ];

    const rounds: Round[] = [];
    const lists = new Map<string, ListFigures>();
    for (const conf of CONFIGURATIONS) {
      let made = sqlite;
      let extraArgs: string[] = [];
      if (conf.postgres) {
        const t = performance.now();
        const url = await copyDatabase(server, template, `store_${conf.frontEnds}fe`);
        setups.push(
          `    PostgreSQL, ${conf.frontEnds} front-end(s): a copy of the database in ${((performance.now() - t) / 1000).toFixed(1)} s`,
        );
        made = { ...postgres, aggregateAt: url };
        extraArgs = ['--store', url];
      }
      // One pool per configuration; connections are pooled per client certificate.
      const agent = createKeepAliveAgent({ maxSockets: 1 });
      try {
        fes = await Promise.all(
          Array.from({ length: conf.frontEnds }, () =>
            spawnAuthority(AUTHORITY, made.dir, extraArgs),
          ),
        );
        const rs = await researchers(fes[0]!.urls.registry, users);
        // ListResources first, on the untouched inventory, so both backends list the same.
        if (conf.frontEnds === 1) lists.set(conf.label, await listResources(fes[0]!, rs[0]!));
        const round = await allocateRound(
          conf.label,
          fes,
          conf.postgres ? server : undefined,
          rs,
          agent,
        );
        rounds.push(round);
        if (rounds.length === 1) {
          console.log(
            `  Allocate, ${CLIENTS} concurrent clients (a researcher, a slice, a TLS key each) on keep-alive` +
              ` connections, round-robin over the front-ends;\n  each call a shared node of its own,` +
              ` ≤ ${ROUND_MAX_CALLS} calls or ${ROUND_MAX_MS / 1000} s after a Status per client (ms;` +
              ` cores busy: processor time / wall time;\n  machine: all processes, ours and others')`,
          );
          roundHeader();
        }
        roundLine(round);
        checkLine(bookings(made.aggregateAt), round.codes.get(0) ?? 0);
      } finally {
        await Promise.all(fes.map((fe) => fe.stop()));
        fes = [];
        agent.destroy();
      }
    }

    const pg1 = rounds.find((r) => r.label === 'PostgreSQL' && r.frontEnds === 1)!;
    const pg2 = rounds.find((r) => r.label === 'PostgreSQL' && r.frontEnds === 2)!;
    const pg4 = rounds.find((r) => r.label === 'PostgreSQL' && r.frontEnds === 4)!;
    const ratio = rate(pg2) / rate(pg1);
    console.log(
      `    PostgreSQL, two front-ends / one: ${ratio.toFixed(2)}× (aim ≥ ${AIM}×: ${ratio >= AIM ? 'met' : 'NOT met'});` +
        ` four / one: ${(rate(pg4) / rate(pg1)).toFixed(2)}×`,
    );
    if (ratio < AIM) console.log(whyNot(rounds[0]!, pg1, pg2));

    console.log(
      `  ListResources of the ${(SITES * NODES_PER_SITE).toLocaleString('en')} nodes, one front-end, one client (ms, median of ${LIST_RUNS}` +
        ' after a warm-up;\n  uncached: `cached: false`, the ad built afresh at each call; cached: the prepared bytes)',
    );
    console.log(
      `    ${''.padEnd(12)} ${'uncached handler'.padStart(16)} ${'last byte'.padStart(10)}` +
        `  ${'cached handler'.padStart(14)} ${'last byte'.padStart(10)}  answer`,
    );
    for (const [label, f] of lists) {
      console.log(
        `    ${label.padEnd(12)} ${ms(f.uncached.server).padStart(16)} ${ms(f.uncached.lastByte).padStart(10)}` +
          `  ${ms(f.cached.server).padStart(14)} ${ms(f.cached.lastByte).padStart(10)}  ${(f.bytes / 1e6).toFixed(1)} MB`,
      );
    }
    console.log('  set-up (the inventory loaded with engine.loadInventory, as `sfa` does):');
    for (const line of setups) console.log(line);
    console.log(`  whole part: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  } finally {
    await Promise.all(fes.map((fe) => fe.stop()));
    await server?.close();
    rmSync(root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  }
}
