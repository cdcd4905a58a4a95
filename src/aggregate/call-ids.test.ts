import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postgresMissing, startPostgres, type TestPostgres } from '../../test/support/postgres.js';
import { tempRoot } from '../../test/support/tmp.js';
import { AggregateStore } from '../store/aggregate-store.js';
import { PreparedResponse } from '../xmlrpc/server.js';
import {
  CALL_ID_RUNNING_MS,
  CALL_ID_TTL_MS,
  CallIdCache,
  REPLAYED_METHODS,
  type CallIdLimits,
} from './call-ids.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const later = (ms: number) => new Date(NOW.getTime() + ms);
const answer = (bytes: number) => ({
  body: new PreparedResponse(Buffer.alloc(bytes, 0x61)),
  code: 0,
});

const tmp = tempRoot('call-ids');
let server: TestPostgres | undefined;
afterAll(async () => server?.close());

describe.each([
  { backend: 'sqlite', skip: undefined },
  { backend: 'postgres', skip: postgresMissing() },
])('Security: call_id replay cache exhausts storage ($backend)', ({ backend, skip }) => {
  let location = '';
  const open: AggregateStore[] = [];
  beforeEach(async (ctx) => {
    if (skip) return ctx.skip(skip);
    location =
      backend === 'sqlite'
        ? join(tmp.dir(), 'aggregate.db')
        : await (server ??= await startPostgres()).createDatabase();
  });
  afterEach(() => {
    for (const store of open.splice(0)) store.close();
  });
  /** A cache on a fresh store of this backend. */
  const newCache = (limits?: CallIdLimits): CallIdCache => {
    const store = AggregateStore.open(location);
    open.push(store);
    return new CallIdCache(store, limits);
  };

  it('keeps no more than its share of bytes per caller, dropping that caller’s oldest first', () => {
    const cache = newCache({
      maxEntries: 100,
      maxEntriesPerCaller: 100,
      maxBytesPerCaller: 1000,
      maxBytes: 10_000,
    });
    cache.put('other', '3:Allocate', 'x', NOW, answer(500));
    for (let i = 0; i < 10; i++) cache.put('flooder', '3:Allocate', `id-${i}`, NOW, answer(400));
    expect(cache.heldBytes).toBe(500 + 800); // two of the flooder's, the other caller's intact
    expect(cache.get('other', '3:Allocate', 'x', NOW)).toBeDefined();
    expect(cache.get('flooder', '3:Allocate', 'id-9', NOW)).toBeDefined();
    expect(cache.get('flooder', '3:Allocate', 'id-7', NOW)).toBeUndefined();
  });

  it('keeps no more bytes and entries in all than its limits, whatever the number of callers', () => {
    const cache = newCache({
      maxEntries: 50,
      maxEntriesPerCaller: 50,
      maxBytesPerCaller: 1000,
      maxBytes: 3000,
    });
    for (let i = 0; i < 1000; i++) cache.put(`caller-${i}`, '3:Delete', 'same', NOW, answer(100));
    expect(cache.size).toBe(30);
    expect(cache.heldBytes).toBe(3000);
    const many = newCache({
      maxEntries: 50,
      maxEntriesPerCaller: 50,
      maxBytesPerCaller: 1000,
      maxBytes: 1e9,
    });
    for (let i = 0; i < 1000; i++) many.put(`caller-${i}`, '3:Delete', 'same', NOW, answer(1));
    expect(many.size).toBe(50);
  });

  it('keeps no more than its share of entries per caller, so small answers cannot crowd others out', () => {
    const cache = newCache({
      maxEntries: 20,
      maxEntriesPerCaller: 5,
      maxBytesPerCaller: 1e6,
      maxBytes: 1e9,
    });
    cache.put('other', '3:Delete', 'x', NOW, answer(1));
    for (let i = 0; i < 100; i++) cache.put('flooder', '3:Delete', `id-${i}`, NOW, answer(1));
    expect(cache.size).toBe(6);
    expect(cache.get('other', '3:Delete', 'x', NOW)).toBeDefined();
    expect(cache.get('flooder', '3:Delete', 'id-99', NOW)).toBeDefined();
    expect(cache.get('flooder', '3:Delete', 'id-94', NOW)).toBeUndefined();
  });

  it('does not keep an answer larger than one caller’s share', () => {
    const cache = newCache({
      maxEntries: 10,
      maxEntriesPerCaller: 10,
      maxBytesPerCaller: 100,
      maxBytes: 1000,
    });
    cache.put('a', '3:Allocate', 'big', NOW, answer(101));
    expect(cache.size).toBe(0);
    expect(cache.get('a', '3:Allocate', 'big', NOW)).toBeUndefined();
  });

  it('forgets answers after 5 minutes and gives their bytes back', () => {
    const cache = newCache();
    cache.put('a', '3:Renew', 'r', NOW, answer(10));
    expect(cache.get('a', '3:Renew', 'r', later(CALL_ID_TTL_MS))).toBeDefined();
    expect(cache.get('a', '3:Renew', 'r', later(CALL_ID_TTL_MS + 1))).toBeUndefined();
    expect(cache.heldBytes).toBe(0);
  });

  it('marks a claimed call_id as running, so that a retry meanwhile never runs it twice', () => {
    const cache = newCache();
    const other = newCache(); // another front-end on the same store
    expect(cache.claim('a', '3:Allocate', 'c1', NOW)).toBe('run');
    expect(other.claim('a', '3:Allocate', 'c1', later(1000))).toBe('running');
    expect(other.get('a', '3:Allocate', 'c1', later(1000))).toBeUndefined();
    cache.put('a', '3:Allocate', 'c1', later(2000), answer(10));
    const replay = other.claim('a', '3:Allocate', 'c1', later(3000));
    expect(replay).toMatchObject({ code: 0 });
    expect((replay as { body: PreparedResponse }).body.body).toEqual(Buffer.alloc(10, 0x61));
  });

  it('forgets the mark of a call that failed, and of one whose front-end died', () => {
    const cache = newCache();
    expect(cache.claim('a', '3:Delete', 'f', NOW)).toBe('run');
    cache.release('a', '3:Delete', 'f');
    expect(cache.claim('a', '3:Delete', 'f', later(1))).toBe('run');
    // Never answered nor released: after CALL_ID_RUNNING_MS, a retry runs it.
    expect(cache.claim('a', '3:Delete', 'f', later(CALL_ID_RUNNING_MS))).toBe('running');
    expect(cache.claim('a', '3:Delete', 'f', later(CALL_ID_RUNNING_MS + 2))).toBe('run');
  });

  it('forgets the mark of an answer too large to keep', () => {
    const cache = newCache({
      maxEntries: 10,
      maxEntriesPerCaller: 10,
      maxBytesPerCaller: 100,
      maxBytes: 1000,
    });
    expect(cache.claim('a', '3:Allocate', 'big', NOW)).toBe('run');
    cache.put('a', '3:Allocate', 'big', NOW, answer(101));
    expect(cache.claim('a', '3:Allocate', 'big', later(1))).toBe('run');
  });

  it('replays only the calls that change state', () => {
    expect([...REPLAYED_METHODS].sort()).toEqual([
      '2:CreateSliver',
      '2:DeleteSliver',
      '2:RenewSliver',
      '2:Shutdown',
      '3:Allocate',
      '3:Delete',
      '3:PerformOperationalAction',
      '3:Provision',
      '3:Renew',
      '3:Shutdown',
    ]);
  });
});
