/**
 * The runc runtime with real containers (as root, cgroup v1): what a sliver gets, checked with
 * the real system (`runc list`, `/proc/<pid>/cgroup`, the cgroup files, `runc exec`). Nothing is
 * skipped: without root, runc or busybox-static, every test fails saying what to install.
 * Everything made here (containers, cgroups, bundles, runc state) is removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBusyboxImage, resolveImage } from '../../src/nodemanager/runtime/base-image.js';
import { DEFAULT_MEMORY_BYTES, DEFAULT_PIDS_LIMIT } from '../../src/nodemanager/runtime/bundle.js';
import {
  RuncRuntime,
  RuntimeError,
  cgroupDir,
  missingNodeRequirements,
} from '../../src/nodemanager/runtime/runc.js';
import type { ContainerSpec } from '../../src/nodemanager/runtime/runtime.js';
import { tempRoot } from '../support/tmp.js';
import { searchableAbove } from './support.js';

const root = tempRoot('nodemanager-runtime');
const missing = missingNodeRequirements();
const prefix = `sfa-t${process.pid}`;
const otherPrefix = `sfa-u${process.pid}`;

let runtime: RuncRuntime;
let other: RuncRuntime;
let image: string;
/** Folder modes changed so the slivers' mapped roots can reach their folders; restored after. */
let restoreModes = (): void => {};

function requireNode(): void {
  if (missing !== undefined) throw new Error(missing);
}

function runcList(stateDir?: string): string {
  const args = stateDir === undefined ? ['list'] : ['--root', stateDir, 'list'];
  return execFileSync('runc', args, { encoding: 'utf8' });
}

function sliverSpec(
  login: string,
  hostId: number,
  extra: Partial<ContainerSpec> = {},
): ContainerSpec {
  const dir = join(root.path, 'slivers', login);
  return {
    hostname: login,
    rootfs: image,
    writable: { home: join(dir, 'home'), var: join(dir, 'var'), tmp: join(dir, 'tmp') },
    idMap: { hostId },
    ...extra,
  };
}

async function waitFor(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(() => {
  requireNode();
  restoreModes = searchableAbove(root.path);
  mkdirSync(join(root.path, 'images'), { mode: 0o755 });
  image = ensureBusyboxImage(join(root.path, 'images', 'busybox'));
  runtime = new RuncRuntime({
    nodePrefix: prefix,
    stateDir: join(root.path, 'node1', 'runc'),
    bundlesDir: join(root.path, 'node1', 'bundles'),
  });
  other = new RuncRuntime({
    nodePrefix: otherPrefix,
    stateDir: join(root.path, 'node2', 'runc'),
    bundlesDir: join(root.path, 'node2', 'bundles'),
  });
});

afterAll(async () => {
  try {
    await runtime?.cleanup();
    await other?.cleanup();
  } finally {
    restoreModes();
  }
});

describe('RuncRuntime with real containers', () => {
  const login = 'plc_alpha';
  const hostId = 300000;

  it('has root, runc and busybox-static (else: what to install)', () => {
    expect(missing).toBeUndefined();
    expect(missingNodeRequirements('no-such-runc', '/no/such/busybox')).toMatch(
      /missing 'no-such-runc' \(Debian package runc\), \/no\/such\/busybox \(Debian package busybox-static\)\. Install as root: apt-get install -y runc busybox-static/,
    );
  });

  it('makes the busybox base image idempotently, and resolves vrefs', () => {
    requireNode();
    expect(statSync(join(image, 'bin', 'busybox')).mode & 0o777).toBe(0o755);
    expect(statSync(join(image, 'bin', 'sh')).isFile()).toBe(true);
    const before = statSync(join(image, 'bin')).mtimeMs;
    expect(ensureBusyboxImage(image)).toBe(image);
    expect(statSync(join(image, 'bin')).mtimeMs).toBe(before);
    expect(resolveImage(join(root.path, 'images'), 'busybox')).toBe(image);
    expect(() => resolveImage(join(root.path, 'images'), 'debian99')).toThrow(
      /unknown vref "debian99"/,
    );
  });

  it('creates and starts a sliver container that runc lists as running, under the node root only', async () => {
    requireNode();
    const created = await runtime.create(login, sliverSpec(login, hostId, { cpus: '0' }));
    expect(created.status).toBe('created');
    await runtime.start(login);
    const id = runtime.containerId(login);
    expect(id.startsWith(`${prefix}-`)).toBe(true);
    const row = runcList(runtime.stateDir)
      .split('\n')
      .find((l) => l.startsWith(`${id} `));
    expect(row).toMatch(/\srunning\s/);
    expect(runcList()).not.toContain(id);
    expect(runcList(other.stateDir)).not.toContain(id);
    expect(await other.list()).toEqual([]);
    const listed = await runtime.list();
    expect(listed.map((c) => [c.name, c.status])).toEqual([[login, 'running']]);
  });

  it("its root is not the node's root: uid 0 inside, mapped to the sliver's host range", async () => {
    requireNode();
    expect((await runtime.exec(login, ['id', '-u'])).stdout.trim()).toBe('0');
    const map = (await runtime.exec(login, ['cat', '/proc/self/uid_map'])).stdout
      .trim()
      .split(/\s+/);
    expect(map).toEqual(['0', String(hostId), '65536']);
    const gmap = (await runtime.exec(login, ['cat', '/proc/self/gid_map'])).stdout
      .trim()
      .split(/\s+/);
    expect(gmap).toEqual(['0', String(hostId), '65536']);
    const pid = (await runtime.state(login))!.pid!;
    const hostUid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
    expect(hostUid).toBe(String(hostId));
  });

  it('has the login name as hostname and nothing of the node in /etc', async () => {
    requireNode();
    expect((await runtime.exec(login, ['hostname'])).stdout.trim()).toBe(login);
    const etc = (await runtime.exec(login, ['ls', '/etc'])).stdout
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    expect(etc).toEqual(['group', 'passwd']);
    const mounts = (await runtime.exec(login, ['cat', '/proc/mounts'])).stdout;
    expect(mounts).not.toMatch(/ \/sys /);
    expect(mounts).not.toMatch(/cgroup/);
  });

  it('has a read-only / and a writable home that belongs to the sliver', async () => {
    requireNode();
    const touch = await runtime.exec(login, ['touch', '/x']);
    expect(touch.code).not.toBe(0);
    expect(touch.stderr).toMatch(/Read-only file system/);
    const write = await runtime.exec(login, [
      'sh',
      '-c',
      'echo kept > /root/notes && cat /root/notes',
    ]);
    expect(write).toMatchObject({ code: 0, stdout: 'kept\n' });
    const onHost = join(root.path, 'slivers', login, 'home', 'notes');
    expect(readFileSync(onHost, 'utf8')).toBe('kept\n');
    expect(statSync(onHost).uid).toBe(hostId);
    expect(
      (await runtime.exec(login, ['sh', '-c', 'echo t > /tmp/t && echo v > /var/v'])).code,
    ).toBe(0);
  });

  it("sees only its own processes, not the node's", async () => {
    requireNode();
    const ps = await runtime.exec(login, ['ps', '-o', 'pid,comm']);
    const rows = ps.stdout.trim().split('\n').slice(1);
    const comms = rows.map((r) => r.trim().split(/\s+/)[1]);
    expect(comms).not.toContain('node');
    expect(comms).not.toContain('runc');
    expect(rows.length).toBeLessThanOrEqual(4); // sh (init), its sleep, ps.
    expect(rows[0]).toMatch(/^\s*1\s+sh$/);
    const procs = (await runtime.exec(login, ['ls', '/proc'])).stdout
      .split(/\s+/)
      .filter((p) => /^\d+$/.test(p));
    expect(procs.length).toBeLessThanOrEqual(4);
  });

  it('has the cgroup values of its spec, under the node prefix (cgroup v1)', async () => {
    requireNode();
    const pid = (await runtime.state(login))!.pid!;
    const cpu = cgroupDir(pid, 'cpu');
    expect(cpu).toBe(`/sys/fs/cgroup/cpu${runtime.cgroupsPath(login)}`);
    expect(cpu).toContain(`/${prefix}/`);
    expect(readFileSync(join(cpu, 'cpu.shares'), 'utf8').trim()).toBe('1024');
    const memory = readFileSync(
      join(cgroupDir(pid, 'memory'), 'memory.limit_in_bytes'),
      'utf8',
    ).trim();
    expect(memory).toBe(String(DEFAULT_MEMORY_BYTES));
    expect(readFileSync(join(cgroupDir(pid, 'pids'), 'pids.max'), 'utf8').trim()).toBe(
      String(DEFAULT_PIDS_LIMIT),
    );
    expect(readFileSync(join(cgroupDir(pid, 'cpuset'), 'cpuset.cpus'), 'utf8').trim()).toBe('0');
  });

  it('keeps the home folder across stop and start (container deleted and created again)', async () => {
    requireNode();
    await runtime.stop(login, 2000);
    expect((await runtime.state(login))?.status).toBe('stopped');
    expect(await runtime.delete(login)).toBe(true);
    expect(await runtime.state(login)).toBeUndefined();
    expect(runcList(runtime.stateDir)).not.toContain(runtime.containerId(login));
    await runtime.create(login, sliverSpec(login, hostId));
    await runtime.start(login);
    expect((await runtime.exec(login, ['cat', '/root/notes'])).stdout).toBe('kept\n');
    expect((await runtime.exec(login, ['cat', '/var/v'])).stdout).toBe('v\n');
  });

  it('exec is bounded even when a child left in the background holds its output open', async () => {
    requireNode();
    // As with sshd, the output ends when every holder closes it: here only at the bound.
    const started = Date.now();
    await expect(
      runtime.exec(login, ['/bin/sh', '-c', 'sleep 30 & echo hi'], { timeoutMs: 1000 }),
    ).rejects.toThrow(/timed out/);
    expect(Date.now() - started).toBeLessThan(5_000);
    await runtime.exec(login, ['/bin/sh', '-c', 'killall sleep'], {});
  });

  it('exec that takes too long is stopped and says so (not the status runc passes on)', async () => {
    requireNode();
    await expect(runtime.exec(login, ['/bin/sleep', '30'], { timeoutMs: 500 })).rejects.toThrow(
      /timed out: \/bin\/sleep 30/,
    );
    const r = await runtime.exec(login, ['/bin/sh', '-c', 'ps | grep -c "[s]leep 30"'], {});
    expect(r.stdout.trim()).toBe('0');
  });

  it('shows a container whose init died as stopped, even when its last list is fresh', async () => {
    requireNode();
    const pid = (await runtime.state(login))!.pid!;
    // A list now is reused by the next one while it holds: the init's death must not be hidden.
    expect((await runtime.list()).find((c) => c.name === login)?.status).toBe('running');
    expect((await runtime.list()).find((c) => c.name === login)?.pid).toBe(pid);
    process.kill(pid, 'SIGKILL');
    await waitFor(
      'the container to show as stopped',
      async () => (await runtime.state(login))?.status === 'stopped',
    );
    expect((await runtime.list()).find((c) => c.name === login)?.status).toBe('stopped');
    expect(runcList(runtime.stateDir)).toMatch(
      new RegExp(`${runtime.containerId(login)}\\s+0\\s+stopped`),
    );
    await expect(runtime.exec(login, ['true'])).rejects.toThrow(/it is stopped/);
    expect(await runtime.delete(login)).toBe(true);
  });

  it('gives two slivers with cpu_share 1 and 3 cpu.shares in ratio 1:3', async () => {
    requireNode();
    await runtime.create('plc_one', sliverSpec('plc_one', 400000, { cpuShare: 1 }));
    await runtime.create(
      'plc_three',
      sliverSpec('plc_three', 500000, { cpuShare: 3, memoryBytes: 64 << 20, pidsLimit: 32 }),
    );
    await runtime.start('plc_one');
    await runtime.start('plc_three');
    const shares = async (name: string): Promise<number> =>
      Number(
        readFileSync(
          join(cgroupDir((await runtime.state(name))!.pid!, 'cpu'), 'cpu.shares'),
          'utf8',
        ),
      );
    const one = await shares('plc_one');
    const three = await shares('plc_three');
    expect(three / one).toBe(3);
    const pid3 = (await runtime.state('plc_three'))!.pid!;
    expect(
      readFileSync(join(cgroupDir(pid3, 'memory'), 'memory.limit_in_bytes'), 'utf8').trim(),
    ).toBe(String(64 << 20));
    expect(readFileSync(join(cgroupDir(pid3, 'pids'), 'pids.max'), 'utf8').trim()).toBe('32');
    // Neither sees the other: each has its own pid namespace.
    const seen =
      (await runtime.exec('plc_one', ['ps', '-o', 'pid'])).stdout.trim().split('\n').length - 1;
    expect(seen).toBeLessThanOrEqual(3);
  });

  it('says what failed, with runc own words', async () => {
    requireNode();
    await expect(runtime.start('plc_none')).rejects.toThrow(RuntimeError);
    await expect(runtime.start('plc_none')).rejects.toThrow(
      /runc start .*plc_none failed: .*does not exist/,
    );
    await expect(runtime.create('plc_one', sliverSpec('plc_one', 400000))).rejects.toThrow(
      /runc create .* failed: .*exists/,
    );
    expect(await runtime.delete('plc_none')).toBe(false);
    await expect(runtime.create('bad name', sliverSpec('plc_x', 600000))).rejects.toThrow(
      /not a container name/,
    );
    await expect(
      runtime.create('plc_big', sliverSpec('plc_big', 600000, { cpuShare: 1e9 })),
    ).rejects.toThrow(/cpu_share/);
  });

  it('cleanup removes every container, cgroup and folder of the node, and only of that node', async () => {
    requireNode();
    await other.create('plc_other', sliverSpec('plc_other', 700000));
    await other.start('plc_other');
    await runtime.cleanup();
    expect(runcList(runtime.stateDir).trim().split('\n')).toHaveLength(1); // The header only.
    for (const controller of ['cpu', 'memory', 'pids', 'cpuset', 'unified']) {
      expect(() => statSync(`/sys/fs/cgroup/${controller}/${prefix}`)).toThrow(/ENOENT/);
    }
    expect((await other.list()).map((c) => c.status)).toEqual(['running']);
    await other.cleanup();
    expect(runcList(other.stateDir).trim().split('\n')).toHaveLength(1);
    expect(runcList()).not.toMatch(new RegExp(`${prefix}|${otherPrefix}`));
  });
});
