/**
 * A small tmpfs of a test's own, to make a real full disk or a real read-only file system (root
 * ignores permission bits, so a chmod cannot make a folder read-only for it). Needs root, as CI
 * runs; elsewhere the tests that need it are skipped with the reason.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';

function run(args: string[]): void {
  execFileSync(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Mount a tmpfs of `size` (e.g. `8m`) on the existing folder `dir`.
 * @returns undefined when mounted, else why it could not be (for `ctx.skip`).
 */
export function mountTmpfs(dir: string, size: string): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return 'needs root to mount a tmpfs (CI runs as root)';
  }
  try {
    run(['mount', '-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir]);
    return undefined;
  } catch (e) {
    const stderr = String((e as { stderr?: unknown }).stderr ?? '').trim();
    return `cannot mount a tmpfs on ${dir}: ${stderr || (e as Error).message}`;
  }
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  run(['mount', '-o', `remount,${mode}`, dir]);
}

/** Unmount `dir`; lazily if something still holds it, so that cleanup never hangs. */
export function unmount(dir: string): void {
  try {
    run(['umount', dir]);
  } catch {
    run(['umount', '-l', dir]);
  }
}

/** Fill the file system holding `file` to the last byte, writing `file`. Returns its size. */
export function fillDisk(file: string): number {
  const fd = openSync(file, 'w');
  let total = 0;
  try {
    for (const chunk of [Buffer.alloc(1 << 16), Buffer.alloc(1)]) {
      for (;;) {
        try {
          total += writeSync(fd, chunk);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw e;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return total;
}
