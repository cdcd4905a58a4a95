/**
 * The embedded SQLite database: connection settings, versioned migrations, write transactions.
 *
 * Several processes may open the same file (the server and an admin command), so every
 * connection uses WAL (readers never block the writer), a busy timeout (a writer waits for the
 * other instead of failing), and `BEGIN IMMEDIATE` for writes (the write lock is taken up
 * front, so a transaction never has to upgrade a read lock, which SQLite can only refuse).
 */
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';

export type { Database } from 'better-sqlite3';

/** How long a connection waits for another connection's write lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 5000;

/** One schema change: applied once, in `version` order, inside its own transaction. */
export interface Migration {
  /** Positive integer, strictly increasing along the list; never reused or renumbered. */
  readonly version: number;
  /** Short description, recorded with the version and checked on every open. */
  readonly name: string;
  /** SQL statements, run with `db.exec`. */
  readonly up: string;
}

/** The database was written by a newer (or different) version of this code. */
export class SchemaVersionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemaVersionError';
  }
}

/**
 * Open (creating if needed) the SQLite database at `path` with the settings every connection
 * needs: WAL, `synchronous = FULL`, foreign keys, a busy timeout. Runs no migrations.
 */
export function openDatabase(path: string): Database {
  const db = new Sqlite(path);
  try {
    // First, so that the journal-mode switch below also waits for a concurrent opener.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const mode = db.pragma('journal_mode = WAL', { simple: true });
    // An in-memory database reports 'memory'; anything else means WAL could not be enabled,
    // and concurrent writers would then block readers.
    if (mode !== 'wal' && mode !== 'memory') {
      throw new Error(`cannot enable WAL on ${path} (journal_mode is '${String(mode)}')`);
    }
    // In WAL mode FULL syncs the log on every commit: a write reported as done survives a
    // power cut, not only a crash of the process.
    db.pragma('synchronous = FULL');
    // Per connection and off by default in SQLite: cascades and references depend on it.
    db.pragma('foreign_keys = ON');
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}

/**
 * Run `fn` inside `BEGIN IMMEDIATE … COMMIT`, rolling back if it throws. `fn` must be
 * synchronous (better-sqlite3 refuses a function returning a promise). Nested calls become
 * savepoints of the outer transaction.
 */
export function writeTransaction<T>(db: Database, fn: () => T): T {
  return db.transaction(fn).immediate();
}

interface AppliedMigration {
  version: number;
  name: string;
}

/** Check that the list itself is sound: positive integer versions, strictly increasing. */
function checkMigrationList(migrations: readonly Migration[]): void {
  let previous = 0;
  for (const m of migrations) {
    if (!Number.isSafeInteger(m.version) || m.version <= previous) {
      throw new Error(
        `migration '${m.name}': version ${m.version} must be an integer greater than ${previous}`,
      );
    }
    previous = m.version;
  }
}

/**
 * Bring the schema up to date: apply, in order, every migration not yet recorded in
 * `schema_migrations`, each in its own immediate transaction (so two processes opening the
 * same file at once apply each migration exactly once).
 *
 * Refuses, with SchemaVersionError, a database that records a migration this code does not
 * know (written by a newer version) or under another name (a different branch): running
 * against a schema we do not understand could corrupt it. One database file has one migration
 * list: services that share a file pass the concatenation of their lists, with disjoint
 * versions.
 *
 * @returns the versions applied by this call.
 */
export function runMigrations(
  db: Database,
  migrations: readonly Migration[],
  now: () => Date = () => new Date(),
): number[] {
  checkMigrationList(migrations);
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`);
  const known = new Map(migrations.map((m) => [m.version, m]));
  const readApplied = db.prepare<[], AppliedMigration>(
    'SELECT version, name FROM schema_migrations ORDER BY version',
  );
  const record = db.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );

  const appliedNow: number[] = [];
  for (const migration of migrations) {
    writeTransaction(db, () => {
      // Re-read inside the write lock: another process may have migrated meanwhile.
      const applied = readApplied.all();
      checkApplied(applied, known, db.name);
      if (applied.some((a) => a.version === migration.version)) return;
      db.exec(migration.up);
      record.run(migration.version, migration.name, formatUtc(now()));
      appliedNow.push(migration.version);
    });
  }
  if (migrations.length === 0) checkApplied(readApplied.all(), known, db.name);
  return appliedNow;
}

function checkApplied(
  applied: readonly AppliedMigration[],
  known: ReadonlyMap<number, Migration>,
  file: string,
): void {
  const newest = Math.max(0, ...known.keys());
  for (const a of applied) {
    const m = known.get(a.version);
    if (m === undefined) {
      const why =
        a.version > newest
          ? `is newer than this program (which knows migrations up to ${newest})`
          : `records migration ${a.version} which this program does not know`;
      throw new SchemaVersionError(
        `database ${file} ${why}: applied migration ${a.version} '${a.name}'; ` +
          'upgrade the program or use the database it was written for',
      );
    }
    if (m.name !== a.name) {
      throw new SchemaVersionError(
        `database ${file}: migration ${a.version} was applied as '${a.name}' but this program ` +
          `calls it '${m.name}'; the database was written by a different version of the program`,
      );
    }
  }
}

/** RFC 3339 UTC without fractional seconds, as SFA writes dates. */
export function formatUtc(d: Date): string {
  if (Number.isNaN(d.getTime())) throw new RangeError('invalid Date');
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Read back a date written by formatUtc. */
export function parseUtc(text: string, column: string): Date {
  const d = new Date(text);
  // Only our own writes are read here, so a bad value means a damaged or hand-edited file.
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/.test(text) || Number.isNaN(d.getTime())) {
    throw new Error(`column ${column} holds '${text}', which is not an RFC 3339 UTC date`);
  }
  return d;
}

/** Open `path` and bring its schema up to `migrations`; the connection is closed on failure. */
export function openMigrated(path: string, migrations: readonly Migration[]): Database {
  const db = openDatabase(path);
  try {
    runMigrations(db, migrations);
    return db;
  } catch (e) {
    db.close();
    throw e;
  }
}
