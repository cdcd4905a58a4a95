/**
 * The test PostgreSQL server itself (test/support/postgres.ts): a real server, run as an
 * unprivileged user, reachable on loopback, stopped and started at will, gone after close().
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  postgresAvailable,
  postgresBinDir,
  postgresMissing,
  startPostgres,
  type TestPostgres,
} from './postgres.js';

/** `psql -d url -c sql` with the server's own psql: its output rows, or the error it printed. */
function psql(url: string, sql: string): { ok: boolean; out: string } {
  const r = spawnSync(
    join(postgresBinDir()!, 'psql'),
    ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', url, '-c', sql],
    { encoding: 'utf8', timeout: 20_000, env: { ...process.env, PGCONNECT_TIMEOUT: '5' } },
  );
  return {
    ok: r.status === 0,
    out: r.status === 0 ? r.stdout.trim() : `${r.stderr}${r.error ?? ''}`,
  };
}

function refused(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(false);
    });
    socket.once('error', (e: NodeJS.ErrnoException) => done(e.code === 'ECONNREFUSED'));
  });
}

/** The real user id of process `pid`, or undefined when there is no such process. */
function uidOf(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
  } catch {
    return undefined;
  }
}

/** Processes whose command line mentions `text`. */
function processesMentioning(text: string): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe.skipIf(!postgresAvailable())(`test PostgreSQL server ${postgresMissing() ?? ''}`, () => {
  let pg: TestPostgres;
  let url: string;

  beforeAll(async () => {
    pg = await startPostgres();
  });
  afterAll(async () => {
    await pg?.close();
  });

  it('gives URLs of fresh databases on loopback that psql can use', async () => {
    url = await pg.createDatabase();
    expect(url).toMatch(new RegExp(`^postgres://sfa@127\\.0\\.0\\.1:${pg.port}/\\w+$`));
    expect(psql(url, 'select 1')).toEqual({ ok: true, out: '1' });
    const other = await pg.createDatabase();
    expect(other).not.toBe(url);
    const named = await pg.createDatabase('named_db');
    expect(named).toBe(`postgres://sfa@127.0.0.1:${pg.port}/named_db`);
    expect(psql(named, 'select current_database()')).toEqual({ ok: true, out: 'named_db' });
    await expect(pg.createDatabase('named_db')).rejects.toThrow(/already exists/);
    expect(psql(url, 'create table t (x int); insert into t values (42)').ok).toBe(true);
  });

  it('runs the server as an unprivileged user, with its settings', () => {
    const uid = uidOf(pg.pid!);
    expect(uid).toBeDefined();
    expect(uid).not.toBe(0);
    if (process.getuid!() !== 0) expect(uid).toBe(process.getuid!());
    expect(psql(url, 'show max_connections').out).toBe('200');
    expect(psql(url, 'show listen_addresses').out).toBe('127.0.0.1');
    expect(psql(url, 'show server_encoding').out).toBe('UTF8');
  });

  it('stops: connections are refused until it is started again, data kept', async () => {
    const pid = pg.pid!;
    await pg.stop();
    expect(pg.pid).toBeUndefined();
    expect(uidOf(pid)).toBeUndefined();
    expect(await refused(pg.port)).toBe(true);
    expect(psql(url, 'select 1').ok).toBe(false);
    await pg.stop(); // idempotent
    await pg.start();
    expect(psql(url, 'select x from t')).toEqual({ ok: true, out: '42' });
  });

  it('restarts on the same port with the same data', async () => {
    const pid = pg.pid!;
    const port = pg.port;
    await pg.restart();
    expect(pg.pid).not.toBe(pid);
    expect(uidOf(pid)).toBeUndefined();
    expect(pg.port).toBe(port);
    expect(psql(url, 'select x from t')).toEqual({ ok: true, out: '42' });
  });

  it('close leaves no process and no folder', async () => {
    const { dir } = pg;
    const pid = pg.pid!;
    expect(existsSync(join(dir, 'data', 'PG_VERSION'))).toBe(true);
    expect(processesMentioning(dir).length).toBeGreaterThan(0);
    await pg.close();
    await pg.close(); // idempotent
    expect(existsSync(dir)).toBe(false);
    expect(uidOf(pid)).toBeUndefined();
    expect(processesMentioning(dir)).toEqual([]);
    expect(await refused(pg.port)).toBe(true);
    await expect(pg.start()).rejects.toThrow(/closed/);
  });
});
