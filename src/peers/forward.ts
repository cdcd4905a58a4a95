/**
 * Forwarding registry calls for a peer's names to that peer's registry, as this authority:
 * its key and GID on the TLS connection, and a credential it issues itself (owner and target
 * its own authority GID, privileges authority, sa, ma) as the call's credential. The peer
 * judges that credential against its own roots: it must have added us as a peer too.
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import { issueCredential } from '../credentials/issue-credential.js';
import type { XmlRpcValue, XmlRpcWritable } from '../xmlrpc/value.js';
import { callPeer, DEFAULT_PEER_TIMEOUT_MS, PeerCallError } from './call-peer.js';
import type { PeerRoute, PeerStore } from './peer-store.js';

/** The self credential lives a day, and is issued anew when less than an hour is left. */
export const SELF_CREDENTIAL_LIFETIME_MS = 86_400_000;
const SELF_CREDENTIAL_RENEW_MS = 3_600_000;

export interface PeerForwarderOptions {
  /** This interface's own authority (the root of `sfa init`). */
  identity: AuthorityIdentity;
  /** Where the outcome of every call is recorded (last_contact, health). */
  peers: PeerStore;
  timeoutMs?: number;
}

export class PeerForwarder {
  readonly timeoutMs: number;
  private readonly identity: AuthorityIdentity;
  private readonly peers: PeerStore;
  private credential: { xml: string; issuedAt: number; expires: number } | undefined;

  constructor(opts: PeerForwarderOptions) {
    this.identity = opts.identity;
    this.peers = opts.peers;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  }

  /**
   * This authority's credential on itself (authority, sa, ma; one day), what it presents to
   * peers. Issued once and reused until an hour before it expires.
   */
  selfCredential(now: Date): string {
    const t = now.getTime();
    const c = this.credential;
    if (c && c.issuedAt <= t && t < c.expires - SELF_CREDENTIAL_RENEW_MS) return c.xml;
    const expires = t + SELF_CREDENTIAL_LIFETIME_MS;
    const gid = this.identity.gid;
    const xml = issueCredential({
      owner: gid,
      target: gid,
      // Not delegable: nobody but this authority should ever speak with it.
      privileges: ['authority', 'sa', 'ma'].map((name) => ({ name, canDelegate: false })),
      expires: new Date(expires),
      signerKey: this.identity.key,
      signerGid: gid,
    });
    this.credential = { xml, issuedAt: t, expires };
    return xml;
  }

  /**
   * Call `method` on `peer`'s registry with `params` (the caller puts {@link selfCredential}
   * where the method wants its credential) and return the answer unchanged. The peer's health
   * and last contact are recorded either way.
   * @throws the GeniFault of {@link callPeer}: the peer's own fault, TIMEDOUT, UNAVAILABLE,
   *   RPCERROR.
   */
  async call(
    peer: PeerRoute,
    method: string,
    params: readonly XmlRpcWritable[],
    now: Date,
  ): Promise<XmlRpcValue> {
    try {
      const value = await callPeer(peer.hrn, peer.registryUrl, method, params, {
        identity: this.identity,
        timeoutMs: this.timeoutMs,
      });
      this.record(peer.hrn, now, 'ok', true);
      return value;
    } catch (e) {
      if (!(e instanceof PeerCallError)) throw e;
      this.record(peer.hrn, now, e.outcome.health, e.outcome.answered);
      throw e.fault;
    }
  }

  private record(hrn: string, now: Date, health: string, answered: boolean): void {
    try {
      this.peers.recordContact(hrn, now, health, answered);
    } catch {
      // Health is advisory: a busy database must not cost the caller the peer's answer.
    }
  }
}
