/**
 * The data folder of an authority and its configuration file.
 *
 * Layout (created by `sfa init`, mode 0700):
 *   sfa.json                 configuration (below)
 *   keys/<hrn>.pkey          one private key per local authority, mode 0600
 *   gids/<hrn>.gid           the GID of each local authority (with its chain)
 *   trusted_roots/*.gid      the roots this authority trusts (its own first)
 *   registry.db              the registry's SQLite store, mode 0600 (with -wal, -shm)
 *   aggregate.db             the aggregate's SQLite store, mode 0600 (with -wal, -shm)
 *                            (neither when sfa.json names a PostgreSQL `store`)
 *   init.lock                while an `sfa init` runs
 *   web-tokens/<sha256>      one-time web login tokens (`sfa web login`), mode 0600
 *
 * Files are written whole or not at all (store/atomic-file.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CONNECTION_LIMITS, type ConnectionLimits } from './xmlrpc/connection-guard.js';
import { DEFAULT_CALL_LIMITS, type CallLimits } from './limits.js';
import { BadArgs } from './faults.js';
import { isPostgresUrl, redactUrl } from './store/postgres.js';

export interface Ports {
  registry: number;
  aggregate: number;
  slicemgr: number;
  /** The web view (plain HTTP, read-only). */
  web: number;
}

export interface SfaConfig {
  /** HRN of this interface's root authority, e.g. `ple`. */
  authority: string;
  /** The name clients reach this host by (printed URLs, sfi_config). */
  hostname: string;
  /** Address the servers bind to. */
  listen: string;
  ports: Ports;
  /** The slice manager's deadline for each aggregate it relays to. */
  relayTimeoutMs?: number;
  /** How long the slice manager serves a merged advertisement when no slice is named (0: never). */
  mergedAdCacheMs?: number;
  /** Bounds on connections at each port (see src/xmlrpc/connection-guard.ts for defaults). */
  connections?: Partial<ConnectionLimits>;
  /** What one call may ask for (see src/limits.ts for defaults). */
  limits?: Partial<CallLimits>;
  /**
   * A `postgres://` URL: the registry and the aggregate keep their data in that PostgreSQL
   * database (schemas `registry` and `aggregate`), which several front-ends may share. Absent:
   * the SQLite files of the data folder.
   */
  store?: string;
}

export const DEFAULT_PORTS: Ports = {
  registry: 12345,
  aggregate: 12346,
  slicemgr: 12347,
  web: 12380,
};

/** The data folder: `--dir`, else `$SFA_DIR`, else `~/.sfa`. */
export function dataDir(dir?: string): string {
  return resolve(dir ?? process.env['SFA_DIR'] ?? join(homedir(), '.sfa'));
}

export const paths = {
  config: (dir: string) => join(dir, 'sfa.json'),
  keys: (dir: string) => join(dir, 'keys'),
  key: (dir: string, hrn: string) => join(dir, 'keys', `${hrn}.pkey`),
  gids: (dir: string) => join(dir, 'gids'),
  gid: (dir: string, hrn: string) => join(dir, 'gids', `${hrn}.gid`),
  trustedRoots: (dir: string) => join(dir, 'trusted_roots'),
  database: (dir: string) => join(dir, 'registry.db'),
  aggregateDatabase: (dir: string) => join(dir, 'aggregate.db'),
  webTokens: (dir: string) => join(dir, 'web-tokens'),
};

/** Which of an authority's stores. */
export type StoreName = 'registry' | 'aggregate';

/** Where a store is: the PostgreSQL URL of sfa.json's `store`, else its SQLite file. */
export function storeLocation(
  dir: string,
  config: Pick<SfaConfig, 'store'>,
  which: StoreName,
): string {
  if (config.store !== undefined) return config.store;
  return which === 'registry' ? paths.database(dir) : paths.aggregateDatabase(dir);
}

/** Check a `store` setting (sfa.json, `--store`): a PostgreSQL URL. */
export function checkStoreUrl(value: unknown, where: string): string {
  if (typeof value !== 'string' || !isPostgresUrl(value)) {
    throw new BadArgs(
      `${where}: the store must be a postgres:// URL (postgres://USER@HOST:PORT/DATABASE); ` +
        'leave it out to keep the SQLite files of the data folder',
    );
  }
  try {
    new URL(value);
  } catch {
    throw new BadArgs(`${where}: '${redactUrl(value)}' is not a URL`);
  }
  return value;
}

function isPort(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 65536;
}

/** Read and check `sfa.json`; says what to fix when it is missing or wrong. */
export function loadConfig(dir: string): SfaConfig {
  const file = paths.config(dir);
  if (!existsSync(file)) {
    throw new BadArgs(`no authority in ${dir} (no sfa.json): run 'sfa init --dir ${dir}' first`);
  }
  let raw: Record<string, unknown>;
  const text = readFileSync(file, 'utf8');
  if (text.trim() === '') {
    // Left by an older version's interrupted write: only the operator knows the authority.
    throw new BadArgs(
      `${file} is empty (an interrupted write): run 'sfa init --dir ${dir} --authority <HRN>' ` +
        'with your authority to write it again',
    );
  }
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new BadArgs(`${file} is not valid JSON: ${(e as Error).message}`);
  }
  const ports = { ...DEFAULT_PORTS, ...((raw['ports'] as Partial<Ports> | undefined) ?? {}) };
  for (const [k, v] of Object.entries(ports)) {
    if (!isPort(v))
      throw new BadArgs(
        `${file}: ports.${k} must be a port number (1-65535), not ${JSON.stringify(v)}`,
      );
  }
  const authority = raw['authority'];
  if (typeof authority !== 'string' || authority === '') {
    throw new BadArgs(`${file}: 'authority' must be the HRN of this authority, e.g. "ple"`);
  }
  return {
    authority,
    hostname: typeof raw['hostname'] === 'string' ? raw['hostname'] : 'localhost',
    listen: typeof raw['listen'] === 'string' ? raw['listen'] : '0.0.0.0',
    ports,
    ...(typeof raw['relayTimeoutMs'] === 'number' && raw['relayTimeoutMs'] > 0
      ? { relayTimeoutMs: raw['relayTimeoutMs'] }
      : {}),
    ...(raw['connections'] !== undefined
      ? { connections: readConnectionLimits(raw['connections'], file) }
      : {}),
    ...(raw['limits'] !== undefined
      ? { limits: readPositiveIntegers(raw['limits'], DEFAULT_CALL_LIMITS, 'limits', file) }
      : {}),
    ...(raw['store'] !== undefined ? { store: checkStoreUrl(raw['store'], `${file}: store`) } : {}),
  };
}

/** `connections` in sfa.json, checked as Node will use them (headers come within the request). */
function readConnectionLimits(value: unknown, file: string): Partial<ConnectionLimits> {
  const limits = readPositiveIntegers(value, DEFAULT_CONNECTION_LIMITS, 'connections', file);
  const all = { ...DEFAULT_CONNECTION_LIMITS, ...limits };
  if (all.headersTimeoutMs > all.requestTimeoutMs) {
    throw new BadArgs(
      `${file}: connections.headersTimeoutMs (${all.headersTimeoutMs}) must not exceed connections.requestTimeoutMs (${all.requestTimeoutMs}): the headers are part of the request`,
    );
  }
  return limits;
}

/** `connections` or `limits` in sfa.json: some of `defaults`' keys, each a positive integer. */
function readPositiveIntegers<T extends object>(
  value: unknown,
  defaults: T,
  what: string,
  file: string,
): Partial<T> {
  const example = `{"${Object.keys(defaults)[0]}": ${Object.values(defaults)[0] as number}}`;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new BadArgs(`${file}: '${what}' must be an object such as ${example}`);
  }
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(value)) {
    if (!Object.hasOwn(defaults, k)) {
      throw new BadArgs(
        `${file}: ${what}.${k} is not one of the ${what}; they are ${Object.keys(defaults).join(', ')}`,
      );
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new BadArgs(
        `${file}: ${what}.${k} must be a positive whole number, not ${JSON.stringify(v)}`,
      );
    }
    out[k] = v;
  }
  return out as Partial<T>;
}
