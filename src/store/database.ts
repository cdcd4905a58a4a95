/**
 * The embedded SQLite database: connection settings, versioned migrations, write transactions.
 *
 * Several processes may open the same file (the server and an admin command), so every
 * connection uses WAL (readers never block the writer), a busy timeout (a writer waits for the
 * other instead of failing), and `BEGIN IMMEDIATE` for writes (the write lock is taken up
 * front, so a transaction never has to upgrade a read lock, which SQLite can only refuse).
 */
import {
  accessSync,
  chmodSync,
  closeSync,
  constants as fsConstants,
  openSync,
  statSync,
} from 'node:fs';
import { dirname } from 'node:path';
import Sqlite from 'better-sqlite3';
import type { Database } from 'better-sqlite3';
import { storageCause } from './storage-fault.js';
import { isPostgresUrl, PostgresDatabase } from './postgres.js';
import { SqliteDatabase, type SqlDatabase } from './sql.js';

export type { Database } from 'better-sqlite3';
export type { SqlDatabase } from './sql.js';

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
  /**
   * The same change in PostgreSQL's dialect (the PostgreSQL store): after version N, both
   * schemas hold the same tables, columns, constraints and triggers.
   */
  readonly postgres?: string;
  /**
   * Rebuilds a table that others reference (SQLite's way to change a column's constraint:
   * create, copy, drop, rename): foreign keys are off while it runs, or dropping the old table
   * would cascade to the rows referencing it; they are checked before the commit.
   */
  readonly rebuildsTable?: boolean;
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
  const onDisk = path !== '' && path !== ':memory:' && !path.startsWith('file:');
  if (onDisk) keepPrivate(path);
  let db: Database;
  try {
    db = new Sqlite(path);
  } catch (e) {
    throw openFailure(path, e);
  }
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
    // The -wal and -shm files exist now; SQLite made them with the database's mode, but ones
    // left by an older version may still be world-readable.
    if (onDisk) keepPrivate(path);
    return db;
  } catch (e) {
    db.close();
    throw openFailure(path, e);
  }
}

/** The database and its -wal and -shm hold every record: only their owner may read them. */
const DATABASE_MODE = 0o600;

/**
 * Create the database file with mode 0600 if it does not exist (SQLite would make it 0644 less
 * the umask, world-readable in a data folder made 0755), and narrow the mode of the database,
 * -wal and -shm files that exist. Files of another user (EPERM) or on a read-only file system
 * are left alone: opening then fails, or not, for reasons of its own.
 */
function keepPrivate(path: string): void {
  try {
    closeSync(openSync(path, 'wx', DATABASE_MODE));
  } catch {
    // EEXIST (the usual case), or a folder we cannot write: SQLite's open says which.
  }
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    try {
      const st = statSync(file, { throwIfNoEntry: false });
      if (st && (st.mode & 0o777) !== DATABASE_MODE) chmodSync(file, DATABASE_MODE);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'EROFS' && code !== 'ENOENT') throw e;
    }
  }
}

/** SQLite result codes that mean the file could not be opened or written. */
const OPEN_FAILURES = /^SQLITE_(CANTOPEN|READONLY|IOERR|PERM|FULL|NOTADB|CORRUPT|AUTH)/;

/** The database at `path` could not be opened: the message names the file and the cause. */
export class DatabaseOpenError extends Error {
  constructor(
    message: string,
    /** The cause's errno (EROFS, EACCES, ENOENT) when found, else SQLite's result code. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DatabaseOpenError';
  }
}

/**
 * SQLite says only "unable to open database file": find out why (no folder, a read-only file
 * system, no permission) and say it with the path. Other errors are returned as they are.
 */
function openFailure(path: string, e: unknown): unknown {
  const sqliteCode = (e as { code?: unknown } | null)?.code;
  if (typeof sqliteCode !== 'string' || !OPEN_FAILURES.test(sqliteCode)) return e;
  const found = diagnose(path);
  const why = found?.why ?? storageCause(e) ?? 'see the SQLite error';
  return new DatabaseOpenError(
    `cannot open the database ${path}: ${why} (SQLite: ${(e as Error).message})`,
    found?.code ?? sqliteCode,
    { cause: e },
  );
}

function diagnose(path: string): { why: string; code: string } | undefined {
  const folder = dirname(path);
  const problem = (file: string, mode: number) => {
    try {
      accessSync(file, mode);
      return undefined;
    } catch (err) {
      return (err as NodeJS.ErrnoException).code ?? 'EIO';
    }
  };
  const user = typeof process.getuid === 'function' ? ` (uid ${process.getuid()})` : '';
  const folderProblem = problem(folder, fsConstants.W_OK | fsConstants.X_OK);
  if (folderProblem === 'ENOENT')
    return { why: `the folder ${folder} does not exist`, code: 'ENOENT' };
  if (folderProblem === 'EROFS')
    return { why: `the folder ${folder} is on a read-only file system`, code: 'EROFS' };
  if (folderProblem === 'EACCES')
    return { why: `the folder ${folder} is not writable by this user${user}`, code: 'EACCES' };
  const fileProblem = problem(path, fsConstants.R_OK | fsConstants.W_OK);
  if (fileProblem === 'EROFS')
    return { why: `${path} is on a read-only file system`, code: 'EROFS' };
  if (fileProblem === 'EACCES')
    return { why: `${path} is not readable and writable by this user${user}`, code: 'EACCES' };
  return undefined;
}

/**
 * Run `fn` as a write transaction (SQLite: `BEGIN IMMEDIATE … COMMIT`), rolling back if it
 * throws. `fn` must be synchronous. Nested calls become savepoints of the outer transaction.
 */
export function writeTransaction<T>(db: SqlDatabase | Database, fn: () => T): T {
  return ('dialect' in db ? db : new SqliteDatabase(db)).write(fn);
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
  db: SqlDatabase | Database,
  migrations: readonly Migration[],
  now: () => Date = () => new Date(),
): number[] {
  if (!('dialect' in db)) return runMigrations(new SqliteDatabase(db), migrations, now);
  checkMigrationList(migrations);
  const raw = db instanceof SqliteDatabase ? db.raw : undefined;
  // Under the write lock: front-ends starting together create it once.
  db.write(() =>
    db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  )`),
  );
  const known = new Map(migrations.map((m) => [m.version, m]));
  const readApplied = db.prepare<[], AppliedMigration>(
    'SELECT version, name FROM schema_migrations ORDER BY version',
  );
  const record = db.prepare<[number, string, string]>(
    'INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)',
  );

  const appliedNow: number[] = [];
  for (const migration of migrations) {
    // SQLite's rebuilds: the pragma is a no-op inside a transaction, so it is set around it.
    // (PostgreSQL alters tables in place: its references never need switching off.)
    if (migration.rebuildsTable) raw?.pragma('foreign_keys = OFF');
    try {
      db.write(() => {
        // Re-read inside the write lock: another process may have migrated meanwhile.
        const applied = readApplied.all();
        checkApplied(applied, known, db.name);
        if (applied.some((a) => a.version === migration.version)) return;
        const up = raw ? migration.up : migration.postgres;
        if (up === undefined) {
          throw new Error(
            `migration ${migration.version} '${migration.name}' has no PostgreSQL text`,
          );
        }
        db.exec(up);
        if (
          migration.rebuildsTable &&
          raw &&
          (raw.pragma('foreign_key_check') as unknown[]).length > 0
        ) {
          throw new Error(
            `migration ${migration.version} '${migration.name}' would leave broken references in ${db.name}`,
          );
        }
        record.run(migration.version, migration.name, formatUtc(now()));
        appliedNow.push(migration.version);
      });
    } finally {
      if (migration.rebuildsTable) raw?.pragma('foreign_keys = ON');
    }
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

/**
 * Open a store and bring its schema up to `migrations`; the connection is closed on failure.
 * `location` is a SQLite file, or a `postgres://` URL (the store then lives in the PostgreSQL
 * schema `schema`).
 */
export function openMigrated(
  location: string,
  migrations: readonly Migration[],
  schema: string,
): SqlDatabase {
  const db = isPostgresUrl(location)
    ? new PostgresDatabase(location, schema)
    : new SqliteDatabase(openDatabase(location));
  try {
    runMigrations(db, migrations);
    return db;
  } catch (e) {
    db.close();
    // A read-only file or a full disk shows up at the first write, which is here.
    throw db.dialect === 'sqlite' ? openFailure(location, e) : e;
  }
}
