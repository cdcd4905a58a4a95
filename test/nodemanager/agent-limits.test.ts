/**
 * The node manager applies a sliver's attributes with real containers (as root, real runc):
 * `cpu_cores`, `memory_max` and `pids_max` become the container's cgroup values; the slice's
 * `initscript_code` runs inside once, at the container's first start (not on a second pass, an
 * adoption or a stop/start), and a failing one is the sliver's error; an absurd limit fails that
 * sliver alone; the reports carry each running sliver's CPU time and memory. Checked with the
 * real cgroup files, the sliver's home folder and what the aggregate stored of the reports.
 * Containers, cgroups, folders and the authority are removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/nodemanager/agent.js';
import { cgroupDir, missingNodeRequirements } from '../../src/nodemanager/runtime/runc.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { tempRoot } from '../support/tmp.js';
import { writeNodeDir, searchableAbove, startSliver } from './support.js';

const root = tempRoot('nodemanager-limits');
const missing = missingNodeRequirements();
const HOST = 'node1.inria.fr';
const prefix = `sfa-l${process.pid}`;
const MiB = 1024 * 1024;
/** Three slices: limits and a good initscript; a failing initscript; an absurd memory limit. */
const GOOD = 'inria_myslice';
const BADINIT = 'inria_badinit';
const ABSURD = 'inria_absurd';
const sliceUrn = (name: string) => `urn:publicid:IDN+ple:inria+slice+${name}`;

let s: AliceSession | undefined;
let nodeDir: string;
let agent: NodeAgent | undefined;
let restoreModes = (): void => {};

function requireNode(): void {
  if (missing !== undefined) throw new Error(missing);
}

function runcList(): string {
  return execFileSync('runc', ['--root', join(nodeDir, 'runc'), 'list'], { encoding: 'utf8' });
}

/** What the aggregate stored of the node's last report, by sliver URN. */
function realized() {
  const store = s!.running.engine.store;
  const row = store.nodeByHostname(HOST)!;
  return store.realizedSlivers(row.id);
}

function cgroupValue(pid: number, controller: string, file: string): string {
  return readFileSync(join(cgroupDir(pid, controller), file), 'utf8').trim();
}

/** The lines the initscript appended to the good sliver's home folder. */
function ranLines(): string[] {
  const f = join(nodeDir, 'slivers', GOOD, 'home', 'initscript-ran');
  return existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : [];
}

beforeAll(async () => {
  requireNode();
  restoreModes = searchableAbove(root.path);
  s = await aliceSession({ slices: ['badinit', 'absurd', 'greedy', 'slow'] });
  nodeDir = join(root.path, 'node1');
  await writeNodeDir(s, HOST, nodeDir);
  agent = new NodeAgent({
    nodeDir,
    nodePrefix: prefix,
    uidBase: 600_000,
    initscriptTimeoutMs: 2000,
    // Two cores, whatever the machine: cpu_cores 2 is then more than the node can give.
    onlineCores: [0, 1],
  });
}, 60_000);

afterAll(async () => {
  try {
    await agent?.cleanup();
    if (missing === undefined) {
      expect(
        runcList()
          .split('\n')
          .filter((l) => l.startsWith(prefix)),
      ).toEqual([]);
      for (const c of ['cpu', 'memory', 'pids', 'cpuset'])
        expect(existsSync(`/sys/fs/cgroup/${c}/${prefix}`)).toBe(false);
    }
  } finally {
    restoreModes();
    await s?.close();
  }
}, 60_000);

describe('sliver attributes with real containers', () => {
  let pid: number | undefined;

  it('applies cpu_cores, memory_max and pids_max; runs the initscript; fails the absurd sliver alone; reports counters', async () => {
    requireNode();
    await startSliver(s!, 'myslice', HOST, {
      cpu_cores: '1',
      memory_max: '64M',
      pids_max: '100',
      initscript: 'mark-home',
      initscript_code: 'echo ran >> /root/initscript-ran; echo "hello from $(hostname)"',
    });
    await startSliver(s!, 'badinit', HOST, { initscript_code: 'echo oops >&2; exit 3' });
    await startSliver(s!, 'absurd', HOST, { memory_max: '1K' });

    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    expect(r.actions.map((x) => `${x.kind} ${x.name}`).sort()).toEqual([
      `create ${BADINIT}`,
      `create ${GOOD}`,
    ]);
    const byName = new Map(r.slivers.map((x) => [x.name, x]));
    expect(byName.get(GOOD)).toMatchObject({ state: 'running' });
    expect(byName.get(GOOD)?.error).toBeUndefined();
    // A failed initscript leaves the sliver running, with the failure as its error.
    expect(byName.get(BADINIT)).toMatchObject({
      state: 'running',
      error: 'initscript exited with status 3: oops',
    });
    expect(byName.get(ABSURD)).toEqual({
      sliverUrn: expect.stringContaining('+sliver+') as string,
      name: ABSURD,
      state: 'failed',
      error: 'memory_max "1K" is out of range: at least 8 MiB and at most 1024 TiB',
    });
    expect(runcList()).not.toContain(ABSURD);

    // The cgroup values the kernel has for the good sliver.
    pid = (await agent!.runtime.state(GOOD))?.pid;
    expect(pid).toBeGreaterThan(0);
    expect(Number(cgroupValue(pid!, 'memory', 'memory.limit_in_bytes'))).toBe(64 * MiB);
    expect(cgroupValue(pid!, 'pids', 'pids.max')).toBe('100');
    expect(cgroupValue(pid!, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(cgroupValue(pid!, 'cpu', 'cpu.shares')).toBe('1024');
    // The other sliver has the defaults and no reserved core.
    const other = (await agent!.runtime.state(BADINIT))?.pid;
    expect(Number(cgroupValue(other!, 'memory', 'memory.limit_in_bytes'))).toBe(512 * MiB);
    expect(cgroupValue(other!, 'pids', 'pids.max')).toBe('512');
    expect(cgroupValue(other!, 'cpuset', 'cpuset.cpus')).not.toBe('0');

    // The initscript ran inside, as the sliver's root, once; its text is in the sliver's /var.
    expect(ranLines()).toEqual(['ran']);
    const home = statSync(join(nodeDir, 'slivers', GOOD, 'home', 'initscript-ran'));
    expect(home.uid).toBeGreaterThanOrEqual(600_000);
    const state = JSON.parse(readFileSync(join(nodeDir, 'state', 'uids.json'), 'utf8')) as Record<
      string,
      { cpus?: string; initscript?: { exit?: number; tail?: string } }
    >;
    expect(state[GOOD]).toMatchObject({
      cpus: '0',
      initscript: { exit: 0, tail: `hello from ${GOOD}` },
    });
    expect(state[BADINIT]?.initscript).toMatchObject({ exit: 3, tail: 'oops' });
    expect((await agent!.runtime.exec(GOOD, ['cat', '/var/lib/sfa/initscript'])).stdout).toContain(
      'echo ran',
    );

    // The report: counters for the running slivers, the reasons for the others.
    expect(r.reported).toBe(true);
    const rows = realized();
    expect(rows).toHaveLength(3);
    const running = rows.filter((x) => x.state === 'running');
    expect(running).toHaveLength(2);
    for (const x of running) {
      expect(x.cpuSeconds).toBeGreaterThanOrEqual(0);
      expect(x.memoryBytes).toBeGreaterThan(0);
      // Its interface came up and said hello (IPv6 is dropped, but counted): a few packets.
      expect(x.bytesIn).toBeGreaterThanOrEqual(0);
      expect(x.packetsOut).toBeGreaterThanOrEqual(0);
    }
    expect(rows.map((x) => x.error).sort()).toEqual([
      'initscript exited with status 3: oops',
      'memory_max "1K" is out of range: at least 8 MiB and at most 1024 TiB',
      null,
    ]);
    expect(rows.find((x) => x.state === 'failed')?.cpuSeconds).toBeNull();
  });

  it('the initscript does not run again: a second pass, an adopting agent, a stop and start', async () => {
    requireNode();
    const r = await agent!.pass();
    expect(r.actions).toEqual([]);
    expect((await agent!.runtime.state(GOOD))?.pid).toBe(pid);
    const restarted = new NodeAgent({
      nodeDir,
      nodePrefix: prefix,
      uidBase: 600_000,
      onlineCores: [0, 1],
    });
    const r2 = await restarted.pass();
    expect(r2.actions).toEqual([]);
    expect(ranLines()).toEqual(['ran']);
    // The failed initscript stays the sliver's error in later reports.
    expect(r2.slivers.find((x) => x.name === BADINIT)?.error).toBe(
      'initscript exited with status 3: oops',
    );

    const cred = await s!.sliceCred('myslice');
    const stop = await s!.am(
      'PerformOperationalAction',
      [sliceUrn('myslice')],
      cred,
      'geni_stop',
      {},
    );
    expect(geniCode(stop), String(stop['output'])).toBe(0);
    const r3 = await agent!.pass();
    expect(r3.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`stop ${GOOD}`]);
    const go = await s!.am(
      'PerformOperationalAction',
      [sliceUrn('myslice')],
      cred,
      'geni_start',
      {},
    );
    expect(geniCode(go), String(go['output'])).toBe(0);
    const r4 = await agent!.pass();
    expect(r4.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`recreate ${GOOD}`]);
    expect(r4.slivers.find((x) => x.name === GOOD)).toMatchObject({ state: 'running' });
    // Same limits and core after the restart; the script did not run again.
    const again = (await agent!.runtime.state(GOOD))?.pid;
    expect(cgroupValue(again!, 'cpuset', 'cpuset.cpus')).toBe('0');
    expect(Number(cgroupValue(again!, 'memory', 'memory.limit_in_bytes'))).toBe(64 * MiB);
    expect(ranLines()).toEqual(['ran']);
  });

  it('cpu_cores the node cannot give fails that sliver alone, with the reason; its deletion leaves nothing', async () => {
    requireNode();
    await startSliver(s!, 'greedy', HOST, { cpu_cores: '2' });
    const r = await agent!.pass();
    const reason = 'cpu_cores 2: the node has 2 cores and keeps one for itself';
    expect(r.errors).toEqual([`create inria_greedy: ${reason}`]);
    expect(r.slivers.find((x) => x.name === 'inria_greedy')).toMatchObject({
      state: 'failed',
      error: `create inria_greedy: ${reason}`,
    });
    expect(r.slivers.find((x) => x.name === GOOD)).toMatchObject({ state: 'running' });
    expect(runcList()).not.toContain('inria_greedy');
    expect(realized().map((x) => x.error)).toContain(`create inria_greedy: ${reason}`);

    const cred = await s!.sliceCred('greedy');
    const d = await s!.am('Delete', [sliceUrn('greedy')], cred, {});
    expect(geniCode(d), String(d['output'])).toBe(0);
    const r2 = await agent!.pass();
    expect(r2.errors).toEqual([]);
    expect(r2.actions.map((x) => `${x.kind} ${x.name}`)).toEqual(['delete inria_greedy']);
    expect(existsSync(join(nodeDir, 'slivers', 'inria_greedy'))).toBe(false);
    const state = JSON.parse(readFileSync(join(nodeDir, 'state', 'uids.json'), 'utf8')) as object;
    expect(Object.keys(state).sort()).toEqual([BADINIT, GOOD]);
  });

  it('an initscript that outlasts its time is stopped and reported; the sliver keeps running', async () => {
    requireNode();
    await startSliver(s!, 'slow', HOST, { initscript_code: 'echo started; sleep 30' });
    const t0 = Date.now();
    const r = await agent!.pass();
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.errors).toEqual([]);
    expect(r.slivers.find((x) => x.name === 'inria_slow')).toEqual({
      sliverUrn: expect.stringContaining('+sliver+') as string,
      name: 'inria_slow',
      state: 'running',
      error: expect.stringMatching(
        /^initscript: did not finish within 2 s \(its processes were killed\)/,
      ) as string,
      cpuSeconds: expect.any(Number) as number,
      memoryBytes: expect.any(Number) as number,
      bytesIn: expect.any(Number) as number,
      bytesOut: expect.any(Number) as number,
      packetsIn: expect.any(Number) as number,
      packetsOut: expect.any(Number) as number,
    });
    const cred = await s!.sliceCred('slow');
    // The script's process group was killed: no sleep left in the sliver.
    const ps = await agent!.runtime.exec('inria_slow', ['ps', '-o', 'args']);
    expect(ps.stdout).not.toContain('sleep 30');
    expect(
      (await agent!.runtime.exec('inria_slow', ['cat', '/var/lib/sfa/initscript.log'])).stdout,
    ).toBe('started\n');
    const d = await s!.am('Delete', [sliceUrn('slow')], cred, {});
    expect(geniCode(d), String(d['output'])).toBe(0);
    const r2 = await agent!.pass();
    expect(r2.actions.map((x) => `${x.kind} ${x.name}`)).toEqual(['delete inria_slow']);
    expect(runcList()).not.toContain('inria_slow');
  });
});
