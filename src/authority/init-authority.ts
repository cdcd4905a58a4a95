/**
 * `sfa init`: create an authority's data folder: its root key and self-signed GID, the trusted
 * roots, the configuration and the database. Idempotent: what exists is kept, a key is never
 * overwritten; what is missing or out of date is made, and the result says which is which.
 * Runs one at a time per data folder (init-lock.ts); every file is written whole or not at all.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkStoreUrl,
  DEFAULT_PORTS,
  loadConfig,
  paths,
  storeLocation,
  type SfaConfig,
} from '../config.js';
import { isPostgresUrl, redactUrl } from '../store/postgres.js';
import { BadArgs } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { Xrn } from '../credentials/xrn.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { fileState } from '../store/file-state.js';
import { RegistryStore } from '../store/registry-store.js';
import { AuthorityKeystore, type AuthorityIdentity } from './keystore.js';
import { withInitLock } from './init-lock.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import { demoInventory } from '../aggregate/engine/demo-inventory.js';

export interface InitOptions {
  dir: string;
  authority?: string;
  hostname?: string;
  now: Date;
  /** Seed the aggregate with the demo inventory when it is created (default true). */
  demoInventory?: boolean;
  /** How long to wait for another `sfa init` on the same folder (default 2 minutes). */
  lockWaitMs?: number;
  /** A PostgreSQL URL for a new authority's data (sfa.json `store`); default: SQLite files. */
  store?: string;
}

export interface InitResult {
  config: SfaConfig;
  /** What this run created (empty when everything was already there), with a note when useful. */
  created: string[];
  /** What was already there and kept, named when this run made something that depends on it. */
  kept: string[];
  /** What this run replaced or brought up to date (an empty key file, the trusted root…). */
  updated: string[];
  /** Anything else worth telling the operator (this run waited for another one). */
  notes: string[];
}

export async function initAuthority(opts: InitOptions): Promise<InitResult> {
  const { dir } = opts;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { result, waitedFor } = await withInitLock(dir, () => initLocked(opts), {
    ...(opts.lockWaitMs !== undefined ? { waitMs: opts.lockWaitMs } : {}),
  });
  if (waitedFor !== undefined) {
    result.notes.push(
      `waited for another 'sfa init'${waitedFor ? ` (pid ${waitedFor})` : ''} in ${dir} to finish`,
    );
  }
  return result;
}

async function initLocked(opts: InitOptions): Promise<InitResult> {
  const { dir, now } = opts;
  const { config, written } = readOrWriteConfig(opts);
  const result: InitResult = { config, created: [], kept: [], updated: [], notes: [] };
  if (written === 'created') result.created.push(paths.config(dir));
  if (written === 'rewritten')
    result.updated.push(`${paths.config(dir)} (it was empty, left by an interrupted write)`);

  const root = await rootIdentity(dir, config.authority, now, result);
  refreshTrustedRoot(dir, config.authority, root, result);

  const registryAt = storeLocation(dir, config, 'registry');
  const store = RegistryStore.open(registryAt);
  try {
    const record = store.get(config.authority, 'authority');
    if (!record) {
      store.insert(
        {
          hrn: config.authority,
          type: 'authority',
          gid: root.gid.pem,
          authority: null,
          peerAuthority: null,
          pointer: -1,
          email: null,
          name: config.authority,
          expires: null,
        },
        now,
      );
      result.created.push(`${shown(registryAt)} (authority record ${config.authority})`);
    } else if (!sameCertificate(record.gid, root.gid)) {
      // The root GID was made again (its key file had been lost): the record must serve the
      // GID that signs from now on, or Resolve would hand out one nothing verifies against.
      store.update(record.id, { gid: root.gid.pem }, now);
      result.updated.push(
        `${shown(registryAt)} (authority record ${config.authority}: its new GID)`,
      );
    }
  } finally {
    store.close();
  }

  const aggregateAt = storeLocation(dir, config, 'aggregate');
  const aggregateDb = shown(aggregateAt);
  // A PostgreSQL store is new when nothing was ever put in its inventory.
  if (config.store !== undefined || !existsSync(aggregateAt)) {
    const engine = AggregateEngine.open(aggregateAt, { authority: config.authority });
    try {
      if (config.store !== undefined && engine.store.inventoryVersion() !== 0) {
        // Kept as it is: the authority's aggregate was made before.
      } else if (opts.demoInventory !== false) {
        const summary = engine.loadInventory(demoInventory());
        result.created.push(
          `${aggregateDb} (demo inventory: ${summary.nodes} nodes over ${summary.sites} sites)`,
        );
      } else {
        result.created.push(aggregateDb);
      }
    } finally {
      engine.close();
    }
  }
  return result;
}

/** A store's location as the operator may see it (a URL without its password). */
const shown = (location: string): string =>
  isPostgresUrl(location) ? redactUrl(location) : location;

/** sfa.json: read when there is one, else written from the options. */
function readOrWriteConfig(opts: InitOptions): {
  config: SfaConfig;
  written: 'created' | 'rewritten' | false;
} {
  const { dir } = opts;
  const file = paths.config(dir);
  const state = fileState(file);
  if (state === 'empty' && opts.authority) {
    // An older version's interrupted write; the operator named the authority, so write it
    // again (without --authority, loadConfig below says to give it: never guess a name).
    rmSync(file, { force: true });
  }
  if (state === 'missing' || (state === 'empty' && opts.authority)) {
    const authority = opts.authority ?? 'ple';
    const xrn = Xrn.fromHrn(authority, 'authority'); // refuses a malformed HRN before anything is written
    const config: SfaConfig = {
      authority: xrn.hrn,
      hostname: opts.hostname ?? 'localhost',
      listen: '0.0.0.0',
      ports: { ...DEFAULT_PORTS },
      ...(opts.store !== undefined ? { store: checkStoreUrl(opts.store, '--store') } : {}),
    };
    try {
      writeFileAtomic(file, JSON.stringify(config, null, 2) + '\n', {
        // A store URL may hold a password.
        mode: config.store === undefined ? 0o644 : 0o600,
        exclusive: true,
      });
      return { config, written: state === 'empty' ? 'rewritten' : 'created' };
    } catch (e) {
      // Another program (an older `sfa init`, which takes no lock) wrote it first: read theirs.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const config = loadConfig(dir);
  if (opts.authority && opts.authority !== config.authority) {
    throw new BadArgs(
      `${dir} already holds authority '${config.authority}', not '${opts.authority}': use another --dir`,
    );
  }
  if (opts.store !== undefined && opts.store !== config.store) {
    throw new BadArgs(
      `${dir} already holds authority '${config.authority}' with its data in ` +
        `${config.store === undefined ? 'the SQLite files of the folder' : redactUrl(config.store)}: ` +
        'to move it, use \'sfa store copy\', then set "store" in sfa.json',
    );
  }
  return { config, written: false };
}

/** The root authority's key and GID, made (or completed) when missing. */
async function rootIdentity(
  dir: string,
  hrn: string,
  now: Date,
  result: InitResult,
): Promise<AuthorityIdentity> {
  // Silent: what the keystore does is reported below, in the result.
  const keystore = new AuthorityKeystore(dir, () => {});
  if (keystore.has(hrn)) return keystore.get(hrn);
  const keyFile = paths.key(dir, hrn);
  const gidFile = paths.gid(dir, hrn);
  const gidBefore = fileState(gidFile);
  const made = await keystore.create(hrn, now);
  switch (made.keyFile) {
    case 'created':
      result.created.push(keyFile);
      break;
    case 'kept':
      result.kept.push(`${keyFile} (the existing key)`);
      break;
    case 'replaced-empty':
      result.updated.push(
        `${keyFile} (it was empty, left by an interrupted write: a new key; whatever the lost key signed must be issued again)`,
      );
      break;
  }
  const onKey = made.keyFile === 'kept' ? ' (on the existing key)' : '';
  if (gidBefore === 'missing') result.created.push(`${gidFile}${onKey}`);
  else result.updated.push(`${gidFile} (a new self-signed GID${onKey})`);
  return made;
}

/**
 * trusted_roots/<hrn>.gid must be this authority's current GID: written when missing, and
 * again whenever it differs (the GID was just made again, or the copy is damaged).
 */
function refreshTrustedRoot(
  dir: string,
  hrn: string,
  root: AuthorityIdentity,
  result: InitResult,
): void {
  mkdirSync(paths.trustedRoots(dir), { recursive: true, mode: 0o755 });
  const trusted = join(paths.trustedRoots(dir), `${hrn}.gid`);
  const state = fileState(trusted);
  if (state === 'present' && sameCertificate(readFileSync(trusted, 'utf8'), root.gid)) return;
  writeFileAtomic(trusted, readFileSync(paths.gid(dir, hrn), 'utf8'), { mode: 0o644 });
  if (state === 'missing') result.created.push(trusted);
  else result.updated.push(`${trusted} (now this authority's current GID)`);
}

/** Does the PEM `text` start with the same certificate as `gid`? Unreadable text does not. */
function sameCertificate(text: string, gid: Gid): boolean {
  try {
    return Gid.fromPem(text).fingerprint256 === gid.fingerprint256;
  } catch {
    return false;
  }
}
