/**
 * `options.call_id`: a state-changing call repeated within 5 minutes (a client retrying after a
 * lost answer) gets the stored first answer instead of running again. The key includes the
 * caller's key, so no caller ever receives another caller's answer.
 *
 * Anyone with a TLS certificate can make us keep something here, so everything is bounded: the
 * call_id's length (checked where options are read), the key (a fixed-size hash, never the
 * call_id itself), the answers' bytes per caller and in all, and the number of entries. Only
 * the methods whose repetition would change something are kept: reading calls are simply run
 * again.
 */
import { createHash } from 'node:crypto';
import type { PreparedResponse } from '../xmlrpc/server.js';

export const CALL_ID_TTL_MS = 5 * 60_000;

/** The methods (`<api>:<name>`) for which a replay matters: they change slivers or slices. */
export const REPLAYED_METHODS: ReadonlySet<string> = new Set([
  '3:Allocate',
  '3:Provision',
  '3:PerformOperationalAction',
  '3:Renew',
  '3:Delete',
  '3:Shutdown',
  '2:CreateSliver',
  '2:RenewSliver',
  '2:DeleteSliver',
  '2:Shutdown',
]);

export interface CallIdLimits {
  /** Entries in all. */
  maxEntries: number;
  /** Entries per caller: one caller's small answers never push out everyone else's. */
  maxEntriesPerCaller: number;
  /** Bytes of stored answers per caller. */
  maxBytesPerCaller: number;
  /** Bytes of stored answers in all. */
  maxBytes: number;
}

export const DEFAULT_CALL_ID_LIMITS: CallIdLimits = {
  maxEntries: 10_000,
  maxEntriesPerCaller: 1000,
  maxBytesPerCaller: 8 * 1024 * 1024,
  maxBytes: 64 * 1024 * 1024,
};

/** What is replayed: the answer's bytes as first sent, and its code for the log line. */
export interface StoredAnswer {
  readonly body: PreparedResponse;
  readonly code: number;
  readonly message?: string;
}

interface Entry extends StoredAnswer {
  readonly at: number;
  readonly caller: string;
  readonly bytes: number;
}

export class CallIdCache {
  /** In insertion order, which is time order: the oldest come first. */
  private readonly answers = new Map<string, Entry>();
  private readonly bytesByCaller = new Map<string, number>();
  private readonly entriesByCaller = new Map<string, number>();
  private bytes = 0;

  constructor(private readonly limits: CallIdLimits = DEFAULT_CALL_ID_LIMITS) {}

  /** Bytes held now (tests and the benchmark look). */
  get heldBytes(): number {
    return this.bytes;
  }

  get size(): number {
    return this.answers.size;
  }

  private static key(caller: string, method: string, callId: string): string {
    return createHash('sha256')
      .update(caller)
      .update('\u0000')
      .update(method)
      .update('\u0000')
      .update(callId)
      .digest('base64');
  }

  get(caller: string, method: string, callId: string, now: Date): StoredAnswer | undefined {
    this.expire(now);
    return this.answers.get(CallIdCache.key(caller, method, callId));
  }

  /**
   * Keep `answer` for a repeat of this call. An answer larger than one caller's share is not
   * kept (the client's retry then runs the call again, as without a call_id); otherwise the
   * caller's oldest answers, then everyone's oldest, make room.
   */
  put(caller: string, method: string, callId: string, now: Date, answer: StoredAnswer): void {
    const bytes = answer.body.body.length;
    if (bytes > this.limits.maxBytesPerCaller) return;
    this.expire(now);
    const key = CallIdCache.key(caller, method, callId);
    this.remove(key);
    for (const [k, e] of this.answers) {
      const fits =
        (this.bytesByCaller.get(caller) ?? 0) + bytes <= this.limits.maxBytesPerCaller &&
        (this.entriesByCaller.get(caller) ?? 0) < this.limits.maxEntriesPerCaller;
      if (fits) break;
      if (e.caller === caller) this.remove(k);
    }
    for (const k of this.answers.keys()) {
      if (this.bytes + bytes <= this.limits.maxBytes && this.answers.size < this.limits.maxEntries)
        break;
      this.remove(k);
    }
    this.answers.set(key, { ...answer, at: now.getTime(), caller, bytes });
    this.bytes += bytes;
    this.bytesByCaller.set(caller, (this.bytesByCaller.get(caller) ?? 0) + bytes);
    this.entriesByCaller.set(caller, (this.entriesByCaller.get(caller) ?? 0) + 1);
  }

  private expire(now: Date): void {
    for (const [k, e] of this.answers) {
      if (now.getTime() - e.at <= CALL_ID_TTL_MS) break;
      this.remove(k);
    }
  }

  private remove(key: string): void {
    const e = this.answers.get(key);
    if (!e) return;
    this.answers.delete(key);
    this.bytes -= e.bytes;
    const left = (this.bytesByCaller.get(e.caller) ?? 0) - e.bytes;
    const count = (this.entriesByCaller.get(e.caller) ?? 0) - 1;
    if (count > 0) {
      this.bytesByCaller.set(e.caller, left);
      this.entriesByCaller.set(e.caller, count);
    } else {
      this.bytesByCaller.delete(e.caller);
      this.entriesByCaller.delete(e.caller);
    }
  }
}
