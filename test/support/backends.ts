/**
 * Run a store's tests on both backends: the embedded SQLite (a file in the test file's temporary
 * folder) and PostgreSQL (a fresh database on a real server, test/support/postgres.ts).
 *
 *   const tmp = tempRoot('my-store');
 *   describeBackends('MyStore', tmp, (where) => {
 *     it('…', () => {
 *       const store = MyStore.open(where.fresh()); // a file path, or a postgres:// URL
 *       …
 *     });
 *   });
 *
 * The PostgreSQL server is started at most once per test file, lazily (before the first test
 * that runs on it: a file whose PostgreSQL tests are all skipped or filtered out starts none),
 * and stopped and removed after the file's last test. Each test gets fresh databases: they are
 * created (asynchronously) before it, in a `beforeEach`, so that `fresh()` is synchronous, as
 * the stores' `open` is. When PostgreSQL is not installed, the PostgreSQL variant is skipped and
 * its title says why.
 *
 * Import this module before registering the file's own `afterAll` hooks (at the top of the file,
 * as usual): its hook stopping the server then runs after them.
 */
import { join } from 'node:path';
import { afterAll, beforeEach, describe } from 'vitest';
import { postgresMissing, startPostgres, type TestPostgres } from './postgres.js';
import type { TempRoot } from './tmp.js';

export const BACKENDS = ['sqlite', 'postgres'] as const;
export type Backend = (typeof BACKENDS)[number];

/** Why `backend` cannot run here (for `describe.skipIf`), or undefined when it can. */
export function backendMissing(backend: Backend): string | undefined {
  return backend === 'postgres' ? postgresMissing() : undefined;
}

export interface BackendLocations {
  readonly backend: Backend;
  /**
   * A new, empty store location: a SQLite file path in the test file's temporary folder, or the
   * `postgres://` URL of a fresh database. Synchronous; on PostgreSQL at most `perTest` calls per
   * test (the databases are made before the test starts).
   */
  fresh(): string;
}

export interface BackendOptions {
  /** How many fresh PostgreSQL databases one test may take (default 2). */
  perTest?: number;
  /** The SQLite files' name (default `store`): `<tmp>/<name><n>.db`. */
  name?: string;
}

// One server per test file (vitest gives each file its own module instances).
let server: Promise<TestPostgres> | undefined;
afterAll(async () => {
  const running = server;
  server = undefined;
  if (running === undefined) return;
  let pg: TestPostgres;
  try {
    pg = await running;
  } catch {
    return; // it never started: the tests that needed it failed saying why
  }
  await pg.close();
});

/** The file's server, started on first use. */
export function testPostgres(): Promise<TestPostgres> {
  server ??= startPostgres();
  return server;
}

let files = 0;

/**
 * Fresh locations on `backend`. Call it in a `describe` body (or at the top level): for
 * PostgreSQL it registers a `beforeEach` that makes the databases the next test may take.
 */
export function backendLocations(
  backend: Backend,
  tmp: TempRoot,
  options: BackendOptions = {},
): BackendLocations {
  const name = options.name ?? 'store';
  if (backend === 'sqlite') {
    return { backend, fresh: () => join(tmp.path, `${name}${++files}.db`) };
  }
  const perTest = options.perTest ?? 2;
  // Databases made for a test and not taken: still empty, the next test may have them.
  const ready: string[] = [];
  let taken = 0;
  beforeEach(async () => {
    taken = 0;
    const pg = await testPostgres();
    while (ready.length < perTest) ready.push(await pg.createDatabase());
  });
  return {
    backend,
    fresh() {
      const url = ready.shift();
      if (url === undefined) {
        throw new Error(
          taken === 0
            ? 'no PostgreSQL database ready: call fresh() inside a test (or a beforeEach registered after backendLocations)'
            : `this test takes more than ${perTest} fresh PostgreSQL databases: raise backendLocations' perTest`,
        );
      }
      taken++;
      return url;
    },
  };
}

/**
 * `describe(title)` once per backend, each titled with its backend; `body` gets the backend's
 * locations. The PostgreSQL variant is skipped, saying why, when PostgreSQL is missing here.
 */
export function describeBackends(
  title: string,
  tmp: TempRoot,
  body: (where: BackendLocations) => void,
  options: BackendOptions = {},
): void {
  for (const backend of BACKENDS) {
    const missing = backendMissing(backend);
    const label = missing === undefined ? backend : `${backend}, skipped: ${missing}`;
    describe.skipIf(missing !== undefined)(`${title} [${label}]`, () => {
      body(backendLocations(backend, tmp, options));
    });
  }
}
