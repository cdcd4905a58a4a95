/**
 * `options.call_id`: a call repeated within 5 minutes (a client retrying after a lost answer)
 * gets the stored first answer instead of running again. The key includes the caller's key, so
 * no caller ever receives another caller's answer.
 */
type Answer = unknown;

export const CALL_ID_TTL_MS = 5 * 60_000;

interface Entry {
  at: number;
  answer: Answer;
}

export class CallIdCache {
  private readonly answers = new Map<string, Entry>();

  constructor(private readonly maxEntries = 10_000) {}

  private static key(callerKey: string, method: string, callId: string): string {
    return `${callerKey}\u0000${method}\u0000${callId}`;
  }

  get(callerKey: string, method: string, callId: string, now: Date): Answer | undefined {
    const k = CallIdCache.key(callerKey, method, callId);
    const e = this.answers.get(k);
    if (!e) return undefined;
    if (now.getTime() - e.at > CALL_ID_TTL_MS) {
      this.answers.delete(k);
      return undefined;
    }
    return e.answer;
  }

  put(callerKey: string, method: string, callId: string, now: Date, answer: Answer): void {
    if (this.answers.size >= this.maxEntries) {
      // Drop the oldest; entries are in insertion order.
      for (const [k, e] of this.answers) {
        if (now.getTime() - e.at > CALL_ID_TTL_MS || this.answers.size >= this.maxEntries)
          this.answers.delete(k);
        else break;
      }
    }
    this.answers.set(CallIdCache.key(callerKey, method, callId), { at: now.getTime(), answer });
  }
}
