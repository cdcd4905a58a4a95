/**
 * vsys (issue 11, part 5): a slice calls a few privileged scripts chosen by the node's
 * operator. The attribute `vsys` (a list of names separated by commas or spaces) names scripts
 * of the operator's folder, granted by the operator's tags (node, nodegroup) or, when the request
 * asks, by the script's ACL (`NAME.acl`, one login name a line); inside the sliver each
 * appears as two FIFOs, `/vsys/NAME.in` and `/vsys/NAME.out`. What the sliver writes to
 * `NAME.in` becomes the script's standard input, the script is run on the node (as root) with
 * the sliver's login name as its argument, and its output comes back through `NAME.out`:
 *
 *     echo request > /vsys/NAME.in; cat /vsys/NAME.out
 *
 * Each FIFO pair is served by one waiting `sh` (it opens `NAME.in`, blocking until the sliver
 * writes, then `NAME.out`, blocking until the sliver reads, then runs the script under
 * `timeout`), started again after each call: the kernel's FIFOs and the shell do the waiting,
 * not the node manager's event loop. The sliver's vsys folder is the node's root's (mode 0755):
 * the sliver can use the FIFOs (they are its root's) but cannot replace them with anything the
 * node's root would then open. A name that is not a script of the folder (a path, `..`, a file
 * that is not an executable regular file in it) is refused: no FIFO, and the sliver's error says
 * why. PlanetLab's vsys did the same with its own daemon.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  chownSync,
  existsSync,
  lstatSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';

/** A script may run this long per call. */
const CALL_SECONDS = 30;
/** Calls a second, at most, per script and sliver. */
const CALLS_PER_SECOND = 10;
/** The waiting shell's program: `sh -c SERVE vsys SECONDS SCRIPT SLIVER IN OUT`. */
const SERVE = 'exec timeout "$1" "$2" "$3" < "$4" > "$5" 2>/dev/null';
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** One sliver as vsys sees it. */
export interface VsysSliver {
  /** Its login name (the scripts' argument). */
  name: string;
  /** Its vsys folder on the node (bound at /vsys in the container). */
  dir: string;
  /** The host uid and gid of its root (the FIFOs' owner). */
  hostId: number;
  /** The `vsys` values of its attributes, with the layer each came from. */
  values: readonly { value: string; source: string }[];
}

/** The script names of `vsys` values (commas and spaces separate names). */
export function vsysNames(values: readonly string[]): string[] {
  // (the same names from several layers count once)
  return [
    ...new Set(
      values
        .flatMap((v) => v.split(/[\s,]+/))
        .map((n) => n.trim())
        .filter((n) => n !== ''),
    ),
  ];
}

export class VsysService {
  /** The waiting shell of each FIFO pair, by `<sliver>/<name>`. */
  private readonly servers = new Map<string, ChildProcess>();
  private swept = false;
  /** Servers about to start again (after their call's pause). */
  private readonly respawns = new Map<string, NodeJS.Timeout>();

  /**
   * @param scriptsDir the operator's folder of scripts
   * @param sliversDir the node's sliver folders (waiting shells left there by a node manager
   *   that was killed are ended before this one serves)
   */
  constructor(
    private readonly scriptsDir: string,
    private readonly sliversDir: string,
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** End the waiting shells of this node's FIFOs that this process did not start. */
  private sweep(): void {
    const mine = new Set([...this.servers.values()].map((p) => p.pid));
    for (const pid of readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)) {
      if (mine.has(pid)) continue;
      let cmdline: string;
      try {
        cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      const args = cmdline.split('\0');
      if (
        args[0] === 'sh' &&
        args[2] === SERVE &&
        (args[7] ?? '').startsWith(`${this.sliversDir}/`)
      ) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Gone meanwhile.
        }
      }
    }
  }

  /** The script of `name` in the operator's folder, or why it is refused. */
  script(name: string): { path: string } | { refused: string } {
    const why = `vsys ${JSON.stringify(name)}: not a script of this node's vsys folder`;
    if (!NAME.test(name) || name.startsWith('.')) return { refused: why };
    const path = join(this.scriptsDir, name);
    try {
      const real = realpathSync(path);
      const st = statSync(real);
      if (
        real !== join(realpathSync(this.scriptsDir), name) ||
        !st.isFile() ||
        (st.mode & 0o111) === 0
      )
        return { refused: why };
      return { path: real };
    } catch {
      return { refused: why };
    }
  }

  /** Whether the script's ACL file lists `login`. */
  private aclAllows(name: string, login: string): boolean {
    try {
      return readFileSync(join(this.scriptsDir, `${name}.acl`), 'utf8')
        .split('\n')
        .some((l) => l.trim() === login);
    } catch {
      return false;
    }
  }

  /**
   * Serve exactly the FIFO pairs `slivers` ask for (running slivers only); remove the others.
   * Returns the refusals, by sliver name.
   */
  sync(slivers: readonly VsysSliver[]): Map<string, string> {
    if (!this.swept) {
      this.sweep();
      this.swept = true;
    }
    const refusals = new Map<string, string>();
    const wanted = new Set<string>();
    for (const s of slivers) {
      const refused: string[] = [];
      const fromOperator = new Set(
        vsysNames(s.values.filter((v) => v.source !== 'sliver').map((v) => v.value)),
      );
      for (const name of vsysNames(s.values.map((v) => v.value))) {
        const script = this.script(name);
        if ('refused' in script) {
          refused.push(script.refused);
          continue;
        }
        // The request alone does not grant a root script: the operator's tags (node,
        // nodegroup) do, or the script's ACL (NAME.acl beside it, one login name a line, as
        // PlanetLab's vsys) names this sliver.
        if (!fromOperator.has(name) && !this.aclAllows(name, s.name)) {
          refused.push(
            `vsys ${JSON.stringify(name)}: not granted to ${s.name} (the node's operator grants it with a vsys tag or ${name}.acl)`,
          );
          continue;
        }
        if (!existsSync(s.dir)) {
          refused.push(`vsys ${JSON.stringify(name)}: the sliver's image has no /vsys folder`);
          continue;
        }
        const key = `${s.name}/${name}`;
        // One sliver's trouble (a FIFO that cannot be made) is its own, not the pass's.
        try {
          this.ensureFifos(s, name);
        } catch (e) {
          refused.push(`vsys ${JSON.stringify(name)}: ${(e as Error).message}`);
          continue;
        }
        wanted.add(key);
        if (!this.servers.has(key) && !this.respawns.has(key))
          this.serve(key, s, name, script.path);
      }
      if (refused.length > 0) refusals.set(s.name, refused.join('; '));
      // FIFOs of names no longer asked for.
      for (const f of existsSync(s.dir) ? readdirSync(s.dir) : []) {
        const m = /^(.*)\.(in|out)$/.exec(f);
        if (m === null || !wanted.has(`${s.name}/${m[1]}`)) rmSync(join(s.dir, f), { force: true });
      }
    }
    for (const [key, timer] of this.respawns) {
      if (!wanted.has(key)) {
        clearTimeout(timer);
        this.respawns.delete(key);
      }
    }
    for (const [key, proc] of this.servers) {
      if (!wanted.has(key)) {
        this.servers.delete(key);
        proc.kill('SIGKILL');
      }
    }
    return refusals;
  }

  /**
   * Stop serving this node's FIFOs (those of other processes too: a killed node manager's);
   * the FIFOs stay, and a later node manager serves them again.
   */
  stop(): void {
    for (const timer of this.respawns.values()) clearTimeout(timer);
    this.respawns.clear();
    const procs = [...this.servers.values()];
    this.servers.clear();
    for (const proc of procs) proc.kill('SIGKILL');
    this.sweep();
    this.swept = false;
  }

  private ensureFifos(s: VsysSliver, name: string): void {
    for (const end of ['in', 'out']) {
      const f = join(s.dir, `${name}.${end}`);
      let ok: boolean;
      try {
        ok = lstatSync(f).isFIFO();
      } catch {
        ok = false;
      }
      if (!ok) {
        rmSync(f, { force: true, recursive: true });
        // Node has no mkfifo: coreutils' does it.
        execFileSync('mkfifo', ['-m', '0600', f]);
      }
      chownSync(f, s.hostId, s.hostId);
    }
  }

  /** One waiting shell for a FIFO pair; started again when it ends, while wanted. */
  private serve(key: string, s: VsysSliver, name: string, script: string): void {
    const inFifo = join(s.dir, `${name}.in`);
    const outFifo = join(s.dir, `${name}.out`);
    const proc = spawn(
      'sh',
      ['-c', SERVE, 'vsys', String(CALL_SECONDS), script, s.name, inFifo, outFifo],
      { stdio: 'ignore' },
    );
    this.servers.set(key, proc);
    proc.on('exit', (code, signal) => {
      if (this.servers.get(key) !== proc) return;
      this.servers.delete(key);
      // Killed (by another node manager of this node taking over, or at cleanup): not again.
      if (signal !== null || !existsSync(inFifo)) return;
      this.log(`vsys ${key}: called, exit ${code ?? 'signal'}`);
      // At most CALLS_PER_SECOND calls a second per script and sliver: a sliver looping on
      // its FIFOs does not make the node spawn root shells as fast as it can.
      const wait = setTimeout(() => {
        this.respawns.delete(key);
        if (existsSync(inFifo) && !this.servers.has(key)) this.serve(key, s, name, script);
      }, 1000 / CALLS_PER_SECOND);
      wait.unref();
      this.respawns.set(key, wait);
    });
  }
}
