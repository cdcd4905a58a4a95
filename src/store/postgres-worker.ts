/**
 * The worker thread behind the PostgreSQL store (`postgres.ts`): it holds the connections (one
 * `pg` client per open store) and answers one request at a time while the calling thread waits
 * (Atomics.wait). Everything that can hang is bounded here, so that the caller's wait is too: the
 * connection attempt, each statement (server side and client side), an idle transaction.
 */
import pg from 'pg';
import { workerData, type MessagePort } from 'node:worker_threads';
import type {
  PostgresRequest,
  PostgresAnswer,
  PostgresTimeouts,
  WorkerAnswer,
} from './postgres.js';

// Counts and ids are bigint in the schema (SQLite's integers are 64-bit); they are read as
// numbers, as better-sqlite3 gives them. sum() of bigint is numeric: also a number.
pg.types.setTypeParser(pg.types.builtins.INT8, Number);
pg.types.setTypeParser(pg.types.builtins.NUMERIC, Number);

interface Connection {
  url: string;
  schema: string;
  timeouts: PostgresTimeouts;
  client: pg.Client | undefined;
  /** When the last attempt to reach the server failed: no new attempt for a moment. */
  failedAt: number;
  lastFailure: string;
  /** Session advisory locks held on the current client (lost with it). */
  leads: Set<string>;
  /** A transaction is open on the current client (from `begin` to `commit` or `rollback`). */
  inTransaction: boolean;
  /**
   * The client was lost while a transaction was open: that transaction is gone, and nothing may
   * run on a new session in its place (it would hold none of its locks nor its writes) until the
   * calling thread ends it (`rollback`).
   */
  lostTransaction: boolean;
}

const connections = new Map<number, Connection>();
let nextHandle = 1;

/** An error the calling thread rebuilds: its message, SQLSTATE and our own code. */
class Failure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly sqlState: string | undefined,
  ) {
    super(message);
  }
}

/**
 * SQLSTATE classes 08 (connection), 57P01-57P03 (server shutting down or starting) and 53300
 * (too many connections), and node's socket errors: the server is not there, not a bad query.
 */
function isUnreachable(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') {
    return /connection|terminat|timeout|ECONN|socket/i.test(String((e as Error)?.message));
  }
  return /^(08|57P0[1-3]|53300|E[A-Z]+)/.test(code);
}

/** The client is gone: so are its session locks and any transaction open on it. */
function forget(conn: Connection): void {
  const client = conn.client;
  conn.client = undefined;
  conn.leads.clear();
  if (conn.inTransaction) conn.lostTransaction = true;
  conn.inTransaction = false;
  client?.end().catch(() => undefined);
}

function unreachable(conn: Connection, e: unknown): Failure {
  const why = e instanceof Error ? e.message : String(e);
  conn.failedAt = Date.now();
  conn.lastFailure = why;
  forget(conn);
  const sqlState = (e as { code?: unknown } | null)?.code;
  return new Failure(
    `the database server cannot be reached (${why})`,
    'SFA_DB_UNREACHABLE',
    typeof sqlState === 'string' && /^[0-9A-Z]{5}$/.test(sqlState) ? sqlState : undefined,
  );
}

async function connect(conn: Connection): Promise<pg.Client> {
  if (conn.client) return conn.client;
  if (Date.now() - conn.failedAt < conn.timeouts.retryAfterMs) {
    throw new Failure(
      `the database server cannot be reached (${conn.lastFailure})`,
      'SFA_DB_UNREACHABLE',
      undefined,
    );
  }
  const client = new pg.Client({
    connectionString: conn.url,
    connectionTimeoutMillis: conn.timeouts.connectMs,
    query_timeout: conn.timeouts.statementMs + 1000,
    statement_timeout: conn.timeouts.statementMs,
    // A front-end that stops mid-transaction must not hold the write lock for long.
    idle_in_transaction_session_timeout: conn.timeouts.idleInTransactionMs,
    keepAlive: true,
    application_name: 'sfa-ts',
  });
  // A server restart drops the connection between requests: note it, reconnect at the next.
  client.on('error', () => {
    if (conn.client === client) forget(conn);
  });
  try {
    await client.connect();
    await client.query(`SET search_path TO ${quoteIdent(conn.schema)}`);
  } catch (e) {
    client.end().catch(() => undefined);
    throw unreachable(conn, e);
  }
  conn.client = client;
  return client;
}

const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`;

function need(handle: number): Connection {
  const conn = connections.get(handle);
  if (!conn) throw new Failure(`no open database connection ${handle}`, undefined, undefined);
  return conn;
}

/** Refuse to run a transaction's statements on a session that is not the transaction's. */
const lostTransaction = (): Failure =>
  new Failure(
    'the connection to the database server was lost in the middle of a transaction: none of it was kept',
    'SFA_DB_UNREACHABLE',
    undefined,
  );

async function run(conn: Connection, request: PostgresRequest): Promise<PostgresAnswer> {
  if (conn.lostTransaction) {
    if (request.op === 'rollback') {
      conn.lostTransaction = false;
      return { rows: [], changes: 0 };
    }
    throw lostTransaction();
  }
  if (request.op === 'rollback' && !conn.inTransaction) return { rows: [], changes: 0 };
  const client = await connect(conn);
  try {
    switch (request.op) {
      case 'begin':
        try {
          await client.query(request.text);
          conn.inTransaction = true;
        } catch (e) {
          // BEGIN may have opened the transaction before its lock statement failed (a lock
          // wait that timed out): close it, or every later statement fails on it.
          await client.query('ROLLBACK').catch(() => undefined);
          throw e;
        }
        return { rows: [], changes: 0 };
      case 'commit': {
        conn.inTransaction = false;
        const r = await client.query('COMMIT');
        // A transaction that failed inside answers COMMIT with ROLLBACK, and no error.
        if (r.command !== 'COMMIT') {
          throw new Failure('the database rolled the transaction back', undefined, '40000');
        }
        return { rows: [], changes: 0 };
      }
      case 'rollback':
        conn.inTransaction = false;
        await client.query('ROLLBACK');
        return { rows: [], changes: 0 };
      case 'query': {
        const r = await client.query({
          text: request.text,
          values: request.params,
          ...(request.name ? { name: request.name } : {}),
        });
        return { rows: r.rows as Record<string, unknown>[], changes: r.rowCount ?? 0 };
      }
      case 'exec':
        await client.query(request.text);
        return { rows: [], changes: 0 };
      case 'lead': {
        if (conn.leads.has(request.task)) return { rows: [], changes: 1 };
        const r = await client.query<{ held: boolean }>(
          'SELECT pg_try_advisory_lock(hashtext($1)) AS held',
          [`sfa-ts ${conn.schema} ${request.task}`],
        );
        if (r.rows[0]?.held) conn.leads.add(request.task);
        return { rows: [], changes: r.rows[0]?.held ? 1 : 0 };
      }
      default:
        throw new Failure(
          `unknown request ${(request as { op: string }).op}`,
          undefined,
          undefined,
        );
    }
  } catch (e) {
    if (e instanceof Failure) throw e;
    if (isUnreachable(e)) throw unreachable(conn, e);
    const err = e as { message?: string; code?: string };
    throw new Failure(err.message ?? String(e), undefined, err.code);
  }
}

async function answer(request: PostgresRequest): Promise<PostgresAnswer> {
  switch (request.op) {
    case 'open': {
      const handle = nextHandle++;
      const conn: Connection = {
        url: request.url,
        schema: request.schema,
        timeouts: request.timeouts,
        client: undefined,
        failedAt: 0,
        lastFailure: '',
        leads: new Set(),
        inTransaction: false,
        lostTransaction: false,
      };
      connections.set(handle, conn);
      try {
        await connect(conn);
      } catch (e) {
        connections.delete(handle);
        throw e;
      }
      return { rows: [], changes: 0, handle };
    }
    case 'close': {
      const conn = connections.get(request.handle);
      connections.delete(request.handle);
      await conn?.client?.end().catch(() => undefined);
      return { rows: [], changes: 0 };
    }
    default:
      return run(need(request.handle), request);
  }
}

const { signal, port } = workerData as { signal: Int32Array; port: MessagePort };
/** One request at a time, in order: the calling thread waits for each. */
let queue: Promise<void> = Promise.resolve();
port.on('message', ({ id, request }: { id: number; request: PostgresRequest }) => {
  queue = queue.then(async () => {
    let out: WorkerAnswer;
    try {
      out = { id, answer: await answer(request) };
    } catch (e) {
      const { message, code, sqlState } = e as Failure;
      out = { id, error: { message: message ?? String(e), code, sqlState } };
    }
    port.postMessage(out);
    Atomics.store(signal, 0, 1);
    Atomics.notify(signal, 0);
  });
});
