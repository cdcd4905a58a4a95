import { afterEach, expect, it } from 'vitest';
import { describeBackends } from '../../test/support/backends.js';
import { tempRoot } from '../../test/support/tmp.js';
import { openDatabase, runMigrations } from './database.js';
import {
  AGGREGATE_MIGRATIONS,
  AggregateStore,
  type NewSliver,
  type NodeRow,
  type SliceRow,
} from './aggregate-store.js';
import { PostgresDatabase } from './postgres.js';
import { constraintOf, SqliteDatabase, type SqlDatabase } from './sql.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const HOUR = 3_600_000;
const at = (ms: number): Date => new Date(NOW.getTime() + ms);

const tmp = tempRoot('aggregate-store');

const opened: AggregateStore[] = [];
function openAt(location: string): AggregateStore {
  const store = AggregateStore.open(location);
  opened.push(store);
  return store;
}
afterEach(() => {
  for (const s of opened.splice(0)) if (s.db.open) s.close();
});

function seed(store: AggregateStore): { node: NodeRow; a: SliceRow; b: SliceRow } {
  const site = store.upsertSite({
    loginBase: 'inria',
    name: 'INRIA',
    hrn: 'ple.inria',
    country: 'FR',
    city: null,
    latitude: 43.6,
    longitude: 7.07,
  });
  const node = store.upsertNode({
    hostname: 'n1.inria.fr',
    siteId: site.id,
    hrn: 'ple.inria.n1\\.inria\\.fr',
    urn: 'urn:publicid:IDN+ple:inria+node+n1.inria.fr',
    bootState: 'boot',
    exclusive: true,
    maxSlivers: 4,
    cpuShares: 8,
    loadAverage: 0,
    checksUp: 0,
    checksDown: 0,
    hardwareType: 'plab-pc',
  });
  const a = store.insertSlice({
    urn: 'urn:publicid:IDN+ple:inria+slice+a',
    loginName: 'inria_a',
    created: NOW,
    expires: at(HOUR),
  });
  const b = store.insertSlice({
    urn: 'urn:publicid:IDN+ple:upmc+slice+b',
    loginName: 'upmc_b',
    created: NOW,
    expires: at(HOUR),
  });
  return { node, a, b };
}

const sliver = (sliceId: number, nodeId: number, extra: Partial<NewSliver> = {}): NewSliver => ({
  sliceId,
  nodeId,
  clientId: `c${sliceId}`,
  allocationState: 'geni_allocated',
  operationalState: 'geni_pending_allocation',
  exclusive: true,
  cpuShare: 1,
  attributes: [{ name: 'ports', value: 'tcp:80' }],
  initscripts: ['boot'],
  created: NOW,
  expires: at(HOUR),
  ...extra,
});

/**
 * Which constraint refused a write, whatever the backend (constraintOf), or `trigger` for the
 * overlap triggers on SQLite (SQLITE_CONSTRAINT_TRIGGER; PostgreSQL raises them as
 * check_violation: their message tells them apart).
 */
const kindOf = (e: unknown): string =>
  constraintOf(e) ??
  ((e as { code?: string }).code === 'SQLITE_CONSTRAINT_TRIGGER' ? 'trigger' : String(e));

/** Which constraint refused `fn`'s write (kindOf). */
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    return kindOf(e);
  }
  throw new Error('expected the write to be refused');
};

/** The message of the overlap trigger that refused `fn`'s write (the same on both backends). */
const overlap = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(['trigger', 'check']).toContain(kindOf(e));
    return (e as Error).message;
  }
  throw new Error('expected the write to be refused');
};

describeBackends('AggregateStore migrations', tmp, (where) => {
  it('migrates a fresh database once, and again is a no-op', () => {
    const location = where.fresh();
    const db: SqlDatabase =
      where.backend === 'sqlite'
        ? new SqliteDatabase(openDatabase(location))
        : new PostgresDatabase(location, 'aggregate');
    try {
      expect(runMigrations(db, AGGREGATE_MIGRATIONS, () => NOW)).toEqual(
        AGGREGATE_MIGRATIONS.map((m) => m.version),
      );
      expect(runMigrations(db, AGGREGATE_MIGRATIONS, () => NOW)).toEqual([]);
      const tables = db
        .prepare<[], { name: string }>(
          db.dialect === 'sqlite'
            ? "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            : "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'aggregate' ORDER BY table_name",
        )
        .all()
        .map((t) => t.name);
      expect(tables).toEqual(
        expect.arrayContaining([
          'sites',
          'nodes',
          'node_tags',
          'nodegroups',
          'nodegroup_members',
          'nodegroup_tags',
          'slices',
          'slice_users',
          'slivers',
          'leases',
          'port_reservations',
        ]),
      );
    } finally {
      db.close();
    }
  });
});

describeBackends('AggregateStore schema', tmp, (where) => {
  const openStore = (location = where.fresh()): AggregateStore => openAt(location);

  it('reads back what it wrote, after a reopen', () => {
    const path = where.fresh();
    const store = openStore(path);
    const { node, a } = seed(store);
    const written = store.insertSliver(sliver(a.id, node.id));
    store.setSliceUsers(a.id, [{ urn: 'urn:publicid:IDN+ple:inria+user+al', keys: ['k1', 'k2'] }]);
    store.close();
    const again = openStore(path);
    expect(again.sliverById(written.id)).toEqual(written);
    expect(written).toMatchObject({
      sliceUrn: a.urn,
      loginName: 'inria_a',
      hostname: 'n1.inria.fr',
      attributes: [{ name: 'ports', value: 'tcp:80' }],
      initscripts: ['boot'],
      created: NOW,
      expires: at(HOUR),
    });
    expect(again.sliceUsers(a.id)).toEqual([
      { urn: 'urn:publicid:IDN+ple:inria+user+al', keys: ['k1', 'k2'] },
    ]);
    expect(again.nodeByHostname('N1.INRIA.FR')?.id).toBe(node.id);
    expect(again.nodeByUrn('urn:publicid:IDN+PLE:INRIA+node+n1.inria.fr')?.id).toBe(node.id);
    expect(again.sliceByUrn('urn:publicid:IDN+PLE:inria+slice+a')?.id).toBe(a.id);
  });

  it('never gives a sliver id twice (AUTOINCREMENT), even after the newest is deleted', () => {
    const path = where.fresh();
    const store = openStore(path);
    const { node, a } = seed(store);
    const first = store.insertSliver(sliver(a.id, node.id));
    store.deleteSliver(first.id);
    store.close();
    const again = openStore(path);
    expect(again.insertSliver(sliver(a.id, node.id)).id).toBe(first.id + 1);
  });

  it('enforces one sliver per slice per node and unique client ids and login names', () => {
    const store = openStore();
    const { node, a } = seed(store);
    store.insertSliver(sliver(a.id, node.id));
    expect(refusal(() => store.insertSliver(sliver(a.id, node.id, { clientId: 'other' })))).toBe(
      'unique',
    );
    expect(
      refusal(() =>
        store.insertSlice({
          urn: 'urn:publicid:IDN+plc:inria+slice+a',
          loginName: 'inria_a',
          created: NOW,
          expires: at(HOUR),
        }),
      ),
    ).toBe('unique');
    expect(
      refusal(() =>
        store.insertSlice({
          urn: 'urn:publicid:IDN+ple:INRIA+slice+a',
          loginName: 'inria_other',
          created: NOW,
          expires: at(HOUR),
        }),
      ),
    ).toBe('unique');
  });

  it('checks values: states, capacities, dates, login names', () => {
    const store = openStore();
    const { node, a } = seed(store);
    const bad = (s: Partial<NewSliver>) =>
      refusal(() => store.insertSliver(sliver(a.id, node.id, s)));
    expect(bad({ allocationState: 'geni_unallocated' as never })).toBe('check');
    expect(bad({ operationalState: 'running' as never })).toBe('check');
    expect(bad({ cpuShare: 0 })).toBe('check');
    expect(bad({ expires: NOW })).toBe('check');
    store.insertSliver(sliver(a.id, node.id));
    // A date that would not sort as time.
    expect(
      refusal(() => store.db.prepare("UPDATE slivers SET expires = '2026-11-25 13:00:00'").run()),
    ).toBe('check');
    expect(
      refusal(() =>
        store.insertSlice({
          urn: 'urn:publicid:IDN+x+slice+y',
          loginName: 'NoUnderscore',
          created: NOW,
          expires: at(HOUR),
        }),
      ),
    ).toBe('check');
    expect(
      refusal(() =>
        store.insertSlice({
          urn: 'urn:publicid:IDN+x+slice+z',
          loginName: `x_${'a'.repeat(31)}`,
          created: NOW,
          expires: at(HOUR),
        }),
      ),
    ).toBe('check');
    expect(
      refusal(() => store.updateNodeStatus(node.id, { ...node, bootState: 'up' as never })),
    ).toBe('check');
  });

  it('refuses to delete a node or slice that still has slivers', () => {
    const store = openStore();
    const { node, a } = seed(store);
    store.insertSliver(sliver(a.id, node.id));
    // ON DELETE RESTRICT: refused at once (SQLite reports it as a trigger constraint, with
    // its own message; PostgreSQL as a foreign key violation).
    const restricted = (fn: () => unknown): boolean => {
      try {
        fn();
      } catch (e) {
        return (
          constraintOf(e) === 'foreignkey' ||
          (e as Error).message === 'FOREIGN KEY constraint failed'
        );
      }
      return false;
    };
    expect(restricted(() => store.deleteNode(node.id))).toBe(true);
    expect(restricted(() => store.deleteSlice(a.id))).toBe(true);
    expect(store.nodeByHostname('n1.inria.fr')?.id).toBe(node.id);
  });
});

describeBackends('Security: double booking refused by the schema itself', tmp, (where) => {
  const openStore = (location = where.fresh()): AggregateStore => openAt(location);

  it('refuses overlapping leases of two slices on one node, on insert and update', () => {
    const store = openStore();
    const { node, a, b } = seed(store);
    const va = store.insertSliver(sliver(a.id, node.id));
    const vb = store.insertSliver(sliver(b.id, node.id));
    const lease = (sliceId: number, sliverId: number, start: number, end: number) =>
      store.insertLease({
        nodeId: node.id,
        sliceId,
        sliverId,
        kind: 'reservation',
        start: at(start),
        end: at(end),
      });
    lease(a.id, va.id, 0, 2 * HOUR);
    // The same slice may overlap itself; another slice may not.
    lease(a.id, va.id, HOUR, 3 * HOUR);
    const LEASE_OVERLAP = 'lease overlaps a lease of another slice on the same node';
    expect(overlap(() => lease(b.id, vb.id, 2 * HOUR, 4 * HOUR))).toBe(LEASE_OVERLAP);
    const id = lease(b.id, vb.id, 3 * HOUR, 4 * HOUR);
    expect(overlap(() => store.setLeaseTimes(id, at(2 * HOUR), at(4 * HOUR)))).toBe(LEASE_OVERLAP);
  });

  it('refuses overlapping port ranges of two slices on one node and protocol', () => {
    const store = openStore();
    const { node, a, b } = seed(store);
    const va = store.insertSliver(sliver(a.id, node.id));
    const vb = store.insertSliver(sliver(b.id, node.id));
    const port = (
      sliceId: number,
      sliverId: number,
      proto: 'tcp' | 'udp',
      from: number,
      to: number,
    ) => store.insertPort({ sliverId, nodeId: node.id, sliceId, proto, from, to });
    port(a.id, va.id, 'tcp', 8000, 8010);
    expect(overlap(() => port(b.id, vb.id, 'tcp', 8010, 8020))).toBe(
      'port range overlaps a reservation of another slice on the same node',
    );
    port(b.id, vb.id, 'udp', 8000, 8010);
    port(b.id, vb.id, 'tcp', 8011, 8020);
    expect(refusal(() => port(b.id, vb.id, 'tcp', 0, 1))).toBe('check');
    expect(refusal(() => port(b.id, vb.id, 'tcp', 9000, 8999))).toBe('check');
  });

  it('drops a sliver’s leases and ports with it', () => {
    const store = openStore();
    const { node, a } = seed(store);
    const v = store.insertSliver(sliver(a.id, node.id));
    store.insertLease({
      nodeId: node.id,
      sliceId: a.id,
      sliverId: v.id,
      kind: 'hold',
      start: NOW,
      end: at(HOUR),
    });
    store.insertPort({
      sliverId: v.id,
      nodeId: node.id,
      sliceId: a.id,
      proto: 'tcp',
      from: 1,
      to: 2,
    });
    store.deleteSliver(v.id);
    expect(store.liveLeases(NOW)).toEqual([]);
    expect(store.portsOnNode(node.id, NOW)).toEqual([]);
  });

  it('does not count the leases and ports of a lapsed sliver as live', () => {
    const store = openStore();
    const { node, a } = seed(store);
    const v = store.insertSliver(sliver(a.id, node.id, { expires: at(HOUR) }));
    store.insertLease({
      nodeId: node.id,
      sliceId: a.id,
      sliverId: v.id,
      kind: 'hold',
      start: NOW,
      end: at(5 * HOUR),
    });
    store.insertPort({
      sliverId: v.id,
      nodeId: node.id,
      sliceId: a.id,
      proto: 'tcp',
      from: 1,
      to: 2,
    });
    expect(store.liveLeasesOnNode(node.id, at(HOUR - 1000))).toHaveLength(1);
    expect(store.liveLeasesOnNode(node.id, at(HOUR))).toEqual([]);
    expect(store.portsOnNode(node.id, at(HOUR))).toEqual([]);
    expect(store.lapsedSlivers(at(HOUR)).map((s) => s.id)).toEqual([v.id]);
  });
});
