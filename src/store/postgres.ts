/**
 * The PostgreSQL store: the store interface (`sql.ts`) on a PostgreSQL server, for an authority
 * that several front-ends (`sfa serve` processes, on one machine or several) serve together.
 *
 * Each store (registry, aggregate) lives in a PostgreSQL schema of its own, as each has a file
 * of its own on SQLite. The engine is synchronous; the `pg` client is not: a worker thread holds
 * the connections and this thread waits for each answer (Atomics.wait), so every transaction
 * function runs as it does on SQLite.
 *
 * Race-freedom between front-ends: every write transaction first takes the store's advisory
 * write lock, alone (`exclusive`: as SQLite's `BEGIN IMMEDIATE` on one file) or shared
 * (`scoped`), and a scoped transaction then locks what it will read to decide and write (the
 * slice and its nodes: src/aggregate/engine/slice-scope.ts) before reading it. Two calls wanting
 * one node take turns, and the second sees what the first committed (READ COMMITTED); calls on
 * other slices and nodes run side by side. No retry loop: a transaction function may not be safe
 * to run twice (it logs, it builds answers), and the conflicting calls are the ones that would
 * retry most; no deadlock: locks are always taken in one order (store, slice, nodes by id).
 *
 * A transaction is whole or absent: the worker refuses to go on with one whose connection was
 * lost, and checks that COMMIT committed.
 */
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  MessageChannel,
  Worker,
  receiveMessageOnPort,
  type MessagePort,
} from 'node:worker_threads';
import type { LockKey, RunResult, SqlDatabase, Statement, WriteMode } from './sql.js';

/** Bounds on how long a call may wait for the database (milliseconds). */
export interface PostgresTimeouts {
  /** To open a connection. */
  connectMs: number;
  /** Any one statement, waiting for the write lock included. */
  statementMs: number;
  /** A transaction left idle by a stuck front-end is ended by the server after this. */
  idleInTransactionMs: number;
  /** After a failed attempt to reach the server, calls fail at once for this long. */
  retryAfterMs: number;
}

export const DEFAULT_POSTGRES_TIMEOUTS: PostgresTimeouts = {
  connectMs: 3000,
  statementMs: 10_000,
  idleInTransactionMs: 30_000,
  retryAfterMs: 1000,
};

/** What the worker is asked: one request at a time. */
export type PostgresRequest =
  | { op: 'open'; url: string; schema: string; timeouts: PostgresTimeouts }
  | { op: 'close'; handle: number }
  | { op: 'query'; handle: number; text: string; params: unknown[]; name?: string }
  | { op: 'exec'; handle: number; text: string }
  /** Open a transaction (BEGIN and its locks, one text). */
  | { op: 'begin'; handle: number; text: string }
  | { op: 'commit'; handle: number }
  | { op: 'rollback'; handle: number }
  | { op: 'lead'; handle: number; task: string };

export interface PostgresAnswer {
  rows: Record<string, unknown>[];
  changes: number;
  handle?: number;
}

/** A `postgres://` or `postgresql://` URL: the PostgreSQL store; anything else is a folder. */
export const isPostgresUrl = (location: string): boolean => /^postgres(ql)?:\/\//i.test(location);

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    // libpq and pg also take passwords as parameters.
    for (const key of [...u.searchParams.keys()]) {
      if (/pass/i.test(key)) u.searchParams.set(key, '***');
    }
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/**
 * The worker thread and how this thread waits for it: a request goes by message, the answer
 * comes back on the same channel, and a shared word wakes this thread (Atomics.wait) when it is
 * there. A worker written in TypeScript (tests, benchmarks) is started through tsx's loader,
 * which Node 20 does not apply to a worker's entry file given by `--import`.
 */
class Bridge {
  private readonly signal = new Int32Array(new SharedArrayBuffer(4));
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private seq = 0;
  stopped: string | undefined;

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const js = !import.meta.url.endsWith('.ts');
    const file = new URL(`./postgres-worker.${js ? 'js' : 'ts'}`, import.meta.url);
    const entry = js
      ? file
      : new URL(
          'data:text/javascript,' +
            encodeURIComponent(
              `import { register } from ${JSON.stringify(tsxApi())};` +
                `register(); await import(${JSON.stringify(file.href)});`,
            ),
        );
    this.worker = new Worker(entry, {
      workerData: { signal: this.signal, port: port2 },
      transferList: [port2],
    });
    // The worker never keeps the process alive: a store left open must not hang an exit.
    this.worker.unref();
    this.worker.on('error', (e) => (this.stopped = e.message));
    this.worker.on('exit', (code) => (this.stopped ??= `exit code ${code}`));
  }

  /** Send `request` and wait, at most `waitMs`, for its answer. */
  call(request: PostgresRequest, waitMs: number): PostgresAnswer {
    if (this.stopped) throw unreachableError(`the database worker stopped: ${this.stopped}`);
    const id = ++this.seq;
    Atomics.store(this.signal, 0, 0);
    this.port.postMessage({ id, request });
    const deadline = Date.now() + waitMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw unreachableError('the database server did not answer in time');
      Atomics.wait(this.signal, 0, 0, left);
      Atomics.store(this.signal, 0, 0);
      // Answers to requests that timed out earlier are skipped.
      for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
        const answer = m.message as WorkerAnswer;
        if (answer.id !== id) continue;
        if (answer.error) throw rebuild(answer.error);
        return answer.answer!;
      }
    }
  }
}

/** tsx's module API, its ES module build (`require.resolve` finds the CommonJS one). */
const tsxApi = (): string =>
  pathToFileURL(
    createRequire(import.meta.url)
      .resolve('tsx/esm/api')
      .replace(/\.cjs$/, '.mjs'),
  ).href;

/** What the worker sends back for request `id`. */
export interface WorkerAnswer {
  id: number;
  answer?: PostgresAnswer;
  error?: { message: string; code?: string; sqlState?: string };
}

const unreachableError = (message: string): Error =>
  Object.assign(new Error(message), { code: 'SFA_DB_UNREACHABLE' });

let bridge: Bridge | undefined;

/** The worker: started at the first use, and again if it ever stopped. */
function activeBridge(): Bridge {
  if (!bridge || bridge.stopped) bridge = new Bridge();
  return bridge;
}

function call(via: Bridge, request: PostgresRequest, timeouts: PostgresTimeouts): PostgresAnswer {
  // The worker bounds every request itself; this bound only catches a worker that hangs.
  // At worst the worker connects, sets the schema, then runs the statement (each bounded).
  return via.call(request, timeouts.connectMs + 2 * (timeouts.statementMs + 1000) + 5000);
}

/** A request on a connection: the handle is added when it is sent. */
type Op = PostgresRequest extends infer R
  ? R extends { handle: number }
    ? Omit<R, 'handle'>
    : never
  : never;

/** The worker's errors arrive as plain objects: give them back their fields. */
function rebuild(e: NonNullable<WorkerAnswer['error']>): Error {
  const out = new Error(e.message) as Error & { code?: string; sqlState?: string };
  if (e.code) out.code = e.code;
  if (e.sqlState) out.sqlState = e.sqlState;
  return out;
}

/** `?` placeholders become `$1…$n` (none of our statements has a `?` inside a string). */
function numberPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/'(?:[^']|'')*'|\?/g, (m) => (m === '?' ? `$${++n}` : m));
}

/** Statements that only read: run outside a transaction, they need no write lock. */
const READS_ONLY = /^\s*SELECT\b/i;

export class PostgresDatabase implements SqlDatabase {
  readonly dialect = 'postgres';
  readonly name: string;
  /** The worker holding this connection, and the connection's number there. */
  private via: Bridge;
  private handle: number;
  private depth = 0;
  open = true;
  /** The connection broke inside the current transaction: it is lost, say so until it ends. */
  private broken: Error | undefined;

  /**
   * Connect to `url` and work in `schema` (created if missing). Runs no migrations.
   * @throws an Error with code SFA_DB_UNREACHABLE when the server cannot be reached.
   */
  constructor(
    private readonly url: string,
    readonly schema: string,
    readonly timeouts: PostgresTimeouts = DEFAULT_POSTGRES_TIMEOUTS,
  ) {
    this.name = `${redactUrl(url)} (schema ${schema})`;
    this.via = activeBridge();
    this.handle = this.connect(this.via);
    try {
      this.checkCollation();
    } catch (e) {
      this.close();
      throw e;
    }
    // Two front-ends starting at once must not both create the schema.
    this.write(() => this.exec(`CREATE SCHEMA IF NOT EXISTS "${schema.replaceAll('"', '""')}"`));
  }

  /**
   * Text must sort by bytes, as in SQLite: dates are compared as text, and HRN prefixes are
   * ranges ('p.' to 'p/'). A database made with another locale would compare them differently.
   */
  private checkCollation(): void {
    const row = this.query(
      `SELECT datcollate AS collate, datctype AS ctype, datlocprovider AS provider
         FROM pg_database WHERE datname = current_database()`,
      [],
    ).rows[0] as { collate?: string; ctype?: string; provider?: string } | undefined;
    const byteOrder = (v: string | undefined) => v === 'C' || v === 'POSIX';
    // An ICU default (provider 'i') sorts by ICU whatever datcollate says.
    if (!byteOrder(row?.collate) || !byteOrder(row?.ctype) || row?.provider !== 'c') {
      throw Object.assign(
        new Error(
          `the PostgreSQL database ${redactUrl(this.url)} sorts text by the locale ` +
            `'${String(row?.collate)}'; sfa-ts needs byte order: create the database with ` +
            "'createdb --locale=C --template=template0 NAME'",
        ),
        { code: 'SFA_DB_COLLATION' },
      );
    }
  }

  /** Open this connection in the worker `via`; returns its number there. */
  private connect(via: Bridge): number {
    try {
      const open = {
        op: 'open' as const,
        url: this.url,
        schema: this.schema,
        timeouts: this.timeouts,
      };
      return call(via, open, this.timeouts).handle!;
    } catch (e) {
      (e as Error).message = `${(e as Error).message}: ${this.name}`;
      throw e;
    }
  }

  /** One request to the worker, on this connection. */
  private request(op: Op): PostgresAnswer {
    if (this.broken) throw this.broken;
    try {
      const via = activeBridge();
      if (via !== this.via) {
        // The worker stopped and another took its place: open this connection there, unless a
        // transaction was open on the old one (it is gone).
        if (this.depth > 0) {
          throw unreachableError('the database worker stopped in the middle of a transaction');
        }
        this.handle = this.connect(via);
        this.via = via;
      }
      return call(via, { ...op, handle: this.handle } as PostgresRequest, this.timeouts);
    } catch (e) {
      if ((e as { code?: string }).code === 'SFA_DB_UNREACHABLE') {
        // For the operator (the log, a command's error): which server. Remote callers are told
        // only that the database cannot be reached (storage-fault.ts).
        (e as Error).message = `${(e as Error).message}: ${this.name}`;
        if (this.depth > 0) this.broken = e as Error;
      }
      throw e;
    }
  }

  query(text: string, params: unknown[], name?: string): PostgresAnswer {
    const request = { op: 'query' as const, text, params, name };
    if (this.depth > 0 || READS_ONLY.test(text)) return this.request(request);
    // A write outside any transaction is a transaction of its own, under the write lock.
    return this.write(() => this.request(request));
  }

  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): Statement<P, R> {
    const text = numberPlaceholders(sql);
    // Named: the server parses and plans it once per connection.
    const name = `s${createHash('sha256').update(text).digest('hex').slice(0, 20)}`;
    const params = (values: unknown[]) => values.map(toParam);
    return {
      run: (...values: P): RunResult => ({
        changes: this.query(text, params(values), name).changes,
      }),
      get: (...values: P) => this.query(text, params(values), name).rows[0] as R | undefined,
      all: (...values: P) => this.query(text, params(values), name).rows as R[],
    };
  }

  exec(sql: string): void {
    this.request({ op: 'exec', text: sql });
  }

  /**
   * Exclusive writes hold the store's write lock alone; scoped writes hold it shared, with the
   * locks of what they touch (`lock`): Allocates of different nodes and slices run side by side,
   * and an exclusive writer (the reaper, an inventory change) waits until none is running.
   */
  write<T>(fn: () => T, mode: WriteMode = 'exclusive'): T {
    const how = mode === 'scoped' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
    // READ COMMITTED, whatever the server's default: each statement sees what the writers
    // before it committed, which is what waiting for a lock is for.
    return this.transaction(
      `BEGIN ISOLATION LEVEL READ COMMITTED; SELECT ${how}(hashtext('sfa-ts ${this.schema} writes'))`,
      fn,
    );
  }

  lock(keys: readonly LockKey[]): void {
    if (keys.length === 0) return;
    if (this.depth === 0) throw new Error('lock() is for the inside of a write transaction');
    const sorted = [...new Map(keys.map((k) => [`${k[0]}:${k[1]}`, k])).values()].sort(
      (a, b) => a[0] - b[0] || a[1] - b[1],
    );
    for (const [kind, id] of sorted) {
      if (!Number.isInteger(kind) || !Number.isInteger(id)) throw new TypeError('bad lock key');
    }
    // One statement, in key order: two writers always take their common keys in the same order.
    const values = sorted.map(([kind, id]) => `(${kind}, ${id})`).join(', ');
    this.exec(
      `SELECT count(pg_advisory_xact_lock(k.kind, k.id)) FROM (SELECT kind, id FROM (VALUES ${values}) AS v (kind, id) ORDER BY kind, id) AS k`,
    );
  }

  read<T>(fn: () => T): T {
    return this.transaction('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', fn);
  }

  private transaction<T>(begin: string, fn: () => T): T {
    const savepoint = `sp${this.depth}`;
    if (this.depth === 0) this.request({ op: 'begin', text: begin });
    else this.exec(`SAVEPOINT ${savepoint}`);
    this.depth++;
    let result: T;
    try {
      result = fn();
      if (result instanceof Promise) {
        throw new TypeError('Transaction function cannot return a promise');
      }
    } catch (e) {
      this.depth--;
      this.end(this.depth === 0 ? 'ROLLBACK' : `ROLLBACK TO SAVEPOINT ${savepoint}`);
      throw e;
    }
    this.depth--;
    if (this.depth === 0) {
      try {
        // The worker checks that the server really committed.
        this.request({ op: 'commit' });
      } catch (e) {
        this.broken = undefined;
        // Whatever happened, the worker's session must not stay inside this transaction.
        this.end('ROLLBACK');
        throw e;
      }
    } else {
      this.exec(`RELEASE SAVEPOINT ${savepoint}`);
    }
    return result;
  }

  /**
   * End a failed transaction (or roll back to its savepoint). A transaction whose connection was
   * lost is told to the worker all the same: it then lets the session be used again.
   */
  private end(statement: string): void {
    const lost = this.broken;
    if (this.depth === 0) this.broken = undefined;
    if (lost && this.depth > 0) return;
    try {
      if (this.depth === 0) call(this.via, { op: 'rollback', handle: this.handle }, this.timeouts);
      else this.exec(statement);
    } catch {
      // The error that got us here is the one to report.
    }
  }

  leads(task: string): boolean {
    try {
      return this.request({ op: 'lead', task }).changes === 1;
    } catch {
      return false;
    }
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.via === bridge && !this.via.stopped) {
      call(this.via, { op: 'close', handle: this.handle }, this.timeouts);
    }
  }
}

/** better-sqlite3 takes booleans as 0/1 and binds Buffers as blobs: the same here. */
function toParam(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v.toString();
  return v;
}
