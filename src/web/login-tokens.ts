/**
 * One-time login tokens for the web view's operator pages. `sfa web login`, run on the
 * authority's machine by someone who can read its data folder, writes one; the browser
 * presents it once at `/login` and gets a session. Whoever can read the folder already holds
 * the authority's keys, so the folder is the right proof of being its operator.
 *
 * Only the token's SHA-256 names the file: a listing of the folder does not reveal a usable
 * token, and a token from a URL never becomes a path (it is hashed, not joined).
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { loadConfig, paths } from '../config.js';
import { BadArgs } from '../faults.js';

/** How long a token stays usable unless told otherwise. */
export const DEFAULT_TOKEN_TTL_MINUTES = 10;
/** The longest a token may wait: it is a password in a URL. */
export const MAX_TOKEN_TTL_MINUTES = 24 * 60;

/** 32 random bytes, base64url: exactly 43 characters of this alphabet. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

const fileOf = (dir: string, token: string): string =>
  join(paths.webTokens(dir), createHash('sha256').update(token).digest('hex'));

export interface LoginToken {
  token: string;
  expires: Date;
  /** `http://HOST:WEBPORT/login?token=TOKEN`, from sfa.json's hostname and web port. */
  url: string;
}

/**
 * Make a token for the authority in `dir`, usable once until `now` + `ttlMinutes` (what
 * `sfa web login` does).
 * @throws BadArgs when `dir` holds no authority, or for a lifetime that is not 1..1440 minutes.
 */
export function createLoginToken(
  dir: string,
  opts: { now: Date; ttlMinutes?: number },
): LoginToken {
  const { now, ttlMinutes = DEFAULT_TOKEN_TTL_MINUTES } = opts;
  const config = loadConfig(dir); // says what to do when there is no authority here
  if (!Number.isInteger(ttlMinutes) || ttlMinutes < 1 || ttlMinutes > MAX_TOKEN_TTL_MINUTES) {
    throw new BadArgs(
      `--ttl-minutes must be a whole number of minutes from 1 to ${MAX_TOKEN_TTL_MINUTES}, not ${ttlMinutes}`,
    );
  }
  const token = randomBytes(32).toString('base64url');
  const expires = new Date(now.getTime() + ttlMinutes * 60_000);
  mkdirSync(paths.webTokens(dir), { recursive: true, mode: 0o700 });
  removeExpired(dir, now);
  // 'wx': never overwrite (a collision of 256 random bits would be a broken generator).
  writeFileSync(fileOf(dir, token), JSON.stringify({ expires: expires.toISOString() }) + '\n', {
    mode: 0o600,
    flag: 'wx',
  });
  return {
    token,
    expires,
    url: `http://${config.hostname}:${config.ports.web}/login?token=${token}`,
  };
}

/** Forget the tokens that expired unused (each new one sweeps the folder). */
function removeExpired(dir: string, now: Date): void {
  const folder = paths.webTokens(dir);
  for (const name of readdirSync(folder)) {
    if (!/^[0-9a-f]{64}$/.test(name)) continue;
    try {
      const { expires } = JSON.parse(readFileSync(join(folder, name), 'utf8')) as {
        expires?: unknown;
      };
      if (typeof expires !== 'string' || !(Date.parse(expires) > now.getTime())) {
        rmSync(join(folder, name), { force: true });
      }
    } catch {
      // Taken meanwhile, or not ours: left alone.
    }
  }
}

/**
 * Use `token` up: true when it was issued for `dir`, not used before and not expired at `now`.
 * Taking the file away is one rename: of two requests racing with one token, one wins.
 */
export function consumeLoginToken(dir: string, token: string, now: Date): boolean {
  if (!TOKEN.test(token)) return false;
  const file = fileOf(dir, token);
  const taken = `${file}.${randomBytes(8).toString('hex')}.used`;
  try {
    renameSync(file, taken);
  } catch {
    return false; // never issued, or already used
  }
  try {
    const { expires } = JSON.parse(readFileSync(taken, 'utf8')) as { expires?: unknown };
    return typeof expires === 'string' && now.getTime() < Date.parse(expires);
  } catch {
    return false; // not a token file we wrote
  } finally {
    unlinkSync(taken);
  }
}
