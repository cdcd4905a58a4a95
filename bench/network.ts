/**
 * `npm run bench -- network` (issue 11), as root with runc, ip, tc and nftables; traffic only on
 * loopback and the node's private range, made on this machine by the node manager under test:
 * 1. a sliver's sending with net_max_rate 1, 10 and 100 Mbit/s: measured against set;
 * 2. the cost of isolation: TCP throughput and connect time from the node's loopback to a server
 *    in a sliver through its forwarded port, against the same server (busybox) run on the node;
 * 3. setting up and tearing down the network of 200 slivers (veth, bridge port, address, the
 *    node's tables): stand-in processes in network namespaces of their own (`unshare -n`), so
 *    that what is timed is the network, not the containers.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NodeAgent } from '../src/nodemanager/agent.js';
import { NodeNetwork } from '../src/nodemanager/network.js';
import { missingNodeRequirements } from '../src/nodemanager/runtime/runc.js';
import type { XmlRpcStruct } from '../src/xmlrpc/value.js';
import { searchableAbove } from '../test/nodemanager/support.js';
import { aliceSession, geniCode, type AliceSession } from '../test/support/authority.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';
import { writeDemoNodeFolder } from './node-fixture.js';
import { percentile } from './stats.js';

const HOST = 'node1.inria.fr';
const RATES_MBIT = [1, 10, 100];
const SETUP_SLIVERS = 200;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function startSliver(
  s: AliceSession,
  slice: string,
  attributes: [string, string][],
): Promise<void> {
  const urn = `urn:publicid:IDN+ple:inria+slice+${slice}`;
  const cred = await s.sliceCred(slice);
  const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [s.alice.sshKey] }];
  const attrs = attributes
    .map(([n, v]) => `<planetlab:attribute name="${n}" value="${v}"/>`)
    .join('');
  const rspec =
    '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3" xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1">' +
    `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${HOST}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver">${attrs}</sliver_type></node></rspec>`;
  const ok = (what: string, a: XmlRpcStruct) => {
    if (geniCode(a) !== 0) throw new Error(`${what} ${slice}: ${String(a['output'])}`);
  };
  ok('Allocate', await s.am('Allocate', urn, cred, rspec, { geni_users: users }));
  ok(
    'Provision',
    await s.am('Provision', [urn], cred, {
      geni_rspec_version: { type: 'GENI', version: '3' },
      geni_users: users,
    }),
  );
  ok('geni_start', await s.am('PerformOperationalAction', [urn], cred, 'geni_start', {}));
}

/** Bytes per second a receiver on `host` gets from `send`, over its last 3 of 4 seconds. */
async function receiveRate(
  host: string,
  send: (port: number) => Promise<unknown>,
): Promise<number> {
  const marks: { t: number; bytes: number }[] = [];
  let bytes = 0;
  const srv = createServer((sock) => {
    sock.on('data', (d: Buffer) => {
      bytes += d.length;
      marks.push({ t: performance.now(), bytes });
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, host, r));
  try {
    await send((srv.address() as { port: number }).port);
    await sleep(200);
  } finally {
    srv.close();
  }
  if (marks.length < 2) return 0;
  const from = marks.find((m) => m.t >= marks[0]!.t + 1000) ?? marks[0]!;
  const last = marks[marks.length - 1]!;
  return ((last.bytes - from.bytes) * 1000) / Math.max(1, last.t - from.t);
}

/** Send `seconds` of zeros to host:port from this process; bytes per second. */
function sendRate(host: string, port: number, seconds: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const chunk = Buffer.alloc(256 * 1024);
    const c = connect({ host, port });
    let sent = 0;
    let t0 = 0;
    let t1 = 0;
    const guard = setTimeout(() => c.destroy(new Error('no progress')), (seconds + 10) * 1000);
    const pump = () => {
      while (performance.now() - t0 < seconds * 1000) {
        sent += chunk.length;
        if (!c.write(chunk)) return;
      }
      if (t1 === 0) {
        t1 = performance.now();
        c.end();
      }
    };
    c.on('connect', () => {
      t0 = performance.now();
      pump();
    });
    c.on('drain', pump);
    c.on('error', (e) => {
      clearTimeout(guard);
      reject(e);
    });
    c.on('close', () => {
      clearTimeout(guard);
      if (t1 === 0) reject(new Error(`the connection to ${host}:${port} closed early`));
      else resolve((sent * 1000) / (t1 - t0));
    });
  });
}

/** Median time of `n` TCP connects to host:port (connected, then closed), in ms. */
async function connectTime(host: string, port: number, n: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      const c = connect({ host, port }, () => {
        times.push(performance.now() - t0);
        c.destroy();
        resolve();
      });
      c.on('error', reject);
    });
  }
  return percentile(times, 50);
}

/** 1 and 2, with a node manager and real containers. */
async function benchTraffic(prefix: string, work: string): Promise<void> {
  const nodeDir = join(work, 'node-net');
  let s: AliceSession | undefined;
  let agent: NodeAgent | undefined;
  const children: ChildProcess[] = [];
  try {
    s = await aliceSession({ slices: ['r1', 'r10', 'r100', 'web'] });
    await writeDemoNodeFolder(s, nodeDir);
    agent = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 1_900_000_000 });
    // The demo node's own cap (10 Mbit/s) would hold the slivers below their rates: lifted.
    s.running.engine.removeNodeTag(HOST, 'net_max_rate');
    for (const mbit of RATES_MBIT) {
      await startSliver(s, `r${mbit}`, [['net_max_rate', String(mbit * 1000)]]);
    }
    // No rate for the web sliver.
    await startSliver(s, 'web', [['ports', 'tcp:18090-18091']]);
    const r = await agent.pass();
    if (r.errors.length > 0) throw new Error(`the pass failed: ${r.errors.join('; ')}`);
    const net = agent.network!;
    const exec = (name: string, cmd: string) =>
      agent!.runtime.exec(name, ['/bin/sh', '-c', cmd], { timeoutMs: 30_000 });

    console.log(
      'sliver networks: what a sliver sends, with net_max_rate (to the node, 3 s; TCP payload: headers are the rest)',
    );
    for (const mbit of RATES_MBIT) {
      const rate = await receiveRate(net.gateway, (port) =>
        exec(`inria_r${mbit}`, `timeout 4 nc ${net.gateway} ${port} < /dev/zero; true`),
      );
      const measured = (rate * 8) / 1e6;
      console.log(
        `  set ${mbit} Mbit/s: measured ${measured.toFixed(2)} Mbit/s (${((measured / mbit) * 100).toFixed(1)} % of set)`,
      );
    }

    // 2. A sink and an HTTP server in the web sliver (forwarded ports), the same on the node.
    const www = join(work, 'www');
    mkdirSync(www, { recursive: true });
    writeFileSync(join(www, 'index.html'), 'x\n');
    await exec(
      'inria_web',
      'mkdir -p /tmp/www && echo x > /tmp/www/index.html && httpd -p 18091 -h /tmp/www',
    );
    const nodeHttpd = spawn('busybox', ['httpd', '-f', '-p', '127.0.0.1:18191', '-h', www], {
      stdio: 'ignore',
    });
    children.push(nodeHttpd);
    await sleep(300);
    const sliverSink = async () => {
      void exec('inria_web', 'timeout 8 nc -l -p 18090 > /dev/null; true');
      await sleep(300);
      return sendRate('127.0.0.1', 18090, 3);
    };
    const nodeSink = async () => {
      // Its standard input stays open: nc ends the connection at its EOF.
      const p = spawn('sh', ['-c', 'timeout 8 busybox nc -l -p 18190 > /dev/null'], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      children.push(p);
      await sleep(300);
      return sendRate('127.0.0.1', 18190, 3);
    };
    const toSliver = await sliverSink();
    const toNode = await nodeSink();
    const connSliver = await connectTime('127.0.0.1', 18091, 200);
    const connNode = await connectTime('127.0.0.1', 18191, 200);
    console.log('sliver networks: the cost of isolation (busybox nc and httpd, from 127.0.0.1)');
    console.log(
      `  TCP throughput, 3 s: through the forwarded port to the sliver ${((toSliver * 8) / 1e9).toFixed(2)} Gbit/s;` +
        ` the same sink on the node ${((toNode * 8) / 1e9).toFixed(2)} Gbit/s`,
    );
    console.log(
      `  connect time, median of 200: to the sliver ${connSliver.toFixed(3)} ms; to the node ${connNode.toFixed(3)} ms`,
    );
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    try {
      await agent?.cleanup();
    } finally {
      await s?.close();
    }
  }
}

/** 3. The network of 200 slivers, set up then torn down. */
async function benchSetup(prefix: string): Promise<void> {
  const net = new NodeNetwork(prefix, { subnet: '10.250.0.0/16' });
  const holders: ChildProcess[] = [];
  try {
    for (let i = 0; i < SETUP_SLIVERS; i++) {
      holders.push(spawn('unshare', ['-n', 'sleep', '600'], { stdio: 'ignore' }));
    }
    await sleep(500);
    const t0 = performance.now();
    await net.ensureNode();
    // As the agent does: a few at a time.
    let next = 0;
    const worker = async () => {
      while (next < SETUP_SLIVERS) {
        const i = next++;
        await net.attachSliver(`s${i}`, i, holders[i]!.pid!);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await net.apply(
      Array.from({ length: SETUP_SLIVERS }, (_, i) => ({
        name: `s${i}`,
        index: i,
        ports: [{ proto: 'tcp' as const, from: 20000 + i, to: 20000 + i }],
      })),
    );
    const setupS = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await net.cleanup();
    const downS = (performance.now() - t1) / 1000;
    const left = execFileSync('ip', ['-br', 'link'], { encoding: 'utf8' })
      .split('\n')
      .filter((l) => l.includes(net.bridge) || l.startsWith(`sfv${net.bridge.slice(3)}`));
    console.log(
      `sliver networks: ${SETUP_SLIVERS} slivers (veth, address, bridge port, a forwarded port each)`,
    );
    console.log(
      `  set up ${setupS.toFixed(1)} s (${((setupS * 1000) / SETUP_SLIVERS).toFixed(0)} ms a sliver); torn down ${downS.toFixed(1)} s; links left: ${left.length}`,
    );
  } finally {
    for (const h of holders) h.kill('SIGKILL');
    await net.cleanup().catch(() => undefined);
  }
}

export async function benchNetwork(): Promise<void> {
  const missing = missingNodeRequirements();
  if (missing !== undefined) {
    console.log(`sliver networks: skipped (${missing})`);
    return;
  }
  const work = makeTempDir('sfa-bench-network-');
  const restore = searchableAbove(work);
  const prefix = `sfa-bn${process.pid}`;
  try {
    await benchTraffic(prefix, work);
    await benchSetup(`sfa-bs${process.pid}`);
  } finally {
    restore();
    removeTempDir(work);
  }
}
