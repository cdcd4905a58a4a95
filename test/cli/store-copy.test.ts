/**
 * `sfa store copy`: an authority's SQLite stores copied into a real PostgreSQL server, checked
 * record by record, with the sliver ids never given twice and the triggers working again after
 * the copy; and the refusals (not empty, not PostgreSQL, no authority, no server), none of which
 * prints the URL's password.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AggregateEngine } from '../../src/aggregate/engine/engine.js';
import { paths } from '../../src/config.js';
import { BadArgs } from '../../src/faults.js';
import { PeerStore } from '../../src/peers/peer-store.js';
import { AggregateStore } from '../../src/store/aggregate-store.js';
import { copyStore } from '../../src/store/copy-store.js';
import { openDatabase } from '../../src/store/database.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { makeAuthorityDir } from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { postgresMissing, startPostgres, type TestPostgres } from '../support/postgres.js';
import { tempRoot } from '../support/tmp.js';
import { authorityRoot } from '../peers/support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (ms: number) => new Date(NOW.getTime() + ms);
const SLICE_A = 'urn:publicid:IDN+ple:inria+slice+myslice';
const SLICE_B = 'urn:publicid:IDN+ple:inria+slice+other';
const SLICE_C = 'urn:publicid:IDN+ple:inria+slice+third';
const node = (hostname: string) => {
  const site = hostname.split('.')[1]!;
  return `urn:publicid:IDN+ple:${site}+node+${hostname}`;
};
const PASSWORD = 'secret-pw-42';

const tmp = tempRoot('store-copy');
const missing = postgresMissing();

/** Rows per table of a SQLite store, read on a connection of the test's own. */
function sqliteCounts(file: string): Record<string, number> {
  const db = openDatabase(file);
  try {
    const tables = (
      db
        .prepare(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' " +
            "AND name <> 'schema_migrations' ORDER BY name",
        )
        .all() as { name: string }[]
    ).map((r) => r.name);
    return Object.fromEntries(
      tables.map((t) => [
        t,
        (db.prepare(`SELECT count(*) AS n FROM "${t}"`).get() as { n: number }).n,
      ]),
    );
  } finally {
    db.close();
  }
}

/** The URL with a password the test server ignores (it trusts everyone). */
const withPassword = (url: string) => url.replace('postgres://sfa@', `postgres://sfa:${PASSWORD}@`);

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a failure');
}

describe.skipIf(missing)(`sfa store copy${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let pg: TestPostgres;
  let dir: string;
  /** The highest sliver id ever given on the source (the deleted sliver's). */
  let lastSliverId: number;

  beforeAll(async () => {
    pg = await startPostgres();
    ({ dir } = await makeAuthorityDir(NOW, tmp.path));

    // A peer, and a GID handed out by CreateGid: the registry's other tables.
    const registry = RegistryStore.open(paths.database(dir));
    try {
      new PeerStore(registry.db, 'ple').add(
        {
          hrn: 'plc',
          registryUrl: 'https://plc.example:12345/',
          aggregateUrls: ['https://plc.example:12346/'],
          root: authorityRoot('plc').gid,
        },
        NOW,
        'operator',
      );
      registry.recordIssuedGid({
        issuedAt: NOW,
        callerUrn: 'urn:publicid:IDN+ple:inria+user+alice',
        callerFingerprint: null,
        credentialUrn: 'urn:publicid:IDN+ple:inria+authority+sa',
        hrn: 'ple.inria.dave',
        type: 'user',
        urn: 'urn:publicid:IDN+ple:inria+user+dave',
        fingerprint: 'AB:CD',
        serial: '0a',
        notBefore: NOW,
        notAfter: at(365 * DAY),
        ca: false,
        keySource: 'generated',
        keyFingerprint: 'ab',
        certificate: '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n',
      });
    } finally {
      registry.close();
    }

    // Slivers with ports and a lease, a node report, tags; then the newest sliver deleted, so
    // that SQLite's sequence is ahead of the highest id left.
    const engine = AggregateEngine.open(paths.aggregateDatabase(dir));
    try {
      const options = { now: NOW, expires: at(10 * DAY) };
      const a = engine.allocate(
        SLICE_A,
        {
          nodes: [
            {
              clientId: 'web',
              componentId: node('node1.inria.fr'),
              attributes: [{ name: 'ports', value: 'tcp:8080,udp:5000-5010' }],
            },
            { clientId: 'box', componentId: node('node4.inria.fr') },
          ],
          leases: [{ clientId: 'box', start: at(HOUR), end: at(3 * HOUR) }],
        },
        options,
      );
      engine.provision(
        a.slivers.map((s) => s.urn),
        { now: NOW, credentialExpires: at(10 * DAY) },
      );
      engine.setNodeTag('node2.inria.fr', 'deployment', 'gamma');
      engine.setNodeStatus('node3.inria.fr', { loadAverage: 1.5, check: 'up', at: NOW });
      const reported = engine.nodeByUrn(node('node1.inria.fr'))!;
      engine.recordNodeReport(
        reported.id,
        {
          loadAverage: 0.25,
          memoryTotal: 8e9,
          memoryFree: 2e9,
          uptime: 3600,
          slivers: [{ sliverUrn: a.slivers[0]!.urn, state: 'running', bytesIn: 1234.5 }],
        },
        NOW,
      );
      engine.store.recordSliceAudit({
        at: NOW,
        sliceUrn: SLICE_A,
        action: 'allocate',
        actor: 'urn:publicid:IDN+ple:inria+user+alice',
        note: null,
        client: 'sfi 4.0',
      });
      const b = engine.allocate(
        SLICE_B,
        { nodes: [{ clientId: 'n', componentId: node('node2.inria.fr') }] },
        options,
      );
      lastSliverId = b.slivers[0]!.id;
      engine.delete([b.slivers[0]!.urn], NOW);
    } finally {
      engine.close();
    }
  }, 120_000);

  afterAll(async () => {
    await pg?.close();
  });

  it('copies every table and reads the same; new slivers get ids never given', async () => {
    const url = await pg.createDatabase();
    const before = {
      registry: sqliteCounts(paths.database(dir)),
      aggregate: sqliteCounts(paths.aggregateDatabase(dir)),
    };
    expect(before.aggregate['slivers']).toBe(2);
    expect(before.aggregate['leases']).toBeGreaterThan(0);
    expect(before.aggregate['port_reservations']).toBe(2);
    expect(before.registry['peers']).toBe(1);

    const report = copyStore({ from: dir, to: url });
    expect(report.authority).toBe('ple');
    for (const s of report.stores) {
      expect(Object.fromEntries(s.tables.map((t) => [t.table, t.rows]))).toEqual(before[s.store]);
    }
    // Referenced tables first.
    const order = report.stores[1]!.tables.map((t) => t.table);
    expect(order.indexOf('slices')).toBeLessThan(order.indexOf('slivers'));
    expect(order.indexOf('slivers')).toBeLessThan(order.indexOf('leases'));

    const source = {
      registry: RegistryStore.open(paths.database(dir)),
      aggregate: AggregateStore.open(paths.aggregateDatabase(dir)),
    };
    const target = { registry: RegistryStore.open(url), aggregate: AggregateStore.open(url) };
    try {
      expect(target.registry.db.dialect).toBe('postgres');
      expect(target.registry.all()).toEqual(source.registry.all());
      const alice = source.registry.get('ple.inria.alice', 'user')!;
      expect(target.registry.keys(alice.id)).toEqual(source.registry.keys(alice.id));
      expect(target.registry.keys(alice.id)).toHaveLength(1);
      expect(new PeerStore(target.registry.db, 'ple').audit()).toHaveLength(1);
      expect(target.aggregate.slices()).toEqual(source.aggregate.slices());
      expect(target.aggregate.inventoryVersion()).toBe(source.aggregate.inventoryVersion());
      const box = source.aggregate.nodeByHostname('node4.inria.fr')!;
      expect(target.aggregate.nodeGeneration(box.id)).toBe(source.aggregate.nodeGeneration(box.id));
      expect(target.aggregate.nodeGeneration(box.id)).toBeGreaterThan(0);

      // The identity starts past the deleted sliver: its URN is never given again.
      const engine = new AggregateEngine(target.aggregate);
      const generation = target.aggregate.nodeGeneration(box.id);
      const version = target.aggregate.inventoryVersion();
      const c = engine.allocate(
        SLICE_C,
        { nodes: [{ clientId: 'n', componentId: node('node3.inria.fr') }] },
        { now: NOW, expires: at(DAY) },
      );
      expect(c.slivers[0]!.id).toBeGreaterThan(lastSliverId);
      // The triggers work again after the copy: generations, inventory version, overlaps.
      engine.setNodeTag('node4.inria.fr', 'note', 'copied');
      expect(target.aggregate.nodeGeneration(box.id)).toBeGreaterThan(generation);
      expect(target.aggregate.inventoryVersion()).toBeGreaterThan(version);
      const clash = thrown(() =>
        engine.allocate(
          SLICE_C,
          {
            nodes: [{ clientId: 'box', componentId: node('node4.inria.fr') }],
            leases: [{ clientId: 'box', start: at(2 * HOUR), end: at(4 * HOUR) }],
          },
          { now: NOW, expires: at(DAY) },
        ),
      );
      expect(clash.message).toMatch(/lease|reserved|overlap|busy|not available/i);
    } finally {
      for (const s of [...Object.values(source), ...Object.values(target)]) s.close();
    }
  });

  it('refuses a target that already holds data, and leaves it as it was', async () => {
    const url = await pg.createDatabase();
    copyStore({ from: dir, to: url });
    const e = thrown(() => copyStore({ from: dir, to: withPassword(url) }));
    expect(e).toBeInstanceOf(BadArgs);
    expect(e.message).toMatch(
      /already holds data \(registry\.records: \d+ rows\): copy only into an empty database/,
    );
    expect(e.message).not.toContain(PASSWORD);
    const target = RegistryStore.open(url);
    try {
      expect(target.all()).toHaveLength(sqliteCounts(paths.database(dir))['records']!);
    } finally {
      target.close();
    }
  });

  it('leaves the target empty when a store fails to copy, so that a retry works', async () => {
    const url = await pg.createDatabase();
    // A constraint the triggers' switch does not lift: the aggregate's copy fails on slivers,
    // after the registry's own transaction committed.
    const sabotage = AggregateStore.open(url);
    try {
      sabotage.db.exec('ALTER TABLE slivers ADD CONSTRAINT refuse_all CHECK (id < 0)');
    } finally {
      sabotage.close();
    }
    const e = thrown(() => copyStore({ from: dir, to: url }));
    expect(e.message).toContain('refuse_all');

    const registry = RegistryStore.open(url);
    const aggregate = AggregateStore.open(url);
    try {
      expect(registry.all()).toEqual([]);
      expect(new PeerStore(registry.db, 'ple').dataVersion()).toBe(0);
      expect(aggregate.sites()).toEqual([]);
      expect(aggregate.inventoryVersion()).toBe(0);
      aggregate.db.exec('ALTER TABLE slivers DROP CONSTRAINT refuse_all');
    } finally {
      registry.close();
      aggregate.close();
    }
    const report = copyStore({ from: dir, to: url });
    expect(report.stores.map((s) => s.store)).toEqual(['registry', 'aggregate']);
    // The identities restarted: the records keep their own ids, as in SQLite.
    const target = RegistryStore.open(url);
    try {
      const erin = target.insert({ hrn: 'ple.inria.erin', type: 'user', gid: 'x' }, NOW);
      expect(erin.id).toBeGreaterThan(sqliteCounts(paths.database(dir))['records']!);
    } finally {
      target.close();
    }
  });

  it('fails naming the record that reads differently, and leaves the target empty', async () => {
    const url = await pg.createDatabase();
    // One decimal: every row is copied, but a site's latitude no longer reads the same.
    const aggregate = AggregateStore.open(url);
    try {
      aggregate.db.exec('ALTER TABLE sites ALTER COLUMN latitude TYPE numeric(4, 1)');
      const e = thrown(() => copyStore({ from: dir, to: url }));
      expect(e.message).toMatch(
        /^check failed: aggregate\.sites\.\d+\.latitude reads differently on the target than in SQLite$/,
      );
      expect(aggregate.sites()).toEqual([]);
    } finally {
      aggregate.close();
    }
    const registry = RegistryStore.open(url);
    try {
      expect(registry.all()).toEqual([]);
    } finally {
      registry.close();
    }
  });

  it('refuses a target that is not a PostgreSQL URL, without repeating it', () => {
    for (const to of [tmp.dir('sqlite'), `mysql://root:${PASSWORD}@127.0.0.1/sfa`]) {
      const e = thrown(() => copyStore({ from: dir, to }));
      expect(e).toBeInstanceOf(BadArgs);
      expect(e.message).toContain('--to must be a postgres:// URL');
      expect(e.message).not.toContain(PASSWORD);
    }
  });

  it('refuses a folder without an authority', async () => {
    const url = await pg.createDatabase();
    const empty = tmp.dir('empty');
    const e = thrown(() => copyStore({ from: empty, to: url }));
    expect(e).toBeInstanceOf(BadArgs);
    expect(e.message).toContain(`no authority in ${empty}`);
  });

  it('says which server it cannot reach, without the password or a stack trace', async () => {
    const url = withPassword(await pg.createDatabase());
    await pg.stop();
    try {
      const e = thrown(() => copyStore({ from: dir, to: url }));
      expect(e).toBeInstanceOf(BadArgs);
      expect(e.message).toContain(
        `cannot reach the PostgreSQL server of postgres://sfa:***@127.0.0.1:${pg.port}/`,
      );
      expect(e.message).not.toContain(PASSWORD);

      const r = sfa(['store', 'copy', '--from', dir, '--to', url]);
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(
        /^error: BADARGS \(geni_code 1\): cannot reach the PostgreSQL server of /,
      );
      expect(r.stderr).toContain(`127.0.0.1:${pg.port}`);
      expect(r.stderr).not.toContain(PASSWORD);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    } finally {
      await pg.start();
    }
  }, 60_000);

  it('runs as the sfa command: one line per store, then done; no password printed', async () => {
    const url = withPassword(await pg.createDatabase());
    const r = sfa(['store', 'copy', '--from', dir, '--to', url]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^copied registry: \d+ rows \(.*records \d+.*peers 1.*\)$/);
    expect(lines[1]).toMatch(/^copied aggregate: \d+ rows \(.*slivers 2.*\)$/);
    expect(lines[2]).toMatch(/^checked: \d+ tables hold the same rows/);
    expect(lines[3]).toContain(
      `done: ple copied from ${dir} to postgres://sfa:***@127.0.0.1:${pg.port}/`,
    );
    expect(r.stdout).not.toContain(PASSWORD);
  }, 60_000);

  it('explains itself with --help', () => {
    const r = sfa(['store', 'copy', '--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('Usage: sfa store copy [options]');
    expect(r.stdout).toContain('--from <dir>');
    expect(r.stdout).toContain('--to <url>');
    expect(r.stdout).toContain('empty PostgreSQL');
  });
});
