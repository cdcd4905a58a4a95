/**
 * The store interface: what the registry, the aggregate and the peers need of a database, which
 * the embedded SQLite (better-sqlite3) and a PostgreSQL server (`postgres.ts`) both provide.
 *
 * It is synchronous, as better-sqlite3 is: the engine decides admission by reading and writing
 * inside one transaction function, and that code is the same on both backends. PostgreSQL is
 * reached through a worker thread (`postgres.ts`), whose answers the calling thread waits for.
 *
 * Statements are written once, in the SQL both dialects share: `?` placeholders, `RETURNING`,
 * `ON CONFLICT … DO UPDATE`, `COLLATE NOCASE` (a case-insensitive collation of that name exists
 * in the PostgreSQL schema). The schemas differ, so each migration has both texts.
 */
import type { Database as SqliteConnection } from 'better-sqlite3';

export type Dialect = 'sqlite' | 'postgres';

export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export interface Statement<P extends unknown[] = unknown[], R = unknown> {
  run(...params: P): RunResult;
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

export interface SqlDatabase {
  readonly dialect: Dialect;
  /** What to call it in messages: the file, or the server and database (never a password). */
  readonly name: string;
  /** False once closed. */
  readonly open: boolean;
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R>;
  /** Run statements without parameters (migrations). */
  exec(sql: string): void;
  /**
   * Run `fn` as one write transaction: all of its writes or none. `exclusive` (the default): no
   * other writer of this store (another connection, process or front-end) writes in between.
   * `scoped`: `fn` first calls `lock` with every resource it will read to decide and write; it
   * then runs beside other scoped writers of other resources, and never beside an exclusive one.
   * (SQLite has one writer at a time: both are exclusive there.) Nested calls are savepoints of
   * the outer transaction.
   */
  write<T>(fn: () => T, mode?: WriteMode): T;
  /**
   * Inside a scoped write, before reading: hold these resources until the transaction ends
   * (taken in one sorted pass, so two writers never wait for each other in a cycle).
   */
  lock(keys: readonly LockKey[]): void;
  /** Run `fn` on one consistent snapshot (reads only). Inside `write`, it is part of it. */
  read<T>(fn: () => T): T;
  /**
   * Whether this connection leads for the task `name` (the reaper): on PostgreSQL, a session
   * advisory lock taken if free and kept while the connection lives, so that exactly one
   * front-end leads and another takes over when it dies; on SQLite (one machine), always.
   */
  leads(name: string): boolean;
  close(): void;
}

export type WriteMode = 'exclusive' | 'scoped';

/** A resource a scoped write holds: a kind (a small integer per store) and an id in it. */
export type LockKey = readonly [kind: number, id: number];

/** A text (a name) as a lock id: FNV-1a, 32 bits, signed (what PostgreSQL's int4 holds). */
export function lockId(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Which constraint refused a write, whatever the backend: for faults that say what to fix. */
export type ConstraintKind = 'unique' | 'check' | 'notnull' | 'foreignkey';

const SQLITE_CONSTRAINTS: Readonly<Record<string, ConstraintKind>> = {
  SQLITE_CONSTRAINT_UNIQUE: 'unique',
  SQLITE_CONSTRAINT_PRIMARYKEY: 'unique',
  SQLITE_CONSTRAINT_CHECK: 'check',
  SQLITE_CONSTRAINT_DATATYPE: 'check',
  SQLITE_CONSTRAINT_NOTNULL: 'notnull',
  SQLITE_CONSTRAINT_FOREIGNKEY: 'foreignkey',
};
/** PostgreSQL's SQLSTATE classes 23 (integrity) and 22P02 (a JSON column's bad text). */
const POSTGRES_CONSTRAINTS: Readonly<Record<string, ConstraintKind>> = {
  '23505': 'unique',
  '23514': 'check',
  '22P02': 'check',
  '23502': 'notnull',
  '23503': 'foreignkey',
};

/** The constraint that refused the write `e` failed with, if that is why it failed. */
export function constraintOf(e: unknown): ConstraintKind | undefined {
  const { code, sqlState } = (e ?? {}) as { code?: unknown; sqlState?: unknown };
  if (typeof code === 'string' && Object.hasOwn(SQLITE_CONSTRAINTS, code)) {
    return SQLITE_CONSTRAINTS[code];
  }
  if (typeof sqlState === 'string' && Object.hasOwn(POSTGRES_CONSTRAINTS, sqlState)) {
    return POSTGRES_CONSTRAINTS[sqlState];
  }
  return undefined;
}

/** The embedded store: a better-sqlite3 connection opened by `openDatabase` (database.ts). */
export class SqliteDatabase implements SqlDatabase {
  readonly dialect = 'sqlite';

  constructor(
    /** The connection itself, for what only SQLite has (pragmas; tests). */
    readonly raw: SqliteConnection,
  ) {}

  get name(): string {
    return this.raw.name;
  }

  get open(): boolean {
    return this.raw.open;
  }

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R> {
    return this.raw.prepare<P, R>(sql);
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  /** `BEGIN IMMEDIATE`: the write lock is taken up front, never upgraded from a read lock. */
  write<T>(fn: () => T): T {
    return this.raw.transaction(fn).immediate();
  }

  /** Nothing to do: the file's write lock already holds everything. */
  lock(): void {}

  read<T>(fn: () => T): T {
    return this.raw.transaction(fn).deferred();
  }

  leads(): boolean {
    return true;
  }

  close(): void {
    this.raw.close();
  }
}

/** The SQLite connection under `db` (pragmas, SQLite-only checks); throws on PostgreSQL. */
export function sqliteConnection(db: SqlDatabase): SqliteConnection {
  if (!(db instanceof SqliteDatabase)) throw new Error(`${db.name} is not a SQLite database`);
  return db.raw;
}
