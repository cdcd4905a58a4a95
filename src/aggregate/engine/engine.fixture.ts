/**
 * Shared set-up for the engine's tests: engines on real SQLite files in a temporary
 * directory, or on PostgreSQL databases (describeEngine), a small inventory, a fixed clock,
 * and a helper asserting the exact fault.
 */
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import {
  describeBackends,
  type Backend,
  type BackendLocations,
  type BackendOptions,
} from '../../../test/support/backends.js';
import { tempRoot } from '../../../test/support/tmp.js';
import type { GeniFault } from '../../faults.js';
import { AggregateEngine, type EngineOptions } from './engine.js';
import type { Inventory } from './inventory.js';
import type { RequestedSliver } from './types.js';

export const NOW = new Date('2026-11-25T12:00:00Z');
export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const at = (ms: number): Date => new Date(NOW.getTime() + ms);
/** The slice credential's expiry in most tests. */
export const CRED_EXPIRES = at(30 * DAY);

export const SLICE_A = 'urn:publicid:IDN+ple:inria+slice+alpha';
export const SLICE_B = 'urn:publicid:IDN+ple:upmc+slice+beta';
export const SLICE_C = 'urn:publicid:IDN+plc:princeton+slice+gamma';

/**
 * Two sites; shared nodes with small capacities, an exclusive one, and one that is down.
 *   s1.inria.fr  shared, 2 slivers, 4 CPU shares
 *   s2.inria.fr  shared, 3 slivers, 3 CPU shares
 *   s3.upmc.fr   shared, 3 slivers, 6 CPU shares, load 2.5
 *   x1.inria.fr  exclusive, 4 slivers
 *   x2.upmc.fr   exclusive, 4 slivers
 *   d1.upmc.fr   down
 */
export function smallInventory(): Inventory {
  return {
    sites: [
      {
        loginBase: 'inria',
        name: 'INRIA',
        country: 'FR',
        city: 'Sophia Antipolis',
        latitude: 43.6158,
        longitude: 7.0682,
      },
      { loginBase: 'upmc', name: 'UPMC', country: 'FR', city: 'Paris' },
    ],
    nodes: [
      { hostname: 's1.inria.fr', site: 'inria', maxSlivers: 2, cpuShares: 4, loadAverage: 0.1 },
      { hostname: 's2.inria.fr', site: 'inria', maxSlivers: 3, cpuShares: 3, loadAverage: 0.2 },
      { hostname: 's3.upmc.fr', site: 'upmc', maxSlivers: 3, cpuShares: 6, loadAverage: 2.5 },
      { hostname: 'x1.inria.fr', site: 'inria', exclusive: true, maxSlivers: 4, cpuShares: 8 },
      { hostname: 'x2.upmc.fr', site: 'upmc', exclusive: true, maxSlivers: 4, cpuShares: 8 },
      { hostname: 'd1.upmc.fr', site: 'upmc', bootState: 'down' },
    ],
  };
}

export const NODE = (hostname: string): string => {
  const site = hostname.includes('inria') ? 'inria' : 'upmc';
  return `urn:publicid:IDN+ple:${site}+node+${hostname}`;
};

/** A bound request node. */
export const on = (
  clientId: string,
  hostname: string,
  extra: Partial<RequestedSliver> = {},
): RequestedSliver => ({ clientId, componentId: NODE(hostname), ...extra });

// Imported before a test file registers its own hooks: removed after them.
const tmp = tempRoot('aggregate-engine');
let n = 0;
/** A fresh SQLite file (whatever the backend of the test). */
export const freshPath = (): string => join(tmp.path, `aggregate${++n}.db`);

/** The locations of the describeEngine block whose test runs now, if any. */
let where: BackendLocations | undefined;

/**
 * A fresh store location on the backend of the running test: in a describeEngine block, a SQLite
 * file or a fresh PostgreSQL database's URL; elsewhere a SQLite file (freshPath).
 */
export const freshLocation = (): string => (where ? where.fresh() : freshPath());

/**
 * `describe(title)` once per backend (test/support/backends.ts): inside, openEngine() and
 * freshLocation() use that backend. The PostgreSQL variant is skipped, saying why, when
 * PostgreSQL is not installed.
 */
export function describeEngine(
  title: string,
  body: (backend: Backend) => void,
  options: BackendOptions = {},
): void {
  describeBackends(
    title,
    tmp,
    (locations) => {
      beforeEach(() => {
        where = locations;
      });
      afterEach(() => {
        where = undefined;
      });
      body(locations.backend);
    },
    { name: 'engine', ...options },
  );
}

const opened: AggregateEngine[] = [];
afterEach(() => {
  for (const e of opened.splice(0)) if (e.store.db.open) e.close();
});

/**
 * An engine on a fresh database of the test's backend (freshLocation), or at `path` (a SQLite
 * file or a `postgres://` URL), with the small inventory loaded unless told.
 */
export function openEngine(
  options: EngineOptions & { path?: string; inventory?: Inventory | null } = {},
): AggregateEngine {
  const { path, inventory, ...engineOptions } = options;
  const engine = AggregateEngine.open(path ?? freshLocation(), engineOptions);
  opened.push(engine);
  if (inventory !== null) engine.loadInventory(inventory ?? smallInventory());
  return engine;
}

/** Run `fn`, expect the fault `cls` with `code`; returns it for more checks on the message. */
export function fault<T extends GeniFault>(
  cls: abstract new (...args: never[]) => T,
  code: number,
  fn: () => unknown,
): T {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    expect((e as T).geniCode).toBe(code);
    return e as T;
  }
  throw new Error(`expected ${cls.name}`);
}

/** Allocate with the usual options. */
export function alloc(
  engine: AggregateEngine,
  slice: string,
  nodes: RequestedSliver[],
  extra: {
    now?: Date;
    expires?: Date;
    leases?: Parameters<AggregateEngine['allocate']>[1]['leases'];
  } = {},
) {
  return engine.allocate(
    slice,
    { nodes, ...(extra.leases ? { leases: extra.leases } : {}) },
    { now: extra.now ?? NOW, expires: extra.expires ?? CRED_EXPIRES },
  );
}

/** Allocate then provision with the usual options. */
export function allocProvision(
  engine: AggregateEngine,
  slice: string,
  nodes: RequestedSliver[],
  now: Date = NOW,
) {
  const allocated = alloc(engine, slice, nodes, { now });
  return engine.provision(
    allocated.slivers.map((s) => s.urn),
    { now, credentialExpires: CRED_EXPIRES },
  );
}
