/**
 * One `sfa init` at a time per data folder. Two runs at once (two terminals, `npm start` twice)
 * used to race on the key file and stop with a raw EEXIST; now the second waits for the first
 * and then finds everything made.
 *
 * The lock is a file created with O_EXCL holding the owner's pid. A run killed before it could
 * remove it (Ctrl-C during key generation) leaves it behind: a lock whose pid is gone is stale
 * and taken over.
 */
import { closeSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const INIT_LOCK_FILE = 'init.lock';

export interface InitLockOptions {
  /** How long to wait for another run before giving up (default 2 minutes). */
  waitMs?: number;
  /** How often to look again (default 100 ms). */
  pollMs?: number;
}

/** An empty lock this old is from a run that died between creating it and writing its pid. */
const EMPTY_LOCK_STALE_MS = 10_000;

/**
 * Run `fn` holding the init lock of data folder `dir`, waiting for another holder if needed.
 * @returns what `fn` returned, and the pid of the run this one waited for, if any.
 * @throws Error naming the other run and the lock file when it holds the lock past `waitMs`.
 */
export async function withInitLock<T>(
  dir: string,
  fn: () => Promise<T>,
  opts: InitLockOptions = {},
): Promise<{ result: T; waitedFor?: number | null }> {
  const lock = join(dir, INIT_LOCK_FILE);
  const deadline = Date.now() + (opts.waitMs ?? 120_000);
  /** The other run's pid; null while it has not written it yet. */
  let waitedFor: number | null | undefined;
  for (;;) {
    if (tryTake(lock)) break;
    const holder = readHolder(lock);
    if (holder === 'gone') continue; // released between our attempt and our look
    if (holder === 'stale') {
      removeStale(lock);
      continue;
    }
    waitedFor = holder;
    if (Date.now() > deadline) {
      throw new Error(
        `another 'sfa init' (${holder ? `pid ${holder}` : 'starting'}) is running in ${dir} and did not finish in time: ` +
          `wait for it, or if no init is running, remove ${lock} and try again`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.pollMs ?? 100));
  }
  try {
    return { result: await fn(), ...(waitedFor !== undefined ? { waitedFor } : {}) };
  } finally {
    rmSync(lock, { force: true });
  }
}

/** Create the lock file if there is none; false when another run holds it. */
function tryTake(lock: string): boolean {
  let fd: number;
  try {
    fd = openSync(lock, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e; // EROFS, ENOSPC…: the data folder cannot be written, say so with the lock's path
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** The pid holding `lock` (null: not written yet), or why nobody holds it. */
function readHolder(lock: string): number | null | 'gone' | 'stale' {
  let text: string;
  let mtimeMs: number;
  try {
    mtimeMs = statSync(lock).mtimeMs;
    text = readFileSync(lock, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw e;
  }
  const pid = Number(text.trim());
  if (text.trim() === '' || !Number.isSafeInteger(pid) || pid <= 0) {
    // Being written right now, or abandoned half-made.
    return Date.now() - mtimeMs > EMPTY_LOCK_STALE_MS ? 'stale' : null;
  }
  return isAlive(pid) ? pid : 'stale';
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch (e) {
    // EPERM: it exists, under another user.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Remove a stale lock, unless another waiter already replaced it with its own: the lock is
 * removed only if it is still the file found stale (same inode, same time).
 */
function removeStale(lock: string): void {
  const before = statSync(lock, { throwIfNoEntry: false });
  if (!before) return;
  if (readHolder(lock) !== 'stale') return;
  const now = statSync(lock, { throwIfNoEntry: false });
  if (now && now.ino === before.ino && now.mtimeMs === before.mtimeMs) {
    rmSync(lock, { force: true });
  }
}
