/**
 * SHA-256 certificate fingerprints as operators exchange them: `AB:CD:…` (what node, openssl
 * and `sfa peer` print) or 64 plain hex digits, in any case.
 */
import { BadArgs } from '../faults.js';

const PLAIN = /^[0-9a-f]{64}$/i;
const COLONS = /^[0-9a-f]{2}(:[0-9a-f]{2}){31}$/i;

/**
 * The canonical form (`AB:CD:…`, upper case, 32 colon-separated bytes) of a SHA-256 fingerprint
 * typed by an operator. Throws BadArgs naming `what` for anything else: a SHA-1 fingerprint, a
 * truncated one, stray characters.
 */
export function parseFingerprint(text: string, what = 'fingerprint'): string {
  const t = text.trim();
  if (!PLAIN.test(t) && !COLONS.test(t)) {
    throw new BadArgs(
      `${what} must be a SHA-256 fingerprint: 64 hex digits, plain or colon-separated (AB:CD:…), not '${text}'`,
    );
  }
  const hex = t.replaceAll(':', '').toUpperCase();
  return hex.match(/../g)!.join(':');
}
