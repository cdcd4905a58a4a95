/**
 * What every command shares: reading input files with messages that say what to fix, and
 * turning a failure into one clear line and a non-zero exit code (never a stack trace).
 */
import { lstatSync, readFileSync, writeFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { BadArgs, isGeniFault } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { loadPrivateKey } from '../credentials/keys.js';
import { parseRfc3339 } from '../credentials/time.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { readFailure } from '../text.js';
import { DamagedFileError, storageCause } from '../store/storage-fault.js';

/** Read a text file, or fail with a message naming the file and the option it came from. */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new BadArgs(`cannot read ${what} '${path}': ${readFailure(e)}`);
  }
}

export function readGid(path: string, what = 'GID file'): Gid {
  const text = readText(path, what);
  try {
    return Gid.fromPem(text);
  } catch (e) {
    throw new BadArgs(`${what} '${path}' is not a certificate: ${(e as Error).message}`);
  }
}

export function readPrivateKey(path: string, what = 'key file'): KeyObject {
  const text = readText(path, what);
  try {
    return loadPrivateKey(text);
  } catch (e) {
    throw new BadArgs(`${what} '${path}' is not a PEM private key: ${(e as Error).message}`);
  }
}

/**
 * Write a command's output file (`-o`, `--out`) whole or not at all: a credential or GID cut
 * short by a full disk would only fail later, at the client. A device, a pipe or a symbolic
 * link (`-o /dev/stdout`) is written through, never replaced.
 */
export function writeOutputFile(file: string, data: string, mode = 0o644): void {
  const existing = lstatSync(file, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) writeFileSync(file, data);
  else writeFileAtomic(file, data, { mode });
}

export function parseDateOption(text: string | undefined, what: string): Date | undefined {
  return text === undefined ? undefined : parseRfc3339(text, what);
}

/** Options that take a value many times (`--trusted a --trusted b`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Report a failure on stderr and set a non-zero exit code. */
export function fail(e: unknown): void {
  const storage = isGeniFault(e) ? undefined : storageCause(e);
  if (isGeniFault(e)) {
    process.stderr.write(`error: ${e.fault} (geni_code ${e.geniCode}): ${e.message}\n`);
  } else if (storage) {
    // A full disk or a read-only folder is the operator's to fix, and the operator is reading:
    // the cause in words, then the system's message with the path it names.
    const damaged = e instanceof DamagedFileError; // its message already says what to do
    process.stderr.write(
      `error: DBERROR (geni_code 9): storage failure: ${storage}: ${(e as Error).message}\n` +
        (damaged
          ? ''
          : 'fix the data folder (free space, make it writable) and run the command again\n'),
    );
  } else {
    process.stderr.write(`error: ${(e as Error).message ?? String(e)}\n`);
  }
  process.exitCode = 1;
}

/** Wrap a command's action so that every failure is reported by {@link fail}. */
export function action<A extends unknown[]>(fn: (...args: A) => void | Promise<void>) {
  return async (...args: A): Promise<void> => {
    try {
      await fn(...args);
    } catch (e) {
      fail(e);
    }
  };
}
