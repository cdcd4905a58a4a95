/**
 * Storage failures (a full disk, a read-only or vanished data folder, an I/O error) are the
 * operator's to fix, not the caller's and not a bug: they answer DBERROR (geni_code 9) with a
 * message that says so, instead of a generic internal error.
 */
import { DbError } from '../faults.js';

/** Error codes of node:fs (errno names) and of SQLite (better-sqlite3's `code`), by cause. */
const CAUSES: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  SQLITE_FULL: 'the disk is full',
  EROFS: 'the data folder is on a read-only file system',
  SQLITE_READONLY: 'the database is read-only',
  EACCES: 'the data folder is not writable',
  EIO: 'an I/O error occurred',
  SQLITE_IOERR: 'an I/O error occurred',
  SQLITE_CORRUPT: 'the database is damaged',
  SQLITE_CANTOPEN: 'the database cannot be opened',
  SQLITE_BUSY: 'the database stayed locked by another process',
  SFA_DAMAGED_FILE: 'a file in the data folder is damaged',
  // The PostgreSQL store (postgres.ts): the server is down, restarting or unreachable.
  SFA_DB_UNREACHABLE: 'the database server cannot be reached',
  SFA_DB_COLLATION: 'the database is not set up as sfa-ts needs',
};

/** PostgreSQL's SQLSTATEs that are the operator's to fix, not the caller's. */
const POSTGRES_CAUSES: Readonly<Record<string, string>> = {
  '57014': 'the database did not answer in time',
  '55P03': 'the database stayed locked by another front-end',
  '53100': 'the database server is out of disk space',
  '53200': 'the database server is out of memory',
  '53300': 'the database server has too many connections',
  '25006': 'the database is read-only',
  '42501': 'the database user lacks a privilege',
  '3D000': 'the database does not exist',
  '28000': 'the database refused the login',
  '28P01': 'the database refused the password',
};

/**
 * A file of the data folder that exists but cannot be used (a truncated key left by an older
 * version's interrupted write). Never repaired silently: the message names the file and what the
 * operator should do, and the remote caller gets DBERROR without it.
 */
export class DamagedFileError extends Error {
  readonly code = 'SFA_DAMAGED_FILE';
  constructor(
    readonly path: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DamagedFileError';
  }
}

/**
 * What storage failure `e` is, in words ("the disk is full"), or undefined when it is none:
 * for the command line, which prints it with the error's own message (paths included, since the
 * reader is the operator).
 */
export function storageCause(e: unknown): string | undefined {
  const sqlState = (e as { sqlState?: unknown } | null)?.sqlState;
  if (typeof sqlState === 'string' && Object.hasOwn(POSTGRES_CAUSES, sqlState)) {
    return POSTGRES_CAUSES[sqlState];
  }
  if (typeof sqlState === 'string' && /^40/.test(sqlState)) {
    return 'the database gave the call up (a conflict with another front-end)';
  }
  // Any other failure of the server's own (not bad data, class 22 and 23, nor a query this
  // program got wrong, class 42 and our triggers' P0): the operator's to look at.
  if (typeof sqlState === 'string' && !/^(22|23|42|P0)/.test(sqlState)) {
    return `the database server failed (SQLSTATE ${sqlState})`;
  }
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  // SQLite extended codes (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED…) share their base's cause.
  const base = Object.hasOwn(CAUSES, code) ? code : code.replace(/^(SQLITE_[A-Z]+)_.*$/, '$1');
  return Object.hasOwn(CAUSES, base) ? CAUSES[base] : undefined;
}

/**
 * The DBERROR for `e` when it is a storage failure, else undefined. The message names the
 * cause and never the internals (paths stay in the log).
 */
export function storageFault(e: unknown): DbError | undefined {
  const cause = storageCause(e);
  if (!cause) return undefined;
  return new DbError(
    `storage failure at this authority: ${cause}; the call did not take effect, try again once the operator has fixed it`,
    { cause: e },
  );
}
