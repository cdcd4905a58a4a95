/**
 * The node API on the aggregate (`/node`): node GIDs only, each for its own node; GetSlivers
 * with its long poll, ReportNodeStatus. Real HTTPS on loopback, real certificates, and the
 * authority's data on each backend in turn: real SQLite, then real PostgreSQL.
 */
// Before the file's own afterAll hooks: its hook stopping the PostgreSQL server runs after them.
import { BACKENDS, backendMissing, testPostgres } from '../support/backends.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import { aliceSession, client, fault, geniCode, type AliceSession } from '../support/authority.js';
import { createPrivateKey } from 'node:crypto';
import { issueGid } from '../../src/credentials/gid.js';
import { generateKeyPair } from '../../src/credentials/keys.js';
import { nodeIdentity } from '../support/node-identity.js';
import { NOW } from '../support/paths.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const nodeUrnOf = (host: string) => `urn:publicid:IDN+ple:inria+node+${host}`;

for (const backend of BACKENDS) {
  const missing = backendMissing(backend);
  const label = missing === undefined ? backend : `${backend}, skipped: ${missing}`;
  describe.skipIf(missing !== undefined)(`node API [${label}]`, () => {
    let s: AliceSession;
    let nodeUrl: string;
    let sliceCred: XmlRpcStruct[];
    const nodes = new Map<string, (method: string, ...params: XmlRpcValue[]) => Promise<unknown>>();
    const sliverOn = new Map<string, string>();

    /** A key and GID for `host`, signed by the site authority ple.inria, as a node would hold. */
    const identityOf = (host: string) => nodeIdentity(s.dir, 'ple.inria', nodeUrnOf(host));

    function asNode(host: string) {
      let c = nodes.get(host);
      if (!c) {
        const id = identityOf(host);
        c = client(nodeUrl, id.keyPem, id.gidPem);
        nodes.set(host, c);
      }
      return c;
    }

    const getSlivers = async (host: string, options: XmlRpcStruct = {}) =>
      (await asNode(host)('GetSlivers', options)) as XmlRpcStruct;

    const node = (clientId: string, host: string, extra = '', exclusive = false) =>
      `<node client_id="${clientId}" component_id="${nodeUrnOf(host)}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="${exclusive}"><sliver_type name="plab-vserver">${extra}</sliver_type></node>`;

    beforeAll(async () => {
      const store =
        backend === 'postgres' ? await (await testPostgres()).createDatabase() : undefined;
      s = await aliceSession({ store });
      nodeUrl = `${s.running.urls.aggregate}node`;
      // The authority really serves from the backend under test.
      expect(s.running.store).toBe(store);
      sliceCred = await s.sliceCred('myslice');
      const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [s.alice.sshKey] }];
      const rspec =
        '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3" xmlns:planetlab="http://www.planet-lab.org/resources/sfa/ext/planetlab/1">' +
        node(
          'web',
          'node1.inria.fr',
          '<planetlab:attribute name="ports" value="tcp:8080"/><planetlab:attribute name="vref" value="debian-12"/><planetlab:attribute name="initscript_code" value="echo hi"/><planetlab:attribute name="cpu_share" value="3"/>',
        ) +
        node('db', 'node2.inria.fr') +
        node('res', 'node4.inria.fr', '', true) +
        '</rspec>';
      const a = await s.am('Allocate', SLICE, sliceCred, rspec, { geni_users: users });
      expect(geniCode(a), String(a['output'])).toBe(0);
      const d = await s.am('Describe', [SLICE], sliceCred, {
        geni_rspec_version: { type: 'GENI', version: '3' },
      });
      const manifest = (d['value'] as XmlRpcStruct)['geni_rspec'] as string;
      for (const host of ['node1.inria.fr', 'node2.inria.fr', 'node4.inria.fr']) {
        const m = new RegExp(
          `<node[^>]*component_id="${nodeUrnOf(host).replace(/[.+]/g, '\\$&')}"[^>]*sliver_id="([^"]+)"|<node[^>]*sliver_id="([^"]+)"[^>]*component_id="${nodeUrnOf(host).replace(/[.+]/g, '\\$&')}"`,
        ).exec(manifest);
        sliverOn.set(host, (m?.[1] ?? m?.[2])!);
      }
    }, 60_000);

    afterAll(async () => {
      await s?.close();
    });

    describe('who may call the node API', () => {
      it('refuses a user GID (FORBIDDEN), naming what to do', async () => {
        const f = await fault(client(nodeUrl, s.alice.keyPem, s.gid)('GetSlivers', {}));
        expect(f.faultCode).toBe(3);
        expect(f.faultString).toContain('only nodes may call');
        expect(f.faultString).toContain('sfa node credentials');
      });

      it('refuses a self-signed GID claiming a node of the inventory (CREDENTIAL_SIGNER_UNTRUSTED)', async () => {
        const pair = generateKeyPair();
        const self = issueGid({
          urn: nodeUrnOf('node1.inria.fr'),
          subjectPublicKey: createPrivateKey(pair.privateKeyPem),
          notBefore: new Date(NOW.getTime() - 86_400_000),
        });
        const f = await fault(client(nodeUrl, pair.privateKeyPem, self.pem)('GetSlivers', {}));
        expect(f.faultCode).toBe(23);
        expect(f.faultString).toContain('sfa node credentials');
      });

      it('refuses a call without a certificate (FORBIDDEN)', async () => {
        const f = await fault(client(nodeUrl, undefined, undefined)('GetSlivers', {}));
        expect(f.faultCode).toBe(3);
        expect(f.faultString).toContain('TLS client certificate');
      });

      it('refuses a node GID of a node not in the inventory (FORBIDDEN)', async () => {
        const f = await fault(asNode('ghost.inria.fr')('GetSlivers', {}));
        expect(f.faultCode).toBe(3);
        expect(f.faultString).toContain('not in this aggregate');
      });

      it('answers an unknown method UNSUPPORTED, and a wrong options type BADARGS', async () => {
        expect((await fault(asNode('node1.inria.fr')('DeleteEverything'))).faultCode).toBe(13);
        const f = await fault(asNode('node1.inria.fr')('GetSlivers', { wait_seconds: 'soon' }));
        expect(f.faultCode).toBe(1);
        expect(f.faultString).toContain('options.wait_seconds');
      });
    });

    describe('GetSlivers', () => {
      it('gives an allocated (not provisioned) sliver to nobody', async () => {
        const r = await getSlivers('node1.inria.fr');
        expect(r['slivers']).toEqual([]);
      });

      it('gives a node exactly its provisioned, started sliver, with everything it needs', async () => {
        const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: [s.alice.sshKey] }];
        const p = await s.am('Provision', [SLICE], sliceCred, {
          geni_rspec_version: { type: 'GENI', version: '3' },
          geni_users: users,
        });
        expect(geniCode(p), String(p['output'])).toBe(0);
        const st = await s.am('PerformOperationalAction', [SLICE], sliceCred, 'geni_start', {});
        expect(geniCode(st), String(st['output'])).toBe(0);

        const r = await getSlivers('node1.inria.fr');
        expect(r['node']).toEqual({
          hostname: 'node1.inria.fr',
          urn: nodeUrnOf('node1.inria.fr'),
          hrn: 'ple.inria.node1\\.inria\\.fr',
          site: 'inria',
          exclusive: false,
        });
        expect(typeof r['generation']).toBe('number');
        expect(r['now']).toBe('2026-11-25T12:00:00Z');
        expect(r['leases']).toEqual([]);
        const slivers = r['slivers'] as XmlRpcStruct[];
        expect(slivers).toHaveLength(1);
        const v = slivers[0]!;
        expect(v['sliver_urn']).toBe(sliverOn.get('node1.inria.fr'));
        expect(v['client_id']).toBe('web');
        expect(v['slice_urn']).toBe(SLICE);
        expect(v['slice_hrn']).toBe('ple.inria.myslice');
        expect(v['login_name']).toBe('inria_myslice');
        expect(v['users']).toEqual(users);
        expect(v['keys']).toEqual([s.alice.sshKey]);
        expect(v['vref']).toBe('debian-12');
        expect(v['desired_state']).toBe('started');
        expect(v['ports']).toEqual([{ proto: 'tcp', from: 8080, to: 8080 }]);
        expect(typeof v['expires']).toBe('string');
        expect(v['expires']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(new Date(v['expires'] as string).getTime()).toBeGreaterThan(NOW.getTime());
        const attrs = v['attributes'] as XmlRpcStruct[];
        const attr = (name: string) => attrs.find((a) => a['name'] === name);
        // Request attributes win over node tags, which win over nodegroup tags.
        expect(attr('vref')).toEqual({ name: 'vref', value: 'debian-12', source: 'sliver' });
        expect(attr('initscript_code')).toEqual({
          name: 'initscript_code',
          value: 'echo hi',
          source: 'sliver',
        });
        expect(attr('net_max_rate')).toEqual({
          name: 'net_max_rate',
          value: '10000',
          source: 'node',
        });
        expect(attr('initscript')).toEqual({
          name: 'initscript',
          value: 'alpha-bootstrap',
          source: 'nodegroup',
        });
        expect(attr('deployment')?.['source']).toBe('nodegroup');
      });

      it('gives another node only its own sliver', async () => {
        const r = await getSlivers('node2.inria.fr');
        const slivers = r['slivers'] as XmlRpcStruct[];
        expect(slivers.map((v) => v['sliver_urn'])).toEqual([sliverOn.get('node2.inria.fr')]);
        expect(slivers[0]!['client_id']).toBe('db');
        expect(slivers[0]!['vref']).toBeUndefined();
        const none = await getSlivers('node3.inria.fr');
        expect(none['slivers']).toEqual([]);
      });

      it('gives an exclusive node its leases', async () => {
        const r = await getSlivers('node4.inria.fr');
        expect((r['node'] as XmlRpcStruct)['exclusive']).toBe(true);
        const leases = r['leases'] as XmlRpcStruct[];
        expect(leases).toHaveLength(1);
        expect(leases[0]).toMatchObject({
          slice_urn: SLICE,
          sliver_urn: sliverOn.get('node4.inria.fr'),
        });
        expect(leases[0]!['start']).toMatch(/Z$/);
        expect(leases[0]!['end']).toMatch(/Z$/);
      });

      it('waits with the current generation, and answers as soon as the node changes', async () => {
        const before = await getSlivers('node1.inria.fr');
        const generation = before['generation'] as number;
        const started = performance.now();
        const waiting = getSlivers('node1.inria.fr', { generation, wait_seconds: 8 });
        await new Promise((r) => setTimeout(r, 300));
        const stop = await s.am(
          'PerformOperationalAction',
          [sliverOn.get('node1.inria.fr')!],
          sliceCred,
          'geni_stop',
          {},
        );
        expect(geniCode(stop), String(stop['output'])).toBe(0);
        const r = await waiting;
        const elapsed = performance.now() - started;
        expect(elapsed).toBeLessThan(8_000);
        expect(r['generation']).not.toBe(generation);
        const v = (r['slivers'] as XmlRpcStruct[])[0]!;
        expect(v['desired_state']).toBe('stopped');
        // node2's sliver did not change: its generation did not move either.
        const other = await getSlivers('node2.inria.fr');
        const again = getSlivers('node2.inria.fr', {
          generation: other['generation'] as number,
          wait_seconds: 0,
        });
        expect((await again)['generation']).toBe(other['generation']);
      });

      it('answers at the end of the wait, with the same generation, when nothing changes', async () => {
        const before = await getSlivers('node2.inria.fr');
        const generation = before['generation'] as number;
        const started = performance.now();
        const r = await getSlivers('node2.inria.fr', { generation, wait_seconds: 1 });
        expect(performance.now() - started).toBeGreaterThanOrEqual(900);
        expect(r['generation']).toBe(generation);
        expect(r['slivers']).toEqual(before['slivers']);
      });

      it('if_changed: only {generation, now, unchanged} while nothing changed; the whole answer after a change', async () => {
        const before = await getSlivers('node2.inria.fr');
        const generation = before['generation'] as number;
        const same = await getSlivers('node2.inria.fr', { generation, if_changed: true });
        expect(Object.keys(same).sort()).toEqual(['epoch', 'generation', 'now', 'unchanged']);
        expect(same).toMatchObject({ generation, unchanged: true, epoch: before['epoch'] });
        // Another epoch (the node was removed and added again): the whole answer.
        const other = await getSlivers('node2.inria.fr', {
          generation,
          if_changed: true,
          epoch: (before['epoch'] as number) + 1000,
        });
        expect(other['unchanged']).toBeUndefined();
        expect(other['slivers']).toEqual(before['slivers']);
        expect(same['now']).toMatch(/Z$/);
        // An older generation than the node's: the whole answer.
        const older = await getSlivers('node2.inria.fr', {
          generation: generation - 1,
          if_changed: true,
        });
        expect(older['unchanged']).toBeUndefined();
        expect(older['slivers']).toEqual(before['slivers']);
      });

      it('if_changed needs a generation, and is a boolean (BADARGS)', async () => {
        const none = await fault(asNode('node1.inria.fr')('GetSlivers', { if_changed: true }));
        expect(none.faultCode).toBe(1);
        expect(none.faultString).toBe(
          'GetSlivers: options.if_changed needs options.generation (the generation the node has)',
        );
        const wrong = await fault(
          asNode('node1.inria.fr')('GetSlivers', { generation: 1, if_changed: 'yes' }),
        );
        expect(wrong.faultCode).toBe(1);
        expect(wrong.faultString).toContain('options.if_changed must be a boolean');
      });
    });

    describe('ReportNodeStatus', () => {
      it('stores the report, the load average and each sliver’s realized state', async () => {
        const sliver = sliverOn.get('node1.inria.fr')!;
        const r = (await asNode('node1.inria.fr')('ReportNodeStatus', {
          load_average: 1.5,
          memory_total: 8 * 1024 ** 3,
          memory_free: 2 * 1024 ** 3,
          uptime: 3600,
          slivers: [
            {
              sliver_urn: sliver,
              state: 'failed',
              error: 'vref debian-12 not found',
              cpu_seconds: 2,
            },
            { sliver_urn: sliverOn.get('node2.inria.fr')!, state: 'running' },
          ],
        })) as XmlRpcStruct;
        expect(r).toEqual({
          accepted: true,
          next_report_seconds: 60,
          unknown_slivers: [sliverOn.get('node2.inria.fr')],
        });
        const store = s.running.engine.store;
        const row = store.nodeByHostname('node1.inria.fr')!;
        expect(row.loadAverage).toBe(1.5);
        const reports = store.nodeReports(row.id);
        expect(reports).toHaveLength(1);
        expect(reports[0]).toMatchObject({
          at: NOW,
          loadAverage: 1.5,
          memoryTotal: 8 * 1024 ** 3,
          memoryFree: 2 * 1024 ** 3,
          uptime: 3600,
        });
        const realized = store.realizedSlivers(row.id);
        expect(realized).toHaveLength(1);
        expect(realized[0]).toMatchObject({
          state: 'failed',
          error: 'vref debian-12 not found',
          cpuSeconds: 2,
          memoryBytes: null,
          reported: NOW,
        });
        // Reports do not wake GetSlivers: the generation is what the node last saw.
        const g = (await getSlivers('node1.inria.fr'))['generation'];
        await asNode('node1.inria.fr')('ReportNodeStatus', {
          load_average: 0.5,
          memory_total: 100,
          memory_free: 50,
          uptime: 4000,
          slivers: [],
        });
        expect((await getSlivers('node1.inria.fr'))['generation']).toBe(g);
      });

      it('answers BADARGS naming a field of the wrong type', async () => {
        const ok = { load_average: 1, memory_total: 100, memory_free: 50, uptime: 10, slivers: [] };
        const call = (report: XmlRpcValue) =>
          fault(asNode('node1.inria.fr')('ReportNodeStatus', report));
        let f = await call({ ...ok, load_average: 'high' });
        expect(f.faultCode).toBe(1);
        expect(f.faultString).toContain('report.load_average');
        f = await call({
          ...ok,
          slivers: [{ sliver_urn: sliverOn.get('node1.inria.fr')!, state: 'up' }],
        });
        expect(f.faultCode).toBe(1);
        expect(f.faultString).toContain('report.slivers[0].state');
        f = await call({
          ...ok,
          slivers: [
            { sliver_urn: sliverOn.get('node1.inria.fr')!, state: 'running', bytes_in: -1 },
          ],
        });
        expect(f.faultString).toContain('report.slivers[0].bytes_in');
        f = await call('not a struct');
        expect(f.faultString).toContain('report must be a struct');
      });

      it('stores packets_in and packets_out with the other counters, byte counts beyond 2^31 too', async () => {
        const sliver = sliverOn.get('node1.inria.fr')!;
        await asNode('node1.inria.fr')('ReportNodeStatus', {
          load_average: 1,
          memory_total: 100,
          memory_free: 50,
          uptime: 10,
          slivers: [
            {
              sliver_urn: sliver,
              state: 'running',
              bytes_in: 5_000_000_000,
              bytes_out: 1234,
              packets_in: 4_000_000,
              packets_out: 0,
            },
          ],
        });
        const store = s.running.engine.store;
        const row = store.nodeByHostname('node1.inria.fr')!;
        expect(store.realizedSlivers(row.id)[0]).toMatchObject({
          bytesIn: 5_000_000_000,
          bytesOut: 1234,
          packetsIn: 4_000_000,
          packetsOut: 0,
          cpuSeconds: null,
        });
      });

      it('answers BADARGS naming packets_in or packets_out when one is not a count', async () => {
        const line = { sliver_urn: sliverOn.get('node1.inria.fr')!, state: 'running' };
        const call = (extra: XmlRpcStruct) =>
          fault(
            asNode('node1.inria.fr')('ReportNodeStatus', {
              load_average: 1,
              memory_total: 100,
              memory_free: 50,
              uptime: 10,
              slivers: [{ ...line, ...extra }],
            }),
          );
        let f = await call({ packets_in: -1 });
        expect(f.faultCode).toBe(1);
        expect(f.faultString).toContain('report.slivers[0].packets_in must be a number ≥ 0');
        f = await call({ packets_out: 'many' });
        expect(f.faultCode).toBe(1);
        expect(f.faultString).toContain('report.slivers[0].packets_out must be a number ≥ 0');
      });
    });
  });
}
