/**
 * `ContainerRuntime` on the `runc` binary (Debian package `runc`, 1.1; run as root). It writes
 * the OCI bundle (bundle.ts) and drives `runc` as a child process; it is not a runtime itself.
 *
 * Everything of one node lives under names carrying the node's prefix:
 * - runc's state folder is the node's own (`runc --root <stateDir>`), so `runc --root <stateDir>
 *   list` shows this node's containers only, and the default `runc list` none of them;
 * - container ids are `<prefix>-<name>`; cgroups are `/<prefix>/<name>` in every hierarchy;
 * - bundles are `<bundlesDir>/<name>/config.json` (with `init.log`, the init's output).
 *
 * Folders: the base image and the writable folders must be reachable by the sliver's mapped root
 * (host uid `idMap.hostId`), because runc mounts them from inside the user namespace: every
 * folder above them must be searchable by others (mode 0711). `create` checks this and says which
 * folder is not, rather than letting runc fail with a bare "permission denied".
 */
import { execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { inParallel } from '../in-parallel.js';
import { sliverConfig } from './bundle.js';
import type {
  ContainerInfo,
  ContainerRuntime,
  ContainerSpec,
  ContainerStatus,
  ExecCommand,
  ExecResult,
} from './runtime.js';

/** The largest piece of runc's error output an error message carries. */
const MAX_ERROR_CHARS = 2000;
/** The largest output an `exec` keeps (each of stdout and stderr). */
const MAX_EXEC_OUTPUT = 1024 * 1024;
/** After runc exec exits (or is stopped), how long its output pipes may still bring data. */
const EXEC_DRAIN_MS = 500;
const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * How long `list` may answer from its last `runc list` (checked against /proc and the state
 * folder, see `list`). runc reads every container's state file and process: ~120 ms at 500.
 */
const LIST_REUSE_MS = 30_000;

/**
 * A live process's start time (field 22 of /proc/PID/stat), to tell it from a reused pid;
 * undefined when there is none or it is a zombie (an init that died, not yet reaped).
 */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

const PREFIX = /^[a-z0-9][a-z0-9-]{0,39}$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;

export interface RuncOptions {
  /** The node's prefix (`sfa-<node>`): lowercase letters, digits and '-'. */
  nodePrefix: string;
  /** runc's state folder for this node (`--root`), e.g. `<node dir>/runc`. */
  stateDir: string;
  /** Where the bundles are written, e.g. `<node dir>/bundles`. */
  bundlesDir: string;
  /** The runc binary (default `runc` on the PATH). */
  runc?: string;
  /** Time allowed for one runc command (default 30 s). */
  timeoutMs?: number;
}

/** A runc command that failed; the message names the command and carries runc's own words. */
export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
}

/** runc's `time=… level=error msg="…"` lines made readable, bounded. */
export function runcMessage(output: string): string {
  const msgs = output
    .split('\n')
    .map((line) => {
      const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line);
      return m ? m[1]!.replace(/\\(.)/g, '$1') : line.trim();
    })
    .filter((l) => l !== '');
  const text = msgs.join('; ');
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}…` : text;
}

function notFound(message: string): boolean {
  return /does not exist|not exist/.test(message);
}

/** Every folder from `/` to `path` must be searchable by others (the sliver's mapped root). */
function checkReachable(what: string, path: string): void {
  let dir = path;
  const chain: string[] = [];
  for (;;) {
    chain.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  for (const d of chain.reverse().slice(0, -1)) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      throw new RuntimeError(
        `${what} ${path} is not reachable from the sliver's user namespace: ${d} is not searchable by others (chmod o+x ${d})`,
      );
    }
  }
}

/** The cgroup v1 folder of `controller` that process `pid` is in (`/sys/fs/cgroup/cpu/<path>`). */
export function cgroupDir(pid: number, controller: string): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  for (const line of lines) {
    const [, controllers, path] = /^\d+:([^:]*):(.*)$/.exec(line) ?? [];
    if (
      controllers !== undefined &&
      path !== undefined &&
      controllers.split(',').includes(controller)
    ) {
      return join(CGROUP_ROOT, controller, path);
    }
  }
  throw new RuntimeError(`process ${pid} is in no cgroup v1 '${controller}' hierarchy`);
}

export class RuncRuntime implements ContainerRuntime {
  readonly nodePrefix: string;
  readonly stateDir: string;
  readonly bundlesDir: string;
  readonly runc: string;
  private readonly timeoutMs: number;
  /** The last `runc list`, with each process's start time; dropped by every change made here. */
  private listed:
    | { at: number; containers: ContainerInfo[]; starts: Map<number, string | undefined> }
    | undefined;
  /** Counts the changes made through this runtime (a list that saw one is not reused). */
  private changes = 0;

  constructor(options: RuncOptions) {
    if (!PREFIX.test(options.nodePrefix)) {
      throw new RuntimeError(
        `the node prefix ${JSON.stringify(options.nodePrefix)} must be lowercase letters, digits and '-'`,
      );
    }
    this.nodePrefix = options.nodePrefix;
    this.stateDir = options.stateDir;
    this.bundlesDir = options.bundlesDir;
    this.runc = options.runc ?? 'runc';
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** The runc container id of sliver `name`. */
  containerId(name: string): string {
    if (!NAME.test(name)) throw new RuntimeError(`${JSON.stringify(name)} is not a container name`);
    return `${this.nodePrefix}-${name}`;
  }

  /** The cgroup path of sliver `name` (under `/sys/fs/cgroup/<controller>`). */
  cgroupsPath(name: string): string {
    this.containerId(name);
    return `/${this.nodePrefix}/${name}`;
  }

  bundleDir(name: string): string {
    this.containerId(name);
    return join(this.bundlesDir, name);
  }

  /** Run runc with this node's `--root`; its stdout, or a RuntimeError with its stderr. */
  private run(args: readonly string[], timeoutMs = this.timeoutMs): Promise<string> {
    const argv = ['--root', this.stateDir, ...args];
    return new Promise((resolve, reject) => {
      execFile(
        this.runc,
        argv,
        { encoding: 'utf8', timeout: timeoutMs, maxBuffer: MAX_EXEC_OUTPUT },
        (err, stdout, stderr) => {
          if (err) {
            const why = runcMessage(stderr) || runcMessage(stdout) || err.message;
            reject(new RuntimeError(`runc ${args.join(' ')} failed: ${why}`));
          } else {
            resolve(stdout);
          }
        },
      );
    });
  }

  async create(name: string, spec: ContainerSpec): Promise<ContainerInfo> {
    this.changed();
    const id = this.containerId(name);
    const config = sliverConfig({ ...spec, cgroupsPath: this.cgroupsPath(name) });
    const hostId = config.linux.uidMappings[0]!.hostID;
    checkReachable('the base image', spec.rootfs);
    for (const [which, dir] of Object.entries(spec.writable)) {
      mkdirSync(dir, { recursive: true, mode: 0o755 });
      checkReachable(`the sliver's ${which} folder`, dir);
      // The sliver's root owns its writable folders (as seen from the host: its mapped uid).
      const st = statSync(dir);
      if (st.uid !== hostId || st.gid !== hostId) chownSync(dir, hostId, hostId);
      if (which === 'tmp') chmodSync(dir, 0o1777);
    }
    const bundle = this.bundleDir(name);
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    mkdirSync(this.stateDir, { recursive: true, mode: 0o700 });
    const configPath = join(bundle, 'config.json');
    writeFileSync(`${configPath}.new`, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
    renameSync(`${configPath}.new`, configPath);

    // The init keeps runc's stdio: give it a file, not pipes (a pipe would stay open for ever).
    const logPath = join(bundle, 'init.log');
    const log = openSync(logPath, 'w', 0o600);
    let code: number | null;
    try {
      code = await new Promise<number | null>((resolve, reject) => {
        const child = spawn(
          this.runc,
          ['--root', this.stateDir, 'create', '--bundle', bundle, id],
          {
            stdio: ['ignore', log, log],
            timeout: this.timeoutMs,
          },
        );
        child.on('error', reject);
        child.on('exit', (c, signal) => resolve(signal === null ? c : -1));
      });
    } catch (e) {
      throw new RuntimeError(`runc create ${id} could not be run: ${(e as Error).message}`);
    } finally {
      closeSync(log);
    }
    if (code !== 0) {
      const said = runcMessage(readFileSync(logPath, 'utf8').slice(-4 * MAX_ERROR_CHARS));
      throw new RuntimeError(
        `runc create ${id} failed${code === -1 ? ' (timed out)' : ''}: ${said || `exit ${code}`}`,
      );
    }
    const info = await this.state(name);
    if (info === undefined)
      throw new RuntimeError(`runc create ${id} succeeded but runc does not list it`);
    return info;
  }

  async start(name: string): Promise<void> {
    this.changed();
    try {
      await this.run(['start', this.containerId(name)]);
    } finally {
      this.changed();
    }
  }

  async kill(name: string, signal = 'KILL'): Promise<void> {
    this.changed();
    if (!/^[A-Z0-9]+$/.test(signal))
      throw new RuntimeError(`${JSON.stringify(signal)} is not a signal name`);
    await this.run(['kill', this.containerId(name), signal]);
  }

  async stop(name: string, timeoutMs = 5000): Promise<void> {
    const stopped = async (): Promise<boolean> => {
      const s = await this.state(name);
      if (s === undefined) throw new RuntimeError(`no container ${this.containerId(name)} to stop`);
      return s.status === 'stopped' || s.status === 'created';
    };
    const waitStopped = async (ms: number): Promise<boolean> => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        if (await stopped()) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return stopped();
    };
    if (await stopped()) return;
    await this.kill(name, 'TERM').catch(() => undefined); // Died meanwhile: checked below.
    if (await waitStopped(timeoutMs)) return;
    await this.kill(name, 'KILL').catch(() => undefined);
    if (!(await waitStopped(5000)))
      throw new RuntimeError(`${this.containerId(name)} is still running after SIGKILL`);
  }

  async delete(name: string): Promise<boolean> {
    this.changed();
    const id = this.containerId(name);
    // `runc delete --force` of a missing container exits 0: ask first, to say whether there was one.
    const existed = (await this.state(name)) !== undefined;
    if (existed) {
      try {
        await this.run(['delete', '--force', id]);
      } catch (e) {
        if (!notFound((e as Error).message)) throw e;
      }
    }
    rmSync(this.bundleDir(name), { recursive: true, force: true });
    return existed;
  }

  /** A change is under way or done: the last list no longer holds. */
  private changed(): void {
    this.changes++;
    this.listed = undefined;
  }

  /**
   * The containers of this node. Within LIST_REUSE_MS of the last `runc list`, and when nothing
   * was changed through this runtime since, the same answer is given again if it still holds:
   * the state folder has the same containers and each of their processes is still the one
   * runc listed (same pid, same start time); a container whose init died, or one made or
   * removed by hand, makes it ask runc again.
   */
  async list(): Promise<ContainerInfo[]> {
    const l = this.listed;
    if (l !== undefined && Date.now() - l.at < LIST_REUSE_MS && this.stillHolds(l)) {
      return l.containers.map((c) => ({ ...c }));
    }
    const before = this.changes;
    const at = Date.now();
    const out = await this.run(['list', '--format', 'json']);
    const all = (JSON.parse(out.trim() || 'null') ?? []) as RuncState[];
    const containers = all.flatMap((s) => {
      const info = this.info(s);
      return info ? [info] : [];
    });
    if (this.changes === before) {
      const starts = new Map(
        containers.flatMap((c) => (c.pid === undefined ? [] : [[c.pid, processStart(c.pid)]])),
      );
      this.listed = { at, containers, starts };
    }
    return containers.map((c) => ({ ...c }));
  }

  private stillHolds(l: NonNullable<typeof this.listed>): boolean {
    let ids: string[];
    try {
      ids = readdirSync(this.stateDir).filter((d) => d.startsWith(`${this.nodePrefix}-`));
    } catch {
      ids = [];
    }
    if (ids.length !== l.containers.length) return false;
    const known = new Set(l.containers.map((c) => c.id));
    if (!ids.every((id) => known.has(id))) return false;
    for (const [pid, start] of l.starts) {
      if (start === undefined || processStart(pid) !== start) return false;
    }
    return true;
  }

  async state(name: string): Promise<ContainerInfo | undefined> {
    try {
      return this.info(JSON.parse(await this.run(['state', this.containerId(name)])) as RuncState);
    } catch (e) {
      if (e instanceof RuntimeError && notFound(e.message)) return undefined;
      throw e;
    }
  }

  private info(s: RuncState): ContainerInfo | undefined {
    const prefix = `${this.nodePrefix}-`;
    if (!s.id.startsWith(prefix)) return undefined;
    const status: ContainerStatus = ['created', 'running', 'paused', 'stopped'].includes(s.status)
      ? (s.status as ContainerStatus)
      : 'stopped';
    return {
      name: s.id.slice(prefix.length),
      id: s.id,
      status,
      pid: status === 'stopped' || !s.pid ? undefined : s.pid,
      created: s.created,
    };
  }

  execCommand(name: string, args: readonly string[], options: { tty?: boolean } = {}): ExecCommand {
    if (args.length === 0) throw new RuntimeError('exec needs a command');
    const tty = options.tty ? ['--tty'] : [];
    return {
      file: this.runc,
      args: [
        '--root',
        this.stateDir,
        'exec',
        ...tty,
        '--cwd',
        '/root',
        '--env',
        'HOME=/root',
        this.containerId(name),
        ...args,
      ],
    };
  }

  async exec(
    name: string,
    args: readonly string[],
    options: { timeoutMs?: number } = {},
  ): Promise<ExecResult> {
    const s = await this.state(name);
    if (s?.status !== 'running') {
      throw new RuntimeError(
        `cannot exec in ${this.containerId(name)}: it is ${s === undefined ? 'missing' : s.status}`,
      );
    }
    const { file, args: argv } = this.execCommand(name, args);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const child = execFile(
        file,
        argv,
        { encoding: 'utf8', maxBuffer: MAX_EXEC_OUTPUT },
        (err, stdout, stderr) => {
          clearTimeout(timer);
          // runc answers the command's own status even when it was stopped for taking too long.
          if (timedOut)
            return reject(
              new RuntimeError(`exec in ${this.containerId(name)} timed out: ${args.join(' ')}`),
            );
          if (!err) return resolve({ code: 0, stdout, stderr });
          const e = err as NodeJS.ErrnoException & { code?: number | string };
          if (typeof e.code === 'number') return resolve({ code: e.code, stdout, stderr });
          reject(
            new RuntimeError(
              `exec in ${this.containerId(name)} failed: ${runcMessage(stderr) || e.message}`,
            ),
          );
        },
      );
      // runc exec waits until its output pipes close, so a command that leaves a child holding
      // them (a daemon) lasts until the bound, as with sshd; once runc has exited, what comes
      // within a moment is all (nothing else may hold the answer).
      const release = () => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      };
      child.on('exit', () => setTimeout(release, EXEC_DRAIN_MS).unref());
      // Too long: TERM (runc passes it on to the command), then KILL and let go of the pipes.
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGTERM');
        setTimeout(() => {
          child.kill('SIGKILL');
          release();
        }, EXEC_DRAIN_MS).unref();
      }, timeoutMs);
    });
  }

  async cleanup(): Promise<void> {
    this.changed();
    const errors: string[] = [];
    let names: string[] = [];
    try {
      names = (await this.list()).map((c) => c.name);
    } catch (e) {
      errors.push((e as Error).message);
    }
    // A few at a time: each delete is mostly waiting on runc and the kernel.
    await inParallel(names, 4, async (name) => {
      await this.delete(name).catch((e: Error) => errors.push(e.message));
    });
    // The node's cgroup parents (runc removes each container's own but not the prefix folder).
    for (const hierarchy of cgroupHierarchies()) {
      const dir = join(CGROUP_ROOT, hierarchy, this.nodePrefix);
      try {
        for (const child of readdirSync(dir, { withFileTypes: true })) {
          if (child.isDirectory()) rmdirSync(join(dir, child.name));
        }
        rmdirSync(dir);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') errors.push(`cannot remove cgroup ${dir}: ${(e as Error).message}`);
      }
    }
    rmSync(this.bundlesDir, { recursive: true, force: true });
    if (errors.length === 0) rmSync(this.stateDir, { recursive: true, force: true });
    if (errors.length > 0)
      throw new RuntimeError(`cleanup of ${this.nodePrefix} incomplete: ${errors.join('; ')}`);
  }
}

/** runc's JSON for one container (`runc state`, `runc list --format json`). */
interface RuncState {
  id: string;
  pid: number;
  status: string;
  created: string;
}

/** The cgroup hierarchies mounted under /sys/fs/cgroup (v1 controllers, `unified`, `systemd`). */
function cgroupHierarchies(): string[] {
  try {
    return readdirSync(CGROUP_ROOT, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
}

/**
 * What this machine lacks to run slivers (root, `runc`, the static busybox), as a message naming
 * the Debian packages to install, or undefined when nothing is missing.
 */
export function missingNodeRequirements(
  runc = 'runc',
  busybox = '/bin/busybox',
): string | undefined {
  const missing: string[] = [];
  if (process.getuid?.() !== 0)
    missing.push('root (runc with user namespaces and cgroups needs uid 0)');
  const which = (cmd: string): boolean =>
    (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin').split(':').some((d) => {
      try {
        return cmd.includes('/') ? statSync(cmd).isFile() : statSync(join(d, cmd)).isFile();
      } catch {
        return false;
      }
    });
  if (!which(runc)) missing.push(`'${runc}' (Debian package runc)`);
  if (!which(busybox)) missing.push(`${busybox} (Debian package busybox-static)`);
  if (missing.length === 0) return undefined;
  return `cannot run sliver containers: missing ${missing.join(', ')}. Install as root: apt-get install -y runc busybox-static`;
}
