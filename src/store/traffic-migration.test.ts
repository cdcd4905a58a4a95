/**
 * Aggregate migration 6 on a database written at version 5: sliver_realized gains packets_in
 * and packets_out. Rows a node reported before keep their counters and have no packets; the
 * store then reads and writes all six counters, and refuses a negative packet count.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempRoot } from '../../test/support/tmp.js';
import { openDatabase, runMigrations } from './database.js';
import { AGGREGATE_MIGRATIONS, AggregateStore } from './aggregate-store.js';
import { SqliteDatabase } from './sql.js';

const tmp = tempRoot('traffic-migration');
const T = (m: number) => `2026-11-25T12:${String(m).padStart(2, '0')}:00Z`;

describe('aggregate migration 6: packets in and out per sliver', () => {
  it('adds nullable, non-negative packets_in and packets_out to sliver_realized', () => {
    const db = openDatabase(join(tmp.dir('db'), 'aggregate.db'));
    try {
      runMigrations(
        db,
        AGGREGATE_MIGRATIONS.filter((m) => m.version <= 5),
      );
      db.exec(`
        INSERT INTO sites (id, login_base, name, hrn) VALUES (1, 'inria', 'INRIA', 'ple.inria');
        INSERT INTO nodes (id, hostname, site_id, hrn, urn, boot_state, exclusive, max_slivers,
                           cpu_shares, hardware_type)
          VALUES (1, 'n1.inria.fr', 1, 'ple.inria.n1', 'urn:n1', 'boot', 0, 10, 10, 'pc');
        INSERT INTO slices (id, urn, login_name, created, expires)
          VALUES (1, 'urn:s1', 'inria_s1', '${T(0)}', '${T(50)}'),
                 (2, 'urn:s2', 'inria_s2', '${T(0)}', '${T(50)}');
        INSERT INTO slivers (id, slice_id, node_id, client_id, allocation_state,
                             operational_state, exclusive, cpu_share, attributes, initscripts,
                             created, expires)
          VALUES (1, 1, 1, 'a', 'geni_provisioned', 'geni_ready', 0, 1, '[]', '[]', '${T(0)}', '${T(50)}'),
                 (2, 2, 1, 'b', 'geni_provisioned', 'geni_ready', 0, 1, '[]', '[]', '${T(0)}', '${T(50)}');
        INSERT INTO sliver_realized (sliver_id, node_id, state, error, reported, cpu_seconds,
                                     memory_bytes, bytes_in, bytes_out)
          VALUES (1, 1, 'running', NULL, '${T(5)}', 2, 4096, 5000000000, 1000);
      `);
      expect(runMigrations(db, AGGREGATE_MIGRATIONS)).toEqual(
        AGGREGATE_MIGRATIONS.filter((m) => m.version > 5).map((m) => m.version),
      );

      const store = new AggregateStore(new SqliteDatabase(db));
      expect(store.realizedSliver(1)).toMatchObject({
        cpuSeconds: 2,
        memoryBytes: 4096,
        bytesIn: 5_000_000_000,
        bytesOut: 1000,
        packetsIn: null,
        packetsOut: null,
      });
      const report = {
        nodeId: 1,
        at: new Date(T(6)),
        loadAverage: 0.1,
        memoryTotal: 1,
        memoryFree: 1,
        uptime: 1,
        slivers: [],
      };
      const line = {
        sliverId: 2,
        state: 'running' as const,
        error: null,
        cpuSeconds: null,
        memoryBytes: null,
        bytesIn: 300,
        bytesOut: null,
        packetsIn: 7,
        packetsOut: 3_000_000_000,
      };
      store.recordNodeReport(report, [line], { days: 7, count: 100 });
      expect(store.realizedSliver(2)).toMatchObject({ packetsIn: 7, packetsOut: 3_000_000_000 });
      // Sums per node over live slivers: a counter no sliver reported stays null.
      expect(store.nodeTraffic(new Date(T(10))).get(1)).toEqual({
        bytesIn: 5_000_000_300,
        bytesOut: 1000,
        packetsIn: 7,
        packetsOut: 3_000_000_000,
      });
      // Expired slivers are not counted.
      expect(store.nodeTraffic(new Date(T(55))).size).toBe(0);

      let code: string | undefined;
      try {
        store.recordNodeReport(report, [{ ...line, packetsIn: -1 }], { days: 7, count: 100 });
      } catch (e) {
        code = (e as { code?: string }).code;
      }
      expect(code).toBe('SQLITE_CONSTRAINT_CHECK');
    } finally {
      db.close();
    }
  });
});
