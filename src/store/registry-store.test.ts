import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { AlreadyExists, BadArgs, SearchFailed, type GeniFault } from '../faults.js';
import { describeBackends } from '../../test/support/backends.js';
import { ROOT } from '../../test/support/paths.js';
import { tempRoot } from '../../test/support/tmp.js';
import { openDatabase, runMigrations, SchemaVersionError } from './database.js';
import {
  REGISTRY_MIGRATIONS,
  RegistryStore,
  type NewRecord,
  type RecordRow,
  type RecordType,
} from './registry-store.js';
import { CHURN_GROUP_SIZE, COUNTER_HRN, FIXTURE_NOW } from './writer-process.fixture.js';
import { PostgresDatabase } from './postgres.js';
import { sqliteConnection, SqliteDatabase, type SqlDatabase } from './sql.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const LATER = new Date('2026-11-26T08:30:15.999Z');
const GID = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

const tmp = tempRoot('registry-store');
let n = 0;
const freshPath = (): string => join(tmp.path, `registry${++n}.sqlite`);

const opened: RegistryStore[] = [];
function openAt(location: string): RegistryStore {
  const store = RegistryStore.open(location);
  opened.push(store);
  return store;
}
afterEach(() => {
  for (const s of opened.splice(0)) if (s.db.open) s.close();
});

const parentOf = (hrn: string): string | null => {
  // The last unescaped dot separates the parent.
  const m = /^(.*[^\\])\.[^.]*$/.exec(hrn.replace(/\\\./g, '\0'));
  return m ? m[1]!.replace(/\0/g, '\\.') : null;
};
function add(
  store: RegistryStore,
  hrn: string,
  type: RecordType,
  extra: Partial<NewRecord> = {},
): RecordRow {
  return store.insert({ hrn, type, gid: GID, authority: parentOf(hrn), ...extra }, NOW);
}
const hrns = (rows: RecordRow[]): string[] => rows.map((r) => r.hrn);

function fault<T extends GeniFault>(
  cls: new (message: string) => T,
  code: number,
  fn: () => unknown,
): T {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    expect((e as T).geniCode).toBe(code);
    return e as T;
  }
  throw new Error(`expected ${cls.name}`);
}

describeBackends('RegistryStore records', tmp, (where) => {
  const openStore = (location = where.fresh()): RegistryStore => openAt(location);

  it('inserts, reads, updates and removes a record', () => {
    const store = openStore();
    const alice = add(store, 'plc.inria.alice', 'user', { email: 'alice@inria.fr' });
    expect(alice).toEqual({
      id: alice.id,
      hrn: 'plc.inria.alice',
      type: 'user',
      gid: GID,
      authority: 'plc.inria',
      peerAuthority: null,
      pointer: -1,
      dateCreated: NOW,
      lastUpdated: NOW,
      email: 'alice@inria.fr',
      name: null,
      expires: null,
    } satisfies RecordRow);
    expect(store.get('plc.inria.alice', 'user')).toEqual(alice);
    expect(store.byId(alice.id)).toEqual(alice);
    expect(store.get('plc.inria.alice', 'slice')).toBeUndefined();

    const updated = store.update(alice.id, { email: 'a@x.org', pointer: 7 }, LATER);
    expect(updated).toEqual({
      ...alice,
      email: 'a@x.org',
      pointer: 7,
      // Whole seconds, as SFA writes dates.
      lastUpdated: new Date('2026-11-26T08:30:15Z'),
    });
    // null clears, undefined leaves alone.
    expect(store.update(alice.id, { email: null, gid: undefined }, LATER)).toMatchObject({
      email: null,
      gid: GID,
    });

    expect(store.remove(alice.id)).toBe(true);
    expect(store.remove(alice.id)).toBe(false);
    expect(store.get('plc.inria.alice', 'user')).toBeUndefined();
    const missing = fault(SearchFailed, 12, () => store.update(alice.id, { pointer: 1 }, LATER));
    expect(missing.message).toBe(`no record with id ${alice.id}`);
  });

  it('writes dates as RFC 3339 UTC without fractional seconds', () => {
    const store = openStore();
    const slice = store.insert(
      {
        hrn: 'plc.inria.myslice',
        type: 'slice',
        gid: GID,
        authority: 'plc.inria',
        expires: new Date('2026-12-26T09:02:59.500Z'),
      },
      new Date('2026-11-25T12:00:00.250Z'),
    );
    expect(
      store.db
        .prepare('SELECT date_created, last_updated, expires FROM records WHERE id = ?')
        .get(slice.id),
    ).toEqual({
      date_created: '2026-11-25T12:00:00Z',
      last_updated: '2026-11-25T12:00:00Z',
      expires: '2026-12-26T09:02:59Z',
    });
    expect(slice.expires).toEqual(new Date('2026-12-26T09:02:59Z'));
    expect(store.update(slice.id, { expires: null }, LATER).expires).toBeNull();
  });

  it('keeps several types under one HRN, as the importer does for the interface authority', () => {
    const store = openStore();
    for (const type of ['authority', 'authority+sa', 'authority+am', 'authority+sm'] as const) {
      add(store, 'plc', type, { name: 'PlanetLab Central' });
    }
    expect(store.findByHrn('plc').map((r) => r.type)).toEqual([
      'authority',
      'authority+sa',
      'authority+am',
      'authority+sm',
    ]);
    expect(store.get('plc', 'authority')?.authority).toBeNull();
  });

  it('compares HRNs case-insensitively and stores them as given', () => {
    const store = openStore();
    add(store, 'PLC', 'authority');
    const bob = add(store, 'PLC.Inria.Bob', 'user');
    expect(store.get('plc.inria.bob', 'user')).toEqual(bob);
    expect(store.get('PLC.INRIA.BOB', 'user')?.hrn).toBe('PLC.Inria.Bob');
    expect(hrns(store.findByHrn('plc.inria.BOB'))).toEqual(['PLC.Inria.Bob']);
    expect(hrns(store.children('plc.INRIA'))).toEqual(['PLC.Inria.Bob']);
    expect(hrns(store.descendants('plc'))).toEqual(['PLC.Inria.Bob']);
  });

  it('refuses a second record with the same HRN (in any case) and type: AlreadyExists (17)', () => {
    const store = openStore();
    add(store, 'plc.inria.alice', 'user');
    const dup = fault(AlreadyExists, 17, () => add(store, 'PLC.Inria.Alice', 'user'));
    expect(dup.message).toBe('a user record for PLC.Inria.Alice already exists');
    // The same HRN with another type is another record.
    expect(add(store, 'plc.inria.alice', 'node').type).toBe('node');
    expect(store.all()).toHaveLength(2);
  });

  it('refuses a type SFA does not know: BadArgs (1)', () => {
    const store = openStore();
    const bad = fault(BadArgs, 1, () => add(store, 'plc.x', 'sliver' as RecordType));
    expect(bad.message).toBe('invalid sliver record for plc.x');
    expect(store.all()).toEqual([]);
  });

  it('lists direct children and all records of a subtree', () => {
    const store = openStore();
    add(store, 'plc', 'authority');
    add(store, 'plc.inria', 'authority');
    add(store, 'plc.inria.alice', 'user');
    add(store, 'plc.inria.sub', 'authority');
    add(store, 'plc.inria.sub.bob', 'user');
    add(store, 'plcx', 'authority');
    add(store, 'plcx.carol', 'user');
    expect(hrns(store.children('plc'))).toEqual(['plc.inria']);
    expect(hrns(store.children('plc.inria'))).toEqual(['plc.inria.alice', 'plc.inria.sub']);
    expect(hrns(store.descendants('plc'))).toEqual([
      'plc.inria',
      'plc.inria.alice',
      'plc.inria.sub',
      'plc.inria.sub.bob',
    ]);
    expect(hrns(store.descendants('plc.inria.alice'))).toEqual([]);
  });

  it('does not reach into components with escaped dots', () => {
    const store = openStore();
    add(store, 'a', 'authority');
    add(store, 'a.b', 'authority');
    add(store, 'a.b.c', 'user');
    // A top-level authority whose single component is "a.b", and its user.
    add(store, 'a\\.b', 'authority', { authority: null });
    add(store, 'a\\.b.c', 'user', { authority: 'a\\.b' });
    add(store, 'a.x\\.y', 'user');
    expect(hrns(store.descendants('a'))).toEqual(['a.b', 'a.b.c', 'a.x\\.y']);
    expect(hrns(store.descendants('a\\.b'))).toEqual(['a\\.b.c']);
    expect(hrns(store.descendants('a.b'))).toEqual(['a.b.c']);
    expect(hrns(store.children('a\\.b'))).toEqual(['a\\.b.c']);
  });

  describe('Security: LIKE wildcards in HRNs', () => {
    it('treats % and _ in a prefix as ordinary characters', () => {
      const store = openStore();
      add(store, 'x_y', 'authority');
      add(store, 'x_y.u', 'user');
      add(store, 'xzy', 'authority');
      add(store, 'xzy.u', 'user'); // what an unescaped LIKE 'x_y.%' would also match
      add(store, 'p%', 'authority');
      add(store, 'p%.u', 'user');
      add(store, 'pq.r.u', 'user', { authority: 'pq.r' });
      expect(hrns(store.descendants('x_y'))).toEqual(['x_y.u']);
      expect(hrns(store.descendants('p%'))).toEqual(['p%.u']);
      expect(hrns(store.descendants('%'))).toEqual([]);
      expect(hrns(store.descendants('_'))).toEqual([]);
      expect(hrns(store.children('x_y'))).toEqual(['x_y.u']);
      expect(store.get('x%', 'authority')).toBeUndefined();
      expect(store.get('x_y', 'authority')?.hrn).toBe('x_y');
    });
  });
});

describeBackends('RegistryStore keys and memberships', tmp, (where) => {
  const openStore = (location = where.fresh()): RegistryStore => openAt(location);

  function population(store: RegistryStore) {
    const plc = add(store, 'plc', 'authority');
    const inria = add(store, 'plc.inria', 'authority');
    const alice = add(store, 'plc.inria.alice', 'user');
    const bob = add(store, 'plc.inria.bob', 'user');
    const slice = add(store, 'plc.inria.myslice', 'slice');
    const other = add(store, 'plc.inria.other', 'slice');
    return { plc, inria, alice, bob, slice, other };
  }

  it('keeps keys in order and replaces them as a whole', () => {
    const store = openStore();
    const { alice, bob } = population(store);
    store.setKeys(alice.id, ['ssh-rsa K2', 'ssh-ed25519 K1', 'ssh-rsa K3']);
    store.setKeys(bob.id, ['ssh-rsa B']);
    expect(store.keys(alice.id)).toEqual(['ssh-rsa K2', 'ssh-ed25519 K1', 'ssh-rsa K3']);
    store.setKeys(alice.id, ['ssh-rsa K3']);
    expect(store.keys(alice.id)).toEqual(['ssh-rsa K3']);
    store.setKeys(alice.id, []);
    expect(store.keys(alice.id)).toEqual([]);
    expect(store.keys(bob.id)).toEqual(['ssh-rsa B']);
  });

  it('records PIs and researchers, both ways', () => {
    const store = openStore();
    const { plc, inria, alice, bob, slice, other } = population(store);
    store.setPis(inria.id, [alice.id, bob.id, alice.id]);
    store.setPis(plc.id, [bob.id]);
    store.setResearchers(slice.id, [bob.id]);
    store.setResearchers(other.id, [alice.id, bob.id]);
    expect(hrns(store.pis(inria.id))).toEqual(['plc.inria.alice', 'plc.inria.bob']);
    expect(hrns(store.researchers(other.id))).toEqual(['plc.inria.alice', 'plc.inria.bob']);
    expect(hrns(store.piAuthoritiesOf(bob.id))).toEqual(['plc', 'plc.inria']);
    expect(hrns(store.slicesOf(bob.id))).toEqual(['plc.inria.myslice', 'plc.inria.other']);
    expect(hrns(store.slicesOf(alice.id))).toEqual(['plc.inria.other']);

    store.setPis(inria.id, [bob.id]);
    expect(hrns(store.pis(inria.id))).toEqual(['plc.inria.bob']);
    expect(store.piAuthoritiesOf(alice.id)).toEqual([]);
  });

  it('refuses keys and memberships between the wrong types or missing records', () => {
    const store = openStore();
    const { inria, alice, slice } = population(store);
    expect(fault(BadArgs, 1, () => store.setKeys(slice.id, ['k'])).message).toBe(
      'plc.inria.myslice is a slice: only users have keys',
    );
    expect(fault(BadArgs, 1, () => store.setPis(alice.id, [])).message).toBe(
      'plc.inria.alice is a user: only authorities have PIs',
    );
    expect(fault(BadArgs, 1, () => store.setPis(inria.id, [alice.id, slice.id])).message).toBe(
      'plc.inria.myslice is a slice: only users can be PIs',
    );
    expect(fault(BadArgs, 1, () => store.setResearchers(slice.id, [inria.id])).message).toBe(
      'plc.inria is a authority: only users can be researchers',
    );
    expect(fault(SearchFailed, 12, () => store.setResearchers(slice.id, [9999])).message).toBe(
      'no record with id 9999',
    );
    // A refused call changes nothing, not even the memberships it had already replaced.
    store.setPis(inria.id, [alice.id]);
    fault(BadArgs, 1, () => store.setPis(inria.id, [slice.id]));
    expect(hrns(store.pis(inria.id))).toEqual(['plc.inria.alice']);
  });

  it('removing a user removes its keys and memberships', () => {
    const store = openStore();
    const { plc, inria, alice, bob, slice } = population(store);
    store.setKeys(alice.id, ['ssh-rsa A1', 'ssh-rsa A2']);
    store.setPis(inria.id, [alice.id, bob.id]);
    store.setPis(plc.id, [alice.id]);
    store.setResearchers(slice.id, [alice.id, bob.id]);

    store.remove(alice.id);
    expect(store.keys(alice.id)).toEqual([]);
    expect(hrns(store.pis(inria.id))).toEqual(['plc.inria.bob']);
    expect(store.pis(plc.id)).toEqual([]);
    expect(hrns(store.researchers(slice.id))).toEqual(['plc.inria.bob']);
    const count = (table: string): number =>
      Number(store.db.prepare<[], { n: unknown }>(`SELECT count(*) AS n FROM ${table}`).get()?.n);
    expect(count('user_keys')).toBe(0);
    expect(count('authority_pis')).toBe(1);
    expect(count('slice_researchers')).toBe(1);

    // And removing a slice or an authority removes their memberships.
    store.remove(slice.id);
    store.remove(inria.id);
    expect(store.slicesOf(bob.id)).toEqual([]);
    expect(store.piAuthoritiesOf(bob.id)).toEqual([]);
    expect(count('slice_researchers')).toBe(0);
    expect(count('authority_pis')).toBe(0);
    expect(store.get('plc.inria.bob', 'user')).toBeDefined();
  });

  it('rolls back a whole store transaction on throw', () => {
    const store = openStore();
    const { alice } = population(store);
    expect(() =>
      store.transaction(() => {
        add(store, 'plc.inria.carol', 'user');
        store.setKeys(alice.id, ['ssh-rsa A']);
        store.update(alice.id, { email: 'a@b.c' }, LATER);
        throw new Error('abort');
      }),
    ).toThrow('abort');
    expect(store.get('plc.inria.carol', 'user')).toBeUndefined();
    expect(store.keys(alice.id)).toEqual([]);
    expect(store.get('plc.inria.alice', 'user')).toEqual(alice);
  });
});

describeBackends('RegistryStore on disk', tmp, (where) => {
  const openStore = (location = where.fresh()): RegistryStore => openAt(location);

  it('keeps every record, key and membership across close and reopen; migrations run once', () => {
    const path = where.fresh();
    const store = openStore(path);
    const auth = add(store, 'plc', 'authority', { name: 'PLC' });
    for (let i = 0; i < 50; i++) {
      const u = add(store, `plc.u${i}`, 'user', { email: `u${i}@plc` });
      store.setKeys(u.id, [`ssh-rsa ${i}`]);
    }
    const users = store.children('plc').map((u) => u.id);
    store.setPis(auth.id, users.slice(0, 3));
    const before = store.all();
    store.close();

    const again = openStore(path);
    expect(again.all()).toEqual(before);
    expect(again.keys(users[49]!)).toEqual(['ssh-rsa 49']);
    expect(again.pis(auth.id).map((u) => u.id)).toEqual(users.slice(0, 3));
    expect(again.db.prepare('SELECT version, name FROM schema_migrations').all()).toEqual(
      REGISTRY_MIGRATIONS.map(({ version, name }) => ({ version, name })),
    );
  });
});

describeBackends('RegistryStore schema versions', tmp, (where) => {
  it('refuses to open a database written by a newer version', () => {
    const location = where.fresh();
    const db: SqlDatabase =
      where.backend === 'sqlite'
        ? new SqliteDatabase(openDatabase(location))
        : new PostgresDatabase(location, 'registry');
    try {
      const future = 'CREATE TABLE future (id INTEGER);';
      runMigrations(db, [
        ...REGISTRY_MIGRATIONS,
        { version: 999, name: 'from the future', up: future, postgres: future },
      ]);
    } finally {
      db.close();
    }
    expect(() => RegistryStore.open(location)).toThrow(SchemaVersionError);
    expect(() => RegistryStore.open(location)).toThrow(
      /newer than this program .*applied migration 999 'from the future'/,
    );
  });
});

// ---- Other processes: the server and an admin command, or a writer that dies. ----

const FIXTURE = fileURLToPath(new URL('./writer-process.fixture.ts', import.meta.url));

interface Writer {
  child: ChildProcessWithoutNullStreams;
  /** Resolves when the writer prints `line`; rejects if it exits first. */
  waitFor(line: string): Promise<void>;
  /** Resolves with the exit code, or the signal name. */
  exited: Promise<number | string>;
  /** What the writer printed on stderr so far. */
  stderr(): string;
}

function startWriter(...args: string[]): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], { cwd: ROOT });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const seen: string[] = [];
  const waiters: { line: string; resolve: () => void }[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => {
    seen.push(line);
    for (const w of waiters.filter((w) => w.line === line)) w.resolve();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );
  return {
    child,
    exited,
    stderr: () => stderr,
    waitFor: (line) =>
      new Promise<void>((resolve, reject) => {
        if (seen.includes(line)) return resolve();
        waiters.push({ line, resolve });
        void exited.then((how) =>
          reject(new Error(`writer exited (${how}) before '${line}': ${stderr}`)),
        );
      }),
  };
}

async function kill(w: Writer): Promise<void> {
  w.child.kill('SIGKILL');
  expect(await w.exited).toBe('SIGKILL');
}

describeBackends('RegistryStore with concurrent writers', tmp, (where) => {
  const openStore = (location = where.fresh()): RegistryStore => openAt(location);

  it('serialises interleaved transactions of two connections in one process', () => {
    const path = where.fresh();
    const server = openStore(path);
    const admin = openStore(path);
    const counter = server.insert({ hrn: COUNTER_HRN, type: 'node', gid: GID }, NOW);
    for (let i = 0; i < 20; i++) {
      const [writer, reader] = i % 2 ? [server, admin] : [admin, server];
      writer.transaction(() => {
        const c = writer.get(COUNTER_HRN, 'node')!;
        add(writer, `test.u${i}`, 'user', { authority: 'test' });
        // The other connection keeps reading the last committed state meanwhile (WAL).
        expect(reader.get(`test.u${i}`, 'user')).toBeUndefined();
        writer.update(c.id, { pointer: c.pointer + 1 }, NOW);
      });
      expect(reader.get(`test.u${i}`, 'user')).toBeDefined();
    }
    expect(admin.get(COUNTER_HRN, 'node')?.pointer).toBe(counter.pointer + 20);
  });

  it('lets three processes write at once without SQLITE_BUSY or lost updates', async () => {
    const path = where.fresh();
    const store = openStore(path);
    store.insert({ hrn: COUNTER_HRN, type: 'node', gid: GID, pointer: 0 }, NOW);
    const perWriter = 150;
    const writers = [startWriter('counter', path, 'w1', `${perWriter}`)];
    writers.push(startWriter('counter', path, 'w2', `${perWriter}`));
    await Promise.all(writers.map((w) => w.waitFor('ready')));
    // Start together, and write from this process too while they run.
    for (const w of writers) w.child.stdin.write('go\n');
    for (let i = 0; i < perWriter; i++) {
      store.transaction(() => {
        const c = store.get(COUNTER_HRN, 'node')!;
        add(store, `w0.u${i}`, 'user', { authority: 'w0' });
        store.update(c.id, { pointer: c.pointer + 1 }, NOW);
      });
    }
    for (const w of writers) expect(await w.exited, w.stderr()).toBe(0);

    // Every read-modify-write counted: no transaction saw a stale counter.
    expect(store.get(COUNTER_HRN, 'node')?.pointer).toBe(3 * perWriter);
    for (const tag of ['w0', 'w1', 'w2']) expect(store.children(tag)).toHaveLength(perWriter);
    expect(store.keys(store.get('w2.u149', 'user')!.id)).toEqual([
      'ssh-ed25519 AAAAw2.u149-1',
      'ssh-ed25519 AAAAw2.u149-2',
    ]);
    expect(store.get('w1.u0', 'user')?.dateCreated).toEqual(FIXTURE_NOW);
  });
});

describe('RegistryStore durability on SQLite (a killed writer; integrity pragmas)', () => {
  it('a writer killed in the middle of a transaction leaves none of it, and all it committed', async () => {
    const path = freshPath();
    openAt(path).close(); // schema in place before the writer starts
    const writer = startWriter('crash', path);
    await writer.waitFor('committed');
    await writer.waitFor('mid');
    await kill(writer);

    const store = openAt(path);
    expect(sqliteConnection(store.db).pragma('integrity_check', { simple: true })).toBe('ok');
    expect(sqliteConnection(store.db).pragma('foreign_key_check')).toEqual([]);
    const committed = store.children('crash.a');
    expect(hrns(committed)).toEqual(Array.from({ length: 10 }, (_, i) => `crash.a.u${i}`));
    for (const u of committed) expect(store.keys(u.id)).toHaveLength(2);
    expect(store.children('crash.b')).toEqual([]);
    expect(sqliteConnection(store.db).prepare('SELECT count(*) FROM user_keys').pluck().get()).toBe(
      20,
    );
  });

  it('a writer killed at an arbitrary moment leaves each transaction whole or absent', async () => {
    const path = freshPath();
    openAt(path).close();
    const writer = startWriter('churn', path);
    await writer.waitFor('ready');
    // Each transaction sleeps about 20 ms holding its writes: the kill lands inside one.
    await new Promise((r) => setTimeout(r, 250 + Math.random() * 250));
    await kill(writer);

    const store = openAt(path);
    expect(sqliteConnection(store.db).pragma('integrity_check', { simple: true })).toBe('ok');
    const groups = new Map<number, number>();
    for (const u of store.all()) {
      const g = Number(/^churn\.g(\d+)\./.exec(u.hrn)?.[1]);
      groups.set(g, (groups.get(g) ?? 0) + 1);
      expect(store.keys(u.id)).toHaveLength(2);
    }
    expect(groups.size).toBeGreaterThan(0);
    // Transactions ran one after another: groups 0…k-1 complete, nothing of group k.
    expect([...groups.keys()].sort((a, b) => a - b)).toEqual([...groups.keys()].map((_, i) => i));
    for (const size of groups.values()) expect(size).toBe(CHURN_GROUP_SIZE);
  });
});
