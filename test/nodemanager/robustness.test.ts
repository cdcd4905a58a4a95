/**
 * Node manager robustness (issue 10, part 7), as root with real runc: a node manager killed
 * (SIGKILL) while it creates containers, then restarted, converges with nothing leaked; two node
 * managers (two simulated nodes) run side by side on one machine with disjoint default uid
 * ranges, and `--cleanup` of one leaves the other's containers running. The adoption of running
 * containers by a restarted agent is in agent.test.ts. Containers, cgroups, folders and the
 * authority are removed in afterAll, pass or fail.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_ID_RANGE } from '../../src/nodemanager/runtime/bundle.js';
import {
  NodeAgent,
  SLOT_RANGES,
  defaultUidBase,
  nodePrefixOf,
} from '../../src/nodemanager/agent.js';
import { missingNodeRequirements } from '../../src/nodemanager/runtime/runc.js';
import { aliceSession, type AliceSession } from '../support/authority.js';
import { ROOT } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';
import { sfaAsync, writeNodeDir, searchableAbove, startSliver } from './support.js';

const root = tempRoot('nodemanager-robustness');
const missing = missingNodeRequirements();
const SLICES = ['rob1', 'rob2', 'rob3', 'rob4'];
const LOGINS = SLICES.map((x) => `inria_${x}`);
const OTHER_SLICE = 'rob5';
const OTHER_LOGIN = `inria_${OTHER_SLICE}`;
const HOST1 = 'node1.inria.fr';
const HOST2 = 'node2.inria.fr';

/** Two test prefixes (this process's own) whose default uid bases differ. */
function prefixes(): [string, string] {
  const a = `sfa-r${process.pid}a`;
  for (let i = 0; ; i++) {
    const b = `sfa-r${process.pid}b${i}`;
    if (defaultUidBase(b) !== defaultUidBase(a)) return [a, b];
  }
}
const [prefix1, prefix2] = prefixes();

let s: AliceSession | undefined;
let nodeDir1: string;
let nodeDir2: string;
let restoreModes = (): void => {};
const children: ChildProcess[] = [];

function requireNode(): void {
  if (missing !== undefined) throw new Error(missing);
}

/** The container ids `runc --root NODEDIR/runc list` shows, with their status and pid. */
function runcList(nodeDir: string): { id: string; status: string; pid: number }[] {
  const out = execFileSync('runc', ['--root', join(nodeDir, 'runc'), 'list', '--format', 'json'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  return ((JSON.parse(out.trim() || 'null') ?? []) as { id: string; status: string; pid: number }[])
    .map(({ id, status, pid }) => ({ id, status, pid }))
    .sort((a, b) => a.id.localeCompare(b.id));
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Every `/sys/fs/cgroup/<hierarchy>/<prefix>/<child>` folder, as `<hierarchy>/<child>`. */
function cgroupChildren(prefix: string): string[] {
  const found: string[] = [];
  for (const h of entries('/sys/fs/cgroup')) {
    const dir = join('/sys/fs/cgroup', h, prefix);
    try {
      for (const c of readdirSync(dir, { withFileTypes: true }))
        if (c.isDirectory()) found.push(`${h}/${c.name}`);
    } catch {
      // No such hierarchy folder for this prefix.
    }
  }
  return found.sort();
}

/** A running container's init uid map: [inside, host, count]. */
function uidMap(pid: number): [number, number, number] {
  const line = readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n')[0]!;
  return line.trim().split(/\s+/).map(Number) as [number, number, number];
}

/** No runc command of this node root is still running (orphans of a killed node manager). */
async function runcIdle(nodeDir: string, ms = 20_000): Promise<void> {
  const marker = join(nodeDir, 'runc');
  const until = Date.now() + ms;
  for (;;) {
    const busy = entries('/proc').some((p) => {
      if (!/^\d+$/.test(p)) return false;
      try {
        const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv.includes(marker) && !argv.some((a) => a === 'init');
      } catch {
        return false;
      }
    });
    if (!busy) return;
    if (Date.now() > until) throw new Error(`runc commands on ${marker} still running`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Nothing of `prefix` on the machine or in NODEDIR but what `live` slivers use. */
function expectOnly(nodeDir: string, prefix: string, live: string[]): void {
  const ids = live.map((n) => `${prefix}-${n}`).sort();
  expect(runcList(nodeDir).map((c) => c.id)).toEqual(ids);
  expect(entries(join(nodeDir, 'bundles'))).toEqual([...live].sort());
  expect(entries(join(nodeDir, 'slivers'))).toEqual([...live].sort());
  for (const c of cgroupChildren(prefix)) expect(live).toContain(c.split('/')[1]);
  const uids = JSON.parse(readFileSync(join(nodeDir, 'state', 'uids.json'), 'utf8')) as Record<
    string,
    { index: number }
  >;
  expect(Object.keys(uids).sort()).toEqual([...live].sort());
  const indexes = Object.values(uids).map((u) => u.index);
  expect(new Set(indexes).size).toBe(indexes.length);
}

beforeAll(async () => {
  requireNode();
  restoreModes = searchableAbove(root.path);
  s = await aliceSession({ slices: [...SLICES, OTHER_SLICE] });
  nodeDir1 = join(root.path, 'node1');
  nodeDir2 = join(root.path, 'node2');
  await writeNodeDir(s, HOST1, nodeDir1);
  await writeNodeDir(s, HOST2, nodeDir2);
}, 60_000);

afterAll(async () => {
  const errors: unknown[] = [];
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const [dir, prefix] of [
    [nodeDir1, prefix1],
    [nodeDir2, prefix2],
  ] as const) {
    try {
      if (dir !== undefined && existsSync(join(dir, 'node.json'))) {
        await runcIdle(dir).catch(() => undefined);
        await new NodeAgent({ nodeDir: dir, nodePrefix: prefix }).cleanup();
      }
    } catch (e) {
      errors.push(e);
    }
  }
  restoreModes();
  await s?.close();
  if (errors.length > 0) throw errors[0];
}, 120_000);

describe('default uid bases', () => {
  it('differ per node prefix, each a slot of 1024 ranges above the machine’s own uids', () => {
    const base1 = defaultUidBase(nodePrefixOf(HOST1));
    const base4 = defaultUidBase(nodePrefixOf('node4.inria.fr'));
    expect(base1).not.toBe(base4);
    for (const b of [base1, base4, defaultUidBase(prefix1), defaultUidBase(prefix2)]) {
      expect(b % (SLOT_RANGES * DEFAULT_ID_RANGE)).toBe(0);
      expect(b).toBeGreaterThanOrEqual(2 ** 26);
      expect(b + SLOT_RANGES * DEFAULT_ID_RANGE - 1).toBeLessThan(2 ** 32 - 1);
    }
    expect(defaultUidBase(prefix1)).toBe(defaultUidBase(prefix1));
    expect(new NodeAgent({ nodeDir: nodeDir1, nodePrefix: prefix1 }).uidBase).toBe(
      defaultUidBase(prefix1),
    );
    expect(
      new NodeAgent({ nodeDir: nodeDir1, nodePrefix: prefix1, uidBase: 300_000 }).uidBase,
    ).toBe(300_000);
  });
});

describe('node manager robustness with real containers', () => {
  it('SIGKILL while creating containers, then a pass: each sliver runs once, nothing leaked; a third pass does nothing', async () => {
    requireNode();
    for (const name of SLICES) await startSliver(s!, name, HOST1);
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'nodemanager',
        '--node-dir',
        nodeDir1,
        '--prefix',
        prefix1,
        '--once',
      ],
      { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' }, stdio: 'ignore' },
    );
    children.push(child);
    const exited = new Promise<string | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    let seen = 0;
    const until = Date.now() + 60_000;
    while (child.exitCode === null) {
      if (existsSync(join(nodeDir1, 'runc'))) {
        seen = runcList(nodeDir1).length;
        if (seen > 0) break;
      }
      if (Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL'); // killed mid-pass, not finished
    expect(seen).toBeGreaterThan(0);
    await runcIdle(nodeDir1);
    const killedWith = runcList(nodeDir1).filter((c) => c.status === 'running').length;
    expect(killedWith).toBeLessThan(LOGINS.length);

    const agent = new NodeAgent({ nodeDir: nodeDir1, nodePrefix: prefix1 });
    const r = await agent.pass();
    expect(r.errors).toEqual([]);
    expect(r.slivers.map((x) => `${x.name} ${x.state}`).sort()).toEqual(
      LOGINS.map((n) => `${n} running`),
    );
    expect(runcList(nodeDir1).every((c) => c.status === 'running')).toBe(true);
    expectOnly(nodeDir1, prefix1, LOGINS);
    const pids = runcList(nodeDir1).map((c) => c.pid);

    const again = await new NodeAgent({ nodeDir: nodeDir1, nodePrefix: prefix1 }).pass();
    expect(again.errors).toEqual([]);
    expect(again.actions).toEqual([]);
    expect(runcList(nodeDir1).map((c) => c.pid)).toEqual(pids);
    expectOnly(nodeDir1, prefix1, LOGINS);

    // Each sliver's root maps into the node's default slot, none sharing a range.
    const base = defaultUidBase(prefix1);
    const hosts = runcList(nodeDir1).map((c) => uidMap(c.pid));
    for (const [inside, host, count] of hosts) {
      expect([inside, count]).toEqual([0, DEFAULT_ID_RANGE]);
      expect(host).toBeGreaterThanOrEqual(base);
      expect(host + count).toBeLessThanOrEqual(base + SLOT_RANGES * DEFAULT_ID_RANGE);
    }
    expect(new Set(hosts.map((h) => h[1])).size).toBe(hosts.length);
  }, 180_000);

  it('two node managers side by side: disjoint default uid ranges; `--cleanup` of one leaves the other running', async () => {
    requireNode();
    await startSliver(s!, OTHER_SLICE, HOST2);
    const agent2 = new NodeAgent({ nodeDir: nodeDir2, nodePrefix: prefix2 });
    const r2 = await agent2.pass();
    expect(r2.errors).toEqual([]);
    expect(r2.slivers).toMatchObject([{ name: OTHER_LOGIN, state: 'running' }]);
    const r1 = await new NodeAgent({ nodeDir: nodeDir1, nodePrefix: prefix1 }).pass();
    expect(r1.actions).toEqual([]);

    const on1 = runcList(nodeDir1);
    const on2 = runcList(nodeDir2);
    expect(on1.map((c) => c.id)).toEqual(LOGINS.map((n) => `${prefix1}-${n}`));
    expect(on2.map((c) => `${c.id} ${c.status}`)).toEqual([`${prefix2}-${OTHER_LOGIN} running`]);
    expect(on1.every((c) => c.status === 'running')).toBe(true);
    // Each node's ranges lie in its own slot: no host uid is in two of them.
    const slot = SLOT_RANGES * DEFAULT_ID_RANGE;
    const ranges = [...on1, ...on2].map((c) => uidMap(c.pid));
    const [, host2] = uidMap(on2[0]!.pid);
    expect(host2).toBeGreaterThanOrEqual(defaultUidBase(prefix2));
    expect(host2).toBeLessThan(defaultUidBase(prefix2) + slot);
    for (let i = 0; i < ranges.length; i++)
      for (let j = i + 1; j < ranges.length; j++) {
        const [, a, n] = ranges[i]!;
        const [, b, m] = ranges[j]!;
        expect(a + n <= b || b + m <= a, `ranges ${a}+${n} and ${b}+${m}`).toBe(true);
      }

    const clean = await sfaAsync([
      'nodemanager',
      '--node-dir',
      nodeDir2,
      '--prefix',
      prefix2,
      '--cleanup',
    ]);
    expect(clean.stderr).toContain(`removed every container, cgroup and folder of ${prefix2}`);
    expect(clean.status).toBe(0);
    expect(existsSync(join(nodeDir2, 'runc'))).toBe(false);
    expect(cgroupChildren(prefix2)).toEqual([]);
    expect(existsSync(`/sys/fs/cgroup/cpu/${prefix2}`)).toBe(false);
    // Node 1 untouched: the same containers, the same pids, still running.
    expect(runcList(nodeDir1)).toEqual(on1);
    expectOnly(nodeDir1, prefix1, LOGINS);
  }, 120_000);
});
