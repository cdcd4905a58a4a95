/**
 * The registry's records, as in the Python SFA (`sfa/storage/model.py`): one `records` table
 * for every type, user keys, and the PI and researcher memberships; and the GIDs CreateGid
 * handed out.
 *
 * HRNs are stored as given and compared case-insensitively (SQLite's `lower()`, which folds
 * ASCII only: HRN components are ASCII login bases and names in practice).
 */
import type { Statement } from 'better-sqlite3';
import { AlreadyExists, BadArgs, SearchFailed } from '../faults.js';
import {
  formatUtc,
  openMigrated,
  parseUtc,
  writeTransaction,
  type Database,
  type Migration,
} from './database.js';

export const RECORD_TYPES = [
  'authority',
  'authority+sa',
  'authority+am',
  'authority+sm',
  'user',
  'slice',
  'node',
] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

const AUTHORITY_TYPES: readonly RecordType[] = [
  'authority',
  'authority+sa',
  'authority+am',
  'authority+sm',
];

/** One registry record. Type-specific fields are null on the other types. */
export interface RecordRow {
  id: number;
  hrn: string;
  type: RecordType;
  /** PEM GID, saved with its parents (leaf certificate first). */
  gid: string;
  /** Parent authority's HRN; null for a root authority. */
  authority: string | null;
  peerAuthority: string | null;
  /** Testbed id; -1 when none. */
  pointer: number;
  dateCreated: Date;
  lastUpdated: Date;
  /** Users. */
  email: string | null;
  /** Authorities: display name. */
  name: string | null;
  /** Slices. */
  expires: Date | null;
}

/** What `insert` needs: the dates are stamped from `now`, the id is assigned. */
export type NewRecord = Pick<RecordRow, 'hrn' | 'type' | 'gid'> &
  Partial<
    Pick<RecordRow, 'authority' | 'peerAuthority' | 'pointer' | 'email' | 'name' | 'expires'>
  >;

/** Fields `update` may change; hrn and type identify the record and never change. */
export type RecordPatch = Partial<
  Pick<RecordRow, 'gid' | 'authority' | 'peerAuthority' | 'pointer' | 'email' | 'name' | 'expires'>
>;

const RECORD_TYPE_LIST = RECORD_TYPES.map((t) => `'${t}'`).join(', ');

/** The registry's schema. Append new migrations; never edit an applied one. */
export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'registry records, keys, PIs and researchers',
    up: `
      CREATE TABLE records (
        id INTEGER PRIMARY KEY,
        hrn TEXT NOT NULL,
        type TEXT NOT NULL CHECK (type IN (${RECORD_TYPE_LIST})),
        gid TEXT NOT NULL,
        authority TEXT,
        peer_authority TEXT,
        pointer INTEGER NOT NULL DEFAULT -1,
        date_created TEXT NOT NULL,
        last_updated TEXT NOT NULL,
        email TEXT,
        name TEXT,
        expires TEXT,
        UNIQUE (hrn, type)
      ) STRICT;
      -- The real uniqueness rule: 'PLC.Alice' and 'plc.alice' are the same user. Its leading
      -- column also serves every lookup by hrn.
      CREATE UNIQUE INDEX records_lower_hrn_type ON records (lower(hrn), type);
      CREATE INDEX records_lower_authority ON records (lower(authority));

      CREATE TABLE user_keys (
        user_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        key TEXT NOT NULL,
        PRIMARY KEY (user_id, position)
      ) STRICT;

      CREATE TABLE authority_pis (
        authority_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        PRIMARY KEY (authority_id, user_id)
      ) STRICT;
      -- Cascades and piAuthoritiesOf look rows up by user.
      CREATE INDEX authority_pis_user ON authority_pis (user_id);

      CREATE TABLE slice_researchers (
        slice_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        user_id INTEGER NOT NULL REFERENCES records (id) ON DELETE CASCADE,
        PRIMARY KEY (slice_id, user_id)
      ) STRICT;
      CREATE INDEX slice_researchers_user ON slice_researchers (user_id);
    `,
  },
  {
    version: 2,
    name: 'federation peers, their trusted roots and the audit trail',
    // Read and written by src/peers/peer-store.ts. The audit rows name the peer by HRN, not by
    // a reference, so that they outlive a revoked peer.
    up: `
      CREATE TABLE peers (
        id INTEGER PRIMARY KEY,
        hrn TEXT NOT NULL,
        registry_url TEXT NOT NULL,
        -- A JSON array of one or more URLs.
        aggregate_urls TEXT NOT NULL
          CHECK (json_valid(aggregate_urls) AND json_type(aggregate_urls) = 'array'
                 AND json_array_length(aggregate_urls) >= 1),
        created TEXT NOT NULL,
        last_contact TEXT,
        health TEXT NOT NULL DEFAULT 'unknown'
      ) STRICT;
      CREATE UNIQUE INDEX peers_lower_hrn ON peers (lower(hrn));

      CREATE TABLE peer_roots (
        id INTEGER PRIMARY KEY,
        peer_id INTEGER NOT NULL REFERENCES peers (id) ON DELETE CASCADE,
        gid TEXT NOT NULL,
        -- SHA-256 of the DER, 'AB:CD:…' as node and openssl print it.
        fingerprint TEXT NOT NULL UNIQUE,
        -- NULL: trusted until revoked; else the end of a rotation's overlap.
        not_after_trust TEXT,
        added TEXT NOT NULL
      ) STRICT;
      CREATE INDEX peer_roots_peer ON peer_roots (peer_id);

      CREATE TABLE peer_audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('add', 'rotate', 'revoke', 'update')),
        peer TEXT NOT NULL,
        -- JSON arrays of fingerprints: the peer's roots before and after the action.
        old_fingerprints TEXT NOT NULL,
        new_fingerprints TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT ''
      ) STRICT;
      CREATE INDEX peer_audit_lower_peer ON peer_audit (lower(peer));
    `,
  },
  {
    version: 3,
    name: 'GIDs issued by CreateGid',
    // Read and written by recordIssuedGid / issuedGids below, listed by `sfa gid issued`. A GID
    // handed out is valid for years wherever the authority is trusted, whatever happens to the
    // record or to the caller's role afterwards: so rows name things by URN and fingerprint,
    // not by reference, and outlive the records.
    up: `
      CREATE TABLE issued_gids (
        id INTEGER PRIMARY KEY,
        issued_at TEXT NOT NULL,
        -- Who asked: the credential owner (also the TLS caller's key), the SHA-256 of the TLS
        -- certificate it connected with, and the credential's target that allowed the call.
        caller_urn TEXT NOT NULL,
        caller_fingerprint TEXT,
        credential_urn TEXT NOT NULL,
        -- For what: the record's name and type, and the subject URN of the certificate.
        hrn TEXT NOT NULL,
        type TEXT NOT NULL,
        urn TEXT NOT NULL,
        -- What: SHA-256 of the DER ('AB:CD:…'), serial (hex), validity, the certificate.
        fingerprint TEXT NOT NULL UNIQUE,
        serial TEXT NOT NULL,
        not_before TEXT NOT NULL,
        not_after TEXT NOT NULL,
        ca INTEGER NOT NULL CHECK (ca IN (0, 1)),
        -- 'given': on the key of the caller's certificate argument; 'generated': a fresh key.
        key_source TEXT NOT NULL CHECK (key_source IN ('given', 'generated')),
        -- SHA-256 of the subject key's DER SubjectPublicKeyInfo, lowercase hex.
        key_fingerprint TEXT NOT NULL,
        certificate TEXT NOT NULL
      ) STRICT;
      CREATE INDEX issued_gids_lower_hrn ON issued_gids (lower(hrn));
      CREATE INDEX issued_gids_lower_caller ON issued_gids (lower(caller_urn));
    `,
  },
  {
    version: 4,
    name: 'peers without aggregates (a registry or clearinghouse only)',
    rebuildsTable: true,
    up: `
      CREATE TABLE peers_new (
        id INTEGER PRIMARY KEY,
        hrn TEXT NOT NULL,
        registry_url TEXT NOT NULL,
        -- A JSON array of URLs, empty for a peer with only a registry or clearinghouse.
        aggregate_urls TEXT NOT NULL
          CHECK (json_valid(aggregate_urls) AND json_type(aggregate_urls) = 'array'),
        created TEXT NOT NULL,
        last_contact TEXT,
        health TEXT NOT NULL DEFAULT 'unknown'
      ) STRICT;
      INSERT INTO peers_new (id, hrn, registry_url, aggregate_urls, created, last_contact, health)
        SELECT id, hrn, registry_url, aggregate_urls, created, last_contact, health FROM peers;
      DROP TABLE peers;
      ALTER TABLE peers_new RENAME TO peers;
      CREATE UNIQUE INDEX peers_lower_hrn ON peers (lower(hrn));
    `,
  },
];

/** A GID the registry handed out without storing it in a record (CreateGid). */
export interface IssuedGid {
  id: number;
  issuedAt: Date;
  /** The credential owner who asked (the TLS caller holds its key). */
  callerUrn: string;
  /** SHA-256 of the TLS certificate the caller connected with, `AB:CD:…`; null if none. */
  callerFingerprint: string | null;
  /** The target of the credential that allowed the call. */
  credentialUrn: string;
  hrn: string;
  type: string;
  urn: string;
  /** SHA-256 of the issued certificate's DER, `AB:CD:…`. */
  fingerprint: string;
  /** Serial number, lowercase hex. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  keySource: 'given' | 'generated';
  /** SHA-256 of the subject key's DER SubjectPublicKeyInfo, lowercase hex. */
  keyFingerprint: string;
  /** The issued certificate, PEM (the leaf only). */
  certificate: string;
}

export type NewIssuedGid = Omit<IssuedGid, 'id'>;

interface DbIssuedGid {
  id: number;
  issued_at: string;
  caller_urn: string;
  caller_fingerprint: string | null;
  credential_urn: string;
  hrn: string;
  type: string;
  urn: string;
  fingerprint: string;
  serial: string;
  not_before: string;
  not_after: string;
  ca: number;
  key_source: 'given' | 'generated';
  key_fingerprint: string;
  certificate: string;
}

const ISSUED_COLUMNS =
  'id, issued_at, caller_urn, caller_fingerprint, credential_urn, hrn, type, urn, fingerprint, ' +
  'serial, not_before, not_after, ca, key_source, key_fingerprint, certificate';

function toIssuedGid(r: DbIssuedGid): IssuedGid {
  return {
    id: r.id,
    issuedAt: parseUtc(r.issued_at, 'issued_at'),
    callerUrn: r.caller_urn,
    callerFingerprint: r.caller_fingerprint,
    credentialUrn: r.credential_urn,
    hrn: r.hrn,
    type: r.type,
    urn: r.urn,
    fingerprint: r.fingerprint,
    serial: r.serial,
    notBefore: parseUtc(r.not_before, 'not_before'),
    notAfter: parseUtc(r.not_after, 'not_after'),
    ca: r.ca === 1,
    keySource: r.key_source,
    keyFingerprint: r.key_fingerprint,
    certificate: r.certificate,
  };
}

interface DbRecord {
  id: number;
  hrn: string;
  type: RecordType;
  gid: string;
  authority: string | null;
  peer_authority: string | null;
  pointer: number;
  date_created: string;
  last_updated: string;
  email: string | null;
  name: string | null;
  expires: string | null;
}

const COLUMNS =
  'id, hrn, type, gid, authority, peer_authority, pointer, date_created, last_updated, email, name, expires';
const R_COLUMNS = COLUMNS.split(', ')
  .map((c) => `r.${c}`)
  .join(', ');

function toRow(r: DbRecord): RecordRow {
  return {
    id: r.id,
    hrn: r.hrn,
    type: r.type,
    gid: r.gid,
    authority: r.authority,
    peerAuthority: r.peer_authority,
    pointer: r.pointer,
    dateCreated: parseUtc(r.date_created, 'date_created'),
    lastUpdated: parseUtc(r.last_updated, 'last_updated'),
    email: r.email,
    name: r.name,
    expires: r.expires === null ? null : parseUtc(r.expires, 'expires'),
  };
}

const optionalDate = (d: Date | null | undefined): string | null =>
  d === null || d === undefined ? null : formatUtc(d);

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** The registry's tables behind a typed API. Every method is synchronous. */
export class RegistryStore {
  private readonly stmt: {
    byId: Statement<[number], DbRecord>;
    get: Statement<[string, string], DbRecord>;
    findByHrn: Statement<[string], DbRecord>;
    insert: Statement<unknown[]>;
    remove: Statement<[number]>;
    children: Statement<[string], DbRecord>;
    descendants: Statement<[string, string], DbRecord>;
    all: Statement<[], DbRecord>;
    keys: Statement<[number], { key: string }>;
    deleteKeys: Statement<[number]>;
    insertKey: Statement<[number, number, string]>;
    pis: Statement<[number], DbRecord>;
    deletePis: Statement<[number]>;
    insertPi: Statement<[number, number]>;
    researchers: Statement<[number], DbRecord>;
    deleteResearchers: Statement<[number]>;
    insertResearcher: Statement<[number, number]>;
    slicesOf: Statement<[number], DbRecord>;
    piAuthoritiesOf: Statement<[number], DbRecord>;
    insertIssued: Statement<unknown[]>;
    issuedById: Statement<[number], DbIssuedGid>;
    allIssued: Statement<[], DbIssuedGid>;
    issuedUnder: Statement<[string, string, string], DbIssuedGid>;
  };

  /**
   * Wrap an open database whose schema includes REGISTRY_MIGRATIONS (use `open` unless the
   * connection is shared with another store).
   */
  constructor(readonly db: Database) {
    const p = <P extends unknown[], R = unknown>(sql: string) => db.prepare<P, R>(sql);
    this.stmt = {
      byId: p(`SELECT ${COLUMNS} FROM records WHERE id = ?`),
      get: p(`SELECT ${COLUMNS} FROM records WHERE lower(hrn) = lower(?) AND type = ?`),
      findByHrn: p(`SELECT ${COLUMNS} FROM records WHERE lower(hrn) = lower(?) ORDER BY id`),
      insert: p(
        `INSERT INTO records (hrn, type, gid, authority, peer_authority, pointer, date_created,
           last_updated, email, name, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      remove: p('DELETE FROM records WHERE id = ?'),
      children: p(`SELECT ${COLUMNS} FROM records WHERE lower(authority) = lower(?) ORDER BY id`),
      // A range on lower(hrn) instead of LIKE: no wildcard to escape ('%', '_' and the '\' of
      // an escaped dot are ordinary characters here) and the index on lower(hrn) is used.
      // Every string starting with 'p.' sorts in ['p.', 'p/') since '/' follows '.' in
      // byte order, and nothing else does.
      descendants: p(
        `SELECT ${COLUMNS} FROM records
           WHERE lower(hrn) >= lower(?) || '.' AND lower(hrn) < lower(?) || '/' ORDER BY id`,
      ),
      all: p(`SELECT ${COLUMNS} FROM records ORDER BY id`),
      keys: p('SELECT key FROM user_keys WHERE user_id = ? ORDER BY position'),
      deleteKeys: p('DELETE FROM user_keys WHERE user_id = ?'),
      insertKey: p('INSERT INTO user_keys (user_id, position, key) VALUES (?, ?, ?)'),
      pis: p(
        `SELECT ${R_COLUMNS} FROM authority_pis m JOIN records r ON r.id = m.user_id
           WHERE m.authority_id = ? ORDER BY r.id`,
      ),
      deletePis: p('DELETE FROM authority_pis WHERE authority_id = ?'),
      insertPi: p('INSERT INTO authority_pis (authority_id, user_id) VALUES (?, ?)'),
      researchers: p(
        `SELECT ${R_COLUMNS} FROM slice_researchers m JOIN records r ON r.id = m.user_id
           WHERE m.slice_id = ? ORDER BY r.id`,
      ),
      deleteResearchers: p('DELETE FROM slice_researchers WHERE slice_id = ?'),
      insertResearcher: p('INSERT INTO slice_researchers (slice_id, user_id) VALUES (?, ?)'),
      slicesOf: p(
        `SELECT ${R_COLUMNS} FROM slice_researchers m JOIN records r ON r.id = m.slice_id
           WHERE m.user_id = ? ORDER BY r.id`,
      ),
      piAuthoritiesOf: p(
        `SELECT ${R_COLUMNS} FROM authority_pis m JOIN records r ON r.id = m.authority_id
           WHERE m.user_id = ? ORDER BY r.id`,
      ),
      insertIssued: p(
        `INSERT INTO issued_gids (issued_at, caller_urn, caller_fingerprint, credential_urn, hrn,
           type, urn, fingerprint, serial, not_before, not_after, ca, key_source, key_fingerprint,
           certificate) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      issuedById: p(`SELECT ${ISSUED_COLUMNS} FROM issued_gids WHERE id = ?`),
      allIssued: p(`SELECT ${ISSUED_COLUMNS} FROM issued_gids ORDER BY id`),
      // The name itself and every name below it (the range trick of `descendants`).
      issuedUnder: p(
        `SELECT ${ISSUED_COLUMNS} FROM issued_gids
           WHERE lower(hrn) = lower(?)
              OR (lower(hrn) >= lower(?) || '.' AND lower(hrn) < lower(?) || '/')
           ORDER BY id`,
      ),
    };
  }

  /** Open (creating if needed) the registry database at `path` and bring its schema up to date. */
  static open(path: string): RegistryStore {
    return new RegistryStore(openMigrated(path, REGISTRY_MIGRATIONS));
  }

  close(): void {
    this.db.close();
  }

  /**
   * Run `fn` as one write transaction (`BEGIN IMMEDIATE`): all of its writes or none, and no
   * other connection writes in between. `fn` must be synchronous.
   */
  transaction<T>(fn: () => T): T {
    return writeTransaction(this.db, fn);
  }

  /** The record with this id. */
  byId(id: number): RecordRow | undefined {
    const r = this.stmt.byId.get(id);
    return r && toRow(r);
  }

  /** The record with this HRN (any case) and type. */
  get(hrn: string, type: RecordType): RecordRow | undefined {
    const r = this.stmt.get.get(hrn, type);
    return r && toRow(r);
  }

  /** Every record with this HRN (any case), whatever its type, oldest first. */
  findByHrn(hrn: string): RecordRow[] {
    return this.stmt.findByHrn.all(hrn).map(toRow);
  }

  /** Every record, oldest first. */
  all(): RecordRow[] {
    return this.stmt.all.all().map(toRow);
  }

  /** Records whose parent authority is `authorityHrn` (any case), oldest first. */
  children(authorityHrn: string): RecordRow[] {
    return this.stmt.children.all(authorityHrn).map(toRow);
  }

  /**
   * Records anywhere below `prefixHrn`: their HRN starts with `prefixHrn` followed by an
   * unescaped dot (so `a\.b.c` is below `a\.b` but not below `a`). The prefix's own records
   * are not included.
   */
  descendants(prefixHrn: string): RecordRow[] {
    return this.stmt.descendants.all(prefixHrn, prefixHrn).map(toRow);
  }

  /**
   * Add a record, stamping date_created and last_updated with `now`.
   * @throws AlreadyExists when a record with the same HRN (any case) and type exists.
   */
  insert(record: NewRecord, now: Date): RecordRow {
    const stamp = formatUtc(now);
    try {
      const { lastInsertRowid } = this.stmt.insert.run(
        record.hrn,
        record.type,
        record.gid,
        record.authority ?? null,
        record.peerAuthority ?? null,
        record.pointer ?? -1,
        stamp,
        stamp,
        record.email ?? null,
        record.name ?? null,
        optionalDate(record.expires),
      );
      return this.mustGet(Number(lastInsertRowid));
    } catch (e) {
      const code = sqliteCode(e);
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') {
        throw new AlreadyExists(`a ${record.type} record for ${record.hrn} already exists`, {
          cause: e,
        });
      }
      if (code === 'SQLITE_CONSTRAINT_CHECK' || code === 'SQLITE_CONSTRAINT_DATATYPE') {
        throw new BadArgs(`invalid ${String(record.type)} record for ${record.hrn}`, {
          cause: e,
        });
      }
      throw e;
    }
  }

  /**
   * Change the given fields of record `id` (an `undefined` field is left alone, `null` clears
   * it) and set last_updated to `now`.
   * @throws SearchFailed when there is no such record.
   */
  update(id: number, patch: RecordPatch, now: Date): RecordRow {
    // Only known columns reach the SQL text; values are always bound.
    const columns: Record<keyof RecordPatch, string> = {
      gid: 'gid',
      authority: 'authority',
      peerAuthority: 'peer_authority',
      pointer: 'pointer',
      email: 'email',
      name: 'name',
      expires: 'expires',
    };
    const sets = ['last_updated = ?'];
    const values: unknown[] = [formatUtc(now)];
    for (const field of Object.keys(columns) as (keyof RecordPatch)[]) {
      const value = patch[field];
      if (value === undefined) continue;
      sets.push(`${columns[field]} = ?`);
      values.push(value instanceof Date ? formatUtc(value) : value);
    }
    try {
      const { changes } = this.db
        .prepare(`UPDATE records SET ${sets.join(', ')} WHERE id = ?`)
        .run(...values, id);
      if (changes === 0) throw new SearchFailed(`no record with id ${id}`);
    } catch (e) {
      const code = sqliteCode(e);
      if (code === 'SQLITE_CONSTRAINT_NOTNULL' || code === 'SQLITE_CONSTRAINT_DATATYPE') {
        throw new BadArgs(`invalid update of record ${id}`, { cause: e });
      }
      throw e;
    }
    return this.mustGet(id);
  }

  /**
   * Delete record `id`, its keys and its memberships (cascade). Does not touch the records
   * below it: deleting an authority's subtree is the caller's decision.
   * @returns whether the record existed.
   */
  remove(id: number): boolean {
    return this.stmt.remove.run(id).changes > 0;
  }

  /** The user's OpenSSH public keys, in order. */
  keys(userId: number): string[] {
    return this.stmt.keys.all(userId).map((k) => k.key);
  }

  /** Replace the user's keys by `keys`, in this order. */
  setKeys(userId: number, keys: readonly string[]): void {
    this.transaction(() => {
      this.requireType(userId, ['user'], 'only users have keys');
      this.stmt.deleteKeys.run(userId);
      keys.forEach((key, position) => this.stmt.insertKey.run(userId, position, key));
    });
  }

  /** The authority's PIs (users). */
  pis(authorityId: number): RecordRow[] {
    return this.stmt.pis.all(authorityId).map(toRow);
  }

  /** Replace the authority's PIs by these users. */
  setPis(authorityId: number, userIds: readonly number[]): void {
    this.transaction(() => {
      this.requireType(authorityId, AUTHORITY_TYPES, 'only authorities have PIs');
      this.stmt.deletePis.run(authorityId);
      for (const userId of new Set(userIds)) {
        this.requireType(userId, ['user'], 'only users can be PIs');
        this.stmt.insertPi.run(authorityId, userId);
      }
    });
  }

  /** The slice's researchers (users). */
  researchers(sliceId: number): RecordRow[] {
    return this.stmt.researchers.all(sliceId).map(toRow);
  }

  /** Replace the slice's researchers by these users. */
  setResearchers(sliceId: number, userIds: readonly number[]): void {
    this.transaction(() => {
      this.requireType(sliceId, ['slice'], 'only slices have researchers');
      this.stmt.deleteResearchers.run(sliceId);
      for (const userId of new Set(userIds)) {
        this.requireType(userId, ['user'], 'only users can be researchers');
        this.stmt.insertResearcher.run(sliceId, userId);
      }
    });
  }

  /** Slices where the user is a researcher. */
  slicesOf(userId: number): RecordRow[] {
    return this.stmt.slicesOf.all(userId).map(toRow);
  }

  /** Authorities where the user is a PI. */
  piAuthoritiesOf(userId: number): RecordRow[] {
    return this.stmt.piAuthoritiesOf.all(userId).map(toRow);
  }

  /**
   * Record a GID handed out by CreateGid. Called before the GID is answered: if it cannot be
   * recorded, it is not handed out.
   */
  recordIssuedGid(entry: NewIssuedGid): IssuedGid {
    const { lastInsertRowid } = this.stmt.insertIssued.run(
      formatUtc(entry.issuedAt),
      entry.callerUrn,
      entry.callerFingerprint,
      entry.credentialUrn,
      entry.hrn,
      entry.type,
      entry.urn,
      entry.fingerprint,
      entry.serial,
      formatUtc(entry.notBefore),
      formatUtc(entry.notAfter),
      entry.ca ? 1 : 0,
      entry.keySource,
      entry.keyFingerprint,
      entry.certificate,
    );
    const row = this.stmt.issuedById.get(Number(lastInsertRowid));
    if (!row) throw new SearchFailed(`no issued GID with id ${String(lastInsertRowid)}`);
    return toIssuedGid(row);
  }

  /**
   * GIDs handed out by CreateGid, oldest first: all of them, or those for `hrn` (any case) and
   * the names below it.
   */
  issuedGids(hrn?: string): IssuedGid[] {
    const rows =
      hrn === undefined ? this.stmt.allIssued.all() : this.stmt.issuedUnder.all(hrn, hrn, hrn);
    return rows.map(toIssuedGid);
  }

  private mustGet(id: number): RecordRow {
    const row = this.byId(id);
    if (!row) throw new SearchFailed(`no record with id ${id}`);
    return row;
  }

  /** Memberships and keys only make sense between the right types; SQL cannot check that. */
  private requireType(id: number, types: readonly RecordType[], rule: string): void {
    const row = this.stmt.byId.get(id);
    if (!row) throw new SearchFailed(`no record with id ${id}`);
    if (!types.includes(row.type)) throw new BadArgs(`${row.hrn} is a ${row.type}: ${rule}`);
  }
}
