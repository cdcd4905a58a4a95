/**
 * `sfa store copy`: move an authority's data from its SQLite files to PostgreSQL, so that
 * several front-ends can serve it. The copy goes into an empty database and is checked before
 * the command says done; the SQLite files are left as they were. Passwords in URLs are never
 * printed.
 */
import type { Command } from 'commander';
import { dataDir } from '../config.js';
import { copyStore, type StoreCopy } from '../store/copy-store.js';
import { action } from './io.js';

interface CopyFlags {
  from?: string;
  to: string;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** `copied registry: 23 rows (records 7, user_keys 3, …)`. */
function copiedLine(s: StoreCopy): string {
  const total = s.tables.reduce((sum, t) => sum + t.rows, 0);
  const tables = s.tables.map((t) => `${t.table} ${t.rows}`).join(', ');
  return `copied ${s.store}: ${plural(total, 'row')} (${tables})`;
}

function copy(o: CopyFlags): void {
  const from = dataDir(o.from);
  const report = copyStore({ from, to: o.to });
  const lines = report.stores.map(copiedLine);
  const tables = report.stores.reduce((sum, s) => sum + s.tables.length, 0);
  lines.push(
    `checked: ${plural(tables, 'table')} hold the same rows, and every record reads the same`,
    `done: ${report.authority} copied from ${from} to ${report.to}; to use it, set "store" ` +
      `in ${from}/sfa.json to the --to URL and restart the servers`,
  );
  process.stdout.write(lines.join('\n') + '\n');
}

export function registerStoreCommands(program: Command): void {
  const store = program
    .command('store')
    .description("the authority's data stores: SQLite files or a PostgreSQL database");
  store
    .command('copy')
    .description(
      "copy an authority's SQLite stores (registry.db, aggregate.db) into an empty PostgreSQL " +
        'database, in one transaction per store, and check the copy; the SQLite files are not changed',
    )
    .option('--from <dir>', 'data folder to copy (default: $SFA_DIR, else ~/.sfa)')
    .requiredOption(
      '--to <url>',
      'the empty PostgreSQL database: postgres://USER[:PASSWORD]@HOST:PORT/DATABASE',
    )
    .action(action(copy));
}
