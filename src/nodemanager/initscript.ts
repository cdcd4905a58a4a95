/**
 * The slice's initscript (PlanetLab's `initscript` / `initscript_code` attributes): run once
 * inside the sliver, at its container's first start.
 *
 * The authority resolves the script's name to its text (`initscript_code`); a name alone
 * (`initscript`) cannot be run by the node and is ignored. The text is written to the sliver's
 * own var folder (`/var/lib/sfa/initscript` inside, owned by the sliver's root, so the researcher
 * can read and rerun it; its output in `/var/lib/sfa/initscript.log`) and run with `/bin/sh` as
 * the sliver's root, with a bounded time (its whole process group is killed when it is up).
 * The outcome (exit status, last lines of output) is kept in the agent's per-sliver state so that
 * it runs once: not again on adoption by a restarted agent or on a later stop/start.
 */
import { createHash } from 'node:crypto';
import type { ContainerRuntime } from './runtime/runtime.js';

const INITSCRIPT_DIR = '/var/lib/sfa';
/** Where the script is inside the sliver. */
export const INITSCRIPT_PATH = `${INITSCRIPT_DIR}/initscript`;
/** Its output, inside the sliver. */
export const INITSCRIPT_LOG = `${INITSCRIPT_DIR}/initscript.log`;
/** Default time an initscript may take. */
export const DEFAULT_INITSCRIPT_TIMEOUT_MS = 60_000;
/** The wrapper's exit status when its time was up (as coreutils' `timeout`). */
const TIMED_OUT = 124;
/** How much of the output is kept (the end of it). */
const TAIL_LINES = 20;
const TAIL_CHARS = 2000;

/** What the agent remembers of a sliver's initscript. */
export interface InitscriptRecord {
  /** SHA-256 of the script that ran. */
  sha256: string;
  started: string;
  /** Unset while it runs (or when the agent died during it). */
  finished?: string;
  /** Its exit status (128 + signal when a signal ended it). */
  exit?: number;
  /** The last lines of its output (stdout then stderr). */
  tail?: string;
  /** Why it could not be run or did not finish (timeout, exec failure). */
  error?: string;
}

/** The script text of a sliver's attributes, if it has one (the last `initscript_code`). */
export function initscriptCode(
  attributes: readonly { name: string; value: string }[],
): string | undefined {
  let code: string | undefined;
  for (const a of attributes) if (a.name === 'initscript_code') code = a.value;
  return code === undefined || code.trim() === '' ? undefined : code;
}

/** The last lines of an output, bounded. */
export function tailOf(text: string): string {
  const lines = text.replace(/\s+$/, '').split('\n').slice(-TAIL_LINES).join('\n');
  return lines.length > TAIL_CHARS ? lines.slice(-TAIL_CHARS) : lines;
}

/** The sliver's error to report from a record, or undefined when the script succeeded. */
export function initscriptError(r: InitscriptRecord | undefined): string | undefined {
  if (r === undefined) return undefined;
  if (r.error !== undefined) {
    const tail = r.tail === undefined || r.tail === '' ? '' : `: ${r.tail}`;
    return `initscript: ${r.error}${tail}`;
  }
  if (r.finished === undefined)
    return 'initscript: interrupted (the node manager stopped during it)';
  if (r.exit !== 0) {
    const tail = r.tail === undefined || r.tail === '' ? '' : `: ${r.tail}`;
    return `initscript exited with status ${r.exit}${tail}`;
  }
  return undefined;
}

function timedOut(ms: number): string {
  return `did not finish within ${Math.round(ms / 1000)} s (its processes were killed)`;
}

/** The record of a script about to run. */
export function startRecord(code: string, now = new Date()): InitscriptRecord {
  return { sha256: createHash('sha256').update(code).digest('hex'), started: now.toISOString() };
}

/**
 * Run inside the sliver, as its root: write the script (given as `$1`) to INITSCRIPT_PATH, run it
 * in a process group of its own with its output in INITSCRIPT_LOG (not the exec's pipe: a daemon
 * the script starts must not hold the pass until the time is up), then print the log's last
 * lines and exit with the script's status. When the time is up, runc forwards SIGTERM here and
 * the whole group is killed.
 */
const WRAPPER = [
  `mkdir -p ${INITSCRIPT_DIR} && printf '%s' "$1" > ${INITSCRIPT_PATH} && chmod 755 ${INITSCRIPT_PATH} || exit 125`,
  `trap 'kill -KILL -$pid 2>/dev/null; exit ${TIMED_OUT}' TERM`,
  `setsid /bin/sh ${INITSCRIPT_PATH} > ${INITSCRIPT_LOG} 2>&1 < /dev/null &`,
  'pid=$!',
  'wait $pid',
  'status=$?',
  `tail -n ${TAIL_LINES} ${INITSCRIPT_LOG}`,
  'exit $status',
].join('\n');

/**
 * Run `code` inside the running container (see WRAPPER); resolves with the finished record
 * (never rejects). Everything is written from inside, as the sliver's root: the agent never
 * follows a path in the sliver's folders as the node's root.
 */
export async function runInitscript(
  runtime: ContainerRuntime,
  name: string,
  code: string,
  options: { timeoutMs?: number } = {},
  record: InitscriptRecord = startRecord(code),
): Promise<InitscriptRecord> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_INITSCRIPT_TIMEOUT_MS;
  const t0 = Date.now();
  try {
    const r = await runtime.exec(name, ['/bin/sh', '-c', WRAPPER, 'initscript', code], {
      timeoutMs,
    });
    const tail = tailOf([r.stdout, r.stderr].filter((t) => t.trim() !== '').join('\n'));
    // Time up: runc forwarded the runtime's SIGTERM and the wrapper killed the script's group
    // (its status then depends on how runc ended: 124, 141 or 143; the clock says it was late).
    const late = r.code !== 0 && Date.now() - t0 >= timeoutMs;
    return {
      ...record,
      finished: new Date().toISOString(),
      exit: r.code,
      tail,
      ...(late ? { error: timedOut(timeoutMs) } : {}),
    };
  } catch (e) {
    const message = (e as Error).message;
    // The runtime's message repeats the whole command line (the script): say it briefly.
    const error = / timed out: /.test(message) ? timedOut(timeoutMs) : message;
    return { ...record, finished: new Date().toISOString(), error };
  }
}
