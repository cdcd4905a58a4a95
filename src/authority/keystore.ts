/**
 * The private keys and GIDs of the authorities this interface runs, one file each in the data
 * folder (keys/<hrn>.pkey, mode 0600; gids/<hrn>.gid). A key file is never overwritten.
 *
 * Files are written whole or not at all (atomic-file.ts). Older versions could leave an empty
 * key file when the disk filled up: an empty key file is treated as absent and replaced (and
 * said so); a non-empty key file that does not read as a key is refused, never replaced, since
 * it may be the only copy of a key that can still be recovered.
 */
import { mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { paths } from '../config.js';
import { BadArgs, SearchFailed } from '../faults.js';
import { Gid, issueGid } from '../credentials/gid.js';
import { generateKeyPairAsync, loadPrivateKey } from '../credentials/keys.js';
import { hrnAuthority, Xrn } from '../credentials/xrn.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { DamagedFileError } from '../store/storage-fault.js';
import { fileState } from '../store/file-state.js';

export interface AuthorityIdentity {
  readonly hrn: string;
  readonly key: KeyObject;
  /** The authority's GID with its issuer chain. */
  readonly gid: Gid;
}

/** What {@link AuthorityKeystore.create} did with the key file. */
export type KeyFileOutcome =
  /** A new key, where there was no file. */
  | 'created'
  /** The key was already there (an earlier run stopped before writing the GID): kept. */
  | 'kept'
  /** A new key, in place of an empty file left by an interrupted write of an older version. */
  | 'replaced-empty';

export interface CreatedAuthority extends AuthorityIdentity {
  readonly keyFile: KeyFileOutcome;
}

/** GIDs this interface issues are valid this long (SFA's default). */
export const GID_LIFETIME_DAYS = 1825;

/** Where the keystore reports a repair it made (an empty key file replaced). */
export type Notify = (message: string) => void;

const toStderr: Notify = (message) => process.stderr.write(`sfa: ${message}\n`);

export class AuthorityKeystore {
  private readonly loaded = new Map<string, AuthorityIdentity>();
  /** Creations under way in this process, by HRN: a second Register waits for the first. */
  private readonly creating = new Map<string, Promise<CreatedAuthority>>();

  constructor(
    readonly dir: string,
    private readonly notify: Notify = toStderr,
  ) {}

  /** True when this interface holds the key of authority `hrn` (an empty file is no key). */
  has(hrn: string): boolean {
    return (
      fileState(paths.key(this.dir, hrn)) === 'present' &&
      fileState(paths.gid(this.dir, hrn)) === 'present'
    );
  }

  /** The key and GID of local authority `hrn`. */
  get(hrn: string): AuthorityIdentity {
    const known = this.loaded.get(hrn);
    if (known) return known;
    if (!this.has(hrn)) {
      const keyFile = paths.key(this.dir, hrn);
      if (fileState(keyFile) === 'empty') {
        throw new SearchFailed(
          `this interface holds no key for authority ${hrn}: ${keyFile} is empty (an interrupted ` +
            `write); 'sfa authority add ${hrn}' (or 'sfa init' for the root) replaces it`,
        );
      }
      throw new SearchFailed(`this interface holds no key for authority ${hrn}`);
    }
    const identity = {
      hrn,
      key: readKeyFile(paths.key(this.dir, hrn), hrn),
      gid: Gid.fromPem(readFileSync(paths.gid(this.dir, hrn), 'utf8')),
    };
    this.loaded.set(hrn, identity);
    return identity;
  }

  /**
   * The local authority that signs for `hrn`: its own authority, or the nearest one above it
   * whose key this interface holds (`ple` signs for `ple.inria.alice` if `ple.inria` is not local).
   */
  signerFor(hrn: string): AuthorityIdentity {
    for (let a = hrnAuthority(hrn); a !== ''; a = hrnAuthority(a)) {
      if (this.has(a)) return this.get(a);
    }
    throw new SearchFailed(`no local authority can sign for ${hrn}`);
  }

  /**
   * Create authority `hrn`: a new key and a GID, self-signed for a root (no `parent`), else
   * signed by the local parent authority. Refuses to replace an existing key; a key without its
   * GID (an interrupted earlier run) is kept and given one. The key is generated off the event
   * loop, so a server keeps answering meanwhile.
   *
   * @throws BadArgs when the authority already has its key and GID.
   * @throws DamagedFileError when the key file holds something that is not a key.
   * @throws the file system's error (ENOSPC…) when the files cannot be written; nothing
   *   half-written is left behind.
   */
  create(hrn: string, now: Date, parent?: AuthorityIdentity): Promise<CreatedAuthority> {
    const pending = this.creating.get(hrn);
    if (pending) {
      // The same authority twice at once in this process (two Registers): the second gets the
      // first's key, or tries again itself if the first failed (a full disk since freed).
      return pending.then(
        () => ({ ...this.get(hrn), keyFile: 'kept' as const }),
        () => this.create(hrn, now, parent),
      );
    }
    const run = this.createNow(hrn, now, parent).finally(() => this.creating.delete(hrn));
    this.creating.set(hrn, run);
    return run;
  }

  private async createNow(
    hrn: string,
    now: Date,
    parent: AuthorityIdentity | undefined,
  ): Promise<CreatedAuthority> {
    const keyFile = paths.key(this.dir, hrn);
    const gidFile = paths.gid(this.dir, hrn);
    if (this.has(hrn)) {
      throw new BadArgs(
        `authority ${hrn} already has a key (${keyFile}); a key is never overwritten`,
      );
    }
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    mkdirSync(dirname(gidFile), { recursive: true, mode: 0o700 });

    let privateKey: KeyObject;
    let outcome: KeyFileOutcome;
    const state = fileState(keyFile);
    if (state === 'present') {
      // A key without its GID: an earlier run stopped between the two writes. Keep the key.
      privateKey = readKeyFile(keyFile, hrn);
      outcome = 'kept';
    } else {
      const pem = (await generateKeyPairAsync()).privateKeyPem;
      ({ privateKey, outcome } = placeNewKey(keyFile, hrn, pem, state === 'empty'));
      if (outcome === 'replaced-empty') {
        this.notify(
          `${keyFile} was empty (left by an interrupted write, e.g. a full disk): replaced it with a new key for ${hrn}`,
        );
      }
    }
    const gid = issueGid({
      urn: Xrn.fromHrn(hrn, 'authority').urn,
      subjectPublicKey: createPublicKey(privateKey),
      issuerKey: parent ? parent.key : privateKey,
      issuerGid: parent?.gid,
      notBefore: now,
      lifetimeDays: GID_LIFETIME_DAYS,
    });
    writeFileAtomic(gidFile, gid.pem, { mode: 0o644 });
    const identity = { hrn, key: privateKey, gid };
    this.loaded.set(hrn, identity);
    return { ...identity, keyFile: outcome };
  }
}

/**
 * Put the new key `pem` at `keyFile`, never over a real key: if another process wrote one
 * meanwhile (EEXIST), that key wins and is returned instead.
 */
function placeNewKey(
  keyFile: string,
  hrn: string,
  pem: string,
  replacingEmpty: boolean,
): { privateKey: KeyObject; outcome: KeyFileOutcome } {
  if (replacingEmpty) removeIfStillEmpty(keyFile);
  try {
    writeFileAtomic(keyFile, pem, { mode: 0o600, exclusive: true });
    return {
      privateKey: createPrivateKey(pem),
      outcome: replacingEmpty ? 'replaced-empty' : 'created',
    };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    // Another process (a concurrent `sfa init` or Register) placed its key first: use it.
    return { privateKey: readKeyFile(keyFile, hrn), outcome: 'kept' };
  }
}

/**
 * Remove the empty key file at `file`, unless it changed since it was found empty: another
 * process may have replaced it with a real key in between, and a real key is never removed.
 */
function removeIfStillEmpty(file: string): void {
  let before;
  try {
    before = statSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  if (before.size !== 0) return; // a real key now: placeNewKey's EEXIST path reads it
  // The window between this check and the unlink is a few instructions, against another
  // process that found the same empty file and replaced it in between.
  const again = statSync(file, { throwIfNoEntry: false });
  if (again && again.ino === before.ino && again.size === 0) {
    rmSync(file, { force: true }); // force: another process may have removed it first
  }
}

/** Read a key file, refusing (never replacing) one that is not a key. */
function readKeyFile(file: string, hrn: string): KeyObject {
  const text = readFileSync(file, 'utf8');
  try {
    return loadPrivateKey(text);
  } catch (e) {
    throw new DamagedFileError(
      file,
      `${file} (the private key of authority ${hrn}) is not a readable PEM private key: it may ` +
        'have been cut short by an interrupted write. It was left as it is: restore it from a ' +
        'backup; if the key is lost, move the file away, and a new key is made the next time ' +
        `the authority is created (Register or 'sfa authority add ${hrn}'; 'sfa init' for the ` +
        'root authority); what the old key signed must then be issued again',
      { cause: e },
    );
  }
}
