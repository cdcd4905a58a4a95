/**
 * Operational state and node status from the nodes' own reports (issue 10, parts 5 and 6).
 * A node is managed once it has sent a ReportNodeStatus; nodes that never report keep the
 * behaviour of an aggregate without node managers. Real HTTPS on loopback, real certificates,
 * a clock the test moves, and the authority's data on each backend in turn: real SQLite, then
 * real PostgreSQL.
 */
// Before the file's own afterAll hooks: its hook stopping the PostgreSQL server runs after them.
import { BACKENDS, backendMissing, testPostgres } from '../support/backends.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRspec } from '../../src/rspec/validate.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import { bootstrapUser, client, geniCode, makeAuthorityDir } from '../support/authority.js';
import { nodeIdentity } from '../support/node-identity.js';
import { NOW } from '../support/paths.js';
import { removeTempDir } from '../support/tmp.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const CM = 'urn:publicid:IDN+ple+authority+cm';
const nodeUrnOf = (host: string) => `urn:publicid:IDN+ple:inria+node+${host}`;
const MANAGED = 'node1.inria.fr';
const UNMANAGED = 'node2.inria.fr';
const WATCHED = 'node3.inria.fr';
const V3 = { geni_rspec_version: { type: 'GENI', version: '3' } };

for (const backend of BACKENDS) {
  const missing = backendMissing(backend);
  const label = missing === undefined ? backend : `${backend}, skipped: ${missing}`;
  describe.skipIf(missing !== undefined)(`node state [${label}]`, () => {
    /** The clock the authority reads: tests move it. */
    let now = new Date(NOW);
    const advance = (seconds: number) => {
      now = new Date(now.getTime() + seconds * 1000);
    };

    let dir: string;
    let running: RunningAuthority;
    let am: (method: string, ...params: XmlRpcValue[]) => Promise<XmlRpcStruct>;
    let amV2: (method: string, ...params: XmlRpcValue[]) => Promise<XmlRpcStruct>;
    let sliceCred: XmlRpcStruct[];
    let nodeUrl: string;
    const nodes = new Map<string, (method: string, ...params: XmlRpcValue[]) => Promise<unknown>>();
    const sliverOn = new Map<string, string>();

    /** A key and GID for `host`, signed by the site authority ple.inria, as a node would hold. */
    function asNode(host: string) {
      let c = nodes.get(host);
      if (!c) {
        const id = nodeIdentity(dir, 'ple.inria', nodeUrnOf(host));
        c = client(nodeUrl, id.keyPem, id.gidPem);
        nodes.set(host, c);
      }
      return c;
    }

    const report = (host: string, slivers: XmlRpcStruct[] = [], load = 0.5) =>
      asNode(host)('ReportNodeStatus', {
        load_average: load,
        memory_total: 1000,
        memory_free: 500,
        uptime: 100,
        slivers,
      });

    const desired = async (host: string) =>
      (((await asNode(host)('GetSlivers', {})) as XmlRpcStruct)['slivers'] as XmlRpcStruct[]).map(
        (v) => v['desired_state'],
      );

    /** The `geni_slivers` entry of the sliver on `host`, from Status. */
    async function statusOn(host: string): Promise<XmlRpcStruct> {
      const r = await am('Status', [SLICE], sliceCred, {});
      expect(geniCode(r), String(r['output'])).toBe(0);
      const slivers = (r['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[];
      const line = slivers.find((v) => v['geni_sliver_urn'] === sliverOn.get(host));
      expect(line, `no sliver on ${host}`).toBeDefined();
      return line!;
    }

    const action = async (host: string, what: string) => {
      const r = await am('PerformOperationalAction', [sliverOn.get(host)!], sliceCred, what, {});
      expect(geniCode(r), String(r['output'])).toBe(0);
      return (r['value'] as XmlRpcStruct[])[0]!;
    };

    const nodeXml = (clientId: string, host?: string) =>
      `<node client_id="${clientId}"${host ? ` component_id="${nodeUrnOf(host)}"` : ''} component_manager_id="${CM}" exclusive="false"><sliver_type name="plab-vserver"/></node>`;
    const request = (...nodes: string[]) =>
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
      nodes.join('') +
      '</rspec>';

    const ad = async () => {
      const r = await am('ListResources', sliceCred, V3);
      expect(geniCode(r), String(r['output'])).toBe(0);
      return r['value'] as string;
    };
    /** The `<node>` element of `host` in the advertisement. */
    const adNode = async (host: string) => {
      const xml = await ad();
      const start = xml.indexOf(`component_name="${host}"`);
      expect(start).toBeGreaterThan(0);
      return xml.slice(start, xml.indexOf('</node>', start));
    };

    beforeAll(async () => {
      const store =
        backend === 'postgres' ? await (await testPostgres()).createDatabase() : undefined;
      const made = await makeAuthorityDir(NOW, undefined, store);
      dir = made.dir;
      running = await startAuthority({
        dir,
        listen: '127.0.0.1',
        ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
        log: () => {},
        clock: () => now,
      });
      const a = await bootstrapUser(running.urls.registry, made.alice);
      const call = client(running.urls.aggregate, made.alice.keyPem, a.gid);
      am = async (method, ...params) => (await call(method, ...params)) as XmlRpcStruct;
      const callV2 = client(running.urls.aggregateV2, made.alice.keyPem, a.gid);
      amV2 = async (method, ...params) => (await callV2(method, ...params)) as XmlRpcStruct;
      const cred = await a.registry('GetCredential', a.cred, 'ple.inria.myslice', 'slice');
      sliceCred = [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: cred as string }];
      nodeUrl = `${running.urls.aggregate}node`;
      // The authority really serves from the backend under test.
      expect(running.store).toBe(store);

      // node1's node manager starts before anything is asked of it: node1 is managed.
      await report(MANAGED);
      const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [made.alice.sshKey] }];
      const al = await am(
        'Allocate',
        SLICE,
        sliceCred,
        request(nodeXml('web', MANAGED), nodeXml('db', UNMANAGED)),
        { geni_users: users },
      );
      expect(geniCode(al), String(al['output'])).toBe(0);
      for (const v of (al['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[]) {
        const d = await am('Describe', [v['geni_sliver_urn'] as string], sliceCred, V3);
        const manifest = (d['value'] as XmlRpcStruct)['geni_rspec'] as string;
        const host = manifest.includes(nodeUrnOf(MANAGED)) ? MANAGED : UNMANAGED;
        sliverOn.set(host, v['geni_sliver_urn'] as string);
      }
      const p = await am('Provision', [SLICE], sliceCred, { ...V3, geni_users: users });
      expect(geniCode(p), String(p['output'])).toBe(0);
    }, 60_000);

    afterAll(async () => {
      await running?.close();
      if (dir) removeTempDir(dir);
    });

    describe('operational state on an unmanaged node (never reported): as before', () => {
      it('is geni_ready at once after Provision and geni_start, geni_notready at once after geni_stop', async () => {
        expect((await statusOn(UNMANAGED))['geni_operational_status']).toBe('geni_ready');
        expect((await action(UNMANAGED, 'geni_stop'))['geni_operational_status']).toBe(
          'geni_notready',
        );
        expect((await statusOn(UNMANAGED))['geni_operational_status']).toBe('geni_notready');
        expect((await action(UNMANAGED, 'geni_start'))['geni_operational_status']).toBe(
          'geni_ready',
        );
        expect(await desired(UNMANAGED)).toEqual(['started']);
      });
    });

    describe('operational state on a managed node: from its reports', () => {
      it('is geni_configuring after Provision and geni_start until the node reports it running, then geni_ready', async () => {
        expect((await statusOn(MANAGED))['geni_operational_status']).toBe('geni_configuring');
        expect((await action(MANAGED, 'geni_start'))['geni_operational_status']).toBe(
          'geni_configuring',
        );
        // The node is told what the researcher asked, not what is shown.
        expect(await desired(MANAGED)).toEqual(['started']);
        advance(2);
        await report(MANAGED, [{ sliver_urn: sliverOn.get(MANAGED)!, state: 'running' }]);
        expect((await statusOn(MANAGED))['geni_operational_status']).toBe('geni_ready');
        const d = await am('Describe', [SLICE], sliceCred, V3);
        const slivers = (d['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[];
        expect(
          slivers.find((v) => v['geni_sliver_urn'] === sliverOn.get(MANAGED))?.[
            'geni_operational_status'
          ],
        ).toBe('geni_ready');
        expect(await desired(MANAGED)).toEqual(['started']);
      });

      it('is geni_stopping after geni_stop until the node reports it stopped, then geni_notready', async () => {
        advance(10);
        expect((await action(MANAGED, 'geni_stop'))['geni_operational_status']).toBe(
          'geni_stopping',
        );
        expect(await desired(MANAGED)).toEqual(['stopped']);
        // A report that still has it running (made before the node saw the stop) changes nothing.
        await report(MANAGED, [{ sliver_urn: sliverOn.get(MANAGED)!, state: 'running' }]);
        expect((await statusOn(MANAGED))['geni_operational_status']).toBe('geni_stopping');
        advance(2);
        await report(MANAGED, [{ sliver_urn: sliverOn.get(MANAGED)!, state: 'stopped' }]);
        expect((await statusOn(MANAGED))['geni_operational_status']).toBe('geni_notready');
        expect(await desired(MANAGED)).toEqual(['stopped']);
      });

      it('is geni_failed with the node’s reason in geni_error, while the node is still told started', async () => {
        advance(10);
        expect((await action(MANAGED, 'geni_start'))['geni_operational_status']).toBe(
          'geni_configuring',
        );
        advance(2);
        await report(MANAGED, [
          {
            sliver_urn: sliverOn.get(MANAGED)!,
            state: 'failed',
            error: 'vref debian-13 not found',
          },
        ]);
        const st = await statusOn(MANAGED);
        expect(st['geni_operational_status']).toBe('geni_failed');
        expect(st['geni_error']).toBe('vref debian-13 not found');
        expect(await desired(MANAGED)).toEqual(['started']);
        // A new geni_start forgets the old failure until the node reports again.
        advance(10);
        expect((await action(MANAGED, 'geni_restart'))['geni_operational_status']).toBe(
          'geni_configuring',
        );
        advance(2);
        await report(MANAGED, [{ sliver_urn: sliverOn.get(MANAGED)!, state: 'running' }]);
        const again = await statusOn(MANAGED);
        expect(again['geni_operational_status']).toBe('geni_ready');
        expect(again['geni_error']).toBe('');
      });

      it('advertises exactly the states and actions used', async () => {
        const xml = await ad();
        const states = [...xml.matchAll(/<opstate:state name="([^"]+)"/g)].map((m) => m[1]);
        expect(states.sort()).toEqual(
          [
            'geni_configuring',
            'geni_failed',
            'geni_notready',
            'geni_ready',
            'geni_stopping',
          ].sort(),
        );
        expect(xml).toContain('start="geni_configuring"');
        expect(xml).toContain('<opstate:action name="geni_stop" next="geni_stopping">');
        expect(xml).toContain('<opstate:wait type="geni_success" next="geni_ready">');
        expect(xml).toContain('<opstate:wait type="geni_success" next="geni_notready">');
      });
    });

    describe('traffic accounting on a managed node: from its reports', () => {
      const GENI_KEYS = [
        'geni_allocation_status',
        'geni_error',
        'geni_expires',
        'geni_operational_status',
        'geni_sliver_urn',
      ];
      const counters = {
        bytes_in: 5_000_000_000, // past 2^31: written as a double, read back whole
        bytes_out: 1234,
        packets_in: 4_000_000,
        packets_out: 900,
        cpu_seconds: 12.5,
        memory_bytes: 64 * 1024 ** 2,
      };

      it('shows each sliver’s last reported traffic and usage in Status, as sfa_ts_ keys', async () => {
        advance(10);
        await report(MANAGED, [
          { sliver_urn: sliverOn.get(MANAGED)!, state: 'running', ...counters },
          // A line about a sliver not on this node counts nowhere.
          { sliver_urn: 'urn:publicid:IDN+ple+sliver+999999', state: 'running', bytes_in: 7 },
        ]);
        const st = await statusOn(MANAGED);
        expect(st).toMatchObject({
          geni_operational_status: 'geni_ready',
          sfa_ts_bytes_in: 5_000_000_000,
          sfa_ts_bytes_out: 1234,
          sfa_ts_packets_in: 4_000_000,
          sfa_ts_packets_out: 900,
          sfa_ts_cpu_seconds: 12.5,
          sfa_ts_memory_bytes: 64 * 1024 ** 2,
          sfa_ts_reported: now.toISOString().replace('.000', ''),
        });
      });

      it('shows them in AM API v2 SliverStatus too', async () => {
        const r = await amV2('SliverStatus', SLICE, sliceCred, {});
        expect(geniCode(r), String(r['output'])).toBe(0);
        const resources = (r['value'] as XmlRpcStruct)['geni_resources'] as XmlRpcStruct[];
        const line = resources.find((v) => v['geni_urn'] === sliverOn.get(MANAGED));
        expect(line).toMatchObject({ sfa_ts_bytes_in: 5_000_000_000, sfa_ts_packets_out: 900 });
        const other = resources.find((v) => v['geni_urn'] === sliverOn.get(UNMANAGED));
        expect(Object.keys(other!).sort()).toEqual(['geni_error', 'geni_status', 'geni_urn']);
      });

      it('adds nothing for a sliver on an unmanaged node', async () => {
        expect(Object.keys(await statusOn(UNMANAGED)).sort()).toEqual(GENI_KEYS);
      });

      it('advertises a managed node’s totals on its sfa-ts:node_status, schema-valid; none for an unmanaged node', async () => {
        advance(61); // past the ad cache's time to live
        const xml = await ad();
        await expect(validateRspec(xml, 'ad')).resolves.toBeUndefined();
        const n = await adNode(MANAGED);
        expect(n).toMatch(
          /<sfa-ts:node_status [^>]*bytes_in="5000000000" bytes_out="1234" packets_in="4000000" packets_out="900"\/>/,
        );
        expect(await adNode(UNMANAGED)).not.toMatch(/bytes_|packets_/);
      });

      it('shows only the counters of the last report: a report without any leaves no sfa_ts_ key', async () => {
        advance(10);
        await report(MANAGED, [
          { sliver_urn: sliverOn.get(MANAGED)!, state: 'running', packets_in: 5 },
        ]);
        const st = await statusOn(MANAGED);
        expect(Object.keys(st).sort()).toEqual(
          [...GENI_KEYS, 'sfa_ts_packets_in', 'sfa_ts_reported'].sort(),
        );
        advance(10);
        await report(MANAGED, [{ sliver_urn: sliverOn.get(MANAGED)!, state: 'running' }]);
        expect(Object.keys(await statusOn(MANAGED)).sort()).toEqual(GENI_KEYS);
      });
    });

    describe('node status on a managed node: from its reports', () => {
      let since: Date;

      it('shows the reported load and sliver count, and reliability from the report history', async () => {
        advance(120);
        since = now;
        await report(WATCHED, [], 1.25);
        advance(60);
        await report(WATCHED, [], 1.25);
        advance(60);
        await report(
          WATCHED,
          [{ sliver_urn: 'urn:publicid:IDN+ple+sliver+999999', state: 'running' }],
          2.5,
        );
        advance(61); // past the ad cache's time to live
        const n = await adNode(WATCHED);
        expect(n).toContain('<available now="true"/>');
        expect(n).toContain('load_average="2.5"');
        expect(n).toContain('slivers="1"');
        // 3 reports received over 181 s: 3 of 3.0167 expected.
        expect(n).toContain('reliability="99.4"');
      });

      it('shows a node silent for three report intervals unavailable, and Allocate avoids it', async () => {
        const last = now.getTime() - 61_000;
        now = new Date(last + 600_000); // silent for 10 report intervals
        const elapsed = (now.getTime() - since.getTime()) / 60_000;
        const n = await adNode(WATCHED);
        expect(n).toContain('<available now="false"/>');
        expect(n).toContain(`reliability="${Math.round((3 / elapsed) * 1000) / 10}"`);

        const bound = await am('Allocate', SLICE, sliceCred, request(nodeXml('x', WATCHED)), {});
        expect(geniCode(bound)).toBe(26);
        expect(String(bound['output'])).toContain(
          `node ${WATCHED} is not available: node has not reported since ${new Date(last).toISOString().replace('.000', '')}`,
        );

        // Unbound slivers go elsewhere.
        const unbound = await am('Allocate', SLICE, sliceCred, request(nodeXml('y')), {});
        expect(geniCode(unbound), String(unbound['output'])).toBe(0);
        const manifest = (unbound['value'] as XmlRpcStruct)['geni_rspec'] as string;
        expect(manifest).not.toContain(nodeUrnOf(WATCHED));
        const placed = ((unbound['value'] as XmlRpcStruct)['geni_slivers'] as XmlRpcStruct[]).find(
          (v) => v['geni_allocation_status'] === 'geni_allocated',
        );
        const del = await am('Delete', [placed!['geni_sliver_urn'] as string], sliceCred, {});
        expect(geniCode(del), String(del['output'])).toBe(0);
      });

      it('shows it available again once it reports, and Allocate takes it', async () => {
        await report(WATCHED);
        expect(await adNode(WATCHED)).toContain('<available now="true"/>');
        const bound = await am('Allocate', SLICE, sliceCred, request(nodeXml('x', WATCHED)), {});
        expect(geniCode(bound), String(bound['output'])).toBe(0);
        const del = await am('Delete', [SLICE], sliceCred, {});
        expect(geniCode(del), String(del['output'])).toBe(0);
      });

      it('keeps a node the operator set down down, whatever it reports', async () => {
        running.engine.setNodeStatus(WATCHED, { bootState: 'down' });
        advance(60);
        await report(WATCHED);
        advance(61);
        expect(await adNode(WATCHED)).toContain('<available now="false"/>');
        const bound = await am('Allocate', SLICE, sliceCred, request(nodeXml('z', WATCHED)), {});
        expect(geniCode(bound)).toBe(26);
        expect(String(bound['output'])).toContain("its boot state is 'down'");
        running.engine.setNodeStatus(WATCHED, { bootState: 'boot' });
      });
    });
  });
}
