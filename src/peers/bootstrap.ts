/**
 * Bootstrapping trust in a new peer the SFA way: ask its registry who it is (`GetVersion`)
 * and for its root (`get_trusted_certs` without a credential). Nothing fetched here is trusted:
 * the operator must compare the fingerprint with the peer's operator over another channel.
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import { CredentialSignerUntrusted, RpcError } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';
import { callPeer, PeerCallError } from './call-peer.js';
import { checkPeerRoot } from './check-peer.js';

export interface BootstrapResult {
  /** What GetVersion answered. */
  readonly version: XmlRpcStruct;
  /** The self-signed authority certificates named `hrn` the peer offered, each checked. */
  readonly roots: readonly Gid[];
  /** Roots not yet valid here (a clock ahead of ours), etc. */
  readonly warnings: readonly string[];
}

function isStruct(v: XmlRpcValue): v is XmlRpcStruct {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
  );
}

/**
 * Ask the registry at `registryUrl` for the root of peer `hrn`: its GetVersion must be an SFA
 * registry's (an `sfa` key) for `hrn`, and get_trusted_certs must offer a self-signed authority
 * certificate named `hrn` (checkPeerRoot). Calls are made as `identity`.
 * @throws the fault of the call (UNAVAILABLE, TIMEDOUT, the peer's own), RPCERROR for an
 *   answer of the wrong shape, CredentialSignerUntrusted when no acceptable root is offered.
 */
export async function fetchPeerRoots(
  hrn: string,
  registryUrl: string,
  now: Date,
  opts: { identity: AuthorityIdentity; timeoutMs?: number },
): Promise<BootstrapResult> {
  const call = async (method: string): Promise<XmlRpcValue> => {
    try {
      return await callPeer(hrn, registryUrl, method, [], opts);
    } catch (e) {
      throw e instanceof PeerCallError ? e.fault : e;
    }
  };
  const version = await call('GetVersion');
  if (!isStruct(version) || !('sfa' in version)) {
    throw new RpcError(`${registryUrl} is not an SFA registry: its GetVersion has no 'sfa' key`);
  }
  const theirHrn = version['hrn'];
  if (typeof theirHrn !== 'string' || theirHrn.toLowerCase() !== hrn.toLowerCase()) {
    throw new CredentialSignerUntrusted(
      `the registry at ${registryUrl} is ${typeof theirHrn === 'string' ? theirHrn : 'an unnamed authority'}, not ${hrn}: nothing was added`,
    );
  }
  const certs = await call('get_trusted_certs');
  if (!Array.isArray(certs) || certs.length === 0 || !certs.every((c) => typeof c === 'string')) {
    throw new RpcError(`get_trusted_certs of ${registryUrl} did not answer a list of PEM strings`);
  }
  const offered = new Map<string, Gid>();
  for (const pem of certs as string[]) {
    let gid: Gid;
    try {
      gid = Gid.fromPem(pem);
    } catch (e) {
      throw new RpcError(
        `get_trusted_certs of ${registryUrl} answered a bad certificate: ${(e as Error).message}`,
      );
    }
    for (const g of gid.chain()) offered.set(g.fingerprint256, g.withParent(undefined));
  }
  const named = [...offered.values()].filter((g) => g.hrn.toLowerCase() === hrn.toLowerCase());
  if (named.length === 0) {
    throw new CredentialSignerUntrusted(
      `the registry at ${registryUrl} offers no root named ${hrn} (it offers ${[...offered.values()].map((g) => g.label).join(', ')}): nothing was added`,
    );
  }
  const roots: Gid[] = [];
  const warnings: string[] = [];
  let firstProblem: unknown;
  for (const g of named) {
    try {
      const warning = checkPeerRoot(g, hrn, now);
      if (warning) warnings.push(warning);
      roots.push(g);
    } catch (e) {
      firstProblem ??= e;
    }
  }
  if (roots.length === 0) throw firstProblem;
  return { version, roots, warnings };
}
