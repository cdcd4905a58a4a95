/**
 * A second process writing to a registry database, for registry-store.test.ts: the tests run
 * it with `node --import tsx` to write concurrently with the test process, or SIGKILL it in
 * the middle of a transaction.
 *
 *   counter <db> <tag> <n>  wait for a line on stdin, then n transactions, each inserting a user
 *                           `<tag>.u<i>` with two keys and incrementing the counter record's
 *                           pointer (a read-modify-write); prints `done` and exits
 *   crash <db>              commit transaction A (10 users), print `committed`, then insert 5 of
 *                           transaction B's 10 users, print `mid` and wait to be killed
 *   churn <db>              transactions of 20 users `churn.g<g>.u<i>` forever, 1 ms apart
 *                           inside each transaction, until killed; prints `ready` once
 */
import { writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RegistryStore } from './registry-store.js';

export const FIXTURE_NOW = new Date('2026-11-25T12:00:00Z');
export const COUNTER_HRN = 'test.counter';
export const CHURN_GROUP_SIZE = 20;

const GID = '-----BEGIN CERTIFICATE-----\nfixture\n-----END CERTIFICATE-----\n';
const pause = new Int32Array(new SharedArrayBuffer(4));
/** Block the thread, holding whatever lock the connection has. */
const sleep = (ms: number): void => void Atomics.wait(pause, 0, 0, ms);
// Unbuffered: the parent acts on these lines, so they must be out before the next step.
const say = (line: string): void => void writeSync(1, `${line}\n`);

function addUser(store: RegistryStore, hrn: string): void {
  const user = store.insert(
    { hrn, type: 'user', gid: GID, authority: hrn.slice(0, hrn.lastIndexOf('.')) },
    FIXTURE_NOW,
  );
  store.setKeys(user.id, [`ssh-ed25519 AAAA${hrn}-1`, `ssh-ed25519 AAAA${hrn}-2`]);
}

function counter(store: RegistryStore, tag: string, n: number): void {
  for (let i = 0; i < n; i++) {
    store.transaction(() => {
      // Read first: only a lock taken at BEGIN keeps another writer from committing between
      // this read and the update below.
      const c = store.get(COUNTER_HRN, 'node');
      if (!c) throw new Error('no counter record');
      addUser(store, `${tag}.u${i}`);
      store.update(c.id, { pointer: c.pointer + 1 }, FIXTURE_NOW);
    });
  }
}

function main(argv: string[]): void {
  const [mode, path, tag, n] = argv;
  if (!path) throw new Error('usage: writer-process.fixture.ts counter|crash|churn <db> …');
  const store = RegistryStore.open(path);
  switch (mode) {
    case 'counter':
      say('ready');
      process.stdin.once('data', () => {
        counter(store, tag ?? 'w', Number(n));
        store.close();
        say('done');
        process.exit(0);
      });
      return;
    case 'crash':
      store.transaction(() => {
        for (let i = 0; i < 10; i++) addUser(store, `crash.a.u${i}`);
      });
      say('committed');
      store.transaction(() => {
        for (let i = 0; i < 5; i++) addUser(store, `crash.b.u${i}`);
        say('mid');
        for (;;) sleep(1000);
      });
      return;
    case 'churn':
      say('ready');
      for (let g = 0; ; g++) {
        store.transaction(() => {
          for (let i = 0; i < CHURN_GROUP_SIZE; i++) {
            addUser(store, `churn.g${g}.u${i}`);
            sleep(1);
          }
        });
      }
    default:
      throw new Error(`unknown mode ${mode}`);
  }
}

// Only when run as a script: the test imports the constants above.
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2));
}
