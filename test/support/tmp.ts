/**
 * Temporary folders for tests. Each test file makes one folder of its own (`mkdtemp`, so two
 * runs at once never share a name), creates everything inside it, and removes it after its
 * tests, passed or failed. Nothing is written to the system temporary folder under a fixed name.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A new empty folder `<under>/sfa-<prefix>-XXXXXX` (under the system temporary folder by default). */
export function makeTempDir(prefix: string, under: string = tmpdir()): string {
  return mkdtempSync(join(under, `sfa-${prefix}-`));
}

/** Remove `dir` and everything in it; a folder already gone is fine. */
export function removeTempDir(dir: string): void {
  // Retries: a child process killed a moment ago may still be closing its files.
  rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
}

export interface TempRoot {
  /** The test file's own folder, made on first use. */
  readonly path: string;
  /** A new empty folder `<path>/<prefix>-XXXXXX`. */
  dir(prefix?: string): string;
}

/**
 * The calling test file's own temporary folder, removed by an `afterAll` hook whatever the tests
 * did. Call it at the top level of a test file (or in a `describe` body), where hooks can be
 * registered, before the file's own afterAll hooks. The folder is made only when first used, so
 * a file whose tests are all skipped (or filtered out) leaves nothing behind.
 */
export function tempRoot(name: string): TempRoot {
  let root: string | undefined;
  // Vitest runs "after" hooks in reverse order: called before the file registers its own
  // afterAll (closing servers and databases), this one runs last, once nothing holds the files.
  afterAll(() => {
    if (root !== undefined) removeTempDir(root);
    root = undefined;
  });
  const path = (): string => (root ??= makeTempDir(`test-${name}`));
  return {
    get path() {
      return path();
    },
    dir: (prefix = 'd') => mkdtempSync(join(path(), `${prefix}-`)),
  };
}
