/**
 * The PostgreSQL store's own promises, on a real server: a transaction is all or nothing even
 * when its connection is lost or its COMMIT is refused, a lock wait that times out leaves the
 * connection usable, and every such failure is a storage fault (DBERROR), never an internal one.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { PostgresDatabase, redactUrl, DEFAULT_POSTGRES_TIMEOUTS } from './postgres.js';
import { storageFault } from './storage-fault.js';

let pg: TestPostgres;
const open: PostgresDatabase[] = [];
beforeAll(async () => {
  pg = await startPostgres();
});
afterAll(async () => {
  for (const db of open) db.close();
  await pg?.close();
});

/** A fresh database with a table `t (id)`, through a store connection with `statementMs`. */
async function freshTable(statementMs = DEFAULT_POSTGRES_TIMEOUTS.statementMs) {
  const url = await pg.createDatabase();
  const db = new PostgresDatabase(url, 'x', { ...DEFAULT_POSTGRES_TIMEOUTS, statementMs });
  open.push(db);
  db.write(() => db.exec('CREATE TABLE t (id bigint PRIMARY KEY)'));
  const insert = db.prepare<[number]>('INSERT INTO t (id) VALUES (?)');
  const ids = () =>
    db
      .prepare<[], { id: number }>('SELECT id FROM t ORDER BY id')
      .all()
      .map((r) => r.id);
  return { url, db, insert, ids };
}

/** End the store's sessions that sit inside a transaction, as an administrator (or a crash) would. */
function terminateIdleInTransaction(url: string): void {
  execFileSync('psql', [
    '-d',
    url,
    '-qAtc',
    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'sfa-ts' AND state LIKE 'idle in transaction%'",
  ]);
}

describe('Security: a transaction whose connection is lost is kept whole or not at all', () => {
  it('fails the transaction, keeps none of it, and works again at the next one', async () => {
    const { url, db, insert, ids } = await freshTable();
    expect(() =>
      db.write(() => {
        insert.run(1);
        terminateIdleInTransaction(url);
        // Before, this ran on a new session without the transaction's locks, and committed.
        insert.run(2);
      }),
    ).toThrow(/lost in the middle of a transaction: none of it was kept/);
    expect(ids()).toEqual([]);
    db.write(() => insert.run(3));
    expect(ids()).toEqual([3]);
  });

  it('refuses a COMMIT that the server answers with ROLLBACK (an error caught inside)', async () => {
    const { db, insert, ids } = await freshTable();
    const e = (() => {
      try {
        db.write(() => {
          insert.run(1);
          // SQLite would go on after this; PostgreSQL has aborted the whole transaction.
          expect(() => insert.run(1)).toThrow();
        });
      } catch (err) {
        return err;
      }
      throw new Error('the write succeeded');
    })();
    expect((e as Error).message).toBe('the database rolled the transaction back');
    expect(storageFault(e)?.geniCode).toBe(9);
    expect(ids()).toEqual([]);
  });
});

describe('Security: one lock wait that times out jams the connection', () => {
  it('answers a storage fault, and the next write on the same connection works', async () => {
    const { url, insert, ids } = await freshTable();
    // A second store connection, patient for half a second only.
    const impatient = new PostgresDatabase(url, 'x', {
      ...DEFAULT_POSTGRES_TIMEOUTS,
      statementMs: 500,
    });
    open.push(impatient);
    const other = impatient.prepare<[number]>('INSERT INTO t (id) VALUES (?)');
    // Hold the write lock from outside this process for a second.
    const holder = execFileSync(
      'bash',
      [
        '-c',
        `psql -d '${url}' -qAtc "BEGIN; SELECT pg_advisory_xact_lock(hashtext('sfa-ts x writes')); SELECT pg_sleep(1.5); COMMIT" >/dev/null 2>&1 & echo started`,
      ],
      { encoding: 'utf8' },
    );
    expect(holder.trim()).toBe('started');
    await new Promise((r) => setTimeout(r, 300));
    let failure: unknown;
    try {
      impatient.write(() => other.run(1));
    } catch (e) {
      failure = e;
    }
    expect(storageFault(failure)?.message).toMatch(/did not answer in time/);
    await new Promise((r) => setTimeout(r, 1500));
    impatient.write(() => other.run(2));
    insert.run(3);
    expect(ids()).toEqual([2, 3]);
  });
});

describe('store URLs in messages', () => {
  it('never shows a password, in the user part or as a parameter', () => {
    expect(
      redactUrl('postgres://sfa:secret@db:5432/sfa?sslpassword=x&password=y&sslmode=require'),
    ).toBe('postgres://sfa:***@db:5432/sfa?sslpassword=***&password=***&sslmode=require');
  });

  it('refuses a database that does not sort text by bytes, saying how to create one', async () => {
    const url = await pg.createDatabase();
    const icu = url.replace(/\/[^/]+$/, '/icu_db');
    execFileSync('psql', [
      '-d',
      url,
      '-qc',
      "CREATE DATABASE icu_db TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'",
    ]);
    expect(() => new PostgresDatabase(icu, 'x')).toThrow(
      /createdb --locale=C --template=template0/,
    );
  });
});
