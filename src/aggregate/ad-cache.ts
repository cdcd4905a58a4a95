/**
 * ListResources without a slice is the hot call (every tool lists before it allocates) and the
 * 10,000-node ad takes tens of milliseconds to build: keep the prepared answer, keyed by the
 * options that change it, until the resources change (any write through this engine bumps the
 * generation) or it is older than the time to live (writes by another process, e.g. `sfa node`).
 */
import type { PreparedResponse } from '../xmlrpc/server.js';

interface Entry {
  at: number;
  generation: number;
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

  get(key: string, now: Date): PreparedResponse | undefined {
    const e = this.entries.get(key);
    if (!e || e.generation !== this.generation || now.getTime() - e.at > this.ttlMs)
      return undefined;
    return e.answer;
  }

  put(key: string, now: Date, answer: PreparedResponse): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(key, { at: now.getTime(), generation: this.generation, answer });
  }
}
