/**
 * The node API (issue 10): GetSlivers for a node with 700 slivers (PlanetLab Europe had 721
 * running slices, most on nearly every node), over HTTPS with the node's own GID, as its node
 * manager calls it. The server's handler time is read from its log line.
 */
import { performance } from 'node:perf_hooks';
import { initAuthority } from '../src/authority/init-authority.js';
import { paths } from '../src/config.js';
import { AggregateEngine } from '../src/aggregate/engine/engine.js';
import { startAuthority } from '../src/server/authority.js';
import { xmlRpcCall, createKeepAliveAgent } from '../src/xmlrpc/client.js';
import type { XmlRpcStruct } from '../src/xmlrpc/value.js';
import { nodeIdentity } from '../test/support/node-identity.js';
import { makeTempDir, removeTempDir } from '../test/support/tmp.js';
import { provisionOnOneNode } from './node-fixture.js';
import { percentile } from './stats.js';

const SLIVERS = 700;
const RUNS = 21;
const HOST = 'busy.bench.example.org';
const NODE_URN = `urn:publicid:IDN+ple:bench+node+${HOST}`;
// `<time> aggregate/node GetSlivers caller=… code=0 3.2ms`
const LINE = /aggregate\/node GetSlivers .* code=0 ([\d.]+)ms/;

export async function benchNodeApi(): Promise<void> {
  const dir = makeTempDir('bench-node-api');
  const now = new Date();
  try {
    await initAuthority({ dir, authority: 'ple', now, demoInventory: false });
    const engine = AggregateEngine.open(paths.aggregateDatabase(dir), { authority: 'ple' });
    const t0 = performance.now();
    try {
      engine.loadInventory({
        sites: [{ loginBase: 'bench', name: 'Benchmark site' }],
        nodes: [
          {
            hostname: HOST,
            site: 'bench',
            maxSlivers: SLIVERS + 10,
            cpuShares: 10 * SLIVERS,
            tags: { net_max_rate: '10000', vref: 'f22' },
          },
        ],
      });
      provisionOnOneNode(engine, HOST, SLIVERS, now);
    } finally {
      engine.close();
    }
    const setupS = (performance.now() - t0) / 1000;

    // The node's identity, as `sfa node credentials` makes it (here without the registry).
    const node = nodeIdentity(dir, 'ple', NODE_URN, new Date(now.getTime() - 60_000));
    const served: number[] = [];
    const running = await startAuthority({
      dir,
      listen: '127.0.0.1',
      ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
      log: (line) => {
        const m = LINE.exec(line);
        if (m) served.push(Number(m[1]));
      },
    });
    const agent = createKeepAliveAgent({ maxSockets: 1 });
    try {
      const url = `${running.urls.aggregate}node`;
      const call = () =>
        xmlRpcCall(url, 'GetSlivers', [{}], { key: node.keyPem, cert: node.gidPem, agent });
      const first = (await call()) as XmlRpcStruct;
      const count = (first['slivers'] as unknown[]).length;
      if (count !== SLIVERS) throw new Error(`GetSlivers gave ${count} slivers, not ${SLIVERS}`);
      served.length = 0;
      const wall: number[] = [];
      for (let i = 0; i < RUNS; i++) {
        const t = performance.now();
        await call();
        wall.push(performance.now() - t);
      }
      console.log(
        `node API (one node with ${SLIVERS} provisioned slivers; set-up ${setupS.toFixed(1)} s)`,
      );
      console.log(
        `  GetSlivers, ${SLIVERS} slivers (median / p95 of ${RUNS}; aim ≤ 50 ms server):` +
          ` server ${percentile(served, 50).toFixed(1)} / ${percentile(served, 95).toFixed(1)} ms,` +
          ` at the node ${percentile(wall, 50).toFixed(1)} / ${percentile(wall, 95).toFixed(1)} ms`,
      );
    } finally {
      agent.destroy();
      await running.close();
    }
  } finally {
    removeTempDir(dir);
  }
}
