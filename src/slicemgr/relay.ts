/**
 * Relaying one AM API call to many aggregates at once: each with its own deadline, so a peer
 * that refuses connections costs nothing and one that hangs costs its timeout, never delaying
 * the others' results beyond it.
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import { XmlRpcCallError, XmlRpcFaultError, XmlRpcTimeoutError } from '../xmlrpc/errors.js';
import { xmlRpcCall } from '../xmlrpc/client.js';
import type { RelayStats } from './relay-stats.js';
import type { XmlRpcStruct, XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';

export interface Aggregate {
  /** The authority HRN the aggregate belongs to (`ple`, `plc`, …). */
  readonly hrn: string;
  readonly url: string;
}

export interface RelayOutcome {
  readonly aggregate: Aggregate;
  readonly elapsedMs: number;
  /** The answer's `value` when its geni_code was 0. */
  readonly value?: XmlRpcValue;
  /** GENI code (0 on success; the aggregate's own code, or 8/11/10 for transport failures). */
  readonly code: number;
  /**
   * What went wrong, for the researcher ('' on success): `<hrn>: <reason>`, the aggregate named
   * once (see {@link failureMessage}); whoever quotes it adds no other prefix.
   */
  readonly message: string;
}

/**
 * The one place a relayed failure is worded: the aggregate's HRN, then its reason. An AM's
 * `output` starts with `<Method>: ` (its own envelope, see aggregate/envelope.ts), which repeats
 * what the relayed call already says, so it is dropped here.
 */
function failureMessage(aggregate: Aggregate, method: string, reason: string): string {
  const own = `${method}: `;
  const text = reason.startsWith(own) ? reason.slice(own.length) : reason;
  return `${aggregate.hrn}: ${text}`;
}

const keyPems = new WeakMap<AuthorityIdentity, string>();

function keyPem(identity: AuthorityIdentity): string {
  let key = keyPems.get(identity);
  if (!key) {
    key = identity.key.export({ type: 'pkcs1', format: 'pem' }).toString();
    keyPems.set(identity, key);
  }
  return key;
}

/** Call `method(params)` on one aggregate; never throws. `stats` remembers the outcome. */
export async function relayOne(
  aggregate: Aggregate,
  method: string,
  params: readonly XmlRpcWritable[],
  identity: AuthorityIdentity,
  timeoutMs: number,
  stats?: RelayStats,
): Promise<RelayOutcome> {
  const started = performance.now();
  const done = (code: number, reason: string, value?: XmlRpcValue): RelayOutcome => {
    const outcome: RelayOutcome = {
      aggregate,
      elapsedMs: Math.round(performance.now() - started),
      code,
      message: code === 0 ? '' : failureMessage(aggregate, method, reason),
      ...(value !== undefined ? { value } : {}),
    };
    stats?.record(aggregate.url, aggregate.hrn, {
      ms: outcome.elapsedMs,
      ok: code === 0,
      error: outcome.message,
    });
    return outcome;
  };
  try {
    const answer = await xmlRpcCall(aggregate.url, method, params, {
      key: keyPem(identity),
      cert: identity.gid.pem,
      timeoutMs,
    });
    if (!answer || typeof answer !== 'object' || Array.isArray(answer) || !('code' in answer)) {
      return done(10, 'the aggregate did not answer in the AM API format');
    }
    const a = answer as XmlRpcStruct;
    const code = Number((a['code'] as XmlRpcStruct | undefined)?.['geni_code'] ?? 2);
    if (code !== 0) return done(code, String(a['output'] ?? 'error'));
    return done(0, '', a['value']);
  } catch (e) {
    if (e instanceof XmlRpcTimeoutError) return done(8, `no answer within ${timeoutMs} ms`);
    if (e instanceof XmlRpcFaultError) return done(e.faultCode || 10, e.faultString);
    if (e instanceof XmlRpcCallError) return done(11, `unreachable (${e.message})`);
    // A bug of ours, not the aggregate's answer: the details go to the log, never to the caller.
    process.stderr.write(
      `slicemgr relay ${method} to ${aggregate.hrn}: internal error: ${(e as Error).stack ?? String(e)}\n`,
    );
    return done(5, 'internal error while relaying; the operator can find the details in the log');
  }
}

/** Call every aggregate concurrently; the outcomes in the aggregates' order. */
export function relayAll(
  aggregates: readonly Aggregate[],
  method: string,
  paramsFor: (a: Aggregate) => readonly XmlRpcWritable[],
  identity: AuthorityIdentity,
  timeoutMs: number,
  stats?: RelayStats,
): Promise<RelayOutcome[]> {
  return Promise.all(
    aggregates.map((a) => relayOne(a, method, paramsFor(a), identity, timeoutMs, stats)),
  );
}

/** The per-aggregate statistics, as the prefixed top-level field of the answer. */
export function statsField(outcomes: readonly RelayOutcome[]): XmlRpcStruct[] {
  return outcomes.map((o) => ({
    hrn: o.aggregate.hrn,
    url: o.aggregate.url,
    elapsed_ms: o.elapsedMs,
    status: o.code === 0 ? 'ok' : 'error',
    geni_code: o.code,
    message: o.message,
  }));
}
