/**
 * One log line per call: time, interface, method, caller, result code, duration.
 */
import { Gid } from '../credentials/gid.js';
import { formatRfc3339 } from '../credentials/time.js';
import { logText } from '../text.js';

/** Longest message quoted in a log line. */
export const MAX_LOGGED_MESSAGE = 500;

export type Logger = (line: string) => void;

export const stderrLogger: Logger = (line) => process.stderr.write(line + '\n');

/** A short name for the TLS caller: its URN, else its certificate subject, else '-'. */
export function callerLabel(certPem: string | undefined): string {
  if (!certPem) return '-';
  try {
    const gid = Gid.fromPem(certPem);
    return gid.urn || `CN=${gid.subjectCN}`;
  } catch {
    return '(unreadable certificate)';
  }
}

export function callLine(opts: {
  now: Date;
  iface: string;
  method: string;
  caller: string;
  code: number;
  ms: number;
  message?: string;
}): string {
  // The method name, the caller's certificate subject and the message come from outside: each
  // stays on this line and within its bound, whatever the caller put in it.
  const tail = opts.message ? ` "${logText(opts.message, MAX_LOGGED_MESSAGE)}"` : '';
  return `${formatRfc3339(opts.now)} ${opts.iface} ${logText(opts.method, 80)} caller=${logText(opts.caller)} code=${opts.code} ${opts.ms.toFixed(1)}ms${tail}`;
}
