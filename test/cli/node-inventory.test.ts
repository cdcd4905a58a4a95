/**
 * `sfa node inventory` shows a managed node's traffic: the sums of its live slivers' last
 * reported bytes and packets (ReportNodeStatus), only the counters reported; nodes without
 * (unmanaged, or reporting no counters) print as before. The reports are stored through the
 * engine as the node API does; the command runs as a process, on the wall clock, so the slivers
 * here expire far in the future.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { AggregateEngine } from '../../src/aggregate/engine/engine.js';
import { sliverUrn } from '../../src/aggregate/engine/urns.js';
import { paths } from '../../src/config.js';
import { makeAuthorityDir } from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const tmp = tempRoot('node-inventory');
const FAR = new Date('2999-01-01T00:00:00Z');
let dir: string;

/** The inventory line of `host`. */
const lineOf = (stdout: string, host: string) => {
  const line = stdout.split('\n').find((l) => l.startsWith(`${host}  `));
  expect(line, `no line for ${host}`).toBeDefined();
  return line!;
};

beforeAll(async () => {
  dir = (await makeAuthorityDir(NOW, tmp.path)).dir;
  const engine = AggregateEngine.open(paths.aggregateDatabase(dir), { authority: 'ple' });
  try {
    const { store } = engine;
    const node1 = store.nodeByHostname('node1.inria.fr')!;
    const node2 = store.nodeByHostname('node2.inria.fr')!;
    const sliver = (name: string) => {
      const slice = store.insertSlice({
        urn: `urn:publicid:IDN+ple:inria+slice+${name}`,
        loginName: `inria_${name}`,
        created: NOW,
        expires: FAR,
      });
      const v = store.insertSliver({
        sliceId: slice.id,
        nodeId: node1.id,
        clientId: name,
        allocationState: 'geni_provisioned',
        operationalState: 'geni_ready',
        exclusive: false,
        cpuShare: 1,
        attributes: [],
        initscripts: [],
        created: NOW,
        expires: FAR,
      });
      return sliverUrn('ple', v.id);
    };
    const status = { loadAverage: 0.5, memoryTotal: 100, memoryFree: 50, uptime: 10 };
    engine.recordNodeReport(
      node1.id,
      {
        ...status,
        slivers: [
          {
            sliverUrn: sliver('a'),
            state: 'running',
            bytesIn: 5_000_000_000,
            bytesOut: 1000,
            packetsIn: 40,
          },
          { sliverUrn: sliver('b'), state: 'running', bytesIn: 300, bytesOut: 24, packetsIn: 2 },
        ],
      },
      NOW,
    );
    // Managed, but its slivers report no counters: nothing to add up.
    engine.recordNodeReport(node2.id, { ...status, slivers: [] }, NOW);
  } finally {
    engine.close();
  }
});

describe('sfa node inventory: traffic', () => {
  it('prints the sums of the slivers’ last reported bytes and packets, only those reported', () => {
    const r = sfa(['node', 'inventory', '--dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(lineOf(r.stdout, 'node1.inria.fr')).toMatch(
      / load=0\.5 bytes_in=5000000300 bytes_out=1024 packets_in=42( {2}|$)/,
    );
    expect(lineOf(r.stdout, 'node1.inria.fr')).not.toContain('packets_out');
  });

  it('prints no traffic for a managed node without counters, nor for an unmanaged node', () => {
    const r = sfa(['node', 'inventory', '--dir', dir]);
    expect(lineOf(r.stdout, 'node2.inria.fr')).not.toMatch(/bytes_|packets_/);
    expect(lineOf(r.stdout, 'node3.inria.fr')).not.toMatch(/bytes_|packets_/);
  });
});
