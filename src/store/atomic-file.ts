/**
 * Write a file whole or not at all: keys, GIDs and configuration go through here, so that a
 * full disk, a crash or a power cut never leaves an empty or half-written file under the real
 * name (an empty key file used to poison an authority name until someone deleted it by hand).
 *
 * The bytes go to a temporary file in the same folder (same file system, so the final step is
 * a rename), are fsynced, then the file takes its name in one step and the folder is fsynced
 * so that the name survives a power cut too.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  linkSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** Permission bits of the file, set before any byte is written (default 0o644). */
  mode?: number;
  /**
   * Refuse (EEXIST) to replace a file that exists, even one created by another process a moment
   * ago: a private key is never overwritten.
   */
  exclusive?: boolean;
}

/** Codes of file systems that cannot make hard links (FAT, some FUSE and network mounts). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Write `data` to `file` atomically: a reader sees the old content or the new, never a part.
 * On failure (ENOSPC, EIO…) the temporary file is removed, `file` is as it was, and the error
 * (with its errno `code`) is thrown.
 */
export function writeFileAtomic(
  file: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): void {
  const mode = opts.mode ?? 0o644;
  const dir = dirname(file);
  // A dot name ending in .tmp: no reader of these folders (trusted_roots/*.gid, keys/*.pkey)
  // mistakes it for the real file if a crash leaves it behind.
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const fd = openSync(tmp, 'wx', mode);
  let tmpGone = false;
  try {
    try {
      // The umask may have narrowed `mode`; a key must never be readable by others, even briefly.
      fchmodSync(fd, mode);
      for (let off = 0; off < bytes.length;) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    if (opts.exclusive) {
      placeExclusively(tmp, file);
    } else {
      renameSync(tmp, file);
      tmpGone = true;
    }
  } finally {
    if (!tmpGone) rmSync(tmp, { force: true });
  }
  fsyncDirectory(dir);
}

/** Give `tmp`'s content the name `file` unless `file` exists (EEXIST then). */
function placeExclusively(tmp: string, file: string): void {
  try {
    // link(2) fails if the name exists: no other process's file can be replaced, unlike rename.
    linkSync(tmp, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === undefined || !NO_LINKS.has(code)) throw e;
    // No hard links here: check, then rename. Racy, but only against a concurrent creation of
    // the same key on such a file system.
    if (existsSync(file)) {
      throw Object.assign(new Error(`EEXIST: file already exists, '${file}'`), {
        code: 'EEXIST',
        path: file,
      });
    }
    renameSync(tmp, file);
  }
}

/** Make a rename or link in `dir` durable. Platforms that cannot fsync a folder are skipped. */
export function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EISDIR' || code === 'EPERM' || code === 'EACCES') return; // Windows
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'ENOTSUP') throw e;
  } finally {
    closeSync(fd);
  }
}
