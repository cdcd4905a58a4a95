/**
 * Aggregate migration 8 on a database written at version 7: the slice audit trail keeps its
 * rows and becomes the slice's history (any action name, the client program), bounded per slice.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempRoot } from '../../test/support/tmp.js';
import { openDatabase, runMigrations } from './database.js';
import { AGGREGATE_MIGRATIONS, AggregateStore, SLICE_HISTORY_KEEP } from './aggregate-store.js';
import { SqliteDatabase } from './sql.js';

const tmp = tempRoot('slice-history-migration');
const SLICE = 'urn:publicid:IDN+ple:inria+slice+s1';

describe('aggregate migration 8: the slice history', () => {
  it('keeps the audit rows, takes AM calls with their client, and keeps the newest rows', () => {
    const db = openDatabase(join(tmp.dir('db'), 'aggregate.db'));
    try {
      runMigrations(
        db,
        AGGREGATE_MIGRATIONS.filter((m) => m.version < 8),
      );
      db.exec(`INSERT INTO slice_audit (at, slice_urn, action, actor, note)
        VALUES ('2026-11-25T12:00:00Z', '${SLICE}', 'shutdown', 'urn:alice', NULL)`);
      expect(runMigrations(db, AGGREGATE_MIGRATIONS)).toEqual([8, 9]);
      const store = new AggregateStore(new SqliteDatabase(db));
      expect(store.sliceAudit(SLICE)).toEqual([
        {
          at: new Date('2026-11-25T12:00:00Z'),
          sliceUrn: SLICE,
          action: 'shutdown',
          actor: 'urn:alice',
          note: null,
          client: null,
        },
      ]);
      for (let i = 0; i < SLICE_HISTORY_KEEP + 5; i++) {
        store.recordSliceAudit({
          at: new Date(Date.UTC(2026, 10, 25, 13, 0, i % 60)),
          sliceUrn: SLICE,
          action: i % 2 === 0 ? 'Allocate' : 'PerformOperationalAction geni_start',
          actor: 'urn:alice',
          note: null,
          client: 'xmlrpclib.py/1.0.1 (by www.pythonware.com)',
        });
      }
      const rows = store.sliceAudit(SLICE);
      expect(rows).toHaveLength(SLICE_HISTORY_KEEP);
      // The oldest went first: the shutdown and the first AM calls.
      expect(rows[0]!.action).toBe('PerformOperationalAction geni_start');
      expect(rows.at(-1)!.client).toBe('xmlrpclib.py/1.0.1 (by www.pythonware.com)');
      expect(() =>
        db.exec(`INSERT INTO slice_audit (at, slice_urn, action, actor)
          VALUES ('2026-11-25T12:00:00Z', 'u', '', 'a')`),
      ).toThrow(/CHECK constraint/);
    } finally {
      db.close();
    }
  });
});
