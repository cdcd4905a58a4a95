/**
 * The aggregate manager's resources and reservations: sites, nodes and their tags, nodegroups,
 * slices, slivers, leases and port reservations. Its own database file (`aggregate.db`), apart
 * from the registry's: the two services share nothing but the process.
 *
 * The store is a typed mirror of the tables; the decisions (admission, placement, expiry) are
 * the engine's (`src/aggregate/engine`). The schema still refuses what must never happen
 * whatever the code does: two slices holding overlapping leases on one node, or overlapping
 * port ranges of one protocol on one node (triggers), a sliver id reused (AUTOINCREMENT), a
 * date that would not sort as text (CHECK).
 *
 * Every date is RFC 3339 UTC without fractions (`formatUtc`), so text order is time order and
 * `expires > ?` compares instants.
 */
import { formatUtc, openMigrated, parseUtc, type Migration } from './database.js';
import { lockId, type LockKey, type SqlDatabase, type Statement, type WriteMode } from './sql.js';

/** PlanetLab boot states; only `boot` nodes take slivers. */
export const BOOT_STATES = [
  'boot',
  'safeboot',
  'reinstall',
  'failboot',
  'disabled',
  'down',
] as const;
export type BootState = (typeof BOOT_STATES)[number];

/** GENI allocation states kept in the table; a deleted sliver's row is removed. */
export const ALLOCATION_STATES = ['geni_allocated', 'geni_provisioned'] as const;
export type StoredAllocationState = (typeof ALLOCATION_STATES)[number];

export const OPERATIONAL_STATES = [
  'geni_pending_allocation',
  'geni_notready',
  'geni_configuring',
  'geni_stopping',
  'geni_ready',
  'geni_failed',
] as const;
export type OperationalState = (typeof OPERATIONAL_STATES)[number];

export const PORT_PROTOCOLS = ['tcp', 'udp'] as const;
export type PortProtocol = (typeof PORT_PROTOCOLS)[number];

/**
 * `reservation`: a time slot the slice asked for (an RSpec lease).
 * `hold`: the implicit lease of a sliver on an exclusive node that came without reservations:
 * it holds the node for the sliver's whole life, [created, expires), and follows its expiry.
 */
export type LeaseKind = 'reservation' | 'hold';

/** Linux's limit on a user name, which a slice's login name becomes on every node. */
export const MAX_LOGIN_NAME_LENGTH = 32;

const list = (values: readonly string[]): string => values.map((v) => `'${v}'`).join(', ');
/** Only formatUtc's shape sorts as time: refuse anything else at the door. */
const isDate = (column: string): string =>
  `${column} GLOB '[0-9][0-9][0-9][0-9]-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z'`;
const TAG_NAME_CHECK = `length(name) BETWEEN 1 AND 64 AND name NOT GLOB '*[^A-Za-z0-9_.-]*'`;

/** Refuse an insert or update that would give a second slice an overlapping range. */
function overlapTriggers(table: string, overlap: string, message: string): string {
  return ['INSERT', 'UPDATE']
    .map(
      (event) => `
      CREATE TRIGGER ${table}_no_overlap_${event.toLowerCase()} BEFORE ${event} ON ${table}
      WHEN EXISTS (SELECT 1 FROM ${table} o
                    WHERE o.node_id = NEW.node_id AND o.slice_id <> NEW.slice_id
                      AND o.id IS NOT NEW.id AND ${overlap})
      BEGIN SELECT RAISE(ABORT, '${message}'); END;`,
    )
    .join('\n');
}

/** Bump the generation of the nodes `where` selects (node API long polls wait on it). */
const bumpWhere = (where: string): string =>
  `UPDATE node_generations SET generation = generation + 1 WHERE ${where};`;
const bumpNode = (id: string): string => bumpWhere(`node_id = ${id}`);

// ---- The same helpers in PostgreSQL's dialect (the `postgres` bodies of the migrations) ----
// GLOB becomes `~` (an anchored regular expression for a whole shape; an unanchored search for
// GLOB's '*[…]*'). `COLLATE "C"`: regular expressions refuse the nondeterministic `nocase`.

const isDatePg = (column: string): string =>
  `${column} COLLATE "C" ~ '^[0-9]{4}-[0-1][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-6][0-9]Z$'`;
const TAG_NAME_CHECK_PG = `length(name) BETWEEN 1 AND 64 AND name COLLATE "C" !~ '[^A-Za-z0-9_.-]'`;
const LOGIN_BASE_CHECK_PG = `length(login_base) BETWEEN 1 AND 20 AND login_base COLLATE "C" !~ '[^a-z0-9]'`;
const LOGIN_NAME_CHECK_PG = `length(login_name) BETWEEN 3 AND ${MAX_LOGIN_NAME_LENGTH}
  AND login_name COLLATE "C" ~ '^.+_.+$' AND login_name COLLATE "C" !~ '[^a-z0-9_]'`;

/**
 * A trigger function bound to the schema it is created in (`SET search_path FROM CURRENT`:
 * its unqualified names do not depend on the search_path of whoever writes the table).
 */
const functionPg = (name: string, body: string): string => `
      CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT
        AS $$ BEGIN ${body} END $$;`;

/** SQLite's `CREATE TRIGGER name AFTER event ON table BEGIN body END`: a function, one name. */
const afterTriggerPg = (name: string, event: string, table: string, body: string): string =>
  `${functionPg(name, `${body} RETURN NULL;`)}
      CREATE TRIGGER ${name} AFTER ${event} ON ${table} FOR EACH ROW EXECUTE FUNCTION ${name}();`;

/**
 * overlapTriggers in PostgreSQL: the same message, SQLSTATE 23514 (check_violation). The
 * advisory lock (per table and node, until the transaction ends) does what SQLite's single
 * writer does: two transactions cannot both insert overlapping ranges unseen by each other
 * (under READ COMMITTED, the check after the wait sees the other's commit).
 */
function overlapTriggersPg(table: string, overlap: string, message: string): string {
  return `${functionPg(
    `${table}_no_overlap`,
    `PERFORM pg_advisory_xact_lock(TG_RELID::integer, hashtext(NEW.node_id::text));
        IF EXISTS (SELECT 1 FROM ${table} o
                    WHERE o.node_id = NEW.node_id AND o.slice_id <> NEW.slice_id
                      AND o.id IS DISTINCT FROM NEW.id AND ${overlap}) THEN
          RAISE EXCEPTION '${message}' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;`,
  )}
      ${['INSERT', 'UPDATE']
        .map(
          (event) => `
      CREATE TRIGGER ${table}_no_overlap_${event.toLowerCase()} BEFORE ${event} ON ${table}
        FOR EACH ROW EXECUTE FUNCTION ${table}_no_overlap();`,
        )
        .join('')}`;
}

/** A sliver's state as its node realized it (ReportNodeStatus). */
export const REALIZED_STATES = ['running', 'stopped', 'failed'] as const;
export type RealizedState = (typeof REALIZED_STATES)[number];

/** What the researcher last asked of a provisioned sliver (geni_start / geni_stop). */
export const DESIRED_STATES = ['started', 'stopped'] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];

/** The aggregate's schema. Append new migrations; never edit an applied one. */
export const AGGREGATE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'aggregate sites, nodes, tags, nodegroups, slices, slivers, leases, ports',
    up: `
      CREATE TABLE sites (
        id INTEGER PRIMARY KEY,
        login_base TEXT NOT NULL UNIQUE
          CHECK (length(login_base) BETWEEN 1 AND 20 AND login_base NOT GLOB '*[^a-z0-9]*'),
        name TEXT NOT NULL CHECK (name <> ''),
        hrn TEXT NOT NULL UNIQUE,
        country TEXT,
        city TEXT,
        latitude REAL CHECK (latitude BETWEEN -90 AND 90),
        longitude REAL CHECK (longitude BETWEEN -180 AND 180)
      ) STRICT;

      CREATE TABLE nodes (
        id INTEGER PRIMARY KEY,
        hostname TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (hostname <> ''),
        site_id INTEGER NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
        hrn TEXT NOT NULL UNIQUE,
        urn TEXT NOT NULL UNIQUE COLLATE NOCASE,
        boot_state TEXT NOT NULL CHECK (boot_state IN (${list(BOOT_STATES)})),
        exclusive INTEGER NOT NULL CHECK (exclusive IN (0, 1)),
        max_slivers INTEGER NOT NULL CHECK (max_slivers >= 0),
        cpu_shares INTEGER NOT NULL CHECK (cpu_shares >= 0),
        load_average REAL NOT NULL DEFAULT 0 CHECK (load_average >= 0),
        checks_up INTEGER NOT NULL DEFAULT 0 CHECK (checks_up >= 0),
        checks_down INTEGER NOT NULL DEFAULT 0 CHECK (checks_down >= 0),
        hardware_type TEXT NOT NULL CHECK (hardware_type <> '')
      ) STRICT;
      CREATE INDEX nodes_site ON nodes (site_id);

      CREATE TABLE node_tags (
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        name TEXT NOT NULL CHECK (${TAG_NAME_CHECK}),
        value TEXT NOT NULL,
        PRIMARY KEY (node_id, name)
      ) STRICT;

      CREATE TABLE nodegroups (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (${TAG_NAME_CHECK})
      ) STRICT;
      CREATE TABLE nodegroup_members (
        nodegroup_id INTEGER NOT NULL REFERENCES nodegroups (id) ON DELETE CASCADE,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        PRIMARY KEY (nodegroup_id, node_id)
      ) STRICT;
      CREATE INDEX nodegroup_members_node ON nodegroup_members (node_id);
      CREATE TABLE nodegroup_tags (
        nodegroup_id INTEGER NOT NULL REFERENCES nodegroups (id) ON DELETE CASCADE,
        name TEXT NOT NULL CHECK (${TAG_NAME_CHECK}),
        value TEXT NOT NULL,
        PRIMARY KEY (nodegroup_id, name)
      ) STRICT;

      CREATE TABLE slices (
        id INTEGER PRIMARY KEY,
        -- Authorities are case-insensitive in GENI, and the login name folds case anyway.
        urn TEXT NOT NULL UNIQUE COLLATE NOCASE,
        login_name TEXT NOT NULL UNIQUE CHECK (
          length(login_name) BETWEEN 3 AND ${MAX_LOGIN_NAME_LENGTH}
          AND login_name GLOB '?*_?*' AND login_name NOT GLOB '*[^a-z0-9_]*'),
        created TEXT NOT NULL CHECK (${isDate('created')}),
        expires TEXT NOT NULL CHECK (${isDate('expires')}),
        shutdown TEXT CHECK (shutdown IS NULL OR ${isDate('shutdown')})
      ) STRICT;
      CREATE INDEX slices_expires ON slices (expires);

      CREATE TABLE slice_users (
        slice_id INTEGER NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        urn TEXT NOT NULL CHECK (urn <> ''),
        email TEXT,
        keys TEXT NOT NULL CHECK (json_valid(keys) AND json_type(keys) = 'array'),
        PRIMARY KEY (slice_id, position),
        UNIQUE (slice_id, urn)
      ) STRICT;

      -- AUTOINCREMENT: a sliver id, hence its URN, is never given twice, even after a delete.
      CREATE TABLE slivers (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        slice_id INTEGER NOT NULL REFERENCES slices (id) ON DELETE RESTRICT,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE RESTRICT,
        client_id TEXT NOT NULL CHECK (client_id <> ''),
        allocation_state TEXT NOT NULL CHECK (allocation_state IN (${list(ALLOCATION_STATES)})),
        operational_state TEXT NOT NULL CHECK (operational_state IN (${list(OPERATIONAL_STATES)})),
        exclusive INTEGER NOT NULL CHECK (exclusive IN (0, 1)),
        cpu_share INTEGER NOT NULL CHECK (cpu_share >= 1),
        attributes TEXT NOT NULL CHECK (json_valid(attributes) AND json_type(attributes) = 'array'),
        initscripts TEXT NOT NULL CHECK (json_valid(initscripts) AND json_type(initscripts) = 'array'),
        created TEXT NOT NULL CHECK (${isDate('created')}),
        expires TEXT NOT NULL CHECK (${isDate('expires')} AND expires > created),
        -- One sliver per slice per node; client ids name slivers in the slice's manifest.
        UNIQUE (slice_id, node_id),
        UNIQUE (slice_id, client_id)
      ) STRICT;
      CREATE INDEX slivers_node ON slivers (node_id);
      CREATE INDEX slivers_expires ON slivers (expires);

      -- Every lease belongs to a sliver of its slice on its node, and goes with it.
      CREATE TABLE leases (
        id INTEGER PRIMARY KEY,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        slice_id INTEGER NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        sliver_id INTEGER NOT NULL REFERENCES slivers (id) ON DELETE CASCADE,
        kind TEXT NOT NULL CHECK (kind IN ('reservation', 'hold')),
        start_time TEXT NOT NULL CHECK (${isDate('start_time')}),
        end_time TEXT NOT NULL CHECK (${isDate('end_time')} AND end_time > start_time)
      ) STRICT;
      CREATE INDEX leases_node ON leases (node_id, end_time);
      CREATE INDEX leases_sliver ON leases (sliver_id);
      CREATE UNIQUE INDEX leases_one_hold ON leases (sliver_id) WHERE kind = 'hold';
      ${overlapTriggers(
        'leases',
        'o.start_time < NEW.end_time AND NEW.start_time < o.end_time',
        'lease overlaps a lease of another slice on the same node',
      )}

      CREATE TABLE port_reservations (
        id INTEGER PRIMARY KEY,
        sliver_id INTEGER NOT NULL REFERENCES slivers (id) ON DELETE CASCADE,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        slice_id INTEGER NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        proto TEXT NOT NULL CHECK (proto IN (${list(PORT_PROTOCOLS)})),
        port_from INTEGER NOT NULL CHECK (port_from BETWEEN 1 AND 65535),
        port_to INTEGER NOT NULL CHECK (port_to BETWEEN port_from AND 65535)
      ) STRICT;
      CREATE INDEX port_reservations_node ON port_reservations (node_id, proto);
      CREATE INDEX port_reservations_sliver ON port_reservations (sliver_id);
      ${overlapTriggers(
        'port_reservations',
        'o.proto = NEW.proto AND o.port_from <= NEW.port_to AND NEW.port_from <= o.port_to',
        'port range overlaps a reservation of another slice on the same node',
      )}
    `,
    postgres: `
      -- SQLite's NOCASE: the queries' 'COLLATE NOCASE' finds it in this schema.
      CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

      CREATE TABLE sites (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        login_base text NOT NULL UNIQUE CHECK (${LOGIN_BASE_CHECK_PG}),
        name text NOT NULL CHECK (name <> ''),
        hrn text NOT NULL UNIQUE,
        country text,
        city text,
        latitude double precision CHECK (latitude BETWEEN -90 AND 90),
        longitude double precision CHECK (longitude BETWEEN -180 AND 180)
      );

      CREATE TABLE nodes (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        hostname text NOT NULL UNIQUE COLLATE nocase CHECK (hostname <> ''),
        site_id bigint NOT NULL REFERENCES sites (id) ON DELETE RESTRICT,
        hrn text NOT NULL UNIQUE,
        urn text NOT NULL UNIQUE COLLATE nocase,
        boot_state text NOT NULL CHECK (boot_state IN (${list(BOOT_STATES)})),
        exclusive bigint NOT NULL CHECK (exclusive IN (0, 1)),
        max_slivers bigint NOT NULL CHECK (max_slivers >= 0),
        cpu_shares bigint NOT NULL CHECK (cpu_shares >= 0),
        load_average double precision NOT NULL DEFAULT 0 CHECK (load_average >= 0),
        checks_up bigint NOT NULL DEFAULT 0 CHECK (checks_up >= 0),
        checks_down bigint NOT NULL DEFAULT 0 CHECK (checks_down >= 0),
        hardware_type text NOT NULL CHECK (hardware_type <> '')
      );
      CREATE INDEX nodes_site ON nodes (site_id);

      CREATE TABLE node_tags (
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (${TAG_NAME_CHECK_PG}),
        value text NOT NULL,
        PRIMARY KEY (node_id, name)
      );

      CREATE TABLE nodegroups (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        name text NOT NULL UNIQUE COLLATE nocase CHECK (${TAG_NAME_CHECK_PG})
      );
      CREATE TABLE nodegroup_members (
        nodegroup_id bigint NOT NULL REFERENCES nodegroups (id) ON DELETE CASCADE,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        PRIMARY KEY (nodegroup_id, node_id)
      );
      CREATE INDEX nodegroup_members_node ON nodegroup_members (node_id);
      CREATE TABLE nodegroup_tags (
        nodegroup_id bigint NOT NULL REFERENCES nodegroups (id) ON DELETE CASCADE,
        name text NOT NULL CHECK (${TAG_NAME_CHECK_PG}),
        value text NOT NULL,
        PRIMARY KEY (nodegroup_id, name)
      );

      CREATE TABLE slices (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        urn text NOT NULL UNIQUE COLLATE nocase,
        login_name text NOT NULL UNIQUE CHECK (${LOGIN_NAME_CHECK_PG}),
        created text NOT NULL CHECK (${isDatePg('created')}),
        expires text NOT NULL CHECK (${isDatePg('expires')}),
        shutdown text CHECK (shutdown IS NULL OR ${isDatePg('shutdown')})
      );
      CREATE INDEX slices_expires ON slices (expires);

      CREATE TABLE slice_users (
        slice_id bigint NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        position bigint NOT NULL,
        urn text NOT NULL CHECK (urn <> ''),
        email text,
        keys text NOT NULL CHECK (json_typeof(keys::json) = 'array'),
        PRIMARY KEY (slice_id, position),
        UNIQUE (slice_id, urn)
      );

      -- AUTOINCREMENT: an identity never gives a value twice either, even after a delete.
      CREATE TABLE slivers (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        slice_id bigint NOT NULL REFERENCES slices (id) ON DELETE RESTRICT,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE RESTRICT,
        client_id text NOT NULL CHECK (client_id <> ''),
        allocation_state text NOT NULL CHECK (allocation_state IN (${list(ALLOCATION_STATES)})),
        operational_state text NOT NULL CHECK (operational_state IN (${list(OPERATIONAL_STATES)})),
        exclusive bigint NOT NULL CHECK (exclusive IN (0, 1)),
        cpu_share bigint NOT NULL CHECK (cpu_share >= 1),
        attributes text NOT NULL CHECK (json_typeof(attributes::json) = 'array'),
        initscripts text NOT NULL CHECK (json_typeof(initscripts::json) = 'array'),
        created text NOT NULL CHECK (${isDatePg('created')}),
        expires text NOT NULL CHECK (${isDatePg('expires')} AND expires > created),
        UNIQUE (slice_id, node_id),
        UNIQUE (slice_id, client_id)
      );
      CREATE INDEX slivers_node ON slivers (node_id);
      CREATE INDEX slivers_expires ON slivers (expires);

      CREATE TABLE leases (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        slice_id bigint NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        sliver_id bigint NOT NULL REFERENCES slivers (id) ON DELETE CASCADE,
        kind text NOT NULL CHECK (kind IN ('reservation', 'hold')),
        start_time text NOT NULL CHECK (${isDatePg('start_time')}),
        end_time text NOT NULL CHECK (${isDatePg('end_time')} AND end_time > start_time)
      );
      CREATE INDEX leases_node ON leases (node_id, end_time);
      CREATE INDEX leases_sliver ON leases (sliver_id);
      CREATE UNIQUE INDEX leases_one_hold ON leases (sliver_id) WHERE kind = 'hold';
      ${overlapTriggersPg(
        'leases',
        'o.start_time < NEW.end_time AND NEW.start_time < o.end_time',
        'lease overlaps a lease of another slice on the same node',
      )}

      CREATE TABLE port_reservations (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        sliver_id bigint NOT NULL REFERENCES slivers (id) ON DELETE CASCADE,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        slice_id bigint NOT NULL REFERENCES slices (id) ON DELETE CASCADE,
        proto text NOT NULL CHECK (proto IN (${list(PORT_PROTOCOLS)})),
        port_from bigint NOT NULL CHECK (port_from BETWEEN 1 AND 65535),
        port_to bigint NOT NULL CHECK (port_to BETWEEN port_from AND 65535)
      );
      CREATE INDEX port_reservations_node ON port_reservations (node_id, proto);
      CREATE INDEX port_reservations_sliver ON port_reservations (sliver_id);
      ${overlapTriggersPg(
        'port_reservations',
        'o.proto = NEW.proto AND o.port_from <= NEW.port_to AND NEW.port_from <= o.port_to',
        'port range overlaps a reservation of another slice on the same node',
      )}
    `,
  },
  {
    version: 2,
    name: 'inventory version, bumped by every change to sites, nodes, tags and nodegroups',
    // Read on every advertisement: the static part of the inventory is rebuilt only when it
    // changed, whichever process (server or `sfa node …`) changed it.
    up: `
      CREATE TABLE inventory_version (version INTEGER NOT NULL) STRICT;
      INSERT INTO inventory_version (version) VALUES (0);
      CREATE TRIGGER sites_insert_bumps_inventory AFTER INSERT ON sites
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER sites_update_bumps_inventory AFTER UPDATE ON sites
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER sites_delete_bumps_inventory AFTER DELETE ON sites
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodes_insert_bumps_inventory AFTER INSERT ON nodes
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodes_update_bumps_inventory AFTER UPDATE ON nodes
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodes_delete_bumps_inventory AFTER DELETE ON nodes
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER node_tags_insert_bumps_inventory AFTER INSERT ON node_tags
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER node_tags_update_bumps_inventory AFTER UPDATE ON node_tags
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER node_tags_delete_bumps_inventory AFTER DELETE ON node_tags
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroups_insert_bumps_inventory AFTER INSERT ON nodegroups
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroups_update_bumps_inventory AFTER UPDATE ON nodegroups
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroups_delete_bumps_inventory AFTER DELETE ON nodegroups
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroup_members_insert_bumps_inventory AFTER INSERT ON nodegroup_members
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroup_members_update_bumps_inventory AFTER UPDATE ON nodegroup_members
        BEGIN UPDATE inventory_version SET version = version + 1; END;
      CREATE TRIGGER nodegroup_members_delete_bumps_inventory AFTER DELETE ON nodegroup_members
        BEGIN UPDATE inventory_version SET version = version + 1; END;
    `,
    // Row triggers as in SQLite: a statement that changes no row bumps nothing, one that
    // changes n rows bumps n times. One function for the fifteen triggers.
    postgres: `
      CREATE TABLE inventory_version (version bigint NOT NULL);
      INSERT INTO inventory_version (version) VALUES (0);
      ${functionPg('bump_inventory_version', 'UPDATE inventory_version SET version = version + 1; RETURN NULL;')}
      ${['sites', 'nodes', 'node_tags', 'nodegroups', 'nodegroup_members']
        .flatMap((table) =>
          ['INSERT', 'UPDATE', 'DELETE'].map(
            (event) => `
      CREATE TRIGGER ${table}_${event.toLowerCase()}_bumps_inventory AFTER ${event} ON ${table}
        FOR EACH ROW EXECUTE FUNCTION bump_inventory_version();`,
          ),
        )
        .join('')}
    `,
  },
  {
    version: 3,
    name: 'slice audit: who shut a slice down and who reopened it',
    // Names the slice by URN, not by row: the trail outlives the slice's row.
    up: `
      CREATE TABLE slice_audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL CHECK (${isDate('at')}),
        slice_urn TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('shutdown', 'reopen')),
        actor TEXT NOT NULL,
        note TEXT
      ) STRICT;
      CREATE INDEX slice_audit_lower_urn ON slice_audit (lower(slice_urn));
    `,
    // The action's CHECK is named: migration 8 replaces it.
    postgres: `
      CREATE TABLE slice_audit (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        at text NOT NULL CHECK (${isDatePg('at')}),
        slice_urn text NOT NULL,
        action text NOT NULL
          CONSTRAINT slice_audit_action_check CHECK (action IN ('shutdown', 'reopen')),
        actor text NOT NULL,
        note text
      );
      CREATE INDEX slice_audit_lower_urn ON slice_audit (lower(slice_urn));
    `,
  },
  {
    version: 4,
    name: 'node API: per-node generation, node status reports, slivers as the node realized them',
    // The generation of a node changes whenever anything a node's GetSlivers shows changes:
    // its slivers (and their leases and ports), its tags and nodegroup tags, its slices' users
    // and expiry. Triggers, so that changes by any process (server or `sfa node …`) count.
    up: `
      CREATE TABLE node_generations (
        node_id INTEGER PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
        generation INTEGER NOT NULL CHECK (generation >= 0)
      ) STRICT;
      INSERT INTO node_generations (node_id, generation) SELECT id, 0 FROM nodes;
      CREATE TRIGGER nodes_insert_generation AFTER INSERT ON nodes
        BEGIN INSERT OR IGNORE INTO node_generations (node_id, generation) VALUES (NEW.id, 0); END;
      CREATE TRIGGER nodes_update_bumps_generation
        AFTER UPDATE OF hostname, site_id, hrn, urn, boot_state, exclusive ON nodes
        BEGIN ${bumpNode('NEW.id')} END;
      ${['INSERT', 'UPDATE', 'DELETE']
        .flatMap((event) =>
          ['slivers', 'leases', 'port_reservations', 'node_tags', 'nodegroup_members'].map(
            (table) => `
      CREATE TRIGGER ${table}_${event.toLowerCase()}_bumps_generation AFTER ${event} ON ${table}
        BEGIN ${event === 'DELETE' ? '' : bumpNode('NEW.node_id')}
          ${event === 'INSERT' ? '' : bumpNode('OLD.node_id')} END;`,
          ),
        )
        .join('')}
      ${['INSERT', 'UPDATE', 'DELETE']
        .map(
          (event) => `
      CREATE TRIGGER nodegroup_tags_${event.toLowerCase()}_bumps_generation
        AFTER ${event} ON nodegroup_tags
        BEGIN ${bumpWhere(`node_id IN (SELECT node_id FROM nodegroup_members WHERE nodegroup_id = ${event === 'DELETE' ? 'OLD' : 'NEW'}.nodegroup_id)`)} END;
      CREATE TRIGGER slice_users_${event.toLowerCase()}_bumps_generation
        AFTER ${event} ON slice_users
        BEGIN ${bumpWhere(`node_id IN (SELECT node_id FROM slivers WHERE slice_id = ${event === 'DELETE' ? 'OLD' : 'NEW'}.slice_id)`)} END;`,
        )
        .join('')}
      CREATE TRIGGER slices_update_bumps_generation AFTER UPDATE ON slices
        BEGIN ${bumpWhere('node_id IN (SELECT node_id FROM slivers WHERE slice_id = NEW.id)')} END;

      -- What nodes report (ReportNodeStatus); a bounded history per node.
      CREATE TABLE node_reports (
        id INTEGER PRIMARY KEY,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        at TEXT NOT NULL CHECK (${isDate('at')}),
        load_average REAL NOT NULL CHECK (load_average >= 0),
        memory_total REAL NOT NULL CHECK (memory_total >= 0),
        memory_free REAL NOT NULL CHECK (memory_free >= 0),
        uptime REAL NOT NULL CHECK (uptime >= 0),
        slivers TEXT NOT NULL CHECK (json_valid(slivers) AND json_type(slivers) = 'array')
      ) STRICT;
      CREATE INDEX node_reports_node ON node_reports (node_id);

      -- Each sliver as its node last reported it: the realized state, for operational states.
      CREATE TABLE sliver_realized (
        sliver_id INTEGER PRIMARY KEY REFERENCES slivers (id) ON DELETE CASCADE,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        state TEXT NOT NULL CHECK (state IN (${list(REALIZED_STATES)})),
        error TEXT,
        reported TEXT NOT NULL CHECK (${isDate('reported')}),
        cpu_seconds REAL CHECK (cpu_seconds >= 0),
        memory_bytes REAL CHECK (memory_bytes >= 0),
        bytes_in REAL CHECK (bytes_in >= 0),
        bytes_out REAL CHECK (bytes_out >= 0)
      ) STRICT;
      CREATE INDEX sliver_realized_node ON sliver_realized (node_id);
    `,
    // The same triggers, names and bodies (bumpWhere and bumpNode write plain SQL, valid in
    // plpgsql): an UPDATE bumps NEW's node and then OLD's, twice the same node as in SQLite.
    postgres: `
      CREATE TABLE node_generations (
        node_id bigint PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
        generation bigint NOT NULL CHECK (generation >= 0)
      );
      INSERT INTO node_generations (node_id, generation) SELECT id, 0 FROM nodes;
      ${afterTriggerPg(
        'nodes_insert_generation',
        'INSERT',
        'nodes',
        'INSERT INTO node_generations (node_id, generation) VALUES (NEW.id, 0) ON CONFLICT DO NOTHING;',
      )}
      ${afterTriggerPg(
        'nodes_update_bumps_generation',
        'UPDATE OF hostname, site_id, hrn, urn, boot_state, exclusive',
        'nodes',
        bumpNode('NEW.id'),
      )}
      ${['INSERT', 'UPDATE', 'DELETE']
        .flatMap((event) =>
          ['slivers', 'leases', 'port_reservations', 'node_tags', 'nodegroup_members'].map(
            (table) =>
              afterTriggerPg(
                `${table}_${event.toLowerCase()}_bumps_generation`,
                event,
                table,
                `${event === 'DELETE' ? '' : bumpNode('NEW.node_id')}
          ${event === 'INSERT' ? '' : bumpNode('OLD.node_id')}`,
              ),
          ),
        )
        .join('')}
      ${['INSERT', 'UPDATE', 'DELETE']
        .map(
          (event) =>
            afterTriggerPg(
              `nodegroup_tags_${event.toLowerCase()}_bumps_generation`,
              event,
              'nodegroup_tags',
              bumpWhere(
                `node_id IN (SELECT node_id FROM nodegroup_members WHERE nodegroup_id = ${event === 'DELETE' ? 'OLD' : 'NEW'}.nodegroup_id)`,
              ),
            ) +
            afterTriggerPg(
              `slice_users_${event.toLowerCase()}_bumps_generation`,
              event,
              'slice_users',
              bumpWhere(
                `node_id IN (SELECT node_id FROM slivers WHERE slice_id = ${event === 'DELETE' ? 'OLD' : 'NEW'}.slice_id)`,
              ),
            ),
        )
        .join('')}
      ${afterTriggerPg(
        'slices_update_bumps_generation',
        'UPDATE',
        'slices',
        bumpWhere('node_id IN (SELECT node_id FROM slivers WHERE slice_id = NEW.id)'),
      )}

      CREATE TABLE node_reports (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        at text NOT NULL CHECK (${isDatePg('at')}),
        load_average double precision NOT NULL CHECK (load_average >= 0),
        memory_total double precision NOT NULL CHECK (memory_total >= 0),
        memory_free double precision NOT NULL CHECK (memory_free >= 0),
        uptime double precision NOT NULL CHECK (uptime >= 0),
        slivers text NOT NULL CHECK (json_typeof(slivers::json) = 'array')
      );
      CREATE INDEX node_reports_node ON node_reports (node_id);

      CREATE TABLE sliver_realized (
        sliver_id bigint PRIMARY KEY REFERENCES slivers (id) ON DELETE CASCADE,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        state text NOT NULL CHECK (state IN (${list(REALIZED_STATES)})),
        error text,
        reported text NOT NULL CHECK (${isDatePg('reported')}),
        cpu_seconds double precision CHECK (cpu_seconds >= 0),
        memory_bytes double precision CHECK (memory_bytes >= 0),
        bytes_in double precision CHECK (bytes_in >= 0),
        bytes_out double precision CHECK (bytes_out >= 0)
      );
      CREATE INDEX sliver_realized_node ON sliver_realized (node_id);
    `,
  },
  {
    version: 5,
    name: 'managed nodes (those that report), and each sliver’s desired state, kept apart from the state shown',
    // The desired state was read from the operational state; now that a managed node's sliver
    // shows geni_configuring or geni_stopping, what the node is told must not follow the display.
    // Existing rows get what the old inference gave.
    up: `
      CREATE TABLE node_managed (
        node_id INTEGER PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
        since TEXT NOT NULL CHECK (${isDate('since')}),
        last_report TEXT NOT NULL CHECK (${isDate('last_report')} AND last_report >= since),
        last_slivers INTEGER NOT NULL CHECK (last_slivers >= 0)
      ) STRICT;
      INSERT INTO node_managed (node_id, since, last_report, last_slivers)
        SELECT node_id, min(at), max(at), 0 FROM node_reports GROUP BY node_id;

      ALTER TABLE slivers ADD COLUMN desired_state TEXT NOT NULL DEFAULT 'started'
        CHECK (desired_state IN (${list(DESIRED_STATES)}));
      ALTER TABLE slivers ADD COLUMN desired_at TEXT CHECK (desired_at IS NULL OR ${isDate('desired_at')});
      UPDATE slivers SET desired_state = 'stopped'
        WHERE operational_state IN ('geni_notready', 'geni_stopping', 'geni_pending_allocation');
    `,
    postgres: `
      CREATE TABLE node_managed (
        node_id bigint PRIMARY KEY REFERENCES nodes (id) ON DELETE CASCADE,
        since text NOT NULL CHECK (${isDatePg('since')}),
        last_report text NOT NULL CHECK (${isDatePg('last_report')} AND last_report >= since),
        last_slivers bigint NOT NULL CHECK (last_slivers >= 0)
      );
      INSERT INTO node_managed (node_id, since, last_report, last_slivers)
        SELECT node_id, min(at), max(at), 0 FROM node_reports GROUP BY node_id;

      ALTER TABLE slivers ADD COLUMN desired_state text NOT NULL DEFAULT 'started'
        CHECK (desired_state IN (${list(DESIRED_STATES)}));
      ALTER TABLE slivers ADD COLUMN desired_at text
        CHECK (desired_at IS NULL OR ${isDatePg('desired_at')});
      UPDATE slivers SET desired_state = 'stopped'
        WHERE operational_state IN ('geni_notready', 'geni_stopping', 'geni_pending_allocation');
    `,
  },
  {
    version: 6,
    name: 'per-sliver traffic accounting: packets in and out, as the node last reported them',
    // Nullable like the other counters: a node that counts no packets (or an older node
    // manager) leaves them out, and rows written before this migration have none.
    up: `
      ALTER TABLE sliver_realized ADD COLUMN packets_in REAL CHECK (packets_in >= 0);
      ALTER TABLE sliver_realized ADD COLUMN packets_out REAL CHECK (packets_out >= 0);
    `,
    postgres: `
      ALTER TABLE sliver_realized ADD COLUMN packets_in double precision CHECK (packets_in >= 0);
      ALTER TABLE sliver_realized ADD COLUMN packets_out double precision CHECK (packets_out >= 0);
    `,
  },
  {
    version: 7,
    name: 'node status history: what `sfa node status` recorded of each node, bounded',
    // Nodes without a node manager never send reports: this is their only history (the web
    // view's node page). Bounded per node like node_reports, by the same writer.
    up: `
      CREATE TABLE node_status_history (
        id INTEGER PRIMARY KEY,
        node_id INTEGER NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        at TEXT NOT NULL CHECK (${isDate('at')}),
        boot_state TEXT NOT NULL CHECK (boot_state IN (${list(BOOT_STATES)})),
        load_average REAL NOT NULL CHECK (load_average >= 0),
        checked TEXT CHECK (checked IS NULL OR checked IN ('up', 'down')),
        slivers INTEGER NOT NULL CHECK (slivers >= 0)
      ) STRICT;
      CREATE INDEX node_status_history_node ON node_status_history (node_id);
    `,
    postgres: `
      CREATE TABLE node_status_history (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        node_id bigint NOT NULL REFERENCES nodes (id) ON DELETE CASCADE,
        at text NOT NULL CHECK (${isDatePg('at')}),
        boot_state text NOT NULL CHECK (boot_state IN (${list(BOOT_STATES)})),
        load_average double precision NOT NULL CHECK (load_average >= 0),
        checked text CHECK (checked IS NULL OR checked IN ('up', 'down')),
        slivers bigint NOT NULL CHECK (slivers >= 0)
      );
      CREATE INDEX node_status_history_node ON node_status_history (node_id);
    `,
  },
  {
    version: 8,
    name: 'slice history: every AM call that changed a slice, by whom and from which client',
    // The audit trail of version 3 grows into the slice's history (the web view's slice page):
    // any action name, and the client program (its HTTP User-Agent). Kept rows are copied.
    up: `
      CREATE TABLE slice_audit_new (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL CHECK (${isDate('at')}),
        slice_urn TEXT NOT NULL,
        action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 64),
        actor TEXT NOT NULL,
        note TEXT,
        client TEXT CHECK (client IS NULL OR length(client) <= 200)
      ) STRICT;
      INSERT INTO slice_audit_new (id, at, slice_urn, action, actor, note)
        SELECT id, at, slice_urn, action, actor, note FROM slice_audit;
      DROP TABLE slice_audit;
      ALTER TABLE slice_audit_new RENAME TO slice_audit;
      CREATE INDEX slice_audit_lower_urn ON slice_audit (lower(slice_urn));
    `,
    // No rebuild: the table keeps its rows, identity and index; only the action's CHECK
    // changes, and the new column comes last as in SQLite's new table.
    postgres: `
      ALTER TABLE slice_audit DROP CONSTRAINT slice_audit_action_check;
      ALTER TABLE slice_audit ADD CONSTRAINT slice_audit_action_check
        CHECK (length(action) BETWEEN 1 AND 64);
      ALTER TABLE slice_audit ADD COLUMN client text
        CHECK (client IS NULL OR length(client) <= 200);
    `,
  },
  {
    version: 9,
    name: 'call_id answers: kept in the store, so that a retry reaching another front-end replays',
    // Keyed by a hash of (caller, method, call_id), never by the call_id itself; bounded by
    // the limits of src/aggregate/call-ids.ts. The id gives the order in which they came.
    up: `
      CREATE TABLE call_answers (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        caller TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        code INTEGER NOT NULL,
        message TEXT,
        body BLOB NOT NULL,
        bytes INTEGER NOT NULL CHECK (bytes >= 0)
      ) STRICT;
      CREATE INDEX call_answers_caller ON call_answers (caller, id);
      CREATE INDEX call_answers_at ON call_answers (at_ms);
    `,
    postgres: `
      CREATE TABLE call_answers (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        key text NOT NULL UNIQUE,
        caller text NOT NULL,
        at_ms bigint NOT NULL,
        code bigint NOT NULL,
        message text,
        body bytea NOT NULL,
        bytes bigint NOT NULL CHECK (bytes >= 0)
      );
      CREATE INDEX call_answers_caller ON call_answers (caller, id);
      CREATE INDEX call_answers_at ON call_answers (at_ms);
    `,
  },
];

/** The most history rows kept per slice (the oldest go first). */
export const SLICE_HISTORY_KEEP = 1000;

// ---- Rows ----

export interface SiteRow {
  id: number;
  /** PlanetLab's short site name, lower-case alphanumerics (`inria`). */
  loginBase: string;
  name: string;
  hrn: string;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}

export interface NodeRow {
  id: number;
  hostname: string;
  siteId: number;
  siteLoginBase: string;
  hrn: string;
  urn: string;
  bootState: BootState;
  /** Reservable: one slice at a time (see LeaseKind). */
  exclusive: boolean;
  maxSlivers: number;
  cpuShares: number;
  loadAverage: number;
  checksUp: number;
  checksDown: number;
  hardwareType: string;
}

export interface Tag {
  name: string;
  value: string;
}

/** One line of a slice's audit trail. */
export interface SliceAuditRow {
  at: Date;
  sliceUrn: string;
  /** `shutdown`, `reopen`, or the AM call that changed the slice (`Allocate`, `Renew`…). */
  action: string;
  /** The caller's URN (AM calls), or `operator <unix user>` (`sfa slice reopen`). */
  actor: string;
  note: string | null;
  /** The caller's client program (its HTTP User-Agent), when known. */
  client?: string | null;
}

export interface NodegroupRow {
  id: number;
  name: string;
}

export interface SliceRow {
  id: number;
  urn: string;
  loginName: string;
  created: Date;
  expires: Date;
  /** When the slice was shut down (GENI Shutdown); null while it runs. */
  shutdown: Date | null;
}

/** An SSH account on the slice's slivers, from `geni_users`. */
export interface SliceUser {
  urn: string;
  keys: string[];
  email?: string;
}

export interface SliverRow {
  id: number;
  sliceId: number;
  sliceUrn: string;
  loginName: string;
  nodeId: number;
  hostname: string;
  clientId: string;
  allocationState: StoredAllocationState;
  /**
   * The state as an unmanaged node shows it (Provision and geni_start: geni_ready at once).
   * A managed node's slivers show a state derived from this and the node's reports instead
   * (engine/operational-state.ts).
   */
  operationalState: OperationalState;
  /** What the node is told to do with it (GetSlivers `desired_state`). */
  desiredState: DesiredState;
  /** When the researcher last asked (Provision, PerformOperationalAction); null if unknown. */
  desiredAt: Date | null;
  exclusive: boolean;
  cpuShare: number;
  /** The request's own attributes, as asked (tags are resolved when read, see engine/tags.ts). */
  attributes: Tag[];
  initscripts: string[];
  created: Date;
  expires: Date;
}

export interface LeaseRow {
  id: number;
  nodeId: number;
  hostname: string;
  sliceId: number;
  sliceUrn: string;
  sliverId: number;
  kind: LeaseKind;
  start: Date;
  end: Date;
}

export interface PortRow {
  id: number;
  sliverId: number;
  nodeId: number;
  sliceId: number;
  sliceUrn: string;
  proto: PortProtocol;
  from: number;
  to: number;
}

/** One ReportNodeStatus line about a sliver, as stored. */
export interface SliverReport {
  sliverId: number;
  state: RealizedState;
  error: string | null;
  cpuSeconds: number | null;
  memoryBytes: number | null;
  bytesIn: number | null;
  bytesOut: number | null;
  packetsIn: number | null;
  packetsOut: number | null;
}

/** One ReportNodeStatus, as stored. */
export interface NodeReportRow {
  nodeId: number;
  at: Date;
  loadAverage: number;
  memoryTotal: number;
  memoryFree: number;
  uptime: number;
  /** The sliver lines as the node sent them (sliver URNs included). */
  slivers: unknown[];
}

/** One status of a node as `sfa node status` recorded it (node_status_history). */
export interface NodeStatusRow {
  nodeId: number;
  at: Date;
  bootState: BootState;
  loadAverage: number;
  /** The status check recorded with it, if any. */
  checked: 'up' | 'down' | null;
  /** Slivers the node carried then. */
  slivers: number;
}

/** A node that has reported at least once (ReportNodeStatus): a managed node. */
export interface NodeManagedRow {
  nodeId: number;
  /** Its first report. */
  since: Date;
  lastReport: Date;
  /** How many sliver lines its last report had. */
  lastSlivers: number;
}

/** A sliver as its node last reported it. */
export interface SliverRealizedRow extends SliverReport {
  nodeId: number;
  reported: Date;
}

/**
 * A node's traffic: the sums of its live slivers' last reported counters; null where none of
 * them reported that counter.
 */
export interface NodeTrafficRow {
  bytesIn: number | null;
  bytesOut: number | null;
  packetsIn: number | null;
  packetsOut: number | null;
}

/** A call's first answer, kept for a repeat of the call (src/aggregate/call-ids.ts). */
export interface CallAnswerRow {
  key: string;
  caller: string;
  /** When it was kept (ms since the epoch). */
  atMs: number;
  code: number;
  message: string | null;
  body: Buffer;
}

// ---- Inputs ----

export type SiteInput = Omit<SiteRow, 'id'>;
export type NodeInput = Omit<NodeRow, 'id' | 'siteId' | 'siteLoginBase'> & { siteId: number };
export interface NewSliver {
  sliceId: number;
  nodeId: number;
  clientId: string;
  allocationState: StoredAllocationState;
  operationalState: OperationalState;
  exclusive: boolean;
  cpuShare: number;
  attributes: readonly Tag[];
  initscripts: readonly string[];
  created: Date;
  expires: Date;
}

// ---- Database rows ----

interface DbSite {
  id: number;
  login_base: string;
  name: string;
  hrn: string;
  country: string | null;
  city: string | null;
  latitude: number | null;
  longitude: number | null;
}
interface DbNode {
  id: number;
  hostname: string;
  site_id: number;
  login_base: string;
  hrn: string;
  urn: string;
  boot_state: BootState;
  exclusive: number;
  max_slivers: number;
  cpu_shares: number;
  load_average: number;
  checks_up: number;
  checks_down: number;
  hardware_type: string;
}
interface DbSlice {
  id: number;
  urn: string;
  login_name: string;
  created: string;
  expires: string;
  shutdown: string | null;
}
interface DbSliver {
  id: number;
  slice_id: number;
  slice_urn: string;
  login_name: string;
  node_id: number;
  hostname: string;
  client_id: string;
  allocation_state: StoredAllocationState;
  operational_state: OperationalState;
  desired_state: DesiredState;
  desired_at: string | null;
  exclusive: number;
  cpu_share: number;
  attributes: string;
  initscripts: string;
  created: string;
  expires: string;
}
interface DbLease {
  id: number;
  node_id: number;
  hostname: string;
  slice_id: number;
  slice_urn: string;
  sliver_id: number;
  kind: LeaseKind;
  start_time: string;
  end_time: string;
}
interface DbPort {
  id: number;
  sliver_id: number;
  node_id: number;
  slice_id: number;
  slice_urn: string;
  proto: PortProtocol;
  port_from: number;
  port_to: number;
}

const toSite = (r: DbSite): SiteRow => ({
  id: r.id,
  loginBase: r.login_base,
  name: r.name,
  hrn: r.hrn,
  country: r.country,
  city: r.city,
  latitude: r.latitude,
  longitude: r.longitude,
});
const toNode = (r: DbNode): NodeRow => ({
  id: r.id,
  hostname: r.hostname,
  siteId: r.site_id,
  siteLoginBase: r.login_base,
  hrn: r.hrn,
  urn: r.urn,
  bootState: r.boot_state,
  exclusive: r.exclusive === 1,
  maxSlivers: r.max_slivers,
  cpuShares: r.cpu_shares,
  loadAverage: r.load_average,
  checksUp: r.checks_up,
  checksDown: r.checks_down,
  hardwareType: r.hardware_type,
});
const toSlice = (r: DbSlice): SliceRow => ({
  id: r.id,
  urn: r.urn,
  loginName: r.login_name,
  created: parseUtc(r.created, 'slices.created'),
  expires: parseUtc(r.expires, 'slices.expires'),
  shutdown: r.shutdown === null ? null : parseUtc(r.shutdown, 'slices.shutdown'),
});
const toSliver = (r: DbSliver): SliverRow => ({
  id: r.id,
  sliceId: r.slice_id,
  sliceUrn: r.slice_urn,
  loginName: r.login_name,
  nodeId: r.node_id,
  hostname: r.hostname,
  clientId: r.client_id,
  allocationState: r.allocation_state,
  operationalState: r.operational_state,
  desiredState: r.desired_state,
  desiredAt: r.desired_at === null ? null : parseUtc(r.desired_at, 'slivers.desired_at'),
  exclusive: r.exclusive === 1,
  cpuShare: r.cpu_share,
  attributes: JSON.parse(r.attributes) as Tag[],
  initscripts: JSON.parse(r.initscripts) as string[],
  created: parseUtc(r.created, 'slivers.created'),
  expires: parseUtc(r.expires, 'slivers.expires'),
});
const toLease = (r: DbLease): LeaseRow => ({
  id: r.id,
  nodeId: r.node_id,
  hostname: r.hostname,
  sliceId: r.slice_id,
  sliceUrn: r.slice_urn,
  sliverId: r.sliver_id,
  kind: r.kind,
  start: parseUtc(r.start_time, 'leases.start_time'),
  end: parseUtc(r.end_time, 'leases.end_time'),
});
const toPort = (r: DbPort): PortRow => ({
  id: r.id,
  sliverId: r.sliver_id,
  nodeId: r.node_id,
  sliceId: r.slice_id,
  sliceUrn: r.slice_urn,
  proto: r.proto,
  from: r.port_from,
  to: r.port_to,
});

interface DbNodeManaged {
  node_id: number;
  since: string;
  last_report: string;
  last_slivers: number;
}
const toNodeManaged = (r: DbNodeManaged): NodeManagedRow => ({
  nodeId: r.node_id,
  since: parseUtc(r.since, 'node_managed.since'),
  lastReport: parseUtc(r.last_report, 'node_managed.last_report'),
  lastSlivers: r.last_slivers,
});
interface DbRealized {
  sliver_id: number;
  node_id: number;
  state: RealizedState;
  error: string | null;
  reported: string;
  cpu_seconds: number | null;
  memory_bytes: number | null;
  bytes_in: number | null;
  bytes_out: number | null;
  packets_in: number | null;
  packets_out: number | null;
}
const toRealized = (r: DbRealized): SliverRealizedRow => ({
  sliverId: r.sliver_id,
  nodeId: r.node_id,
  state: r.state,
  error: r.error,
  reported: parseUtc(r.reported, 'sliver_realized.reported'),
  cpuSeconds: r.cpu_seconds,
  memoryBytes: r.memory_bytes,
  bytesIn: r.bytes_in,
  bytesOut: r.bytes_out,
  packetsIn: r.packets_in,
  packetsOut: r.packets_out,
});

/** A new sliver's desired state, as the operational state implied it before migration 5. */
const desiredOf = (op: OperationalState): DesiredState =>
  op === 'geni_notready' || op === 'geni_stopping' || op === 'geni_pending_allocation'
    ? 'stopped'
    : 'started';

const NODE_SELECT = `SELECT n.id, n.hostname, n.site_id, s.login_base, n.hrn, n.urn, n.boot_state,
  n.exclusive, n.max_slivers, n.cpu_shares, n.load_average, n.checks_up, n.checks_down,
  n.hardware_type FROM nodes n JOIN sites s ON s.id = n.site_id`;
const SLICE_COLUMNS = 'id, urn, login_name, created, expires, shutdown';
const SLIVER_SELECT = `SELECT v.id, v.slice_id, sl.urn AS slice_urn, sl.login_name, v.node_id,
  n.hostname, v.client_id, v.allocation_state, v.operational_state, v.desired_state,
  v.desired_at, v.exclusive, v.cpu_share,
  v.attributes, v.initscripts, v.created, v.expires
  FROM slivers v JOIN slices sl ON sl.id = v.slice_id JOIN nodes n ON n.id = v.node_id`;
const LEASE_SELECT = `SELECT l.id, l.node_id, n.hostname, l.slice_id, sl.urn AS slice_urn,
  l.sliver_id, l.kind, l.start_time, l.end_time
  FROM leases l JOIN slices sl ON sl.id = l.slice_id JOIN nodes n ON n.id = l.node_id
  JOIN slivers v ON v.id = l.sliver_id`;
const PORT_SELECT = `SELECT p.id, p.sliver_id, p.node_id, p.slice_id, sl.urn AS slice_urn,
  p.proto, p.port_from, p.port_to FROM port_reservations p JOIN slices sl ON sl.id = p.slice_id
  JOIN slivers v ON v.id = p.sliver_id`;

/** What a scoped write transaction locks (`lockScope`). */
const LOCK_SLICE = 1;
const LOCK_NODE = 2;
const LOCK_CALL_ANSWERS = 3;

/** The aggregate's tables behind a typed API, on either backend. Every method is synchronous. */
export class AggregateStore {
  private readonly stmt;

  /**
   * Wrap an open database whose schema includes AGGREGATE_MIGRATIONS (use `open` unless the
   * connection is shared).
   */
  constructor(readonly db: SqlDatabase) {
    const p = <P extends unknown[], R = unknown>(sql: string): Statement<P, R> =>
      db.prepare<P, R>(sql);
    this.stmt = {
      inventoryVersion: p<[], { version: number }>('SELECT version FROM inventory_version'),
      resourcesStamp: p<[], { inventory: number; slivers: number }>(
        `SELECT (SELECT version FROM inventory_version) AS inventory,
           (SELECT coalesce(sum(generation), 0) FROM node_generations) AS slivers`,
      ),
      siteByLoginBase: p<[string], DbSite>('SELECT * FROM sites WHERE login_base = ?'),
      siteById: p<[number], DbSite>('SELECT * FROM sites WHERE id = ?'),
      sites: p<[], DbSite>('SELECT * FROM sites ORDER BY login_base'),
      upsertSite: p<
        [string, string, string, string | null, string | null, number | null, number | null]
      >(
        `INSERT INTO sites (login_base, name, hrn, country, city, latitude, longitude)
           VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (login_base) DO UPDATE SET name = excluded.name, hrn = excluded.hrn,
           country = excluded.country, city = excluded.city, latitude = excluded.latitude,
           longitude = excluded.longitude`,
      ),
      deleteSite: p<[number]>('DELETE FROM sites WHERE id = ?'),

      nodeByHostname: p<[string], DbNode>(`${NODE_SELECT} WHERE n.hostname = ? COLLATE NOCASE`),
      nodeByUrn: p<[string], DbNode>(`${NODE_SELECT} WHERE n.urn = ? COLLATE NOCASE`),
      nodeById: p<[number], DbNode>(`${NODE_SELECT} WHERE n.id = ?`),
      nodes: p<[], DbNode>(`${NODE_SELECT} ORDER BY n.hostname`),
      upsertNode: p<unknown[]>(
        `INSERT INTO nodes (hostname, site_id, hrn, urn, boot_state, exclusive, max_slivers,
           cpu_shares, load_average, checks_up, checks_down, hardware_type)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (hostname) DO UPDATE SET site_id = excluded.site_id, hrn = excluded.hrn,
           urn = excluded.urn, boot_state = excluded.boot_state, exclusive = excluded.exclusive,
           max_slivers = excluded.max_slivers, cpu_shares = excluded.cpu_shares,
           load_average = excluded.load_average, checks_up = excluded.checks_up,
           checks_down = excluded.checks_down, hardware_type = excluded.hardware_type`,
      ),
      updateNodeStatus: p<[string, number, number, number, number]>(
        `UPDATE nodes SET boot_state = ?, load_average = ?, checks_up = ?, checks_down = ?
           WHERE id = ?`,
      ),
      deleteNode: p<[number]>('DELETE FROM nodes WHERE id = ?'),

      nodeTags: p<[number], Tag>(
        'SELECT name, value FROM node_tags WHERE node_id = ? ORDER BY name',
      ),
      allNodeTags: p<[], Tag & { node_id: number }>(
        'SELECT node_id, name, value FROM node_tags ORDER BY node_id, name',
      ),
      setNodeTag: p<[number, string, string]>(
        `INSERT INTO node_tags (node_id, name, value) VALUES (?, ?, ?)
         ON CONFLICT (node_id, name) DO UPDATE SET value = excluded.value`,
      ),
      deleteNodeTag: p<[number, string]>('DELETE FROM node_tags WHERE node_id = ? AND name = ?'),
      deleteNodeTags: p<[number]>('DELETE FROM node_tags WHERE node_id = ?'),

      nodegroupByName: p<[string], NodegroupRow>(
        'SELECT id, name FROM nodegroups WHERE name = ? COLLATE NOCASE',
      ),
      nodegroups: p<[], NodegroupRow>('SELECT id, name FROM nodegroups ORDER BY name'),
      insertNodegroup: p<[string]>(
        'INSERT INTO nodegroups (name) VALUES (?) ON CONFLICT (name) DO NOTHING',
      ),
      deleteNodegroup: p<[number]>('DELETE FROM nodegroups WHERE id = ?'),
      nodegroupTags: p<[number], Tag>(
        'SELECT name, value FROM nodegroup_tags WHERE nodegroup_id = ? ORDER BY name',
      ),
      setNodegroupTag: p<[number, string, string]>(
        `INSERT INTO nodegroup_tags (nodegroup_id, name, value) VALUES (?, ?, ?)
         ON CONFLICT (nodegroup_id, name) DO UPDATE SET value = excluded.value`,
      ),
      deleteNodegroupTag: p<[number, string]>(
        'DELETE FROM nodegroup_tags WHERE nodegroup_id = ? AND name = ?',
      ),
      deleteNodegroupTags: p<[number]>('DELETE FROM nodegroup_tags WHERE nodegroup_id = ?'),
      nodegroupMembers: p<[number], { hostname: string }>(
        `SELECT n.hostname FROM nodegroup_members m JOIN nodes n ON n.id = m.node_id
           WHERE m.nodegroup_id = ? ORDER BY n.hostname`,
      ),
      addMember: p<[number, number]>(
        `INSERT INTO nodegroup_members (nodegroup_id, node_id) VALUES (?, ?)
         ON CONFLICT DO NOTHING`,
      ),
      removeMember: p<[number, number]>(
        'DELETE FROM nodegroup_members WHERE nodegroup_id = ? AND node_id = ?',
      ),
      deleteMembers: p<[number]>('DELETE FROM nodegroup_members WHERE nodegroup_id = ?'),
      groupsOfNode: p<[number], NodegroupRow>(
        `SELECT g.id, g.name FROM nodegroup_members m JOIN nodegroups g ON g.id = m.nodegroup_id
           WHERE m.node_id = ? ORDER BY g.name`,
      ),
      allMemberships: p<[], { node_id: number; name: string }>(
        `SELECT m.node_id, g.name FROM nodegroup_members m
           JOIN nodegroups g ON g.id = m.nodegroup_id ORDER BY m.node_id, g.name`,
      ),
      groupTagsOfNode: p<[number], Tag & { nodegroup: string }>(
        `SELECT g.name AS nodegroup, t.name, t.value FROM nodegroup_members m
           JOIN nodegroups g ON g.id = m.nodegroup_id
           JOIN nodegroup_tags t ON t.nodegroup_id = g.id
           WHERE m.node_id = ? ORDER BY g.name, t.name`,
      ),

      sliceByUrn: p<[string], DbSlice>(
        `SELECT ${SLICE_COLUMNS} FROM slices WHERE urn = ? COLLATE NOCASE`,
      ),
      sliceByLoginName: p<[string], DbSlice>(
        `SELECT ${SLICE_COLUMNS} FROM slices WHERE login_name = ?`,
      ),
      sliceById: p<[number], DbSlice>(`SELECT ${SLICE_COLUMNS} FROM slices WHERE id = ?`),
      slices: p<[], DbSlice>(`SELECT ${SLICE_COLUMNS} FROM slices ORDER BY id`),
      insertSlice: p<[string, string, string, string], { id: number }>(
        'INSERT INTO slices (urn, login_name, created, expires) VALUES (?, ?, ?, ?) RETURNING id',
      ),
      setSliceExpires: p<[string, number]>('UPDATE slices SET expires = ? WHERE id = ?'),
      setSliceShutdown: p<[string | null, number]>('UPDATE slices SET shutdown = ? WHERE id = ?'),
      insertSliceAudit: p<[string, string, string, string, string | null, string | null]>(
        'INSERT INTO slice_audit (at, slice_urn, action, actor, note, client) VALUES (?, ?, ?, ?, ?, ?)',
      ),
      trimSliceAudit: p<[string, string, number]>(
        `DELETE FROM slice_audit WHERE lower(slice_urn) = lower(?) AND id <= (
           SELECT id FROM slice_audit WHERE lower(slice_urn) = lower(?)
           ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      ),
      sliceAudit: p<
        [string],
        {
          at: string;
          slice_urn: string;
          action: string;
          actor: string;
          note: string | null;
          client: string | null;
        }
      >(
        `SELECT at, slice_urn, action, actor, note, client FROM slice_audit
           WHERE lower(slice_urn) = lower(?) ORDER BY id`,
      ),
      deleteSlice: p<[number]>('DELETE FROM slices WHERE id = ?'),
      lapsedSlices: p<[string], DbSlice>(
        `SELECT ${SLICE_COLUMNS} FROM slices s WHERE s.expires <= ? AND s.shutdown IS NULL
           AND NOT EXISTS (SELECT 1 FROM slivers v WHERE v.slice_id = s.id) ORDER BY s.id`,
      ),
      lapsedSliceByLoginName: p<[string, string], DbSlice>(
        `SELECT ${SLICE_COLUMNS} FROM slices s WHERE s.expires <= ? AND s.shutdown IS NULL
           AND s.login_name = ? AND NOT EXISTS (SELECT 1 FROM slivers v WHERE v.slice_id = s.id) ORDER BY s.id`,
      ),
      sliceUsers: p<[number], { urn: string; email: string | null; keys: string }>(
        'SELECT urn, email, keys FROM slice_users WHERE slice_id = ? ORDER BY position',
      ),
      deleteSliceUsers: p<[number]>('DELETE FROM slice_users WHERE slice_id = ?'),
      insertSliceUser: p<[number, number, string, string | null, string]>(
        'INSERT INTO slice_users (slice_id, position, urn, email, keys) VALUES (?, ?, ?, ?, ?)',
      ),

      insertSliver: p<unknown[], { id: number }>(
        `INSERT INTO slivers (slice_id, node_id, client_id, allocation_state, operational_state,
           desired_state, exclusive, cpu_share, attributes, initscripts, created, expires)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      sliverById: p<[number], DbSliver>(`${SLIVER_SELECT} WHERE v.id = ?`),
      liveSliversOfSlice: p<[number, string], DbSliver>(
        `${SLIVER_SELECT} WHERE v.slice_id = ? AND v.expires > ? ORDER BY v.id`,
      ),
      liveSliversOnNode: p<[number, string], DbSliver>(
        `${SLIVER_SELECT} WHERE v.node_id = ? AND v.expires > ? ORDER BY v.id`,
      ),
      sliverOfSliceOnNode: p<[number, number], DbSliver>(
        `${SLIVER_SELECT} WHERE v.slice_id = ? AND v.node_id = ?`,
      ),
      sliverOfSliceByClientId: p<[number, string], DbSliver>(
        `${SLIVER_SELECT} WHERE v.slice_id = ? AND v.client_id = ?`,
      ),
      countSliversOnNode: p<[number], { n: number }>(
        'SELECT count(*) AS n FROM slivers WHERE node_id = ?',
      ),
      lapsedSlivers: p<[string], DbSliver>(`${SLIVER_SELECT} WHERE v.expires <= ? ORDER BY v.id`),
      lapsedSliversOnNode: p<[string, number], DbSliver>(
        `${SLIVER_SELECT} WHERE v.expires <= ? AND v.node_id = ? ORDER BY v.id`,
      ),
      nodeIdsOfSlice: p<[number], { node_id: number }>(
        'SELECT DISTINCT node_id FROM slivers WHERE slice_id = ? ORDER BY node_id',
      ),
      sliverLoad: p<[string], { node_id: number; slivers: number; cpu: number }>(
        `SELECT node_id, count(*) AS slivers, sum(cpu_share) AS cpu FROM slivers
           WHERE expires > ? GROUP BY node_id`,
      ),
      updateSliver: p<[string, string, string, string | null, string | null, number]>(
        `UPDATE slivers SET allocation_state = ?, operational_state = ?, expires = ?,
           desired_state = coalesce(?, desired_state), desired_at = coalesce(?, desired_at)
           WHERE id = ?`,
      ),
      deleteSliver: p<[number]>('DELETE FROM slivers WHERE id = ?'),

      insertLease: p<[number, number, number, LeaseKind, string, string], { id: number }>(
        `INSERT INTO leases (node_id, slice_id, sliver_id, kind, start_time, end_time)
           VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
      ),
      // A lease lives while it has not ended and its sliver has not lapsed.
      liveLeasesOnNode: p<[number, string, string], DbLease>(
        `${LEASE_SELECT} WHERE l.node_id = ? AND l.end_time > ? AND v.expires > ?
           ORDER BY l.start_time, l.id`,
      ),
      liveLeasesOfSliver: p<[number, string, string], DbLease>(
        `${LEASE_SELECT} WHERE l.sliver_id = ? AND l.end_time > ? AND v.expires > ?
           ORDER BY l.start_time, l.id`,
      ),
      liveLeases: p<[string, string], DbLease>(
        `${LEASE_SELECT} WHERE l.end_time > ? AND v.expires > ?
           ORDER BY n.hostname, l.start_time, l.id`,
      ),
      setLeaseTimes: p<[string, string, number]>(
        'UPDATE leases SET start_time = ?, end_time = ? WHERE id = ?',
      ),
      deleteLease: p<[number]>('DELETE FROM leases WHERE id = ?'),
      deleteEndedLeases: p<[string]>('DELETE FROM leases WHERE end_time <= ?'),
      deleteEndedLeasesOnNode: p<[string, number]>(
        'DELETE FROM leases WHERE end_time <= ? AND node_id = ?',
      ),

      insertPort: p<[number, number, number, PortProtocol, number, number]>(
        `INSERT INTO port_reservations (sliver_id, node_id, slice_id, proto, port_from, port_to)
           VALUES (?, ?, ?, ?, ?, ?)`,
      ),
      portsOnNode: p<[number, string], DbPort>(
        `${PORT_SELECT} WHERE p.node_id = ? AND v.expires > ? ORDER BY p.id`,
      ),
      callAnswer: p<
        [string],
        {
          key: string;
          caller: string;
          at_ms: number;
          code: number;
          message: string | null;
          body: Uint8Array;
        }
      >('SELECT key, caller, at_ms, code, message, body FROM call_answers WHERE key = ?'),
      callAnswerUsage: p<[], { entries: number; bytes: number | null }>(
        'SELECT count(*) AS entries, sum(bytes) AS bytes FROM call_answers',
      ),
      callAnswerUsageOf: p<[string], { entries: number; bytes: number | null }>(
        'SELECT count(*) AS entries, sum(bytes) AS bytes FROM call_answers WHERE caller = ?',
      ),
      oldestCallAnswers: p<[number], { key: string; bytes: number }>(
        'SELECT key, bytes FROM call_answers ORDER BY id LIMIT ?',
      ),
      oldestCallAnswersOf: p<[string, number], { key: string; bytes: number }>(
        'SELECT key, bytes FROM call_answers WHERE caller = ? ORDER BY id LIMIT ?',
      ),
      insertCallAnswer: p<[string, string, number, number, string | null, Buffer, number]>(
        `INSERT INTO call_answers (key, caller, at_ms, code, message, body, bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
      deleteCallAnswer: p<[string]>('DELETE FROM call_answers WHERE key = ?'),
      deleteCallAnswersBefore: p<[number]>('DELETE FROM call_answers WHERE at_ms < ?'),
      portsOfSliver: p<[number], DbPort>(
        `${PORT_SELECT} WHERE p.sliver_id = ? ORDER BY p.proto, p.port_from`,
      ),
    };
  }

  /**
   * Open (creating if needed) the aggregate's store and bring its schema up to date: the SQLite
   * file at `location`, or the PostgreSQL database at a `postgres://` URL (schema `aggregate`).
   */
  static open(location: string): AggregateStore {
    return new AggregateStore(openMigrated(location, AGGREGATE_MIGRATIONS, 'aggregate'));
  }

  close(): void {
    this.db.close();
  }

  /**
   * Run `fn` as one write transaction (`BEGIN IMMEDIATE`): all of its writes or none, and no
   * other connection, in this process or another, writes in between. Admission reads and
   * writes inside one such transaction, so two Allocates never both see a resource free.
   */
  transaction<T>(fn: () => T, mode?: WriteMode): T {
    return this.db.write(fn, mode);
  }

  /**
   * In a scoped transaction, before reading: hold the slices (by login name, which every URN
   * spelling of a slice shares, and no two slices may have), the nodes (by id) and the call_id
   * answers named, until the transaction ends.
   */
  lockScope(scope: {
    loginNames?: readonly string[];
    nodeIds?: readonly number[];
    callAnswers?: boolean;
  }): void {
    this.db.lock([
      ...(scope.loginNames ?? []).map((n): LockKey => [LOCK_SLICE, lockId(n)]),
      ...(scope.nodeIds ?? []).map((id): LockKey => [LOCK_NODE, id]),
      ...(scope.callAnswers ? [[LOCK_CALL_ANSWERS, 0] as const] : []),
    ]);
  }

  /** The nodes the slice has slivers on, live or lapsed. */
  nodeIdsOfSlice(sliceId: number): number[] {
    return this.stmt.nodeIdsOfSlice.all(sliceId).map((r) => r.node_id);
  }

  /** Run `fn` on one consistent snapshot of the tables (reads only). */
  snapshot<T>(fn: () => T): T {
    return this.db.read(fn);
  }

  // ---- Sites ----

  siteByLoginBase(loginBase: string): SiteRow | undefined {
    const r = this.stmt.siteByLoginBase.get(loginBase);
    return r && toSite(r);
  }

  sites(): SiteRow[] {
    return this.stmt.sites.all().map(toSite);
  }

  /** Insert or update (by login base) a site. */
  upsertSite(site: SiteInput): SiteRow {
    this.stmt.upsertSite.run(
      site.loginBase,
      site.name,
      site.hrn,
      site.country,
      site.city,
      site.latitude,
      site.longitude,
    );
    const row = this.siteByLoginBase(site.loginBase);
    if (!row) throw new Error(`site ${site.loginBase} vanished after its upsert`);
    return row;
  }

  /** Delete a site; fails (foreign key) while it has nodes. */
  deleteSite(id: number): boolean {
    return this.stmt.deleteSite.run(id).changes > 0;
  }

  // ---- Nodes ----

  /** By hostname, any case (DNS names are case-insensitive). */
  nodeByHostname(hostname: string): NodeRow | undefined {
    const r = this.stmt.nodeByHostname.get(hostname);
    return r && toNode(r);
  }

  /** By component URN, compared case-insensitively. */
  nodeByUrn(urn: string): NodeRow | undefined {
    const r = this.stmt.nodeByUrn.get(urn);
    return r && toNode(r);
  }

  nodeById(id: number): NodeRow | undefined {
    const r = this.stmt.nodeById.get(id);
    return r && toNode(r);
  }

  /** Changes whenever sites, nodes, node tags or nodegroups change (schema triggers). */
  inventoryVersion(): number {
    return this.stmt.inventoryVersion.get()?.version ?? 0;
  }

  /**
   * Changes whenever the inventory or any node's slivers, leases or ports change, whoever wrote
   * (schema triggers): the inventory version and the sum of the node generations, which only
   * ever grow.
   */
  resourcesStamp(): string {
    const r = this.stmt.resourcesStamp.get();
    return `${r?.inventory ?? 0}.${r?.slivers ?? 0}`;
  }

  /** Every node, by hostname. */
  nodes(): NodeRow[] {
    return this.stmt.nodes.all().map(toNode);
  }

  /** Insert or update (by hostname) a node. */
  upsertNode(node: NodeInput): NodeRow {
    this.stmt.upsertNode.run(
      node.hostname,
      node.siteId,
      node.hrn,
      node.urn,
      node.bootState,
      node.exclusive ? 1 : 0,
      node.maxSlivers,
      node.cpuShares,
      node.loadAverage,
      node.checksUp,
      node.checksDown,
      node.hardwareType,
    );
    const row = this.nodeByHostname(node.hostname);
    if (!row) throw new Error(`node ${node.hostname} vanished after its upsert`);
    return row;
  }

  updateNodeStatus(
    id: number,
    status: Pick<NodeRow, 'bootState' | 'loadAverage' | 'checksUp' | 'checksDown'>,
  ): void {
    this.stmt.updateNodeStatus.run(
      status.bootState,
      status.loadAverage,
      status.checksUp,
      status.checksDown,
      id,
    );
  }

  /** Delete a node with its tags and memberships; fails (foreign key) while it has slivers. */
  deleteNode(id: number): boolean {
    return this.stmt.deleteNode.run(id).changes > 0;
  }

  nodeTags(nodeId: number): Tag[] {
    return this.stmt.nodeTags.all(nodeId);
  }

  /** Every node's tags, by node id. */
  allNodeTags(): Map<number, Tag[]> {
    const out = new Map<number, Tag[]>();
    for (const { node_id, name, value } of this.stmt.allNodeTags.all()) {
      const tags = out.get(node_id) ?? [];
      tags.push({ name, value });
      out.set(node_id, tags);
    }
    return out;
  }

  setNodeTag(nodeId: number, name: string, value: string): void {
    this.stmt.setNodeTag.run(nodeId, name, value);
  }

  deleteNodeTag(nodeId: number, name: string): boolean {
    return this.stmt.deleteNodeTag.run(nodeId, name).changes > 0;
  }

  /** Replace all of the node's tags. */
  replaceNodeTags(nodeId: number, tags: readonly Tag[]): void {
    this.stmt.deleteNodeTags.run(nodeId);
    for (const t of tags) this.stmt.setNodeTag.run(nodeId, t.name, t.value);
  }

  // ---- Nodegroups ----

  nodegroupByName(name: string): NodegroupRow | undefined {
    return this.stmt.nodegroupByName.get(name);
  }

  nodegroups(): NodegroupRow[] {
    return this.stmt.nodegroups.all();
  }

  /** Create the group if it does not exist; either way return it. */
  ensureNodegroup(name: string): NodegroupRow {
    this.stmt.insertNodegroup.run(name);
    const row = this.nodegroupByName(name);
    if (!row) throw new Error(`nodegroup ${name} vanished after its insert`);
    return row;
  }

  deleteNodegroup(id: number): boolean {
    return this.stmt.deleteNodegroup.run(id).changes > 0;
  }

  nodegroupTags(groupId: number): Tag[] {
    return this.stmt.nodegroupTags.all(groupId);
  }

  setNodegroupTag(groupId: number, name: string, value: string): void {
    this.stmt.setNodegroupTag.run(groupId, name, value);
  }

  deleteNodegroupTag(groupId: number, name: string): boolean {
    return this.stmt.deleteNodegroupTag.run(groupId, name).changes > 0;
  }

  replaceNodegroupTags(groupId: number, tags: readonly Tag[]): void {
    this.stmt.deleteNodegroupTags.run(groupId);
    for (const t of tags) this.stmt.setNodegroupTag.run(groupId, t.name, t.value);
  }

  /** Hostnames of the group's members. */
  nodegroupMembers(groupId: number): string[] {
    return this.stmt.nodegroupMembers.all(groupId).map((m) => m.hostname);
  }

  addNodegroupMember(groupId: number, nodeId: number): void {
    this.stmt.addMember.run(groupId, nodeId);
  }

  removeNodegroupMember(groupId: number, nodeId: number): boolean {
    return this.stmt.removeMember.run(groupId, nodeId).changes > 0;
  }

  replaceNodegroupMembers(groupId: number, nodeIds: readonly number[]): void {
    this.stmt.deleteMembers.run(groupId);
    for (const id of nodeIds) this.stmt.addMember.run(groupId, id);
  }

  /** The groups containing the node, by name. */
  nodegroupsOfNode(nodeId: number): NodegroupRow[] {
    return this.stmt.groupsOfNode.all(nodeId);
  }

  /** Every node's group names, by node id. */
  allMemberships(): Map<number, string[]> {
    const out = new Map<number, string[]>();
    for (const { node_id, name } of this.stmt.allMemberships.all()) {
      out.set(node_id, [...(out.get(node_id) ?? []), name]);
    }
    return out;
  }

  /** The tags of every group containing the node, in group name order, then tag name. */
  nodegroupTagsOfNode(nodeId: number): (Tag & { nodegroup: string })[] {
    return this.stmt.groupTagsOfNode.all(nodeId);
  }

  // ---- Slices ----

  /** By URN, compared case-insensitively. */
  sliceByUrn(urn: string): SliceRow | undefined {
    const r = this.stmt.sliceByUrn.get(urn);
    return r && toSlice(r);
  }

  sliceByLoginName(loginName: string): SliceRow | undefined {
    const r = this.stmt.sliceByLoginName.get(loginName);
    return r && toSlice(r);
  }

  sliceById(id: number): SliceRow | undefined {
    const r = this.stmt.sliceById.get(id);
    return r && toSlice(r);
  }

  slices(): SliceRow[] {
    return this.stmt.slices.all().map(toSlice);
  }

  insertSlice(slice: { urn: string; loginName: string; created: Date; expires: Date }): SliceRow {
    const inserted = this.stmt.insertSlice.get(
      slice.urn,
      slice.loginName,
      formatUtc(slice.created),
      formatUtc(slice.expires),
    );
    const row = inserted && this.sliceById(inserted.id);
    if (!row) throw new Error(`slice ${slice.urn} vanished after its insert`);
    return row;
  }

  setSliceExpires(id: number, expires: Date): void {
    this.stmt.setSliceExpires.run(formatUtc(expires), id);
  }

  setSliceShutdown(id: number, at: Date | null): void {
    this.stmt.setSliceShutdown.run(at === null ? null : formatUtc(at), id);
  }

  /** Add a line to the slice's history, keeping the newest SLICE_HISTORY_KEEP (one write). */
  recordSliceAudit(row: SliceAuditRow): void {
    // Scoped, holding nothing: history rows decide nothing, and two calls of one slice adding
    // theirs at once at worst keep one row more for a moment.
    this.transaction(() => this.appendSliceAudit(row), 'scoped');
  }

  private appendSliceAudit(row: SliceAuditRow): void {
    this.stmt.insertSliceAudit.run(
      formatUtc(row.at),
      row.sliceUrn,
      row.action,
      row.actor,
      row.note,
      row.client ?? null,
    );
    this.stmt.trimSliceAudit.run(row.sliceUrn, row.sliceUrn, SLICE_HISTORY_KEEP);
  }

  /** The audit trail of slice `urn`, oldest first. */
  sliceAudit(urn: string): SliceAuditRow[] {
    return this.stmt.sliceAudit.all(urn).map((r) => ({
      at: parseUtc(r.at, 'slice_audit.at'),
      sliceUrn: r.slice_urn,
      action: r.action,
      actor: r.actor,
      note: r.note,
      client: r.client,
    }));
  }

  /** Delete a slice with its users; fails (foreign key) while it has slivers. */
  deleteSlice(id: number): boolean {
    return this.stmt.deleteSlice.run(id).changes > 0;
  }

  /**
   * Slices with no sliver left, expired by `now`, and not shut down (kept for the operator): all,
   * or the one with `loginName`.
   */
  lapsedSlices(now: Date, loginName?: string): SliceRow[] {
    return (
      loginName === undefined
        ? this.stmt.lapsedSlices.all(formatUtc(now))
        : this.stmt.lapsedSliceByLoginName.all(formatUtc(now), loginName)
    ).map(toSlice);
  }

  sliceUsers(sliceId: number): SliceUser[] {
    return this.stmt.sliceUsers.all(sliceId).map((u) => ({
      urn: u.urn,
      keys: JSON.parse(u.keys) as string[],
      ...(u.email === null ? {} : { email: u.email }),
    }));
  }

  /** Replace the slice's users by `users`, in this order. */
  setSliceUsers(sliceId: number, users: readonly SliceUser[]): void {
    this.stmt.deleteSliceUsers.run(sliceId);
    users.forEach((u, i) =>
      this.stmt.insertSliceUser.run(sliceId, i, u.urn, u.email ?? null, JSON.stringify(u.keys)),
    );
  }

  // ---- Slivers ----

  /** Insert a sliver; its id is never one given before. */
  insertSliver(s: NewSliver): SliverRow {
    const inserted = this.stmt.insertSliver.get(
      s.sliceId,
      s.nodeId,
      s.clientId,
      s.allocationState,
      s.operationalState,
      desiredOf(s.operationalState),
      s.exclusive ? 1 : 0,
      s.cpuShare,
      JSON.stringify(s.attributes),
      JSON.stringify(s.initscripts),
      formatUtc(s.created),
      formatUtc(s.expires),
    );
    const row = inserted && this.sliverById(inserted.id);
    if (!row) throw new Error(`sliver ${String(inserted?.id)} vanished after its insert`);
    return row;
  }

  /** The sliver with this id, live or lapsed (callers filter on `expires`). */
  sliverById(id: number): SliverRow | undefined {
    const r = this.stmt.sliverById.get(id);
    return r && toSliver(r);
  }

  /** The slice's slivers that expire after `now`, oldest first. */
  liveSliversOfSlice(sliceId: number, now: Date): SliverRow[] {
    return this.stmt.liveSliversOfSlice.all(sliceId, formatUtc(now)).map(toSliver);
  }

  /** The node's slivers that expire after `now`, oldest first. */
  liveSliversOnNode(nodeId: number, now: Date): SliverRow[] {
    return this.stmt.liveSliversOnNode.all(nodeId, formatUtc(now)).map(toSliver);
  }

  /** The slice's sliver on the node, live or lapsed. */
  sliverOfSliceOnNode(sliceId: number, nodeId: number): SliverRow | undefined {
    const r = this.stmt.sliverOfSliceOnNode.get(sliceId, nodeId);
    return r && toSliver(r);
  }

  sliverOfSliceByClientId(sliceId: number, clientId: string): SliverRow | undefined {
    const r = this.stmt.sliverOfSliceByClientId.get(sliceId, clientId);
    return r && toSliver(r);
  }

  /** How many slivers, live or lapsed, the node carries. */
  countSliversOnNode(nodeId: number): number {
    return this.stmt.countSliversOnNode.get(nodeId)?.n ?? 0;
  }

  /** Slivers whose expiry is `now` or earlier (on the node `nodeId` only, if given). */
  lapsedSlivers(now: Date, nodeId?: number): SliverRow[] {
    return (
      nodeId === undefined
        ? this.stmt.lapsedSlivers.all(formatUtc(now))
        : this.stmt.lapsedSliversOnNode.all(formatUtc(now), nodeId)
    ).map(toSliver);
  }

  /** Live slivers and CPU shares in use, by node id (nodes without any are absent). */
  sliverLoad(now: Date): Map<number, { slivers: number; cpu: number }> {
    return new Map(
      this.stmt.sliverLoad
        .all(formatUtc(now))
        .map((r) => [r.node_id, { slivers: r.slivers, cpu: r.cpu }]),
    );
  }

  /** Change a sliver's states and expiry; its desired state only when `desired` is given. */
  updateSliver(
    id: number,
    state: {
      allocationState: StoredAllocationState;
      operationalState: OperationalState;
      expires: Date;
      /** What the researcher asked, and when (Provision, PerformOperationalAction, Shutdown). */
      desired?: { state: DesiredState; at: Date };
    },
  ): void {
    this.stmt.updateSliver.run(
      state.allocationState,
      state.operationalState,
      formatUtc(state.expires),
      state.desired?.state ?? null,
      state.desired ? formatUtc(state.desired.at) : null,
      id,
    );
  }

  /** Delete a sliver with its leases and port reservations (cascade). */
  deleteSliver(id: number): boolean {
    return this.stmt.deleteSliver.run(id).changes > 0;
  }

  // ---- Leases ----

  insertLease(lease: {
    nodeId: number;
    sliceId: number;
    sliverId: number;
    kind: LeaseKind;
    start: Date;
    end: Date;
  }): number {
    const inserted = this.stmt.insertLease.get(
      lease.nodeId,
      lease.sliceId,
      lease.sliverId,
      lease.kind,
      formatUtc(lease.start),
      formatUtc(lease.end),
    );
    if (!inserted) throw new Error('a lease vanished in its insert');
    return inserted.id;
  }

  /** The node's live leases (not ended, sliver not lapsed) of every slice, by start. */
  liveLeasesOnNode(nodeId: number, now: Date): LeaseRow[] {
    const at = formatUtc(now);
    return this.stmt.liveLeasesOnNode.all(nodeId, at, at).map(toLease);
  }

  liveLeasesOfSliver(sliverId: number, now: Date): LeaseRow[] {
    const at = formatUtc(now);
    return this.stmt.liveLeasesOfSliver.all(sliverId, at, at).map(toLease);
  }

  /** Every lease that ends after `now`, by hostname then start. */
  liveLeases(now: Date): LeaseRow[] {
    const at = formatUtc(now);
    return this.stmt.liveLeases.all(at, at).map(toLease);
  }

  setLeaseTimes(id: number, start: Date, end: Date): void {
    this.stmt.setLeaseTimes.run(formatUtc(start), formatUtc(end), id);
  }

  deleteLease(id: number): boolean {
    return this.stmt.deleteLease.run(id).changes > 0;
  }

  /** Delete the leases that ended by `now` (on the node `nodeId` only, if given); how many. */
  deleteEndedLeases(now: Date, nodeId?: number): number {
    return (
      nodeId === undefined
        ? this.stmt.deleteEndedLeases.run(formatUtc(now))
        : this.stmt.deleteEndedLeasesOnNode.run(formatUtc(now), nodeId)
    ).changes;
  }

  // ---- Ports ----

  insertPort(port: Omit<PortRow, 'id' | 'sliceUrn'>): void {
    this.stmt.insertPort.run(
      port.sliverId,
      port.nodeId,
      port.sliceId,
      port.proto,
      port.from,
      port.to,
    );
  }

  /**
   * The node's port reservations of live slivers. (Those of lapsed slivers stay until reaped,
   * and the overlap trigger still counts them: reap before reserving.)
   */
  portsOnNode(nodeId: number, now: Date): PortRow[] {
    return this.stmt.portsOnNode.all(nodeId, formatUtc(now)).map(toPort);
  }

  portsOfSliver(sliverId: number): PortRow[] {
    return this.stmt.portsOfSliver.all(sliverId).map(toPort);
  }

  // ---- call_id answers ----

  callAnswer(key: string): CallAnswerRow | undefined {
    const r = this.stmt.callAnswer.get(key);
    return (
      r && {
        key: r.key,
        caller: r.caller,
        atMs: r.at_ms,
        code: r.code,
        message: r.message,
        body: Buffer.from(r.body),
      }
    );
  }

  /** Entries and bytes kept, of `caller` or of everyone. */
  callAnswerUsage(caller?: string): { entries: number; bytes: number } {
    const r =
      caller === undefined
        ? this.stmt.callAnswerUsage.get()
        : this.stmt.callAnswerUsageOf.get(caller);
    return { entries: r?.entries ?? 0, bytes: r?.bytes ?? 0 };
  }

  /** The oldest kept answers (of `caller`, or of everyone), oldest first. */
  oldestCallAnswers(limit: number, caller?: string): { key: string; bytes: number }[] {
    return caller === undefined
      ? this.stmt.oldestCallAnswers.all(limit)
      : this.stmt.oldestCallAnswersOf.all(caller, limit);
  }

  insertCallAnswer(row: CallAnswerRow): void {
    this.stmt.insertCallAnswer.run(
      row.key,
      row.caller,
      row.atMs,
      row.code,
      row.message,
      row.body,
      row.body.length,
    );
  }

  deleteCallAnswer(key: string): void {
    this.stmt.deleteCallAnswer.run(key);
  }

  /** Remove the answers kept before `atMs`. */
  deleteCallAnswersBefore(atMs: number): void {
    this.stmt.deleteCallAnswersBefore.run(atMs);
  }

  // ---- Node API ----

  private readonly nodeApiStatements = new Map<string, Statement>();

  /** A statement of the node API's, prepared once. */
  private nodeApiStatement(sql: string): Statement {
    let st = this.nodeApiStatements.get(sql);
    if (!st) {
      st = this.db.prepare(sql);
      this.nodeApiStatements.set(sql, st);
    }
    return st;
  }

  /**
   * The node's generation: changes whenever anything the node API shows of it changes (schema
   * triggers, whichever process writes). 0 for a node that is not in the inventory.
   */
  nodeGeneration(nodeId: number): number {
    const r = this.nodeApiStatement(
      'SELECT generation FROM node_generations WHERE node_id = ?',
    ).get(nodeId) as { generation: number } | undefined;
    return r?.generation ?? 0;
  }
  /** The generations of these nodes, by id, in a few reads (nodes not in the inventory are absent). */
  nodeGenerations(nodeIds: readonly number[]): Map<number, number> {
    const out = new Map<number, number>();
    // In chunks: one statement per chunk, whatever the number of nodes.
    for (let i = 0; i < nodeIds.length; i += 500) {
      const chunk = nodeIds.slice(i, i + 500);
      const rows = this.nodeApiStatement(
        `SELECT node_id, generation FROM node_generations WHERE node_id IN (${chunk.map(() => '?').join(', ')})`,
      ).all(...chunk) as { node_id: number; generation: number }[];
      for (const r of rows) out.set(r.node_id, r.generation);
    }
    return out;
  }

  /**
   * Store a node's status report: the report itself (history: the last `keepDays` days and at
   * most `keepCount` reports per node), the node's load average, and each sliver's realized
   * state. Sliver lines must name slivers of this node (the caller checks).
   */
  recordNodeReport(
    report: Omit<NodeReportRow, 'slivers'> & { slivers: readonly unknown[] },
    sliverReports: readonly SliverReport[],
    keep: { days: number; count: number },
  ): void {
    const at = formatUtc(report.at);
    this.nodeApiStatement(
      `INSERT INTO node_reports (node_id, at, load_average, memory_total, memory_free, uptime,
         slivers) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      report.nodeId,
      at,
      report.loadAverage,
      report.memoryTotal,
      report.memoryFree,
      report.uptime,
      JSON.stringify(report.slivers),
    );
    const oldest = formatUtc(new Date(report.at.getTime() - keep.days * 86_400_000));
    this.nodeApiStatement('DELETE FROM node_reports WHERE node_id = ? AND at < ?').run(
      report.nodeId,
      oldest,
    );
    this.nodeApiStatement(
      `DELETE FROM node_reports WHERE node_id = ? AND id <= (SELECT id FROM node_reports
         WHERE node_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ).run(report.nodeId, report.nodeId, keep.count);
    this.nodeApiStatement('UPDATE nodes SET load_average = ? WHERE id = ?').run(
      report.loadAverage,
      report.nodeId,
    );
    this.nodeApiStatement(
      `INSERT INTO node_managed (node_id, since, last_report, last_slivers) VALUES (?, ?, ?, ?)
       ON CONFLICT (node_id) DO UPDATE SET last_report = CASE
           WHEN excluded.last_report > node_managed.last_report THEN excluded.last_report
           ELSE node_managed.last_report END,
         last_slivers = excluded.last_slivers`,
    ).run(report.nodeId, at, at, report.slivers.length);
    const upsert = this.nodeApiStatement(
      `INSERT INTO sliver_realized (sliver_id, node_id, state, error, reported, cpu_seconds,
         memory_bytes, bytes_in, bytes_out, packets_in, packets_out)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (sliver_id) DO UPDATE SET node_id = excluded.node_id, state = excluded.state,
         error = excluded.error, reported = excluded.reported,
         cpu_seconds = excluded.cpu_seconds, memory_bytes = excluded.memory_bytes,
         bytes_in = excluded.bytes_in, bytes_out = excluded.bytes_out,
         packets_in = excluded.packets_in, packets_out = excluded.packets_out`,
    );
    for (const s of sliverReports) {
      upsert.run(
        s.sliverId,
        report.nodeId,
        s.state,
        s.error,
        at,
        s.cpuSeconds,
        s.memoryBytes,
        s.bytesIn,
        s.bytesOut,
        s.packetsIn,
        s.packetsOut,
      );
    }
  }

  /** The node's stored reports, oldest first. */
  nodeReports(nodeId: number): NodeReportRow[] {
    const rows = this.nodeApiStatement(
      `SELECT node_id, at, load_average, memory_total, memory_free, uptime, slivers
         FROM node_reports WHERE node_id = ? ORDER BY id`,
    ).all(nodeId) as {
      node_id: number;
      at: string;
      load_average: number;
      memory_total: number;
      memory_free: number;
      uptime: number;
      slivers: string;
    }[];
    return rows.map((r) => ({
      nodeId: r.node_id,
      at: parseUtc(r.at, 'node_reports.at'),
      loadAverage: r.load_average,
      memoryTotal: r.memory_total,
      memoryFree: r.memory_free,
      uptime: r.uptime,
      slivers: JSON.parse(r.slivers) as unknown[],
    }));
  }

  /**
   * Add a status to the node's history, keeping the last `keep.days` days and at most
   * `keep.count` entries per node (as node reports are kept).
   */
  recordNodeStatus(row: NodeStatusRow, keep: { days: number; count: number }): void {
    this.nodeApiStatement(
      `INSERT INTO node_status_history (node_id, at, boot_state, load_average, checked, slivers)
         VALUES (?, ?, ?, ?, ?, ?)`,
    ).run(row.nodeId, formatUtc(row.at), row.bootState, row.loadAverage, row.checked, row.slivers);
    const oldest = formatUtc(new Date(row.at.getTime() - keep.days * 86_400_000));
    this.nodeApiStatement('DELETE FROM node_status_history WHERE node_id = ? AND at < ?').run(
      row.nodeId,
      oldest,
    );
    this.nodeApiStatement(
      `DELETE FROM node_status_history WHERE node_id = ? AND id <= (SELECT id
         FROM node_status_history WHERE node_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
    ).run(row.nodeId, row.nodeId, keep.count);
  }

  /** The node's recorded statuses (`sfa node status`), oldest first. */
  nodeStatusHistory(nodeId: number): NodeStatusRow[] {
    const rows = this.nodeApiStatement(
      `SELECT node_id, at, boot_state, load_average, checked, slivers
         FROM node_status_history WHERE node_id = ? ORDER BY id`,
    ).all(nodeId) as {
      node_id: number;
      at: string;
      boot_state: BootState;
      load_average: number;
      checked: 'up' | 'down' | null;
      slivers: number;
    }[];
    return rows.map((r) => ({
      nodeId: r.node_id,
      at: parseUtc(r.at, 'node_status_history.at'),
      bootState: r.boot_state,
      loadAverage: r.load_average,
      checked: r.checked,
      slivers: r.slivers,
    }));
  }

  /** The node's management record: undefined for a node that never reported (unmanaged). */
  nodeManaged(nodeId: number): NodeManagedRow | undefined {
    const r = this.nodeApiStatement(
      'SELECT node_id, since, last_report, last_slivers FROM node_managed WHERE node_id = ?',
    ).get(nodeId) as DbNodeManaged | undefined;
    return r && toNodeManaged(r);
  }

  /**
   * Every managed node's record, by node id, with how many of its reports are dated `from` or
   * later (`recentReports`).
   */
  managedNodes(from: Date): Map<number, NodeManagedRow & { recentReports: number }> {
    const rows = this.nodeApiStatement(
      `SELECT m.node_id, m.since, m.last_report, m.last_slivers,
         (SELECT count(*) FROM node_reports r WHERE r.node_id = m.node_id AND r.at >= ?) AS recent
         FROM node_managed m`,
    ).all(formatUtc(from)) as (DbNodeManaged & { recent: number })[];
    return new Map(rows.map((r) => [r.node_id, { ...toNodeManaged(r), recentReports: r.recent }]));
  }

  /** The sliver as its node last reported it, if it did. */
  realizedSliver(sliverId: number): SliverRealizedRow | undefined {
    const r = this.nodeApiStatement(
      `SELECT sliver_id, node_id, state, error, reported, cpu_seconds, memory_bytes, bytes_in,
         bytes_out, packets_in, packets_out FROM sliver_realized WHERE sliver_id = ?`,
    ).get(sliverId) as DbRealized | undefined;
    return r && toRealized(r);
  }

  /** The realized state of the node's slivers as last reported, by sliver id. */
  realizedSlivers(nodeId: number): SliverRealizedRow[] {
    const rows = this.nodeApiStatement(
      `SELECT sliver_id, node_id, state, error, reported, cpu_seconds, memory_bytes, bytes_in,
         bytes_out, packets_in, packets_out FROM sliver_realized WHERE node_id = ? ORDER BY sliver_id`,
    ).all(nodeId) as DbRealized[];
    return rows.map(toRealized);
  }

  /**
   * Each node's traffic at `now`, by node id: the sums of its live slivers' last reported
   * counters (slivers that expired are left out). Only nodes with a reported counter appear.
   */
  nodeTraffic(now: Date): Map<number, NodeTrafficRow> {
    // sum() of only NULLs is NULL: a counter no sliver reported stays null.
    const rows = this.nodeApiStatement(
      `SELECT r.node_id, sum(r.bytes_in) AS bytes_in, sum(r.bytes_out) AS bytes_out,
         sum(r.packets_in) AS packets_in, sum(r.packets_out) AS packets_out
         FROM sliver_realized r JOIN slivers v ON v.id = r.sliver_id
         WHERE v.expires > ? GROUP BY r.node_id
         HAVING count(r.bytes_in) + count(r.bytes_out) + count(r.packets_in)
           + count(r.packets_out) > 0`,
    ).all(formatUtc(now)) as {
      node_id: number;
      bytes_in: number | null;
      bytes_out: number | null;
      packets_in: number | null;
      packets_out: number | null;
    }[];
    return new Map(
      rows.map((r) => [
        r.node_id,
        {
          bytesIn: r.bytes_in,
          bytesOut: r.bytes_out,
          packetsIn: r.packets_in,
          packetsOut: r.packets_out,
        },
      ]),
    );
  }
}
