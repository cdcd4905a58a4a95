/**
 * The node manager (issue 10) with real containers, as root with runc and busybox-static:
 * 1. 500 slivers provisioned on one node (set up through the engine, as node-api.ts does),
 *    realized by one agent pass: wall time, memory per idle sliver, then a pass with nothing
 *    to do; everything then deleted (agent cleanup) and `runc list` checked empty;
 * 2. Provision + geni_start → geni_ready as seen by the AM API's Status, on an idle managed node
 *    whose agent long-polls in this process (median of 5);
 * 3. fair share: two busy slivers, `cpu_share` 1 and 3, pinned to the same core (through the
 *    runtime: the agent never gives one core to two slivers), CPU ratio from cpuacct.usage.
 * Containers, cgroups, folders and the authorities are removed whatever happens.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AggregateEngine } from '../src/aggregate/engine/engine.js';
import { initAuthority } from '../src/authority/init-authority.js';
import { paths } from '../src/config.js';
import { NodeAgent } from '../src/nodemanager/agent.js';
import { resolveImage } from '../src/nodemanager/runtime/base-image.js';
import {
  RuncRuntime,
  cgroupDir,
  missingNodeRequirements,
} from '../src/nodemanager/runtime/runc.js';
import { openRegistry } from '../src/registry/open-registry.js';
import { createRecord } from '../src/registry/register.js';
import { startAuthority } from '../src/server/authority.js';
import type { XmlRpcStruct } from '../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../test/support/authority.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';
import { searchableAbove, writeNodeFolder } from '../test/nodemanager/support.js';
import { provisionOnOneNode, writeDemoNodeFolder } from './node-fixture.js';
import { percentile } from './stats.js';

const SLIVERS = 500;
const STARTS = 5;
const BUSY_SECONDS = 5;
/** Far from the default (200000) and the tests' bases (400000, 500000). */
const UID_BASE = 2_000_000_000;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function runcList(stateDir: string): string[] {
  if (!existsSync(stateDir)) return [];
  const out = execFileSync('runc', ['--root', stateDir, 'list', '-q'], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.trim() !== '');
}

function memAvailable(): number {
  const m = /^MemAvailable:\s+(\d+) kB$/m.exec(readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** Container ids in runc's state folders and `sfa` cgroups left by this run (should be none). */
function leftovers(prefixes: readonly string[], stateDirs: readonly string[]): string {
  const ids = stateDirs.flatMap((d) => runcList(d));
  let cgroups: string[] = [];
  try {
    cgroups = readdirSync('/sys/fs/cgroup/cpu').filter((n) => prefixes.includes(n));
  } catch {
    // No cgroup v1 cpu hierarchy.
  }
  return ids.length === 0 && cgroups.length === 0
    ? 'none'
    : `containers [${ids.join(', ')}], cgroups [${cgroups.join(', ')}]`;
}

/** 1. Realize 500 slivers on one node in one pass; a pass with nothing to do; delete all. */
async function benchRealize(prefix: string, work: string): Promise<string> {
  const HOST = 'many.bench.example.org';
  const dir = makeTempDir('bench-nm-authority');
  const nodeDir = join(work, 'node-many');
  const now = new Date();
  let agent: NodeAgent | undefined;
  let running: Awaited<ReturnType<typeof startAuthority>> | undefined;
  const stateDir = join(nodeDir, 'runc');
  try {
    await initAuthority({ dir, authority: 'ple', now, demoInventory: false });
    const engine = AggregateEngine.open(paths.aggregateDatabase(dir), { authority: 'ple' });
    const t0 = performance.now();
    try {
      engine.loadInventory({
        sites: [{ loginBase: 'bench', name: 'Benchmark site' }],
        nodes: [
          { hostname: HOST, site: 'bench', maxSlivers: SLIVERS + 10, cpuShares: 10 * SLIVERS },
        ],
      });
      provisionOnOneNode(engine, HOST, SLIVERS, now);
    } finally {
      engine.close();
    }
    const setupS = (performance.now() - t0) / 1000;

    running = await startAuthority({
      dir,
      listen: '127.0.0.1',
      ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
      log: () => {},
    });
    // The node's identity as `sfa node credentials` issues it (its site authority first).
    const reg = openRegistry(dir);
    try {
      await createRecord(reg.ctx, { hrn: 'ple.bench', type: 'authority', name: 'Bench' }, now);
    } finally {
      reg.close();
    }
    await writeNodeFolder(
      dir,
      running.urls.aggregate,
      `ple.bench.${HOST.replace(/\./g, '\\.')}`,
      HOST,
      nodeDir,
      new Date(now.getTime() - 60_000),
    );
    agent = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: UID_BASE });

    const memBefore = memAvailable();
    let t = performance.now();
    const first = await agent.pass();
    const passS = (performance.now() - t) / 1000;
    const runningCount = first.slivers.filter((s) => s.state === 'running').length;
    if (first.errors.length > 0 || runningCount !== SLIVERS) {
      throw new Error(
        `the pass ran ${runningCount} of ${SLIVERS} slivers: ${first.errors.slice(0, 3).join('; ')}`,
      );
    }
    await sleep(2000); // let the inits settle before reading memory
    const memAfter = memAvailable();
    let cgroupSum = 0;
    for (const c of await agent.runtime.list()) {
      if (c.pid === undefined) continue;
      try {
        cgroupSum += Number(
          readFileSync(join(cgroupDir(c.pid, 'memory'), 'memory.usage_in_bytes'), 'utf8'),
        );
      } catch {
        // Gone meanwhile: not counted.
      }
    }
    const idle: number[] = [];
    for (let i = 0; i < 5; i++) {
      t = performance.now();
      const r = await agent.pass();
      idle.push(performance.now() - t);
      if (r.actions.length > 0) throw new Error(`an idle pass did ${r.actions.length} actions`);
    }

    // What an idle pass no longer does each time: a whole runc list (reused while it holds),
    // a whole GetSlivers answer (the aggregate says "unchanged"), a report (when due only).
    const fresh = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: UID_BASE });
    t = performance.now();
    await fresh.runtime.list();
    const listMs = performance.now() - t;
    t = performance.now();
    await fresh.getSlivers(0, false);
    const getMs = performance.now() - t;
    t = performance.now();
    await agent.report(first.slivers);
    const reportMs = performance.now() - t;

    t = performance.now();
    await agent.cleanup();
    const cleanupS = (performance.now() - t) / 1000;
    const left = runcList(stateDir);

    const perMb = (bytes: number) => (bytes / SLIVERS / 1024 ** 2).toFixed(2);
    console.log(
      `node manager, ${SLIVERS} slivers on one node (engine set-up ${setupS.toFixed(1)} s)`,
    );
    console.log(
      `  first pass, ${SLIVERS} containers made and started, each with its network (veth, address, bridge port, allow-list entry; aim ≤ 30 s): ${passS.toFixed(1)} s`,
    );
    console.log(
      `  memory per idle sliver (aim ≤ 2 MB): ${perMb(cgroupSum)} MiB (sum of memory.usage_in_bytes / ${SLIVERS});` +
        ` ${perMb(memBefore - memAfter)} MiB (MemAvailable before − after / ${SLIVERS})`,
    );
    console.log(
      `  pass with nothing to do, ${SLIVERS} slivers (median / max of 5; aim ≤ 100 ms): ` +
        `${percentile(idle, 50).toFixed(0)} / ${Math.max(...idle).toFixed(0)} ms` +
        ` (the aggregate answers "unchanged", the last runc list still holds, no report due);` +
        ` for comparison: a whole runc list ${listMs.toFixed(0)} ms, a whole GetSlivers ${getMs.toFixed(0)} ms,` +
        ` a report of ${SLIVERS} slivers ${reportMs.toFixed(0)} ms (sent after a change, and twice per report interval)`,
    );
    console.log(
      `  agent cleanup ${cleanupS.toFixed(1)} s; runc --root ${stateDir} list afterwards: ${left.length === 0 ? 'empty' : left.join(', ')}`,
    );
    return stateDir;
  } finally {
    try {
      await agent?.cleanup();
    } finally {
      await running?.close();
      removeTempDir(dir);
    }
  }
}

/** 2. Provision + geni_start → geni_ready as seen by Status, with the agent long-polling. */
async function benchStart(prefix: string, work: string): Promise<string> {
  const HOST = 'node1.inria.fr';
  const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
  const nodeDir = join(work, 'node-start');
  let s: AliceSession | undefined;
  let agent: NodeAgent | undefined;
  let stop: () => void = () => {};
  let done: Promise<void> | undefined;
  try {
    s = await aliceSession();
    await writeDemoNodeFolder(s, nodeDir);
    agent = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: UID_BASE + 600 * 65536 });
    const session = s;
    const looper = agent;
    const cred = await session.sliceCred('myslice');
    const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [session.alice.sshKey] }];
    const rspec =
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
      `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${HOST}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;
    const ok = (what: string, a: XmlRpcStruct) => {
      if (geniCode(a) !== 0) throw new Error(`${what}: ${String(a['output'])}`);
    };
    // A first pass reports: the node is managed (and idle) from now on.
    const first = await looper.pass();
    if (!first.reported)
      throw new Error(`the first pass did not report: ${first.errors.join('; ')}`);
    const stopped = new Promise<void>((r) => (stop = r));
    done = looper.loop(stopped);

    const fromAction: number[] = [];
    const fromProvision: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      ok('Allocate', await session.am('Allocate', SLICE, cred, rspec, { geni_users: users }));
      const t0 = performance.now();
      ok(
        'Provision',
        await session.am('Provision', [SLICE], cred, {
          geni_rspec_version: { type: 'GENI', version: '3' },
          geni_users: users,
        }),
      );
      const t1 = performance.now();
      ok(
        'PerformOperationalAction',
        await session.am('PerformOperationalAction', [SLICE], cred, 'geni_start', {}),
      );
      const until = Date.now() + 30_000;
      for (;;) {
        const st = await session.am('Status', [SLICE], cred, {});
        ok('Status', st);
        const slivers = (st['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[];
        const state = slivers[0]?.['geni_operational_status'];
        if (state === 'geni_ready') break;
        if (state === 'geni_failed' || Date.now() > until)
          throw new Error(`Status says ${String(state)}: ${String(slivers[0]?.['geni_error'])}`);
        await sleep(20);
      }
      const t2 = performance.now();
      fromAction.push(t2 - t1);
      fromProvision.push(t2 - t0);
      // Back to an idle node: delete, and wait for the agent to remove the container.
      ok('Delete', await session.am('Delete', [SLICE], cred, {}));
      const gone = Date.now() + 30_000;
      while ((await looper.runtime.list()).length > 0) {
        if (Date.now() > gone) throw new Error('the agent did not delete the container');
        await sleep(50);
      }
      await sleep(200);
    }
    console.log(
      `node manager, start on an idle managed node (agent long-polling in this process; median / max of ${STARTS})`,
    );
    console.log(
      `  PerformOperationalAction geni_start → Status geni_ready (Status every 20 ms; aim ≤ 2 s): ` +
        `${percentile(fromAction, 50).toFixed(0)} / ${Math.max(...fromAction).toFixed(0)} ms` +
        ` (from the Provision call: ${percentile(fromProvision, 50).toFixed(0)} / ${Math.max(...fromProvision).toFixed(0)} ms)`,
    );
    return join(nodeDir, 'runc');
  } finally {
    try {
      stop();
      await done;
      await agent?.cleanup();
    } finally {
      await s?.close();
    }
  }
}

/** 3. Two busy slivers, cpu_share 1 and 3, on one core: the CPU ratio from cpuacct.usage. */
async function benchFairShare(prefix: string, work: string): Promise<string> {
  const base = join(work, 'fair');
  mkdirSync(base, { mode: 0o711 });
  const stateDir = join(base, 'runc');
  const runtime = new RuncRuntime({
    nodePrefix: prefix,
    stateDir,
    bundlesDir: join(base, 'bundles'),
  });
  const online = readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
  const core = /(\d+)$/.exec(online)?.[1] ?? '0';
  try {
    const rootfs = resolveImage(join(base, 'images'));
    const shares = [1, 3];
    for (const [i, share] of shares.entries()) {
      const name = `share${share}`;
      const dir = join(base, 'slivers', name);
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      await runtime.create(name, {
        hostname: name,
        rootfs,
        writable: { home: join(dir, 'home'), var: join(dir, 'var'), tmp: join(dir, 'tmp') },
        idMap: { hostId: UID_BASE + (700 + i) * 65536 },
        cpuShare: share,
        cpus: core,
      });
      await runtime.start(name);
      const r = await runtime.exec(name, [
        '/bin/sh',
        '-c',
        'while :; do :; done </dev/null >/dev/null 2>&1 &',
      ]);
      if (r.code !== 0) throw new Error(`the busy loop did not start in ${name}: ${r.stderr}`);
    }
    const usage = async (name: string): Promise<number> => {
      const pid = (await runtime.state(name))?.pid;
      if (pid === undefined) throw new Error(`${name} is not running`);
      return Number(readFileSync(join(cgroupDir(pid, 'cpuacct'), 'cpuacct.usage'), 'utf8'));
    };
    const cpuShares = async (name: string): Promise<string> => {
      const pid = (await runtime.state(name))?.pid;
      return readFileSync(join(cgroupDir(pid!, 'cpu'), 'cpu.shares'), 'utf8').trim();
    };
    await sleep(500);
    const a0 = await usage('share1');
    const b0 = await usage('share3');
    const t0 = performance.now();
    await sleep(BUSY_SECONDS * 1000);
    const a1 = await usage('share1');
    const b1 = await usage('share3');
    const wallS = (performance.now() - t0) / 1000;
    const a = (a1 - a0) / 1e9;
    const b = (b1 - b0) / 1e9;
    const ratio = b / a;
    console.log(
      `node manager, fair share (two busy slivers on core ${core}, through the runtime: the agent never gives one core to two slivers)`,
    );
    console.log(
      `  cpu_share 3 / cpu_share 1 CPU ratio over ${wallS.toFixed(1)} s (aim 3 ± 15 %: 2.55–3.45): ${ratio.toFixed(2)}` +
        ` (${b.toFixed(2)} s / ${a.toFixed(2)} s; cpu.shares ${await cpuShares('share3')} / ${await cpuShares('share1')})`,
    );
    return stateDir;
  } finally {
    await runtime.cleanup();
  }
}

export async function benchNodeManager(): Promise<void> {
  const missing = missingNodeRequirements();
  if (missing !== undefined) {
    console.log(`node manager: skipped, ${missing}`);
    return;
  }
  const work = makeTempDir('bench-nodemanager');
  const restore = searchableAbove(work);
  const prefixes = [`sfa-bnm${process.pid}`, `sfa-bns${process.pid}`, `sfa-bfs${process.pid}`];
  const stateDirs = [
    join(work, 'node-many', 'runc'),
    join(work, 'node-start', 'runc'),
    join(work, 'fair', 'runc'),
  ];
  const parts: [string, (prefix: string, work: string) => Promise<string>][] = [
    ['500 slivers', benchRealize],
    ['start', benchStart],
    ['fair share', benchFairShare],
  ];
  try {
    for (const [i, [what, run]] of parts.entries()) {
      if (i > 0) console.log();
      try {
        await run(prefixes[i]!, work);
      } catch (e) {
        console.log(`node manager, ${what}: failed: ${(e as Error).message}`);
      }
    }
  } finally {
    console.log(
      `\n  left behind (runc list, /sys/fs/cgroup/cpu): ${leftovers(prefixes, stateDirs)}`,
    );
    restore();
    removeTempDir(work);
  }
}
