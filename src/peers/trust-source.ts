/**
 * The live set of trusted roots of a running authority: the data folder's own roots
 * (`trusted_roots/`) and the roots of its federation peers, kept up to date while the servers
 * run, so that `sfa peer add|rotate|revoke` (another process) takes effect on the next call.
 */
import type { TrustStore } from '../credentials/chain.js';
import type { Gid } from '../credentials/gid.js';
import type { PeerStore } from './peer-store.js';

export interface TrustSourceOptions {
  /**
   * The store to keep up to date, in place: whoever holds it (a CredentialVerifier) sees every
   * change, and its `generation` moves so that nothing cached under the old set is served.
   * It should start with the local roots (`TrustStore.fromFiles([trusted_roots/])`).
   */
  trust: TrustStore;
  peers: PeerStore;
  /** The clock time of the first build (the servers' clock; tests pass a fixed one). */
  now: Date;
}

/**
 * Owns a TrustStore: local roots + every peer root trusted at `now`. Call {@link refresh} at the
 * start of every call, before verifying anything; it rebuilds only when the peers changed (a
 * commit by another connection, seen through the `peer_changes` counter, or a change through this
 * connection) or when `now` crossed the end of a rotation's overlap.
 */
export class TrustSource {
  readonly trust: TrustStore;
  private readonly local: readonly Gid[];
  private readonly peers: PeerStore;
  private dataVersion = NaN;
  private localWrites = NaN;
  /** The set of peer roots stays the same while `validFrom <= now < validUntil` (ms). */
  private validFrom = Infinity;
  private validUntil = -Infinity;

  constructor(opts: TrustSourceOptions) {
    this.trust = opts.trust;
    this.local = opts.trust.roots;
    this.peers = opts.peers;
    this.refresh(opts.now);
  }

  /** The roots of the data folder: always trusted, whatever the peers. */
  get localRoots(): readonly Gid[] {
    return this.local;
  }

  /**
   * Bring the trusted roots up to date for a call at `now`. Costs one read of the `peer_changes`
   * counter when nothing changed.
   * @returns whether the set of trusted roots changed (its generation then moved).
   */
  refresh(now: Date): boolean {
    const t = now.getTime();
    const dataVersion = this.peers.dataVersion();
    const localWrites = this.peers.localWrites;
    if (
      dataVersion === this.dataVersion &&
      localWrites === this.localWrites &&
      this.validFrom <= t &&
      t < this.validUntil
    ) {
      return false;
    }
    // Read before building: a commit landing meanwhile moves the counter again, and the next
    // call rebuilds.
    this.dataVersion = dataVersion;
    this.localWrites = localWrites;
    return this.rebuild(t);
  }

  private rebuild(t: number): boolean {
    let from = -Infinity;
    let until = Infinity;
    const active: Gid[] = [];
    for (const r of this.peers.trustRoots()) {
      const end = r.notAfterTrust?.getTime();
      if (end === undefined || t < end) {
        active.push(r.gid);
        if (end !== undefined) until = Math.min(until, end);
      } else {
        // A clock set back (tests, a corrected host clock) must bring the root back.
        from = Math.max(from, end);
      }
    }
    this.validFrom = from;
    this.validUntil = until;
    return this.trust.replaceAll([...this.local, ...active]);
  }
}
