/**
 * The federation peers of this authority, in the registry's database (migration 2 of
 * REGISTRY_MIGRATIONS): each peer's registry and aggregate URLs, the roots trusted for it, its
 * last contact and health, and an audit trail of every operator change.
 *
 * Every change is one write transaction together with its audit row. A revoked peer is deleted
 * with its roots; its audit rows stay (they name the peer by HRN, not by reference).
 */
import { AlreadyExists, BadArgs, SearchFailed } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { formatUtc, parseUtc } from '../store/database.js';
import { constraintOf, type SqlDatabase, type Statement } from '../store/sql.js';
import { checkPeerHrn, checkPeerRoot, checkPeerUrl } from './check-peer.js';

export const PEER_ACTIONS = ['add', 'rotate', 'revoke', 'update'] as const;
export type PeerAction = (typeof PEER_ACTIONS)[number];

/** A root certificate trusted for a peer. */
export interface PeerRoot {
  /** SHA-256 of the DER, `AB:CD:…`. */
  readonly fingerprint: string;
  readonly gid: Gid;
  /** End of trust during a rotation's overlap; null: trusted until revoked or rotated. */
  readonly notAfterTrust: Date | null;
  readonly added: Date;
}

export interface Peer {
  readonly hrn: string;
  readonly registryUrl: string;
  /** One or more aggregate manager URLs. */
  readonly aggregateUrls: readonly string[];
  readonly created: Date;
  /** When the peer last answered a call (bootstrap or forwarded), or null. */
  readonly lastContact: Date | null;
  /** `unknown`, `ok`, or what went wrong on the last call. */
  readonly health: string;
  /** Every root on record, the trusted and those whose overlap ended, oldest first. */
  readonly roots: readonly PeerRoot[];
}

/** What routing a name to a peer's registry needs. */
export interface PeerRoute {
  readonly hrn: string;
  readonly registryUrl: string;
}

export interface NewPeer {
  hrn: string;
  registryUrl: string;
  aggregateUrls: readonly string[];
  root: Gid;
}

export interface AuditEntry {
  readonly at: Date;
  /** The operator: `$USER`, else `sfa`. */
  readonly who: string;
  readonly action: PeerAction;
  readonly peer: string;
  /** Fingerprints of the peer's roots trusted before and after the action. */
  readonly oldFingerprints: readonly string[];
  readonly newFingerprints: readonly string[];
  readonly detail: string;
}

/** What a rotation did to each root it retired. */
export interface RetiredRoot {
  readonly fingerprint: string;
  /** Trusted until then (the overlap); null: no longer trusted at all. */
  readonly until: Date | null;
}

/** True when `root` is trusted at `now`: not in an overlap, or the overlap not yet over. */
export function isRootTrusted(root: Pick<PeerRoot, 'notAfterTrust'>, now: Date): boolean {
  return root.notAfterTrust === null || now.getTime() < root.notAfterTrust.getTime();
}

/** Health writes that change nothing but the time are spaced this far apart at least. */
const CONTACT_WRITE_INTERVAL_MS = 60_000;

interface DbPeer {
  id: number;
  hrn: string;
  registry_url: string;
  aggregate_urls: string;
  created: string;
  last_contact: string | null;
  health: string;
}

interface DbRoot {
  peer_id: number;
  gid: string;
  fingerprint: string;
  not_after_trust: string | null;
  added: string;
}

interface DbAudit {
  at: string;
  who: string;
  action: PeerAction;
  peer: string;
  old_fingerprints: string;
  new_fingerprints: string;
  detail: string;
}

const PEER_COLUMNS = 'id, hrn, registry_url, aggregate_urls, created, last_contact, health';
const ROOT_COLUMNS = 'peer_id, gid, fingerprint, not_after_trust, added';

/**
 * Writes made through this process's PeerStores, per connection: a TrustSource compares this
 * too, so that a change through this connection is seen even before anything is read back.
 */
const localWrites = new WeakMap<SqlDatabase, number>();

function toRoot(r: DbRoot): PeerRoot {
  return {
    fingerprint: r.fingerprint,
    gid: Gid.fromPem(r.gid),
    notAfterTrust:
      r.not_after_trust === null ? null : parseUtc(r.not_after_trust, 'not_after_trust'),
    added: parseUtc(r.added, 'added'),
  };
}

function jsonStrings(text: string, column: string): string[] {
  const v = JSON.parse(text) as unknown;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new Error(`column ${column} holds ${text}, which is not a JSON list of strings`);
  }
  return v;
}

/** The peers' tables behind a typed API; every method is synchronous. */
export class PeerStore {
  private readonly stmt: {
    dataVersion: Statement<[], { version: number }>;
    all: Statement<[], DbPeer>;
    get: Statement<[string], DbPeer>;
    routes: Statement<[], { hrn: string; registry_url: string }>;
    allRoots: Statement<[], DbRoot>;
    rootsOf: Statement<[number], DbRoot>;
    trustRoots: Statement<[], { gid: string; not_after_trust: string | null }>;
    insertPeer: Statement<[string, string, string, string], { id: number }>;
    insertRoot: Statement<[number, string, string, string | null, string]>;
    setRootTrust: Statement<[string | null, string]>;
    deleteRoot: Statement<[string]>;
    deletePeer: Statement<[number]>;
    setUrls: Statement<[string, string, number]>;
    setContact: Statement<[string, string | null, number]>;
    insertAudit: Statement<[string, string, PeerAction, string, string, string, string]>;
    audit: Statement<[], DbAudit>;
    auditOf: Statement<[string], DbAudit>;
  };

  /**
   * Wrap an open database whose schema includes REGISTRY_MIGRATIONS (the registry's own
   * connection: `RegistryStore.db`). `authority` is this interface's authority: no peer may
   * overlap its namespace.
   */
  constructor(
    readonly db: SqlDatabase,
    readonly authority: string,
  ) {
    const p = <P extends unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
    this.stmt = {
      dataVersion: p('SELECT version FROM peer_changes'),
      all: p(`SELECT ${PEER_COLUMNS} FROM peers ORDER BY lower(hrn)`),
      get: p(`SELECT ${PEER_COLUMNS} FROM peers WHERE lower(hrn) = lower(?)`),
      routes: p('SELECT hrn, registry_url FROM peers ORDER BY lower(hrn)'),
      allRoots: p(`SELECT ${ROOT_COLUMNS} FROM peer_roots ORDER BY id`),
      rootsOf: p(`SELECT ${ROOT_COLUMNS} FROM peer_roots WHERE peer_id = ? ORDER BY id`),
      trustRoots: p('SELECT gid, not_after_trust FROM peer_roots ORDER BY id'),
      insertPeer: p(
        `INSERT INTO peers (hrn, registry_url, aggregate_urls, created, health)
           VALUES (?, ?, ?, ?, 'unknown') RETURNING id`,
      ),
      insertRoot: p(
        `INSERT INTO peer_roots (peer_id, gid, fingerprint, not_after_trust, added)
           VALUES (?, ?, ?, ?, ?)`,
      ),
      setRootTrust: p('UPDATE peer_roots SET not_after_trust = ? WHERE fingerprint = ?'),
      deleteRoot: p('DELETE FROM peer_roots WHERE fingerprint = ?'),
      deletePeer: p('DELETE FROM peers WHERE id = ?'),
      setUrls: p('UPDATE peers SET registry_url = ?, aggregate_urls = ? WHERE id = ?'),
      setContact: p(
        'UPDATE peers SET health = ?, last_contact = coalesce(?, last_contact) WHERE id = ?',
      ),
      insertAudit: p(
        `INSERT INTO peer_audit (at, who, action, peer, old_fingerprints, new_fingerprints, detail)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      audit: p('SELECT * FROM peer_audit ORDER BY id'),
      auditOf: p('SELECT * FROM peer_audit WHERE lower(peer) = lower(?) ORDER BY id'),
    };
  }

  /**
   * Changes with every commit made by another connection (another process: the `sfa peer`
   * command). One prepared PRAGMA: cheap enough to read on every call.
   */
  dataVersion(): number {
    return this.stmt.dataVersion.get()?.version ?? 0;
  }

  /** Changes with every peer change made through this connection. */
  get localWrites(): number {
    return localWrites.get(this.db) ?? 0;
  }

  /** Every peer, by HRN. */
  list(): Peer[] {
    const roots = new Map<number, PeerRoot[]>();
    for (const r of this.stmt.allRoots.all()) {
      const list = roots.get(r.peer_id) ?? [];
      list.push(toRoot(r));
      roots.set(r.peer_id, list);
    }
    return this.stmt.all.all().map((p) => this.toPeer(p, roots.get(p.id) ?? []));
  }

  /** The peer named `hrn` (any case). */
  get(hrn: string): Peer | undefined {
    const p = this.stmt.get.get(hrn);
    return p && this.toPeer(p, this.stmt.rootsOf.all(p.id).map(toRoot));
  }

  /** Every peer's HRN and registry URL, by HRN: what routing a name needs. */
  routes(): PeerRoute[] {
    return this.stmt.routes.all().map((r) => ({ hrn: r.hrn, registryUrl: r.registry_url }));
  }

  /** Every peer root on record, with the end of its trust (null: until revoked). */
  trustRoots(): { gid: Gid; notAfterTrust: Date | null }[] {
    return this.stmt.trustRoots.all().map((r) => ({
      gid: Gid.fromPem(r.gid),
      notAfterTrust:
        r.not_after_trust === null ? null : parseUtc(r.not_after_trust, 'not_after_trust'),
    }));
  }

  /**
   * Add peer `p`, trusting `p.root` for it until revoked.
   * @throws BadArgs (bad HRN or URL, a namespace overlapping ours), CredentialSignerUntrusted (a
   *   root that cannot be this peer's), AlreadyExists (the peer, or its root, is known).
   */
  add(p: NewPeer, now: Date, who: string): Peer {
    const hrn = checkPeerHrn(p.hrn, this.authority);
    const registryUrl = checkPeerUrl(p.registryUrl, 'the registry URL');
    const aggregateUrls = checkAggregateUrls(p.aggregateUrls);
    checkPeerRoot(p.root, hrn, now);
    const root = p.root.parent ? p.root.withParent(undefined) : p.root;
    return this.write(() => {
      const known = this.stmt.get.get(hrn);
      if (known) {
        throw new AlreadyExists(
          `peer ${known.hrn} already exists: rotate its root or update its URLs instead`,
        );
      }
      const stamp = formatUtc(now);
      const inserted = this.stmt.insertPeer.get(
        hrn,
        registryUrl,
        JSON.stringify(aggregateUrls),
        stamp,
      );
      if (!inserted) throw new Error(`peer ${hrn} vanished in its insert`);
      this.insertRoot(inserted.id, root, null, stamp);
      this.appendAudit(
        now,
        who,
        'add',
        hrn,
        [],
        [root.fingerprint256],
        urlDetail(registryUrl, aggregateUrls),
      );
      return this.get(hrn)!;
    });
  }

  /**
   * Trust `newRoot` for peer `hrn` from now on. The roots trusted so far stay trusted for
   * `overlapMs` more (both are trusted meanwhile, so credentials signed with either keep
   * working while the peer switches); without an overlap they are dropped at once.
   * @throws SearchFailed (no such peer), CredentialSignerUntrusted (a root that cannot be this
   *   peer's), BadArgs (the root is already the peer's current root, a bad overlap).
   */
  rotate(
    hrn: string,
    newRoot: Gid,
    overlapMs: number | undefined,
    now: Date,
    who: string,
  ): { peer: Peer; retired: RetiredRoot[] } {
    if (overlapMs !== undefined && !(Number.isFinite(overlapMs) && overlapMs > 0)) {
      throw new BadArgs(`the overlap must be a positive duration, not ${overlapMs} ms`);
    }
    const root = newRoot.parent ? newRoot.withParent(undefined) : newRoot;
    return this.write(() => {
      const peer = this.mustGet(hrn);
      checkPeerRoot(root, peer.hrn, now);
      const fp = root.fingerprint256;
      const before = trustedFingerprints(peer, now);
      const current = peer.roots.find((r) => r.fingerprint === fp);
      if (current && current.notAfterTrust === null) {
        throw new BadArgs(`${fp} is already the root of peer ${peer.hrn}: nothing to rotate`);
      }
      const end = overlapMs === undefined ? null : new Date(now.getTime() + overlapMs);
      const retired: RetiredRoot[] = [];
      for (const r of peer.roots) {
        if (r.fingerprint === fp) continue;
        if (end === null || !isRootTrusted(r, now)) {
          this.stmt.deleteRoot.run(r.fingerprint);
          if (isRootTrusted(r, now)) retired.push({ fingerprint: r.fingerprint, until: null });
        } else {
          // A root already in an earlier overlap keeps the earlier end.
          const until =
            r.notAfterTrust && r.notAfterTrust.getTime() < end.getTime() ? r.notAfterTrust : end;
          this.stmt.setRootTrust.run(formatUtc(until), r.fingerprint);
          retired.push({ fingerprint: r.fingerprint, until });
        }
      }
      if (current) this.stmt.setRootTrust.run(null, fp);
      else this.insertRoot(this.peerId(peer.hrn), root, null, formatUtc(now));
      const after = this.get(peer.hrn)!;
      const detail = end
        ? `new root ${fp}; previous roots trusted until ${formatUtc(end)}`
        : `new root ${fp}; previous roots dropped at once`;
      this.appendAudit(
        now,
        who,
        'rotate',
        peer.hrn,
        before,
        trustedFingerprints(after, now),
        detail,
      );
      return { peer: after, retired };
    });
  }

  /**
   * Stop trusting peer `hrn` and forget it: its URLs and roots are deleted, its audit rows kept.
   * @returns the peer as it was.
   * @throws SearchFailed when there is no such peer.
   */
  revoke(hrn: string, now: Date, who: string): Peer {
    return this.write(() => {
      const peer = this.mustGet(hrn);
      this.stmt.deletePeer.run(this.peerId(peer.hrn));
      this.appendAudit(now, who, 'revoke', peer.hrn, trustedFingerprints(peer, now), [], '');
      return peer;
    });
  }

  /**
   * Change peer `hrn`'s registry URL and/or its aggregate URLs (the list is replaced).
   * @throws SearchFailed (no such peer), BadArgs (a bad URL, or nothing to change).
   */
  update(
    hrn: string,
    change: { registryUrl?: string; aggregateUrls?: readonly string[] },
    now: Date,
    who: string,
  ): Peer {
    if (change.registryUrl === undefined && change.aggregateUrls === undefined) {
      throw new BadArgs('nothing to update: give a new registry URL or aggregate URLs');
    }
    const registryUrl =
      change.registryUrl === undefined
        ? undefined
        : checkPeerUrl(change.registryUrl, 'the registry URL');
    const aggregateUrls =
      change.aggregateUrls === undefined ? undefined : checkAggregateUrls(change.aggregateUrls);
    return this.write(() => {
      const peer = this.mustGet(hrn);
      const reg = registryUrl ?? peer.registryUrl;
      const aggs = aggregateUrls ?? [...peer.aggregateUrls];
      this.stmt.setUrls.run(reg, JSON.stringify(aggs), this.peerId(peer.hrn));
      const fps = trustedFingerprints(peer, now);
      this.appendAudit(now, who, 'update', peer.hrn, fps, fps, urlDetail(reg, aggs));
      return this.get(peer.hrn)!;
    });
  }

  /**
   * Record the outcome of a call to peer `hrn`: `answered` (it answered, even with a fault) sets
   * last_contact to `now`. A write that would only move last_contact forward by less than a
   * minute is skipped: forwarded calls should not each cost a disk sync.
   */
  recordContact(hrn: string, now: Date, health: string, answered: boolean): void {
    const p = this.stmt.get.get(hrn);
    if (!p) return; // revoked meanwhile
    const last = p.last_contact === null ? undefined : parseUtc(p.last_contact, 'last_contact');
    if (
      p.health === health &&
      (!answered ||
        (last !== undefined &&
          now.getTime() >= last.getTime() &&
          now.getTime() - last.getTime() < CONTACT_WRITE_INTERVAL_MS))
    ) {
      return;
    }
    this.db.write(() => this.stmt.setContact.run(health, answered ? formatUtc(now) : null, p.id));
  }

  /** The audit trail, oldest first: of peer `hrn` (revoked ones included), or of all. */
  audit(hrn?: string): AuditEntry[] {
    const rows = hrn === undefined ? this.stmt.audit.all() : this.stmt.auditOf.all(hrn);
    return rows.map((r) => ({
      at: parseUtc(r.at, 'at'),
      who: r.who,
      action: r.action,
      peer: r.peer,
      oldFingerprints: jsonStrings(r.old_fingerprints, 'old_fingerprints'),
      newFingerprints: jsonStrings(r.new_fingerprints, 'new_fingerprints'),
      detail: r.detail,
    }));
  }

  /** Run `fn` as one write transaction and count it as a change of this connection. */
  private write<T>(fn: () => T): T {
    const out = this.db.write(fn);
    localWrites.set(this.db, this.localWrites + 1);
    return out;
  }

  private insertRoot(peerId: number, root: Gid, until: string | null, added: string): void {
    try {
      this.stmt.insertRoot.run(peerId, root.certPem, root.fingerprint256, until, added);
    } catch (e) {
      if (constraintOf(e) === 'unique') {
        throw new AlreadyExists(`the root ${root.fingerprint256} is already trusted for a peer`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  private appendAudit(
    now: Date,
    who: string,
    action: PeerAction,
    peer: string,
    before: readonly string[],
    after: readonly string[],
    detail: string,
  ): void {
    this.stmt.insertAudit.run(
      formatUtc(now),
      who,
      action,
      peer,
      JSON.stringify(before),
      JSON.stringify(after),
      detail,
    );
  }

  private mustGet(hrn: string): Peer {
    const peer = this.get(hrn);
    if (!peer) throw new SearchFailed(`no peer ${hrn} (see 'sfa peer list')`);
    return peer;
  }

  private peerId(hrn: string): number {
    return this.stmt.get.get(hrn)!.id;
  }

  private toPeer(p: DbPeer, roots: PeerRoot[]): Peer {
    return {
      hrn: p.hrn,
      registryUrl: p.registry_url,
      aggregateUrls: jsonStrings(p.aggregate_urls, 'aggregate_urls'),
      created: parseUtc(p.created, 'created'),
      lastContact: p.last_contact === null ? null : parseUtc(p.last_contact, 'last_contact'),
      health: p.health,
      roots,
    };
  }
}

/** A peer's aggregates: none for a peer with only a registry or a clearinghouse. */
function checkAggregateUrls(urls: readonly string[]): string[] {
  return [...new Set(urls.map((u) => checkPeerUrl(u, 'an aggregate URL')))];
}

function trustedFingerprints(peer: Peer, now: Date): string[] {
  return peer.roots.filter((r) => isRootTrusted(r, now)).map((r) => r.fingerprint);
}

function urlDetail(registryUrl: string, aggregateUrls: readonly string[]): string {
  return `registry ${registryUrl}; aggregates ${aggregateUrls.join(' ') || '(none)'}`;
}
