/**
 * `options.call_id`: a state-changing call repeated within 5 minutes (a client retrying after a
 * lost answer) gets the stored first answer instead of running again. The key includes the
 * caller's key, so no caller ever receives another caller's answer.
 *
 * Anyone with a TLS certificate can make us keep something here, so everything is bounded: the
 * call_id's length (checked where options are read), the key (a fixed-size hash, never the
 * call_id itself), the answers' bytes per caller and in all, and the number of entries.
 * They are kept in the aggregate's store, shared by every front-end of the authority. Only
 * the methods whose repetition would change something are kept: reading calls are simply run
 * again.
 */
import { createHash } from 'node:crypto';
import type { AggregateStore } from '../store/aggregate-store.js';
import { PreparedResponse } from '../xmlrpc/server.js';

export const CALL_ID_TTL_MS = 5 * 60_000;
/**
 * How long a call_id stays marked as running: longer than any call runs (their statements are
 * bounded); a mark older than this is an attempt whose front-end died, and a retry runs.
 */
export const CALL_ID_RUNNING_MS = 2 * 60_000;
/** The code of a call_id marked as running (no answer yet): never a GENI code. */
const RUNNING = -1;

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

/**
 * The answers live in the aggregate's store (table `call_answers`), so that a retry reaching
 * another front-end of the same authority is still a replay, and a restart forgets nothing.
 */
export class CallIdCache {
  constructor(
    private readonly store: AggregateStore,
    private readonly limits: CallIdLimits = DEFAULT_CALL_ID_LIMITS,
  ) {}

  /** Bytes held now (tests and the benchmark look). */
  get heldBytes(): number {
    return this.store.callAnswerUsage().bytes;
  }

  get size(): number {
    return this.store.callAnswerUsage().entries;
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

  /**
   * Before running a call with a call_id: its stored answer (a replay), `running` when a first
   * attempt of it is still running (on this front-end or another: the retry must not run it a
   * second time), else `run`, and the call_id is marked as running until `put` keeps the answer
   * or `release` forgets it. A mark older than CALL_ID_RUNNING_MS is an attempt that died.
   */
  claim(
    caller: string,
    method: string,
    callId: string,
    now: Date,
  ): StoredAnswer | 'running' | 'run' {
    const key = CallIdCache.key(caller, method, callId);
    return this.store.transaction(() => {
      this.store.lockScope({ callAnswers: true });
      const row = this.store.callAnswer(key);
      const age = row ? now.getTime() - row.atMs : Infinity;
      if (row && row.code !== RUNNING && age <= CALL_ID_TTL_MS) {
        return {
          body: new PreparedResponse(row.body),
          code: row.code,
          ...(row.message === null ? {} : { message: row.message }),
        };
      }
      if (row && row.code === RUNNING && age >= 0 && age <= CALL_ID_RUNNING_MS) return 'running';
      this.store.deleteCallAnswersBefore(now.getTime() - CALL_ID_TTL_MS);
      this.store.deleteCallAnswer(key);
      this.makeRoomFor(caller, 0);
      this.store.insertCallAnswer({
        key,
        caller,
        atMs: now.getTime(),
        code: RUNNING,
        message: null,
        body: Buffer.alloc(0),
      });
      return 'run';
    }, 'scoped');
  }

  /** The call claimed did not answer success: forget its mark (a retry runs it again). */
  release(caller: string, method: string, callId: string): void {
    const key = CallIdCache.key(caller, method, callId);
    this.store.transaction(() => {
      this.store.lockScope({ callAnswers: true });
      if (this.store.callAnswer(key)?.code === RUNNING) this.store.deleteCallAnswer(key);
    }, 'scoped');
  }

  get(caller: string, method: string, callId: string, now: Date): StoredAnswer | undefined {
    const key = CallIdCache.key(caller, method, callId);
    const row = this.store.callAnswer(key);
    if (!row || row.code === RUNNING) return undefined;
    if (now.getTime() - row.atMs > CALL_ID_TTL_MS) {
      // Its bytes are given back now, not at the next answer kept.
      this.store.deleteCallAnswer(key);
      return undefined;
    }
    return {
      body: new PreparedResponse(row.body),
      code: row.code,
      ...(row.message === null ? {} : { message: row.message }),
    };
  }

  /**
   * Keep `answer` for a repeat of this call. An answer larger than one caller's share is not
   * kept (the client's retry then runs the call again, as without a call_id); otherwise the
   * caller's oldest answers, then everyone's oldest, make room. One write transaction: two
   * front-ends keeping answers at once never overrun the limits together.
   */
  put(caller: string, method: string, callId: string, now: Date, answer: StoredAnswer): void {
    const bytes = answer.body.body.length;
    if (bytes > this.limits.maxBytesPerCaller) {
      // Not kept: nor is its mark, or a retry would wait for an answer that never comes.
      this.release(caller, method, callId);
      return;
    }
    const key = CallIdCache.key(caller, method, callId);
    // Scoped to the answers: keeping one waits for other answers being kept, not for Allocates.
    this.store.transaction(() => {
      this.store.lockScope({ callAnswers: true });
      this.store.deleteCallAnswersBefore(now.getTime() - CALL_ID_TTL_MS);
      this.store.deleteCallAnswer(key);
      this.makeRoomFor(caller, bytes);
      this.store.insertCallAnswer({
        key,
        caller,
        atMs: now.getTime(),
        code: answer.code,
        message: answer.message ?? null,
        body: answer.body.body,
      });
    }, 'scoped');
  }

  /** Make room for `bytes` more of `caller`'s: its oldest answers go first, then anyone's. */
  private makeRoomFor(caller: string, bytes: number): void {
    this.makeRoom(
      bytes,
      () => this.store.callAnswerUsage(caller),
      this.limits.maxBytesPerCaller,
      this.limits.maxEntriesPerCaller,
      caller,
    );
    this.makeRoom(
      bytes,
      () => this.store.callAnswerUsage(),
      this.limits.maxBytes,
      this.limits.maxEntries,
    );
  }

  /** Remove the oldest answers (of `caller`, or of all) until `bytes` more fit in the limits. */
  private makeRoom(
    bytes: number,
    usage: () => { entries: number; bytes: number },
    maxBytes: number,
    maxEntries: number,
    caller?: string,
  ): void {
    let { entries, bytes: held } = usage();
    while (held + bytes > maxBytes || entries >= maxEntries) {
      const oldest = this.store.oldestCallAnswers(100, caller);
      if (oldest.length === 0) return;
      for (const o of oldest) {
        if (held + bytes <= maxBytes && entries < maxEntries) return;
        this.store.deleteCallAnswer(o.key);
        held -= o.bytes;
        entries--;
      }
    }
  }
}
