/**
 * Base images: the read-only root folders slivers run on, one folder per `vref` name under the
 * node's images folder (`<images>/<vref>/`, holding `bin/`, `etc/`, …).
 *
 * The default image, `busybox`, is made here from Debian's `busybox-static` package: the static
 * `/bin/busybox` copied in, a symlink per applet (`busybox --list`) in `bin/`, and the empty
 * folders the container's mounts need. It has no network tools beyond busybox's and no package
 * manager, which is enough for a shell, an initscript and the tests.
 *
 * **Adding a fuller image (operator).** Put a complete root folder under the images folder,
 * named as researchers will ask for it in `vref`, for instance a Debian one:
 *
 *     debootstrap --variant=minbase bookworm /var/lib/sfa-node/images/debian12 http://deb.debian.org/debian
 *
 * (or `mkdir D && docker export $(docker create debian:12) | tar -x -C D`). The folder must be
 * owned by root and readable by all, every folder above it must be searchable by others (mode
 * 0711 at least: the container is set up by the sliver's mapped root, not by the node's root),
 * and it must hold the mount points `proc`, `dev`, `root`, `var` and `tmp` (any Debian root
 * does) and `/bin/sh` with `sleep` (the sliver's init). Slivers share it read-only: nothing a
 * sliver does changes it, and a change to it shows in every sliver at its next start.
 */
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** The name of the default image (the `vref` a sliver gets when it asks for none). */
export const DEFAULT_VREF = 'busybox';

/** Where Debian's `busybox-static` puts the static binary (`/bin` is `/usr/bin` on Debian 12). */
export const DEBIAN_BUSYBOX = '/bin/busybox';

/** The folders every image must have for the sliver's mounts and init. */
export const IMAGE_MOUNT_POINTS: readonly string[] = Object.freeze([
  'proc',
  'dev',
  'sys',
  'root',
  'var',
  'tmp',
  'home',
  'etc',
  'run',
]);

/** The file recording which busybox an image was made from (to make it again when it changes). */
const STAMP = '.sfa-image';

const VREF = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** An image that cannot be made or found; the message says what is missing. */
export class ImageError extends Error {
  override readonly name = 'ImageError';
}

function sha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/**
 * Whether `elf` is a statically linked ELF64 executable (no PT_INTERP program header). A dynamic
 * busybox (Debian's `busybox` package, not `busybox-static`) would not run in an image without
 * a C library.
 */
export function isStaticElf(elf: Buffer): boolean {
  if (elf.length < 64 || elf.readUInt32BE(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1)
    return false;
  const phoff = Number(elf.readBigUInt64LE(32));
  const phentsize = elf.readUInt16LE(54);
  const phnum = elf.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > elf.length) return false;
    if (elf.readUInt32LE(at) === 3) return false; // PT_INTERP: needs a dynamic loader.
  }
  return true;
}

/**
 * Make the busybox image in `dir` (the image's root folder, e.g. `<images>/busybox`) unless it is
 * already there, made from the same busybox binary. Idempotent: a second call is a few reads. The
 * image is built in a sibling folder and renamed into place, so a crash never leaves half of one.
 * Returns `dir`.
 */
export function ensureBusyboxImage(dir: string, busybox: string = DEBIAN_BUSYBOX): string {
  if (!existsSync(busybox)) {
    throw new ImageError(
      `${busybox} is missing: install the Debian package busybox-static (apt-get install busybox-static)`,
    );
  }
  if (!isStaticElf(readFileSync(busybox))) {
    throw new ImageError(
      `${busybox} is not a static 64-bit little-endian executable: install the Debian package busybox-static (not busybox)`,
    );
  }
  // The layout's version too: an image of an older layout (without /vsys) is made again.
  const digest = `${sha256(busybox)} layout-2`;
  const stamp = join(dir, STAMP);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === digest) return dir;

  let applets: string[];
  try {
    applets = execFileSync(busybox, ['--list'], { encoding: 'utf8', timeout: 10_000 })
      .split('\n')
      .filter((a) => /^[\w.[-]+$/.test(a) && a !== 'busybox');
  } catch (e) {
    throw new ImageError(
      `'${busybox} --list' failed (${(e as Error).message}): is it Debian's static busybox (busybox-static)?`,
    );
  }
  mkdirSync(dirname(dir), { recursive: true });
  const building = `${dir}.building-${process.pid}`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(join(building, 'bin'), { recursive: true, mode: 0o755 });
  for (const d of IMAGE_MOUNT_POINTS) mkdirSync(join(building, d), { mode: 0o755 });
  // Where the sliver's vsys FIFOs appear (vsys.ts); optional in other images.
  mkdirSync(join(building, 'vsys'), { mode: 0o755 });
  chmodSync(join(building, 'tmp'), 0o1777);
  copyFileSync(busybox, join(building, 'bin', 'busybox'));
  chmodSync(join(building, 'bin', 'busybox'), 0o755);
  for (const applet of applets) symlinkSync('busybox', join(building, 'bin', applet));
  // The user database a shell expects: root and nobody only, nothing of the node's /etc.
  writeFileSync(
    join(building, 'etc', 'passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n',
  );
  writeFileSync(join(building, 'etc', 'group'), 'root:x:0:\nnogroup:x:65534:\n');
  writeFileSync(join(building, STAMP), `${digest}\n`);
  chmodSync(building, 0o755);
  // Replace an older image (another busybox) only once the new one is complete.
  if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
  renameSync(building, dir);
  return dir;
}

/**
 * The root folder of image `vref` under `imagesDir`, or an ImageError naming what is wrong (an
 * unknown `vref` fails that sliver alone). The default image is made on first use.
 */
export function resolveImage(imagesDir: string, vref: string = DEFAULT_VREF): string {
  if (!VREF.test(vref)) throw new ImageError(`vref ${JSON.stringify(vref)} is not an image name`);
  const dir = join(imagesDir, vref);
  if (vref === DEFAULT_VREF) return ensureBusyboxImage(dir);
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    // Missing: said below.
  }
  if (!isDir)
    throw new ImageError(
      `unknown vref ${JSON.stringify(vref)}: no image folder ${dir} on this node`,
    );
  try {
    lstatSync(join(dir, 'bin', 'sh')); // A symlink is enough: it may point inside the image.
  } catch {
    throw new ImageError(`image ${JSON.stringify(vref)} has no /bin/sh`);
  }
  return dir;
}
