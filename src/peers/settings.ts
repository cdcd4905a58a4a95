/**
 * Federation settings of a data folder, read from `sfa.json` next to what loadConfig reads:
 * `"peerTimeoutMs"`, how long a call to a peer's registry may take (default 10 s).
 */
import { readFileSync } from 'node:fs';
import { paths } from '../config.js';
import { BadArgs } from '../faults.js';
import { DEFAULT_PEER_TIMEOUT_MS } from './call-peer.js';

/** Longest timeout accepted: a caller waits this long for a peer that does not answer. */
const MAX_PEER_TIMEOUT_MS = 300_000;

export function readPeerTimeoutMs(dir: string): number {
  const file = paths.config(dir);
  let raw: unknown;
  try {
    raw = (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)['peerTimeoutMs'];
  } catch {
    return DEFAULT_PEER_TIMEOUT_MS; // loadConfig reports a missing or broken file
  }
  if (raw === undefined) return DEFAULT_PEER_TIMEOUT_MS;
  if (typeof raw !== 'number' || !Number.isInteger(raw) || raw <= 0 || raw > MAX_PEER_TIMEOUT_MS) {
    throw new BadArgs(
      `${file}: peerTimeoutMs must be a number of milliseconds from 1 to ${MAX_PEER_TIMEOUT_MS}, not ${JSON.stringify(raw)}`,
    );
  }
  return raw;
}
