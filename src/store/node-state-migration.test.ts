/**
 * Aggregate migration 5 on a database written at version 4: a node that had reported becomes
 * managed (first and last report from its history), and each sliver's desired state is what
 * the node API told the node before (stopped for a stopped sliver, started otherwise).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempRoot } from '../../test/support/tmp.js';
import { openDatabase, runMigrations } from './database.js';
import { AGGREGATE_MIGRATIONS } from './aggregate-store.js';

const tmp = tempRoot('node-state-migration');
const T = (m: number) => `2026-11-25T12:${String(m).padStart(2, '0')}:00Z`;

describe('aggregate migration 5: managed nodes and desired states', () => {
  it('fills node_managed from the report history and desired_state from the states', () => {
    const db = openDatabase(join(tmp.dir('db'), 'aggregate.db'));
    try {
      runMigrations(
        db,
        AGGREGATE_MIGRATIONS.filter((m) => m.version < 5),
      );
      db.exec(`
        INSERT INTO sites (id, login_base, name, hrn) VALUES (1, 'inria', 'INRIA', 'ple.inria');
        INSERT INTO nodes (id, hostname, site_id, hrn, urn, boot_state, exclusive, max_slivers,
                           cpu_shares, hardware_type)
          VALUES (1, 'n1.inria.fr', 1, 'ple.inria.n1', 'urn:n1', 'boot', 0, 10, 10, 'pc'),
                 (2, 'n2.inria.fr', 1, 'ple.inria.n2', 'urn:n2', 'boot', 0, 10, 10, 'pc');
        INSERT INTO slices (id, urn, login_name, created, expires)
          VALUES (1, 'urn:s1', 'inria_s1', '${T(0)}', '${T(50)}'),
                 (2, 'urn:s2', 'inria_s2', '${T(0)}', '${T(50)}');
        INSERT INTO slivers (slice_id, node_id, client_id, allocation_state, operational_state,
                             exclusive, cpu_share, attributes, initscripts, created, expires)
          VALUES (1, 1, 'a', 'geni_provisioned', 'geni_ready', 0, 1, '[]', '[]', '${T(0)}', '${T(50)}'),
                 (2, 1, 'b', 'geni_provisioned', 'geni_notready', 0, 1, '[]', '[]', '${T(0)}', '${T(50)}');
        INSERT INTO node_reports (node_id, at, load_average, memory_total, memory_free, uptime, slivers)
          VALUES (1, '${T(5)}', 0.1, 1, 1, 1, '[]'), (1, '${T(7)}', 0.2, 1, 1, 1, '[]');
      `);
      expect(
        runMigrations(
          db,
          AGGREGATE_MIGRATIONS.filter((m) => m.version <= 5),
        ),
      ).toEqual([5]);
      expect(db.prepare('SELECT node_id, since, last_report FROM node_managed').all()).toEqual([
        { node_id: 1, since: T(5), last_report: T(7) },
      ]);
      expect(
        db.prepare('SELECT client_id, desired_state FROM slivers ORDER BY client_id').all(),
      ).toEqual([
        { client_id: 'a', desired_state: 'started' },
        { client_id: 'b', desired_state: 'stopped' },
      ]);
    } finally {
      db.close();
    }
  });
});
