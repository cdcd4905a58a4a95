/**
 * Issue 8, item 8: `sfa init` and start-up on data folders as operators leave them: a key
 * without its GID, two inits at once, a read-only folder, a folder made 0755 by hand. Real files
 * in a temporary folder of each test's own, real processes where the output is what matters.
 */
import { spawn, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { INIT_LOCK_FILE } from '../../src/authority/init-lock.js';
import { AggregateEngine } from '../../src/aggregate/engine/engine.js';
import { paths } from '../../src/config.js';
import { Gid } from '../../src/credentials/gid.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import { sfa, type CliResult } from '../support/cli.js';
import { NOW, ROOT } from '../support/paths.js';
import { mountTmpfs, remount, unmount } from '../support/tmpfs.js';

/** What each test made, undone after it whatever happened. */
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const undo of cleanups.splice(0).reverse()) undo();
});

function tempFolder(): string {
  const base = mkdtempSync(join(tmpdir(), 'sfa-init-'));
  cleanups.push(() => rmSync(base, { recursive: true, force: true }));
  return base;
}

/** `sfa …` as a process that runs alongside others (support/cli.ts's `sfa` waits for each). */
function sfaAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      { cwd: ROOT, env: { ...process.env, NODE_NO_WARNINGS: '1' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const mode = (file: string) => statSync(file).mode & 0o777;

describe('sfa init with the key present but its GID missing', () => {
  it('says it kept the key and made the GID, and refreshes trusted_roots to the new GID', () => {
    const dir = join(tempFolder(), 'data');
    expect(sfa(['init', '--dir', dir]).status).toBe(0);
    const keyFile = paths.key(dir, 'ple');
    const gidFile = paths.gid(dir, 'ple');
    const trusted = join(paths.trustedRoots(dir), 'ple.gid');
    const key = readFileSync(keyFile, 'utf8');
    const oldGid = readFileSync(gidFile, 'utf8');
    rmSync(gidFile);

    const r = sfa(['init', '--dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`kept ${keyFile} (the existing key)\n`);
    expect(r.stdout).toContain(`created ${gidFile} (on the existing key)\n`);
    expect(r.stdout).not.toContain(`created ${keyFile}`);
    expect(r.stdout).toContain(`updated ${trusted} (now this authority's current GID)\n`);
    expect(r.stdout).toContain(
      `updated ${paths.database(dir)} (authority record ple: its new GID)\n`,
    );

    expect(readFileSync(keyFile, 'utf8')).toBe(key);
    const newGid = readFileSync(gidFile, 'utf8');
    expect(newGid).not.toBe(oldGid);
    expect(readFileSync(trusted, 'utf8')).toBe(newGid);
    const store = RegistryStore.open(paths.database(dir));
    try {
      const recorded = Gid.fromPem(store.get('ple', 'authority')!.gid);
      expect(recorded.fingerprint256).toBe(Gid.fromPem(newGid).fingerprint256);
    } finally {
      store.close();
    }
    // And the next run has nothing left to do.
    expect(sfa(['init', '--dir', dir]).stdout).toBe(
      `authority 'ple' already set up in ${dir}: nothing to do\n`,
    );
  });
});

describe('two sfa init at once on one data folder', () => {
  it('both succeed, one key is made, and no raw EEXIST', async () => {
    const dir = join(tempFolder(), 'data');
    const [a, b] = await Promise.all([
      sfaAsync(['init', '--dir', dir, '--authority', 'ple']),
      sfaAsync(['init', '--dir', dir, '--authority', 'ple']),
    ]);
    expect(a.stderr + b.stderr).toBe('');
    expect([a.status, b.status]).toEqual([0, 0]);
    const made = [a, b].filter((r) => r.stdout.includes(`created ${paths.key(dir, 'ple')}\n`));
    expect(made).toHaveLength(1);
    expect(existsSync(join(dir, INIT_LOCK_FILE))).toBe(false);
  });

  it('in one process too: the second waits for the first and finds everything made', async () => {
    const dir = join(tempFolder(), 'data');
    const [first, second] = await Promise.all([
      initAuthority({ dir, authority: 'ple', now: NOW, demoInventory: false }),
      initAuthority({ dir, authority: 'ple', now: NOW, demoInventory: false }),
    ]);
    expect(first.created).toContain(paths.key(dir, 'ple'));
    expect(second.created).toEqual([]);
    expect(second.notes).toEqual([
      `waited for another 'sfa init' (pid ${process.pid}) in ${dir} to finish`,
    ]);
  });

  it('takes over the lock of an init that was killed (its pid is gone)', async () => {
    const dir = join(tempFolder(), 'data');
    mkdirSync(dir);
    const dead = spawnSync(process.execPath, ['-e', '']).pid!; // exited: its pid is free
    writeFileSync(join(dir, INIT_LOCK_FILE), `${dead}\n`);
    const r = await initAuthority({
      dir,
      authority: 'ple',
      now: NOW,
      demoInventory: false,
      lockWaitMs: 5_000,
    });
    expect(r.created).toContain(paths.key(dir, 'ple'));
    expect(existsSync(join(dir, INIT_LOCK_FILE))).toBe(false);
  });
});

describe('start-up on a read-only data folder', () => {
  it('names the database and the cause, not just "unable to open database file"', async (ctx) => {
    const mnt = join(tempFolder(), 'mnt');
    mkdirSync(mnt);
    const cannot = mountTmpfs(mnt, '16m');
    ctx.skip(cannot !== undefined, cannot);
    cleanups.push(() => unmount(mnt));
    // Root ignores permission bits: only a read-only mount makes the folder read-only here.
    await initAuthority({ dir: mnt, authority: 'ple', now: NOW, demoInventory: false });
    remount(mnt, 'ro');

    const db = paths.database(mnt);
    expect(() => RegistryStore.open(db)).toThrow(
      `cannot open the database ${db}: the folder ${mnt} is on a read-only file system (SQLite: unable to open database file)`,
    );

    const r = sfa(['serve', '--dir', mnt, '--listen', '127.0.0.1', '--registry-port', '0']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'error: DBERROR (geni_code 9): storage failure: the data folder is on a read-only file system: ' +
        `cannot open the database ${db}: the folder ${mnt} is on a read-only file system ` +
        '(SQLite: unable to open database file)\n' +
        'fix the data folder (free space, make it writable) and run the command again\n',
    );
  });
});

describe('databases in a data folder made 0755', () => {
  it('are created 0600, and existing world-readable ones (with -wal and -shm) become 0600', async () => {
    const dir = join(tempFolder(), 'data');
    mkdirSync(dir);
    chmodSync(dir, 0o755);
    await initAuthority({ dir, authority: 'ple', now: NOW, demoInventory: false });
    const registryDb = paths.database(dir);
    const aggregateDb = paths.aggregateDatabase(dir);
    expect(mode(registryDb)).toBe(0o600);
    expect(mode(aggregateDb)).toBe(0o600);

    // As an older version left them: world-readable, -wal and -shm included.
    const older = RegistryStore.open(registryDb);
    for (const f of [registryDb, `${registryDb}-wal`, `${registryDb}-shm`]) chmodSync(f, 0o644);
    chmodSync(aggregateDb, 0o644);

    const store = RegistryStore.open(registryDb);
    const engine = AggregateEngine.open(aggregateDb, { authority: 'ple' });
    try {
      for (const db of [registryDb, aggregateDb]) {
        for (const f of [db, `${db}-wal`, `${db}-shm`]) expect([f, mode(f)]).toEqual([f, 0o600]);
      }
    } finally {
      engine.close();
      store.close();
      older.close();
    }
  });
});
