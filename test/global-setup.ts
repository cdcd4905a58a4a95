/**
 * Once per `vitest run`, before any test and after the last one (vitest.config.ts globalSetup).
 *
 * Before: stop at once, saying what to install, when a program the tests run is missing
 * (test/support/tools.ts), PostgreSQL's server included (test/support/postgres.ts).
 *
 * During: the run gets a temporary folder of its own, `<tmpdir>/sfa-test-run-XXXXXX`, as TMPDIR
 * for the test workers and every process they start, so two runs at once never share a name.
 * Each test still makes and removes its own folder inside it (test/support/tmp.ts).
 *
 * The PostgreSQL servers the tests start run as the unprivileged `postgres` user, which cannot
 * enter the run's folder (mode 0700, root's): they get a second folder, mode 0711, the same way
 * checked (SFA_TEST_PG_DIR).
 *
 * After: the run's folder must be empty but for tsx's transpile cache (written by the `sfa`
 * processes the tests start, shared by the whole run). Anything else is a test that did not
 * clean up: the run fails, naming what was left, and the folder is removed either way.
 */
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postgresMissing } from './support/postgres.js';
import { missingToolsMessage } from './support/tools.js';

/** What a run may leave in its folder: tsx's cache (`tsx-<uid>`), shared by the run's processes. */
const EXPECTED = /^tsx-[^/]+$/;

/** The entries of a run's folder that a test left behind. */
export function leftovers(runDir: string): string[] {
  return readdirSync(runDir)
    .filter((name) => !EXPECTED.test(name))
    .sort();
}

export default function setup(): () => void {
  const missing = missingToolsMessage();
  if (missing !== undefined) throw new Error(missing);
  const noPostgres = postgresMissing();
  if (noPostgres !== undefined) {
    throw new Error(
      `The PostgreSQL store's tests need a PostgreSQL server: ${noPostgres}; then run the tests again.`,
    );
  }

  const previous = process.env['TMPDIR'];
  const runDir = mkdtempSync(join(tmpdir(), 'sfa-test-run-'));
  const pgDir = mkdtempSync(join(tmpdir(), 'sfa-test-pg-'));
  chmodSync(pgDir, 0o711); // enterable by the postgres user, not listable
  // Workers are started after global setup, with process.env: they and their children inherit it.
  process.env['TMPDIR'] = runDir;
  process.env['SFA_TEST_PG_DIR'] = pgDir;

  return () => {
    if (previous === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = previous;
    delete process.env['SFA_TEST_PG_DIR'];
    const left = [...leftovers(runDir), ...readdirSync(pgDir).map((n) => join(pgDir, n))];
    rmSync(runDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    rmSync(pgDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    if (left.length > 0) {
      // An error thrown here is printed but leaves the exit status 0: set it ourselves.
      process.exitCode = 1;
      console.error(
        `\nFAIL: the tests left ${left.length} ${left.length === 1 ? 'entry' : 'entries'} in ` +
          `their temporary folder ${runDir} (removed now): ${left.join(', ')}.\n` +
          'Every test must remove what it makes, pass or fail: see test/support/tmp.ts.\n',
      );
    }
  };
}
