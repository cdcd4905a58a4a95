/**
 * The node manager end to end, as root with real runc: an authority served over HTTPS on
 * loopback, a node folder with the node's own key and GID (issued as `sfa node credentials`
 * does), alice's sliver provisioned and started through the AM API, and node manager passes
 * that make, stop and delete its container, checked with `runc list` and the aggregate's record
 * of the node's reports. Without root, runc or busybox-static every test fails saying what to
 * install. Containers, cgroups, folders and the authority are removed in afterAll.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent, nodePrefixOf } from '../../src/nodemanager/agent.js';
import { NodeConfigError, readNodeDir } from '../../src/nodemanager/node-config.js';
import { missingNodeRequirements } from '../../src/nodemanager/runtime/runc.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { tempRoot } from '../support/tmp.js';
import { sfaAsync, waitFor, writeNodeDir, searchableAbove } from './support.js';

const root = tempRoot('nodemanager-agent');
const missing = missingNodeRequirements();
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const HOST = 'node1.inria.fr';
const LOGIN = 'inria_myslice';
const prefix = `sfa-a${process.pid}`;

let s: AliceSession | undefined;
let nodeDir: string;
let agent: NodeAgent | undefined;
let sliceCred: XmlRpcStruct[];
let restoreModes = (): void => {};

function requireNode(): void {
  if (missing !== undefined) throw new Error(missing);
}

function runcList(): string {
  return execFileSync('runc', ['--root', join(nodeDir, 'runc'), 'list'], { encoding: 'utf8' });
}

async function realized(): Promise<{ state: string; error: string | null }[]> {
  const store = s!.running.engine.store;
  const row = store.nodeByHostname(HOST)!;
  return store.realizedSlivers(row.id).map((r) => ({ state: r.state, error: r.error }));
}

beforeAll(async () => {
  requireNode();
  restoreModes = searchableAbove(root.path);
  s = await aliceSession();
  nodeDir = join(root.path, 'node1');
  await writeNodeDir(s, HOST, nodeDir);
  agent = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 400_000 });
  sliceCred = await s.sliceCred('myslice');
}, 60_000);

afterAll(async () => {
  try {
    await agent?.cleanup();
  } finally {
    restoreModes();
    await s?.close();
  }
}, 60_000);

describe('node folder', () => {
  it('has root, runc and busybox-static (else: what to install)', () => {
    expect(missing).toBeUndefined();
  });

  it('reads NODEDIR, and names the file that is missing or wrong', () => {
    requireNode();
    expect(readNodeDir(nodeDir).config.hostname).toBe(HOST);
    const empty = join(root.path, 'empty');
    mkdirSync(empty);
    expect(() => readNodeDir(empty)).toThrow(NodeConfigError);
    expect(() => readNodeDir(empty)).toThrow(
      `cannot read ${join(empty, 'node.json')}: no such file`,
    );
    expect(nodePrefixOf('Node1.INRIA.fr')).toBe('sfa-node1-inria-fr');
    expect(nodePrefixOf(`${'x'.repeat(60)}.example.org`)).toMatch(/^sfa-x{27}-[0-9a-f]{8}$/);
  });
});

describe('sfa nodemanager passes with real containers', () => {
  let pid: number | undefined;

  it('does nothing while nothing is provisioned, and reports', async () => {
    requireNode();
    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    expect(r.source).toBe('aggregate');
    expect(r.actions).toEqual([]);
    expect(r.reported).toBe(true);
    expect(existsSync(join(nodeDir, 'state', 'last-slivers.json'))).toBe(true);
    expect(statSync(nodeDir).mode & 0o001).toBe(0o001);
  });

  it('runs a provisioned, started sliver: its hostname is the login name; the report reached the aggregate', async () => {
    requireNode();
    const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [s!.alice.sshKey] }];
    const rspec =
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
      `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${HOST}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;
    const a = await s!.am('Allocate', SLICE, sliceCred, rspec, { geni_users: users });
    expect(geniCode(a), String(a['output'])).toBe(0);
    const p = await s!.am('Provision', [SLICE], sliceCred, {
      geni_rspec_version: { type: 'GENI', version: '3' },
      geni_users: users,
    });
    expect(geniCode(p), String(p['output'])).toBe(0);
    const st = await s!.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_start', {});
    expect(geniCode(st), String(st['output'])).toBe(0);

    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    expect(r.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`create ${LOGIN}`]);
    expect(r.slivers).toMatchObject([{ name: LOGIN, state: 'running' }]);
    expect(runcList()).toMatch(new RegExp(`^${prefix}-${LOGIN}\\s+\\d+\\s+running`, 'm'));
    const c = await agent!.runtime.state(LOGIN);
    pid = c?.pid;
    expect(pid).toBeGreaterThan(0);
    const h = await agent!.runtime.exec(LOGIN, ['hostname']);
    expect(h.stdout.trim()).toBe(LOGIN);
    expect(r.reported).toBe(true);
    expect(await realized()).toEqual([{ state: 'running', error: null }]);
  });

  it('a second pass with nothing changed does nothing (same pid); a new agent adopts it', async () => {
    requireNode();
    const saved = join(nodeDir, 'state', 'last-slivers.json');
    const savedAt = statSync(saved).mtimeMs;
    const r = await agent!.pass();
    expect(r.actions).toEqual([]);
    // Told "unchanged" (if_changed): the answer on disk is not written again; no report due.
    expect(statSync(saved).mtimeMs).toBe(savedAt);
    expect(r.reported).toBe(false);
    expect((await agent!.runtime.state(LOGIN))?.pid).toBe(pid);
    const restarted = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 400_000 });
    const r2 = await restarted.pass();
    expect(r2.actions).toEqual([]);
    expect(r2.slivers).toMatchObject([{ name: LOGIN, state: 'running' }]);
    expect((await agent!.runtime.state(LOGIN))?.pid).toBe(pid);
    // A new agent reports at its first pass.
    expect(r2.reported).toBe(true);
  });

  it('a container that died is seen at the next pass, which reports it at once', async () => {
    requireNode();
    const victim = (await agent!.runtime.state(LOGIN))!.pid!;
    process.kill(victim, 'SIGKILL');
    await waitFor(
      'the container to stop',
      async () => (await agent!.runtime.state(LOGIN))?.status === 'stopped',
    );
    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    // It should run: made again (its data kept), and the report says so at once.
    expect(r.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`recreate ${LOGIN}`]);
    expect(r.reported).toBe(true);
    expect(r.slivers).toMatchObject([{ name: LOGIN, state: 'running' }]);
    pid = (await agent!.runtime.state(LOGIN))!.pid!;
    expect(pid).not.toBe(victim);
  });

  it('geni_stop then a pass stops it (its data kept)', async () => {
    requireNode();
    const st = await s!.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_stop', {});
    expect(geniCode(st), String(st['output'])).toBe(0);
    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    expect(r.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`stop ${LOGIN}`]);
    expect((await agent!.runtime.state(LOGIN))?.status).toBe('stopped');
    expect(existsSync(join(nodeDir, 'slivers', LOGIN, 'home'))).toBe(true);
    expect(await realized()).toEqual([{ state: 'stopped', error: null }]);
  });

  it('plans from the saved answer when the aggregate cannot be reached (expiry enforced offline)', async () => {
    requireNode();
    const offline = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 400_000 });
    // Point the agent at a closed port: the saved answer is used.
    (offline.node.config as { aggregate: string }).aggregate = 'https://127.0.0.1:1/node';
    const r = await offline.pass();
    expect(r.source).toBe('saved');
    expect(r.errors[0]).toMatch(/^GetSlivers: /);
    expect(r.actions).toEqual([]);
    expect(r.reported).toBe(false);
    expect(r.slivers).toMatchObject([{ name: LOGIN, state: 'stopped' }]);
  });

  it('Delete then a pass removes the container and its writable folders', async () => {
    requireNode();
    const d = await s!.am('Delete', [SLICE], sliceCred, {});
    expect(geniCode(d), String(d['output'])).toBe(0);
    const r = await agent!.pass();
    expect(r.errors).toEqual([]);
    expect(r.actions.map((x) => `${x.kind} ${x.name}`)).toEqual([`delete ${LOGIN}`]);
    expect(runcList()).not.toContain(LOGIN);
    expect(existsSync(join(nodeDir, 'slivers', LOGIN))).toBe(false);
    expect(existsSync(join(nodeDir, 'bundles', LOGIN))).toBe(false);
    const again = await agent!.pass();
    expect(again.actions).toEqual([]);
  });

  it("refuses an aggregate whose certificate does not chain to the node's root.gid", async () => {
    requireNode();
    const other = join(root.path, 'wrong-root');
    mkdirSync(other, { mode: 0o700 });
    for (const f of ['node.json', 'node.pkey', 'node.gid'])
      copyFileSync(join(nodeDir, f), join(other, f));
    // A root that is not the authority's: the node's own GID.
    copyFileSync(join(nodeDir, 'node.gid'), join(other, 'root.gid'));
    const wrong = new NodeAgent({ nodeDir: other, nodePrefix: `${prefix}w`, uidBase: 500_000 });
    try {
      const r = await wrong.pass();
      expect(r.source).toBe('none');
      expect(r.errors.join()).toMatch(/GetSlivers: .*(reject|certificate)/i);
    } finally {
      await wrong.cleanup();
    }
  });

  it('`sfa nodemanager --once` realizes a started sliver (one log line); `--cleanup` removes everything of the node', async () => {
    requireNode();
    const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [s!.alice.sshKey] }];
    const rspec =
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
      `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${HOST}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;
    const a = await s!.am('Allocate', SLICE, sliceCred, rspec, { geni_users: users });
    expect(geniCode(a), String(a['output'])).toBe(0);
    const p = await s!.am('Provision', [SLICE], sliceCred, {
      geni_rspec_version: { type: 'GENI', version: '3' },
      geni_users: users,
    });
    expect(geniCode(p), String(p['output'])).toBe(0);
    const st = await s!.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_start', {});
    expect(geniCode(st), String(st['output'])).toBe(0);

    const flags = ['--node-dir', nodeDir, '--prefix', prefix, '--uid-base', '400000'];
    const once = await sfaAsync(['nodemanager', ...flags, '--once']);
    expect(once.stderr).toMatch(
      /^nodemanager node1\.inria\.fr: pass \(aggregate generation \d+\); created 1 started 0 stopped 0 deleted 0; running 1 stopped 0 failed 0; reported\n$/,
    );
    expect(once.status).toBe(0);
    expect(runcList()).toMatch(new RegExp(`^${prefix}-${LOGIN}\\s+\\d+\\s+running`, 'm'));

    const clean = await sfaAsync(['nodemanager', ...flags, '--cleanup']);
    expect(clean.stderr).toContain(`removed every container, cgroup and folder of ${prefix}`);
    expect(clean.status).toBe(0);
    expect(existsSync(join(nodeDir, 'runc'))).toBe(false);
    expect(existsSync(join(nodeDir, 'slivers'))).toBe(false);
    expect(existsSync(join(nodeDir, 'state'))).toBe(false);
    expect(existsSync(`/sys/fs/cgroup/cpu/${prefix}`)).toBe(false);
    expect(existsSync(join(nodeDir, 'node.pkey'))).toBe(true);
  });

  it('loop mode: long-polls, acts within seconds of a change, and stops leaving containers running', async () => {
    requireNode();
    const looper = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 400_000 });
    let stop: () => void = () => {};
    const stopped = new Promise<void>((r) => (stop = r));
    const done = looper.loop(stopped);
    try {
      const status = async () => (await looper.runtime.state(LOGIN))?.status;
      await waitFor('the sliver running', async () => (await status()) === 'running');
      let t0 = Date.now();
      const st = await s!.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_stop', {});
      expect(geniCode(st), String(st['output'])).toBe(0);
      await waitFor('the sliver stopped', async () => (await status()) === 'stopped');
      expect(Date.now() - t0).toBeLessThan(5000); // the long poll woke, no 30 s wait
      t0 = Date.now();
      const go = await s!.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_start', {});
      expect(geniCode(go), String(go['output'])).toBe(0);
      await waitFor('the sliver running again', async () => (await status()) === 'running');
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      stop();
      await done;
    }
    const c = await looper.runtime.state(LOGIN);
    expect(c?.status).toBe('running');
    expect(await realized()).toEqual([{ state: 'running', error: null }]);
  });

  it('`sfa nodemanager --help` lists its options', async () => {
    const r = await sfaAsync(['nodemanager', '--help']);
    expect(r.status).toBe(0);
    for (const o of [
      '--node-dir',
      '--once',
      '--cleanup',
      '--images-dir',
      '--prefix',
      '--uid-base',
      '--login-port',
      '--login-address',
      '--no-login',
      '--no-network',
      '--vsys-dir',
    ])
      expect(r.stdout).toContain(o);
  });
});
