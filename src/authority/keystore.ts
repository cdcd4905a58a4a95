/**
 * The private keys and GIDs of the authorities this interface runs, one file each in the data
 * folder (keys/<hrn>.pkey, mode 0600; gids/<hrn>.gid). A key file is never overwritten.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { dirname } from 'node:path';
import { paths } from '../config.js';
import { BadArgs, SearchFailed } from '../faults.js';
import { Gid, issueGid } from '../credentials/gid.js';
import { generateKeyPair, loadPrivateKey } from '../credentials/keys.js';
import { hrnAuthority, Xrn } from '../credentials/xrn.js';

export interface AuthorityIdentity {
  readonly hrn: string;
  readonly key: KeyObject;
  /** The authority's GID with its issuer chain. */
  readonly gid: Gid;
}

/** GIDs this interface issues are valid this long (SFA's default). */
export const GID_LIFETIME_DAYS = 1825;

export class AuthorityKeystore {
  private readonly loaded = new Map<string, AuthorityIdentity>();

  constructor(readonly dir: string) {}

  /** True when this interface holds the key of authority `hrn`. */
  has(hrn: string): boolean {
    return existsSync(paths.key(this.dir, hrn)) && existsSync(paths.gid(this.dir, hrn));
  }

  /** The key and GID of local authority `hrn`. */
  get(hrn: string): AuthorityIdentity {
    const known = this.loaded.get(hrn);
    if (known) return known;
    if (!this.has(hrn)) throw new SearchFailed(`this interface holds no key for authority ${hrn}`);
    const identity = {
      hrn,
      key: loadPrivateKey(readFileSync(paths.key(this.dir, hrn), 'utf8')),
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
   * signed by the local parent authority. Refuses to replace an existing key.
   */
  create(hrn: string, now: Date, parent?: AuthorityIdentity): AuthorityIdentity {
    const keyFile = paths.key(this.dir, hrn);
    const gidFile = paths.gid(this.dir, hrn);
    if (existsSync(keyFile) && existsSync(gidFile)) {
      throw new BadArgs(
        `authority ${hrn} already has a key (${keyFile}); a key is never overwritten`,
      );
    }
    mkdirSync(dirname(keyFile), { recursive: true, mode: 0o700 });
    mkdirSync(dirname(gidFile), { recursive: true, mode: 0o700 });
    let privateKey: KeyObject;
    if (existsSync(keyFile)) {
      // A key without its GID: an earlier run stopped between the two writes. Keep the key.
      privateKey = loadPrivateKey(readFileSync(keyFile, 'utf8'));
    } else {
      const pem = generateKeyPair().privateKeyPem;
      // 'wx': fail rather than clobber if another process created the key meanwhile.
      writeFileSync(keyFile, pem, { mode: 0o600, flag: 'wx' });
      chmodSync(keyFile, 0o600);
      privateKey = createPrivateKey(pem);
    }
    const gid = issueGid({
      urn: Xrn.fromHrn(hrn, 'authority').urn,
      subjectPublicKey: createPublicKey(privateKey),
      issuerKey: parent ? parent.key : privateKey,
      issuerGid: parent?.gid,
      notBefore: now,
      lifetimeDays: GID_LIFETIME_DAYS,
    });
    writeFileAtomic(gidFile, gid.pem, 0o644);
    const identity = { hrn, key: privateKey, gid };
    this.loaded.set(hrn, identity);
    return identity;
  }
}

/** Write via a temporary file and rename, so a reader never sees half a file. */
export function writeFileAtomic(file: string, data: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, data, { mode });
  renameSync(tmp, file);
}
