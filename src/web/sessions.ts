/**
 * Operator sessions of the web view: random ids kept in the server's memory only (a restart
 * logs everyone out), each valid 12 hours.
 */
import { randomBytes } from 'node:crypto';

export const SESSION_COOKIE = 'sfa_session';
export const SESSION_TTL_SECONDS = 12 * 3600;
/** At most this many live sessions; the oldest goes first. Bounds what a token flood costs. */
const MAX_SESSIONS = 1000;

export class WebSessions {
  private readonly expiries = new Map<string, number>();

  constructor(private readonly clock: () => Date) {}

  /** A new session's id. */
  create(): string {
    const now = this.clock().getTime();
    for (const [id, expires] of this.expiries) if (expires <= now) this.expiries.delete(id);
    while (this.expiries.size >= MAX_SESSIONS) {
      this.expiries.delete(this.expiries.keys().next().value!);
    }
    const id = randomBytes(32).toString('base64url');
    this.expiries.set(id, now + SESSION_TTL_SECONDS * 1000);
    return id;
  }

  /** True when `id` names a session that has not expired. */
  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expires = this.expiries.get(id);
    return expires !== undefined && this.clock().getTime() < expires;
  }

  end(id: string | undefined): void {
    if (id !== undefined) this.expiries.delete(id);
  }
}

/** The session id in a `Cookie` header, if any. */
export function sessionIdFrom(cookieHeader: string | undefined): string | undefined {
  for (const part of (cookieHeader ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return part.slice(eq + 1).trim();
  }
  return undefined;
}
