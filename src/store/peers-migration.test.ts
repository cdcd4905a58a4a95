/**
 * Registry migration 4 rebuilds the peers table (an aggregate list may now be empty): the
 * peers' roots, which reference it with ON DELETE CASCADE, must come through untouched.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, runMigrations } from './database.js';
import { REGISTRY_MIGRATIONS } from './registry-store.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sfa-peers-migration-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('registry migration 4: peers without aggregates', () => {
  it('keeps every peer and root, and then accepts an empty aggregate list', () => {
    const file = join(dir, 'registry.db');
    const before = REGISTRY_MIGRATIONS.filter((m) => m.version < 4);
    const db = openDatabase(file);
    try {
      runMigrations(db, before);
      db.exec(`INSERT INTO peers (id, hrn, registry_url, aggregate_urls, created)
                 VALUES (7, 'plc', 'https://plc/', '["https://plc:12346/"]', '2026-11-25T12:00:00Z');
               INSERT INTO peer_roots (peer_id, gid, fingerprint, added)
                 VALUES (7, 'PEM', 'AA:BB', '2026-11-25T12:00:00Z');`);
      expect(() =>
        db.exec(`INSERT INTO peers (hrn, registry_url, aggregate_urls, created)
                   VALUES ('ch', 'https://ch/', '[]', '2026-11-25T12:00:00Z')`),
      ).toThrow(/CHECK constraint failed/);

      expect(runMigrations(db, REGISTRY_MIGRATIONS)).toEqual([4, 5]);
      expect(db.prepare('SELECT peer_id, fingerprint FROM peer_roots').all()).toEqual([
        { peer_id: 7, fingerprint: 'AA:BB' },
      ]);
      expect(db.prepare('SELECT id, hrn, aggregate_urls FROM peers').all()).toEqual([
        { id: 7, hrn: 'plc', aggregate_urls: '["https://plc:12346/"]' },
      ]);
      db.exec(`INSERT INTO peers (hrn, registry_url, aggregate_urls, created)
                 VALUES ('ch', 'https://ch/', '[]', '2026-11-25T12:00:00Z')`);
      // Foreign keys are on again: a root of no peer is refused, removing a peer cascades.
      expect(() =>
        db.exec(`INSERT INTO peer_roots (peer_id, gid, fingerprint, added)
                   VALUES (99, 'PEM', 'CC:DD', '2026-11-25T12:00:00Z')`),
      ).toThrow(/FOREIGN KEY/);
      db.exec('DELETE FROM peers WHERE id = 7');
      expect(db.prepare('SELECT COUNT(*) AS n FROM peer_roots').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  });
});
