/**
 * ListResources without a slice is the hot call (every tool lists before it allocates) and the
 * 10,000-node ad takes tens of milliseconds to build: keep the prepared answer, keyed by the
 * options that change it, until the resources change or it is older than the time to live
 * (leases start and end with time alone). Changes are seen two ways: a write through this engine
 * invalidates at once, and the store's stamp (inventory version and node generations, moved by
 * triggers) changes with any write by another process or front-end, seen at the next call.
 */
import type { PreparedResponse } from '../xmlrpc/server.js';

interface Entry {
  at: number;
  generation: number;
  stamp: string;
  answer: PreparedResponse;
}

export class AdvertisementCache {
  private readonly entries = new Map<string, Entry>();
  private generation = 0;

  constructor(readonly ttlMs: number) {}

  /** Something changed the resources: every cached ad is stale. */
  invalidate(): void {
    this.generation++;
    this.entries.clear();
  }

  /** The ad kept for `key`, if the store's `stamp` is still the one it was built at. */
  get(key: string, now: Date, stamp: string): PreparedResponse | undefined {
    const e = this.entries.get(key);
    if (
      !e ||
      e.generation !== this.generation ||
      e.stamp !== stamp ||
      now.getTime() - e.at > this.ttlMs
    )
      return undefined;
    return e.answer;
  }

  put(key: string, now: Date, stamp: string, answer: PreparedResponse): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(key, { at: now.getTime(), generation: this.generation, stamp, answer });
  }
}
