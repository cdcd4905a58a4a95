/**
 * Copy an authority's SQLite stores (registry.db, aggregate.db) into an empty PostgreSQL
 * database, then check the copy: `sfa store copy`.
 *
 * The tables and columns come from the source itself (sqlite_master, PRAGMA table_info), so a
 * table added by a later migration is copied without a change here. Both sides are opened by
 * the stores' own code, so both are migrated to the same newest schema first. Each store is
 * copied in one write transaction on the target: a failure leaves the target as empty as it was.
 * The copy is checked twice: row counts per table, then every record read through the stores'
 * typed API on both sides (what the services will read), compared value by value.
 */
import { existsSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { loadConfig, paths, type StoreName } from '../config.js';
import { BadArgs } from '../faults.js';
import { PeerStore } from '../peers/peer-store.js';
import { AggregateStore } from './aggregate-store.js';
import { isPostgresUrl, redactUrl } from './postgres.js';
import { RegistryStore } from './registry-store.js';
import { sqliteConnection, type SqlDatabase } from './sql.js';

/** The most parameters one INSERT binds (PostgreSQL's limit is 65,535). */
const MAX_PARAMETERS = 30_000;
/** And the most rows: a statement stays small enough to send and plan quickly. */
const MAX_BATCH_ROWS = 1000;
/**
 * One-row counter tables that the target's migrations already fill: their value is copied by an
 * UPDATE, and their row does not make the target "not empty".
 */
const COUNTER_TABLES: ReadonlySet<string> = new Set(['inventory_version', 'peer_changes']);
/** SQLite's own tables, and the migration record (the target keeps its own). */
const NOT_COPIED: ReadonlySet<string> = new Set(['sqlite_sequence', 'schema_migrations']);
/** Lease queries take `now`: the epoch lists every lease that was ever stored. */
const EPOCH = new Date(0);

export interface CopyStoreOptions {
  /** The authority's data folder, whose SQLite stores are copied. */
  from: string;
  /** The target: a `postgres://` URL of an empty database. */
  to: string;
}

/** Rows copied into one table. */
export interface TableCount {
  table: string;
  rows: number;
}

export interface StoreCopy {
  store: StoreName;
  /** Every table of the store, in the order copied (referenced tables first). */
  tables: TableCount[];
}

export interface CopyReport {
  /** The data folder copied. */
  from: string;
  /** The target URL, without its password. */
  to: string;
  /** The authority's HRN. */
  authority: string;
  stores: StoreCopy[];
}

/** A quoted SQL identifier (table and column names come from the source's catalogue). */
const q = (name: string): string => `"${name.replaceAll('"', '""')}"`;

/**
 * Copy the SQLite stores of the authority in `from` into the empty PostgreSQL database `to`,
 * then check that every table has the same number of rows and that every record reads the same
 * through the stores' API. Nothing is written to the target unless the whole store copies.
 *
 * @throws BadArgs when `from` holds no SQLite authority, `to` is not a postgres:// URL, the
 *   server cannot be reached, or the target already holds data; an Error naming the table or
 *   record when the check finds a difference.
 */
export function copyStore(options: CopyStoreOptions): CopyReport {
  const { from, to } = options;
  if (!isPostgresUrl(to)) {
    // The value is not repeated: a URL of another kind may carry a password too.
    throw new BadArgs('--to must be a postgres:// URL (postgres://USER@HOST:PORT/DATABASE)');
  }
  try {
    new URL(to);
  } catch {
    throw new BadArgs(`--to: '${redactUrl(to)}' is not a URL`);
  }
  const target = redactUrl(to);
  const config = loadConfig(from);
  if (config.store !== undefined) {
    throw new BadArgs(
      `the authority in ${from} already keeps its data in PostgreSQL (${redactUrl(config.store)}), ` +
        'not in SQLite files: there is nothing to copy',
    );
  }
  for (const file of [paths.database(from), paths.aggregateDatabase(from)]) {
    // Opening a missing file would create an empty store in the operator's folder.
    if (!existsSync(file)) throw new BadArgs(`no authority in ${from}: ${file} does not exist`);
  }

  const opened: { close(): void }[] = [];
  try {
    const source = {
      registry: keep(opened, RegistryStore.open(paths.database(from))),
      aggregate: keep(opened, AggregateStore.open(paths.aggregateDatabase(from))),
    };
    const dest = {
      registry: keep(
        opened,
        openTarget(() => RegistryStore.open(to), target),
      ),
      aggregate: keep(
        opened,
        openTarget(() => AggregateStore.open(to), target),
      ),
    };
    const pairs: [StoreName, SqlDatabase, SqlDatabase][] = [
      ['registry', source.registry.db, dest.registry.db],
      ['aggregate', source.aggregate.db, dest.aggregate.db],
    ];
    // Every check before any copy: a refused target is left as it was.
    const plans = pairs.map(([name, src, dst]) => planCopy(name, src, dst, target));
    // One snapshot of each source for the copy and the check: a server still writing to the
    // SQLite files cannot make them disagree (its later writes are simply not copied).
    return source.registry.db.read(() =>
      source.aggregate.db.read(() => {
        const copied: [CopyPlan, SqlDatabase][] = [];
        try {
          const stores = plans.map((plan, i) => {
            const [, src, dst] = pairs[i]!;
            const tables = copyTables(plan, src, dst);
            copied.push([plan, dst]);
            checkCounts(plan, tables, src, dst);
            return { store: plan.store, tables };
          });
          checkRegistry(source.registry, dest.registry, config.authority);
          checkAggregate(source.aggregate, dest.aggregate);
          return { from, to: target, authority: config.authority, stores };
        } catch (e) {
          // Each store commits on its own: a later failure must not leave the earlier one's
          // rows, or the target would be neither empty (for a retry) nor a whole copy.
          for (const [plan, dst] of copied) undoCopy(plan, dst, e);
          throw e;
        }
      }),
    );
  } finally {
    for (const store of opened.reverse()) store.close();
  }
}

function keep<T extends { close(): void }>(opened: { close(): void }[], store: T): T {
  opened.push(store);
  return store;
}

/** Open a store on the target; an unreachable server is the operator's to fix: say which. */
function openTarget<T>(open: () => T, target: string): T {
  try {
    return open();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'SFA_DB_UNREACHABLE' || code === 'SFA_DB_COLLATION') {
      const why = (e as Error).message;
      throw new BadArgs(
        code === 'SFA_DB_UNREACHABLE'
          ? `cannot reach the PostgreSQL server of ${target}: ${why}`
          : why,
        { cause: e },
      );
    }
    throw e;
  }
}

interface Table {
  name: string;
  columns: string[];
  /** An `id` column: its identity sequence is moved past the copied ids. */
  hasId: boolean;
}

interface CopyPlan {
  store: StoreName;
  /** Referenced tables before the tables referencing them. */
  tables: Table[];
  /** The target's counter rows before the copy (as its migrations made them), for an undo. */
  counters: Map<string, unknown[]>;
}

/**
 * The source's tables in copy order, after checking that the target has the same migrations,
 * tables and columns, and no data.
 */
function planCopy(store: StoreName, src: SqlDatabase, dst: SqlDatabase, target: string): CopyPlan {
  const migrations = (db: SqlDatabase) =>
    db.prepare('SELECT version, name FROM schema_migrations ORDER BY version').all();
  if (!isDeepStrictEqual(migrations(src), migrations(dst))) {
    throw new BadArgs(
      `the ${store} schema of ${target} is not at the same migration as the SQLite store: ` +
        'copy with the version of sfa-ts that serves the authority',
    );
  }
  const raw = sqliteConnection(src);
  const names = (
    raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as {
      name: string;
    }[]
  )
    .map((r) => r.name)
    .filter((n) => !NOT_COPIED.has(n) && !n.startsWith('sqlite_'));

  const targetColumns = new Map<string, string[]>();
  for (const r of dst
    .prepare<[], { table_name: string; column_name: string }>(
      `SELECT table_name, column_name FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
    )
    .all()) {
    if (NOT_COPIED.has(r.table_name)) continue;
    targetColumns.set(r.table_name, [...(targetColumns.get(r.table_name) ?? []), r.column_name]);
  }
  const tables = names.map((name): Table => {
    const columns = (raw.pragma(`table_info(${q(name)})`) as { name: string }[]).map((c) => c.name);
    const there = targetColumns.get(name);
    if (!there || !isDeepStrictEqual([...there].sort(), [...columns].sort())) {
      throw new BadArgs(
        `the ${store} table ${name} differs between the SQLite store and ${target} ` +
          `(columns ${columns.join(', ')} here, ${there ? there.join(', ') : 'no such table'} there)`,
      );
    }
    return { name, columns, hasId: columns.includes('id') };
  });
  const extra = [...targetColumns.keys()].filter((t) => !names.includes(t));
  if (extra.length > 0) {
    throw new BadArgs(`${target} has ${store} tables the SQLite store lacks: ${extra.join(', ')}`);
  }

  const ordered = foreignKeyOrder(raw, tables);
  for (const t of ordered) {
    if (COUNTER_TABLES.has(t.name)) continue;
    const n = count(dst, t.name);
    if (n > 0) {
      throw new BadArgs(
        `${target} already holds data (${store}.${t.name}: ${n} ${n === 1 ? 'row' : 'rows'}): copy only into an ` +
          'empty database, or drop its schemas registry and aggregate first',
      );
    }
  }
  const counters = new Map<string, unknown[]>();
  for (const t of ordered) {
    if (!COUNTER_TABLES.has(t.name)) continue;
    const row = dst.prepare(`SELECT ${t.columns.map(q).join(', ')} FROM ${q(t.name)}`).get();
    if (row)
      counters.set(
        t.name,
        t.columns.map((c) => (row as Record<string, unknown>)[c]),
      );
  }
  return { store, tables: ordered, counters };
}

/** Tables ordered so that every table comes after the tables its foreign keys reference. */
function foreignKeyOrder(raw: ReturnType<typeof sqliteConnection>, tables: Table[]): Table[] {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const ordered: Table[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: Table): void => {
    if (state.get(t.name) === 'done') return;
    if (state.get(t.name) === 'visiting') {
      throw new Error(`the foreign keys of table ${t.name} form a cycle: no copy order exists`);
    }
    state.set(t.name, 'visiting');
    for (const fk of raw.pragma(`foreign_key_list(${q(t.name)})`) as { table: string }[]) {
      const parent = byName.get(fk.table);
      if (parent && parent !== t) visit(parent);
    }
    state.set(t.name, 'done');
    ordered.push(t);
  };
  for (const t of tables) visit(t);
  return ordered;
}

function count(db: SqlDatabase, table: string): number {
  return Number(db.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${q(table)}`).get()?.n);
}

/**
 * Copy every table of `plan` from `src` to `dst` in one write transaction, with the rows' own
 * ids, then move each identity past the highest id ever given; checks the row counts.
 */
function copyTables(plan: CopyPlan, src: SqlDatabase, dst: SqlDatabase): TableCount[] {
  const raw = sqliteConnection(src);
  // AUTOINCREMENT tables (slivers): an id given once and deleted since is never given again,
  // so the target's identity must start past it, not only past the ids still there.
  const sequences = new Map(
    ((raw.prepare("SELECT name FROM sqlite_master WHERE name = 'sqlite_sequence'").get() as unknown)
      ? (raw.prepare('SELECT name, seq FROM sqlite_sequence').all() as {
          name: string;
          seq: number;
        }[])
      : []
    ).map((r) => [r.name, r.seq]),
  );
  const counts: TableCount[] = [];
  dst.write(() => {
    // Again under the store's write lock: nobody wrote to the target since it was checked.
    for (const t of plan.tables) {
      if (!COUNTER_TABLES.has(t.name) && count(dst, t.name) > 0) {
        throw new BadArgs(`the target received ${plan.store}.${t.name} rows while the copy began`);
      }
    }
    // Copied rows are history, not changes: the version, generation, overlap and change-counter
    // triggers must not fire on them (foreign keys and checks still apply: they are not USER
    // triggers). ALTER TABLE is transactional in PostgreSQL: a failure re-enables them too.
    for (const t of plan.tables) dst.exec(`ALTER TABLE ${q(t.name)} DISABLE TRIGGER USER`);
    for (const t of plan.tables) {
      const list = t.columns.map(q).join(', ');
      const select = raw.prepare(`SELECT ${list} FROM ${q(t.name)}`).raw(true);
      let rows = 0;
      if (COUNTER_TABLES.has(t.name)) {
        const values = select.all() as unknown[][];
        if (values.length !== 1 || count(dst, t.name) !== 1) {
          throw new Error(`the counter table ${t.name} must hold exactly one row on both sides`);
        }
        const sets = t.columns.map((c) => `${q(c)} = ?`).join(', ');
        dst.prepare(`UPDATE ${q(t.name)} SET ${sets}`).run(...values[0]!);
        rows = 1;
      } else {
        const perBatch = Math.max(
          1,
          Math.min(MAX_BATCH_ROWS, Math.floor(MAX_PARAMETERS / t.columns.length)),
        );
        const tuple = `(${t.columns.map(() => '?').join(', ')})`;
        let batch: unknown[][] = [];
        const flush = (): void => {
          if (batch.length === 0) return;
          dst
            .prepare(
              `INSERT INTO ${q(t.name)} (${list}) VALUES ${batch.map(() => tuple).join(', ')}`,
            )
            .run(...batch.flat());
          rows += batch.length;
          batch = [];
        };
        for (const row of select.iterate() as IterableIterator<unknown[]>) {
          batch.push(row);
          if (batch.length === perBatch) flush();
        }
        flush();
      }
      counts.push({ table: t.name, rows });
    }
    for (const t of plan.tables) dst.exec(`ALTER TABLE ${q(t.name)} ENABLE TRIGGER USER`);

    for (const t of plan.tables) {
      if (!t.hasId) continue;
      const max = raw.prepare(`SELECT max(id) AS n FROM ${q(t.name)}`).get() as {
        n: number | null;
      };
      const given = Math.max(max.n ?? -Infinity, sequences.get(t.name) ?? -Infinity);
      if (!Number.isFinite(given)) continue;
      // NULL (no identity on this column) makes setval a no-op, not an error.
      dst.prepare(`SELECT setval(pg_get_serial_sequence(?, 'id'), ?, true)`).get(q(t.name), given);
    }
  });
  return counts;
}

/** Each table holds as many rows on the target as in the source (and as were copied). */
function checkCounts(
  plan: CopyPlan,
  counts: TableCount[],
  src: SqlDatabase,
  dst: SqlDatabase,
): void {
  for (const { table, rows } of counts) {
    const there = count(dst, table);
    const here = count(src, table);
    if (there !== here || rows !== here) {
      throw new Error(
        `check failed: ${plan.store}.${table} has ${here} rows in SQLite, ${there} on the target`,
      );
    }
  }
}

/**
 * Empty the tables `plan` filled, restart their identities and put the counters back as the
 * migrations left them: the target is again the empty database it was. Should that fail too
 * (the server went away), `failure`'s message says what the operator must clean up.
 */
function undoCopy(plan: CopyPlan, dst: SqlDatabase, failure: unknown): void {
  try {
    dst.write(() => {
      const filled = plan.tables.filter((t) => !COUNTER_TABLES.has(t.name)).map((t) => q(t.name));
      if (filled.length > 0) dst.exec(`TRUNCATE ${filled.join(', ')} RESTART IDENTITY`);
      for (const [table, row] of plan.counters) {
        const t = plan.tables.find((x) => x.name === table)!;
        const sets = t.columns.map((c) => `${q(c)} = ?`).join(', ');
        dst.prepare(`UPDATE ${q(table)} SET ${sets}`).run(...row);
      }
    });
  } catch (e) {
    if (failure instanceof Error) {
      failure.message +=
        `; emptying the ${plan.store} schema of the target failed too (${(e as Error).message}): ` +
        'drop its schemas registry and aggregate before copying again';
    }
  }
}

/** Where `a` and `b` first differ, as a path (`records.7.keys`); undefined when equal. */
function difference(a: unknown, b: unknown, path: string): string | undefined {
  if (isDeepStrictEqual(a, b)) return undefined;
  const walkable = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' &&
    v !== null &&
    (Array.isArray(v) || Object.getPrototypeOf(v) === Object.prototype);
  if (walkable(a) && walkable(b) && Array.isArray(a) === Array.isArray(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const found = difference(a[key], b[key], `${path}.${key}`);
      if (found) return found;
    }
  }
  return path;
}

/** Compare what the same reads give on both sides; fail naming the first difference. */
function compare(what: string, read: (side: 'source' | 'target') => unknown): void {
  const found = difference(read('source'), read('target'), what);
  if (found !== undefined) {
    throw new Error(`check failed: ${found} reads differently on the target than in SQLite`);
  }
}

/** By id: for lists whose order depends on a case-insensitive collation (ICU on PostgreSQL). */
const byId = <T extends { id: number }>(rows: T[]): Record<string, T> =>
  Object.fromEntries(rows.map((r) => [String(r.id), r]));

function checkRegistry(src: RegistryStore, dst: RegistryStore, authority: string): void {
  compare('registry', (side) => {
    const store = side === 'source' ? src : dst;
    const peers = new PeerStore(store.db, authority);
    return {
      records: Object.fromEntries(
        store.all().map((r) => [
          String(r.id),
          {
            record: r,
            keys: store.keys(r.id),
            pis: store.pis(r.id),
            researchers: store.researchers(r.id),
          },
        ]),
      ),
      issuedGids: byId(store.issuedGids()),
      peers: Object.fromEntries(
        peers.list().map((p) => [
          p.hrn,
          // A Gid is compared by its certificate, not by the object holding it.
          { ...p, roots: p.roots.map((r) => ({ ...r, gid: r.gid.certPem })) },
        ]),
      ),
      peerAudit: peers.audit(),
      peerChanges: peers.dataVersion(),
    };
  });
}

function checkAggregate(src: AggregateStore, dst: AggregateStore): void {
  const ids = (table: string) =>
    (src.db.prepare(`SELECT id FROM ${q(table)} ORDER BY id`).all() as { id: number }[]).map(
      (r) => r.id,
    );
  const sliverIds = ids('slivers');
  // The trail outlives the slice: every URN it names, not only the slices still there.
  const auditUrns = (
    src.db.prepare('SELECT DISTINCT slice_urn FROM slice_audit ORDER BY slice_urn').all() as {
      slice_urn: string;
    }[]
  ).map((r) => r.slice_urn);
  compare('aggregate', (side) => {
    const store = side === 'source' ? src : dst;
    return {
      inventoryVersion: store.inventoryVersion(),
      sites: byId(store.sites()),
      nodes: Object.fromEntries(
        store.nodes().map((n) => [
          String(n.id),
          {
            node: n,
            tags: store.nodeTags(n.id),
            generation: store.nodeGeneration(n.id),
            reports: store.nodeReports(n.id),
            statusHistory: store.nodeStatusHistory(n.id),
            managed: store.nodeManaged(n.id),
            realized: store.realizedSlivers(n.id),
            nodegroups: store
              .nodegroupsOfNode(n.id)
              .map((g) => g.id)
              .sort((a, b) => a - b),
          },
        ]),
      ),
      allNodeTags: Object.fromEntries(store.allNodeTags()),
      nodegroups: Object.fromEntries(
        store.nodegroups().map((g) => [
          String(g.id),
          {
            nodegroup: g,
            tags: store.nodegroupTags(g.id),
            members: store.nodegroupMembers(g.id).sort(),
          },
        ]),
      ),
      slices: Object.fromEntries(
        store.slices().map((s) => [String(s.id), { slice: s, users: store.sliceUsers(s.id) }]),
      ),
      sliceAudit: Object.fromEntries(auditUrns.map((urn) => [urn, store.sliceAudit(urn)])),
      slivers: Object.fromEntries(
        sliverIds.map((id) => [
          String(id),
          {
            sliver: store.sliverById(id),
            leases: store.liveLeasesOfSliver(id, EPOCH),
            ports: store.portsOfSliver(id),
            realized: store.realizedSliver(id),
          },
        ]),
      ),
      leases: byId(store.liveLeases(EPOCH)),
    };
  });
}
