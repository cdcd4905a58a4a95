import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempRoot } from '../../test/support/tmp.js';
import {
  BUSY_TIMEOUT_MS,
  openDatabase,
  runMigrations,
  SchemaVersionError,
  writeTransaction,
  type Database,
  type Migration,
} from './database.js';

const tmp = tempRoot('database');
let n = 0;
const freshPath = (): string => join(tmp.path, `db${++n}.sqlite`);
const open: Database[] = [];
function openDb(path: string): Database {
  const db = openDatabase(path);
  open.push(db);
  return db;
}
afterEach(() => {
  for (const db of open.splice(0)) if (db.open) db.close();
});

const NOW = new Date('2026-11-25T12:00:00.678Z');
const clock = () => NOW;

const V1: Migration = { version: 1, name: 'things', up: 'CREATE TABLE things (id INTEGER);' };
const V2: Migration = {
  version: 2,
  name: 'thing names',
  up: `ALTER TABLE things ADD COLUMN name TEXT;
       CREATE INDEX things_name ON things (name);`,
};
const V3: Migration = { version: 3, name: 'others', up: 'CREATE TABLE others (id INTEGER);' };

const tables = (db: Database): string[] =>
  db
    .prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'")
    .all()
    .map((t) => t.name)
    .sort();
const applied = (db: Database) =>
  db.prepare('SELECT version, name, applied_at FROM schema_migrations ORDER BY version').all();

describe('openDatabase', () => {
  it('sets WAL, synchronous FULL, foreign keys and a busy timeout on every connection', () => {
    const db = openDb(freshPath());
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('synchronous', { simple: true })).toBe(2); // FULL
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.pragma('busy_timeout', { simple: true })).toBe(BUSY_TIMEOUT_MS);
  });
});

describe('runMigrations', () => {
  it('applies migrations in order, once, and records them', () => {
    const path = freshPath();
    const db = openDb(path);
    expect(runMigrations(db, [V1, V2], clock)).toEqual([1, 2]);
    expect(tables(db)).toEqual(['schema_migrations', 'things']);
    expect(applied(db)).toEqual([
      { version: 1, name: 'things', applied_at: '2026-11-25T12:00:00Z' },
      { version: 2, name: 'thing names', applied_at: '2026-11-25T12:00:00Z' },
    ]);
    db.close();

    // Reopening with the same code applies nothing; with newer code, only the new migration.
    const again = openDb(path);
    expect(runMigrations(again, [V1, V2], clock)).toEqual([]);
    expect(runMigrations(again, [V1, V2, V3], clock)).toEqual([3]);
    expect(tables(again)).toEqual(['others', 'schema_migrations', 'things']);
  });

  it('rolls back a failing migration entirely and keeps the ones before it', () => {
    const db = openDb(freshPath());
    const broken: Migration = {
      version: 2,
      name: 'half done',
      up: 'CREATE TABLE half (id INTEGER); INSERT INTO no_such_table VALUES (1);',
    };
    expect(() => runMigrations(db, [V1, broken], clock)).toThrow(/no such table: no_such_table/);
    expect(tables(db)).toEqual(['schema_migrations', 'things']);
    expect(applied(db)).toHaveLength(1);
  });

  it('refuses a database written by newer code, before changing anything', () => {
    const path = freshPath();
    runMigrations(openDb(path), [V1, V2, V3], clock);
    const old = openDb(path);
    expect(() => runMigrations(old, [V1, V2], clock)).toThrow(SchemaVersionError);
    expect(() => runMigrations(old, [V1, V2], clock)).toThrow(
      /is newer than this program \(which knows migrations up to 2\): applied migration 3 'others'/,
    );
    expect(() => runMigrations(old, [], clock)).toThrow(/newer than this program/);
  });

  it('refuses a database whose migration of the same version has another name', () => {
    const path = freshPath();
    runMigrations(openDb(path), [V1], clock);
    const other = openDb(path);
    expect(() => runMigrations(other, [{ ...V1, name: 'widgets' }], clock)).toThrow(
      /migration 1 was applied as 'things' but this program calls it 'widgets'/,
    );
  });

  it('refuses a migration list that is not strictly increasing', () => {
    const db = openDb(freshPath());
    expect(() => runMigrations(db, [V2, V1], clock)).toThrow(/version 1 must be an integer/);
    expect(() => runMigrations(db, [V1, { ...V3, version: 1 }], clock)).toThrow(/version 1/);
    expect(() => runMigrations(db, [{ ...V1, version: 0 }], clock)).toThrow(/version 0/);
  });
});

describe('writeTransaction', () => {
  it('commits on return and rolls back every statement on throw', () => {
    const db = openDb(freshPath());
    runMigrations(db, [V1], clock);
    const insert = db.prepare('INSERT INTO things (id) VALUES (?)');
    expect(writeTransaction(db, () => insert.run(1).changes)).toBe(1);
    expect(() =>
      writeTransaction(db, () => {
        insert.run(2);
        insert.run(3);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(db.prepare('SELECT id FROM things').pluck().all()).toEqual([1]);
  });

  it('takes the write lock at BEGIN, not at the first write', () => {
    const path = freshPath();
    const a = openDb(path);
    runMigrations(a, [V1], clock);
    const b = openDb(path);
    b.pragma('busy_timeout = 50'); // fail fast instead of waiting for a, which holds the lock
    writeTransaction(a, () => {
      // a has written nothing yet, but b can no longer start a write transaction…
      expect(() => b.exec('BEGIN IMMEDIATE')).toThrow(
        expect.objectContaining({ code: 'SQLITE_BUSY' }),
      );
      // …while it can still read (WAL).
      expect(b.prepare('SELECT count(*) FROM things').pluck().get()).toBe(0);
    });
  });

  it('refuses an async function (the transaction would commit before it finishes)', () => {
    const db = openDb(freshPath());
    expect(() => writeTransaction(db, (async () => 1) as () => unknown)).toThrow(/promise/);
  });
});
