/**
 * A real PostgreSQL server for tests and benchmarks: a fresh cluster (initdb) in a temporary
 * folder of its own, listening on 127.0.0.1 only, on a free port, run as an unprivileged user
 * (PostgreSQL refuses to run as root, and CI runs the tests as root: then the cluster belongs to
 * Debian's `postgres` system user). close() stops it and removes the folder.
 *
 * The binaries are Debian's, `/usr/lib/postgresql/<version>/bin` (the newest version there);
 * PATH and the /usr/bin wrappers are not used. Tests skip themselves when postgresAvailable() is
 * false, with the reason from postgresMissing().
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  statSync,
} from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { makeTempDir, removeTempDir } from './tmp.js';

export interface TestPostgres {
  /** The TCP port on 127.0.0.1, the same for the server's whole life (restarts included). */
  readonly port: number;
  /** The PostgreSQL user every database belongs to (superuser, no password: trust). */
  readonly user: string;
  /** The temporary folder holding the cluster (`data/`), the server log and the Unix socket. */
  readonly dir: string;
  /** The server's log (its stderr), for assertions and failure messages. */
  readonly logFile: string;
  /** The postmaster's process id while the server runs, else undefined. */
  readonly pid: number | undefined;
  /**
   * A new empty database; its `postgres://sfa@127.0.0.1:PORT/NAME` URL. `name` (a plain
   * lower-case SQL identifier) is used as is; without it each call gets a new `test_N`.
   */
  createDatabase(name?: string): Promise<string>;
  /** Stop (fast shutdown) and start again, same port and data; resolves once it accepts connections. */
  restart(): Promise<void>;
  /** Fast shutdown: the server stays stopped (connections are refused) until start(). Idempotent. */
  stop(): Promise<void>;
  /** Start the stopped server again; resolves once it accepts connections. Idempotent. */
  start(): Promise<void>;
  /** Stop the server and remove its folder, leaving no process and no file. Idempotent. */
  close(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. `{ shared_buffers: '16MB' }`. */
  settings?: Record<string, string | number>;
}

const PG_ROOT = '/usr/lib/postgresql';
const USER = 'sfa';
/** How long a start or a stop may take before it is an error. */
const TIMEOUT_MS = 30_000;

/** `/usr/lib/postgresql/<newest version>/bin`, or undefined when no version is installed. */
export function postgresBinDir(): string | undefined {
  let versions: string[];
  try {
    versions = readdirSync(PG_ROOT);
  } catch {
    return undefined;
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)*$/.test(v))
    .filter((v) =>
      ['initdb', 'postgres', 'psql'].every((b) => existsSync(join(PG_ROOT, v, 'bin', b))),
    )
    .sort((a, b) => {
      const x = a.split('.').map(Number);
      const y = b.split('.').map(Number);
      for (let i = 0; i < Math.max(x.length, y.length); i++) {
        const d = (y[i] ?? 0) - (x[i] ?? 0);
        if (d !== 0) return d;
      }
      return 0;
    });
  return usable[0] === undefined ? undefined : join(PG_ROOT, usable[0], 'bin');
}

interface Account {
  uid: number;
  gid: number;
  name: string;
}

/** The account the server runs as: the current user, or `postgres` (from /etc/passwd) for root. */
function serverAccount(): Account | undefined {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) return { uid, gid, name: 'current user' };
  let passwd: string;
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  for (const line of passwd.split('\n')) {
    const [name, , u, g] = line.split(':');
    if (name === 'postgres' && u !== undefined && g !== undefined) {
      return { uid: Number(u), gid: Number(g), name: 'postgres' };
    }
  }
  return undefined;
}

/** Why no test server can be started here (for `ctx.skip` / `describe.skipIf`), or undefined. */
export function postgresMissing(): string | undefined {
  if (postgresBinDir() === undefined) {
    return `PostgreSQL is not installed (no ${PG_ROOT}/<version>/bin/initdb; Debian: apt-get install postgresql)`;
  }
  if (serverAccount() === undefined) {
    return 'running as root and there is no `postgres` system user to run PostgreSQL as';
  }
  return undefined;
}

/** Whether startPostgres() can work here: the binaries exist (and, as root, the `postgres` user). */
export function postgresAvailable(): boolean {
  return postgresMissing() === undefined;
}

/** Whether `account` may traverse `dir` and every folder above it (mode bits; root may always). */
function canTraverse(dir: string, account: Account): boolean {
  if (account.uid === 0) return true;
  for (let d = resolve(dir); ; d = dirname(d)) {
    let st;
    try {
      st = statSync(d);
    } catch {
      return false;
    }
    const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

/**
 * The server's own folder: under the temporary folder of the run (test/support/tmp.ts) when the
 * server's user can reach it, else under /tmp (a test run's folder is root's, mode 0700), owned
 * by that user.
 */
function makeServerDir(account: Account): string {
  // The test run's folder for servers (test/global-setup.ts), checked for leftovers after the run.
  const runFolder = process.env['SFA_TEST_PG_DIR'];
  const under = [...(runFolder ? [runFolder] : []), tmpdir(), '/tmp'].find((d) =>
    canTraverse(d, account),
  );
  if (under === undefined) {
    throw new Error(`the ${account.name} user cannot reach ${tmpdir()} nor /tmp`);
  }
  const dir = makeTempDir('postgres', under);
  if (account.uid !== process.getuid?.()) chownSync(dir, account.uid, account.gid);
  return dir;
}

/** The environment of the PostgreSQL programs: no PG* variables from outside, C locale. */
function cleanEnv(home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('PG') && k !== 'TMPDIR' && !k.startsWith('LC_') && k !== 'LANG') env[k] = v;
  }
  return { ...env, HOME: home, LC_ALL: 'C', TZ: 'UTC' };
}

function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** A port nobody listens on at the moment, on 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => done(port));
    });
  });
}

function tcpConnects(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

class PortTaken extends Error {}

/** Start a fresh PostgreSQL cluster; resolves once it accepts connections. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<TestPostgres> {
  const bin = postgresBinDir();
  const account = serverAccount();
  if (bin === undefined || account === undefined) throw new Error(postgresMissing());
  const asServer = process.getuid?.() === account.uid ? {} : { uid: account.uid, gid: account.gid };

  const dir = makeServerDir(account);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  const env = cleanEnv(dir);
  let child: ChildProcess | undefined;
  let closed = false;
  let port = 0;
  let databases = 0;

  // Best effort, should the process end without close(): an immediate shutdown and the folder.
  const onExit = (): void => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGQUIT');
      } catch {
        // already gone
      }
    }
    try {
      removeTempDir(dir);
    } catch {
      // the server may still be writing its last files
    }
  };
  process.once('exit', onExit);

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: dir,
    max_connections: 200,
    logging_collector: 'off',
    ...options.settings,
  };

  /** Run the server; resolves once it accepts connections on `port`. */
  const launch = async (): Promise<void> => {
    const args = ['-D', data, '-p', String(port)];
    for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);
    const logFd = openSync(logFile, 'a');
    if (account.uid !== process.getuid?.()) chownSync(logFile, account.uid, account.gid);
    let proc: ChildProcess;
    try {
      proc = spawn(join(bin, 'postgres'), args, {
        cwd: dir,
        env,
        stdio: ['ignore', logFd, logFd],
        ...asServer,
      });
    } finally {
      closeSync(logFd);
    }
    child = proc;
    let failure: Error | undefined;
    proc.once('error', (e) => (failure = e));
    const deadline = Date.now() + TIMEOUT_MS;
    for (;;) {
      if (failure !== undefined) throw failure;
      if (proc.exitCode !== null || proc.signalCode !== null) {
        child = undefined;
        const log = tail(logFile);
        const message = `PostgreSQL exited (${proc.exitCode ?? proc.signalCode}) while starting on port ${port}; log ${logFile}:\n${log}`;
        if (
          /could not bind|Address already in use|could not create any TCP\/IP sockets/.test(log)
        ) {
          throw new PortTaken(message);
        }
        throw new Error(message);
      }
      if (Date.now() > deadline) {
        await halt(proc, 'SIGQUIT');
        child = undefined;
        throw new Error(
          `PostgreSQL did not start within ${TIMEOUT_MS} ms; log ${logFile}:\n${tail(logFile)}`,
        );
      }
      if (isReady(proc.pid) && (await tcpConnects(port))) break;
      await sleep(25);
    }
    // Running, it does not keep this process alive: a forgotten close() ends with the process.
    proc.unref();
  };

  /** The postmaster's own word (postmaster.pid, as `pg_ctl -w` reads it) that it is ready. */
  const isReady = (pid: number | undefined): boolean => {
    try {
      const lines = readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n');
      return Number(lines[0]) === pid && lines[7]?.trim() === 'ready';
    } catch {
      return false;
    }
  };

  /** Signal the postmaster (SIGINT: fast shutdown) and wait for it to end; SIGKILL after the timeout. */
  const halt = (proc: ChildProcess, signal: NodeJS.Signals): Promise<void> =>
    new Promise((done) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return done();
      proc.ref();
      const timer = setTimeout(() => proc.kill('SIGKILL'), TIMEOUT_MS);
      proc.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      proc.kill(signal);
    });

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    await halt(proc, 'SIGINT');
    if (child === proc) child = undefined;
  };

  const start = async (): Promise<void> => {
    if (closed) throw new Error('this PostgreSQL server was closed');
    if (child !== undefined) return;
    // Started again on its port: a fast shutdown frees it at once (the server sets SO_REUSEADDR),
    // but give a straggler a moment before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        return await launch();
      } catch (e) {
        if (!(e instanceof PortTaken) || attempt >= 5) throw e;
        await sleep(200);
      }
    }
  };

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    try {
      await stop();
    } finally {
      process.removeListener('exit', onExit);
      removeTempDir(dir);
    }
  };

  try {
    const init = spawnSync(
      join(bin, 'initdb'),
      ['-D', data, '--auth=trust', `--username=${USER}`, '-E', 'UTF8', '--locale=C', '--no-sync'],
      { cwd: dir, env, encoding: 'utf8', timeout: 60_000, ...asServer },
    );
    if (init.error !== undefined || init.status !== 0) {
      throw new Error(
        `initdb failed (${init.error?.message ?? `exit ${init.status}`}):\n${init.stderr ?? ''}${init.stdout ?? ''}`,
      );
    }
    // A free port now may be taken by the time the server binds it: then another one.
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      try {
        await launch();
        break;
      } catch (e) {
        if (!(e instanceof PortTaken) || attempt >= 5) throw e;
      }
    }
  } catch (e) {
    await close();
    throw e;
  }

  const psql = (sql: string): Promise<void> =>
    new Promise((done, fail) => {
      execFile(
        join(bin, 'psql'),
        [
          '-X',
          '-q',
          '-v',
          'ON_ERROR_STOP=1',
          '-h',
          '127.0.0.1',
          '-p',
          String(port),
          '-U',
          USER,
          '-d',
          'postgres',
          '-c',
          sql,
        ],
        { env, timeout: TIMEOUT_MS },
        (error, _stdout, stderr) =>
          error
            ? fail(new Error(`psql ${JSON.stringify(sql)} failed: ${stderr || error.message}`))
            : done(),
      );
    });

  return {
    port,
    user: USER,
    dir,
    logFile,
    get pid() {
      return child?.pid;
    },
    async createDatabase(name?: string) {
      const db = name ?? `test_${++databases}`;
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`not a plain database name: ${db}`);
      await psql(`CREATE DATABASE ${db}`);
      return `postgres://${USER}@127.0.0.1:${port}/${db}`;
    },
    async restart() {
      await stop();
      await start();
    },
    stop,
    start,
    close,
  };
}
