/**
 * One XML-RPC call to a peer's registry as this authority (its key and GID as TLS client
 * certificate), with every failure turned into a GENI fault that names the peer.
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import {
  GeniCode,
  GeniFault,
  RpcError,
  TimedOut,
  Unavailable,
  type GeniCodeName,
} from '../faults.js';
import { xmlRpcCall } from '../xmlrpc/client.js';
import {
  XmlRpcCallError,
  XmlRpcConnectionError,
  XmlRpcFaultError,
  XmlRpcServerRejectedError,
  XmlRpcTimeoutError,
} from '../xmlrpc/errors.js';
import type { XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';

/** How long a call to a peer may take, connection and answer included, unless configured. */
export const DEFAULT_PEER_TIMEOUT_MS = 10_000;

const CODE_NAMES = new Map<number, GeniCodeName>(
  Object.entries(GeniCode).map(([name, code]) => [code, name as GeniCodeName]),
);

/**
 * A fault a peer answered, passed back as it came: the peer's code, and its message prefixed
 * by the peer's HRN so that the caller knows who refused.
 */
export class PeerFault extends GeniFault {
  readonly fault: GeniCodeName;
  readonly peer: string;
  private readonly code: number;

  constructor(peer: string, code: number, message: string) {
    super(`${peer}: ${message}`);
    this.peer = peer;
    this.code = code;
    // Codes outside the GENI table (some SFA versions use their own) keep their number.
    this.fault = CODE_NAMES.get(code) ?? 'ERROR';
  }

  override get geniCode(): number {
    return this.code;
  }
}

/** What a failed call says about the peer's health, and whether the peer answered at all. */
export interface CallOutcome {
  readonly health: string;
  readonly answered: boolean;
}

/** A failed call to a peer: the fault to answer, and what it says about the peer. */
export class PeerCallError extends Error {
  constructor(
    readonly fault: GeniFault,
    readonly outcome: CallOutcome,
  ) {
    super(fault.message, { cause: fault });
    this.name = 'PeerCallError';
  }
}

export interface PeerCallOptions {
  /** This interface's authority: its key and GID identify us to the peer. */
  identity: AuthorityIdentity;
  timeoutMs?: number;
}

const keyPems = new WeakMap<AuthorityIdentity, string>();

/**
 * Call `method` on peer `peer`'s registry at `url`. Rejects with a PeerCallError carrying:
 * the peer's own fault (code kept, message prefixed `<peer>: `, SFA's `: <method>: ` prefix
 * dropped), TIMEDOUT (8) past the deadline, UNAVAILABLE (11) when it cannot be reached, or
 * RPCERROR (10) when what answers does not speak XML-RPC.
 */
export async function callPeer(
  peer: string,
  url: string,
  method: string,
  params: readonly XmlRpcWritable[],
  opts: PeerCallOptions,
): Promise<XmlRpcValue> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  let key = keyPems.get(opts.identity);
  if (key === undefined) {
    key = opts.identity.key.export({ type: 'pkcs1', format: 'pem' }).toString();
    keyPems.set(opts.identity, key);
  }
  try {
    return await xmlRpcCall(url, method, params, { key, cert: opts.identity.gid.pem, timeoutMs });
  } catch (e) {
    if (!(e instanceof XmlRpcCallError)) throw e;
    throw toPeerCallError(peer, url, method, e, timeoutMs);
  }
}

function toPeerCallError(
  peer: string,
  url: string,
  method: string,
  e: XmlRpcCallError,
  timeoutMs: number,
): PeerCallError {
  const registry = `the registry of peer ${peer} (${url})`;
  if (e instanceof XmlRpcFaultError) {
    const prefix = `: ${method}: `;
    const message = e.faultString.startsWith(prefix)
      ? e.faultString.slice(prefix.length)
      : e.faultString;
    return new PeerCallError(new PeerFault(peer, e.faultCode, message), {
      health: 'ok',
      answered: true,
    });
  }
  if (e instanceof XmlRpcTimeoutError) {
    return new PeerCallError(
      new TimedOut(`${registry} did not answer ${method} within ${timeoutMs} ms`),
      { health: `timed out after ${timeoutMs} ms`, answered: false },
    );
  }
  if (e instanceof XmlRpcConnectionError || e instanceof XmlRpcServerRejectedError) {
    return new PeerCallError(new Unavailable(`${registry} is unreachable: ${e.message}`), {
      health: `unreachable: ${e.message}`,
      answered: false,
    });
  }
  // An HTTP error status or an answer that is not XML-RPC: something answered, not a registry.
  return new PeerCallError(new RpcError(`${registry} answered ${method} badly: ${e.message}`), {
    health: `bad answer: ${e.message}`,
    answered: true,
  });
}
