/**
 * The inventory: sites, nodes (with tags) and nodegroups, loaded from a JSON file the operator
 * keeps, and the node list the advertisement is made from.
 *
 * The file format (every field but the names optional):
 *
 *   { "sites": [{ "loginBase": "inria", "name": "INRIA Sophia Antipolis", "country": "FR",
 *                 "city": "Sophia Antipolis", "latitude": 43.6158, "longitude": 7.0682 }],
 *     "nodes": [{ "hostname": "node1.inria.fr", "site": "inria", "bootState": "boot",
 *                 "exclusive": false, "maxSlivers": 20, "cpuShares": 40, "loadAverage": 0.4,
 *                 "checksUp": 990, "checksDown": 10, "hardwareType": "plab-pc",
 *                 "tags": { "arch": "x86_64", "net_max_rate": "10000" } }],
 *     "nodegroups": [{ "name": "alpha", "tags": { "deployment": "alpha" },
 *                      "members": ["node1.inria.fr"] }] }
 *
 * Loading is an idempotent upsert in one transaction: sites by login base, nodes by hostname,
 * groups by name; tags and members given replace the stored ones, absent ones are kept. Entries
 * not in the file are left alone (a node may carry slivers). Any bad entry refuses the whole
 * file (BadArgs naming the entry) and nothing changes.
 */
import { isSilent, reliabilityWindowStart, reportReliability } from './node-health.js';
import { readFileSync } from 'node:fs';
import { BadArgs, Refused } from '../../faults.js';
import { Xrn } from '../../credentials/xrn.js';
import {
  BOOT_STATES,
  type AggregateStore,
  type NodeRow,
  type NodeTrafficRow,
  type SiteRow,
} from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import { checkTagName, checkTagValue, isRecord, quote, requireString } from './input.js';
import { isEmptyReap, reapLapsed } from './reap.js';
import { requireNode } from './tags.js';
import { floorSeconds } from './time.js';
import type { Attribute, BootState, LeaseInfo } from './types.js';
import { nodeHrn, nodeUrn, siteHrn } from './urns.js';
import { leaseInfo } from './views.js';
import { NODE_REPORT_KEEP } from './node-slivers.js';

export interface InventorySite {
  loginBase: string;
  name: string;
  country?: string;
  city?: string;
  latitude?: number;
  longitude?: number;
}

export interface InventoryNode {
  hostname: string;
  /** The site's login base. */
  site: string;
  bootState?: BootState;
  exclusive?: boolean;
  maxSlivers?: number;
  cpuShares?: number;
  loadAverage?: number;
  checksUp?: number;
  checksDown?: number;
  hardwareType?: string;
  tags?: Record<string, string>;
}

export interface InventoryNodegroup {
  name: string;
  tags?: Record<string, string>;
  /** Hostnames. */
  members?: string[];
}

export interface Inventory {
  sites?: InventorySite[];
  nodes?: InventoryNode[];
  nodegroups?: InventoryNodegroup[];
}

export const DEFAULT_HARDWARE_TYPE = 'plab-pc';

const LOGIN_BASE = /^[a-z0-9]{1,20}$/;
const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})+$`);

interface CheckedSite extends Omit<SiteRow, 'id'> {
  where: string;
}
interface CheckedNode {
  where: string;
  hostname: string;
  site: string;
  fields: Partial<InventoryNode>;
  tags: Attribute[] | undefined;
}
interface CheckedGroup {
  where: string;
  name: string;
  tags: Attribute[] | undefined;
  members: string[] | undefined;
}

function onlyKeys(entry: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(entry)) {
    if (!allowed.includes(key)) {
      throw new BadArgs(`${where}: unknown field ${quote(key)} (known: ${allowed.join(', ')})`);
    }
  }
}

function optionalNumber(
  entry: Record<string, unknown>,
  key: string,
  where: string,
  check: (n: number) => boolean,
  rule: string,
): number | undefined {
  const v = entry[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || !check(v)) {
    throw new BadArgs(`${where}: ${key} must be ${rule}, got ${quote(v)}`);
  }
  return v;
}

const count = (n: number): boolean => Number.isSafeInteger(n) && n >= 0;

function checkTags(value: unknown, where: string): Attribute[] | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw new BadArgs(`${where}: tags must be an object of name: value`);
  return Object.entries(value).map(([name, v]) => ({
    name: checkTagName(name, `${where}: tag`),
    value: checkTagValue(v, `${where}: tag ${name}`),
  }));
}

function checkHostname(value: unknown, where: string): string {
  const hostname = requireString(value, `${where}: hostname`).toLowerCase();
  if (!HOSTNAME.test(hostname)) {
    throw new BadArgs(`${where}: ${quote(value)} is not a fully qualified host name`);
  }
  return hostname;
}

function list(value: unknown, what: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new BadArgs(`inventory ${what} must be a list`);
  return value;
}

/** Check a whole inventory's shape, before anything is written. */
function checkInventory(
  data: unknown,
  authority: string,
): {
  sites: CheckedSite[];
  nodes: CheckedNode[];
  groups: CheckedGroup[];
} {
  if (!isRecord(data))
    throw new BadArgs('the inventory must be an object {sites, nodes, nodegroups}');
  onlyKeys(data, ['sites', 'nodes', 'nodegroups'], 'inventory');

  const siteNames = new Set<string>();
  const sites = list(data['sites'], 'sites').map((raw, i): CheckedSite => {
    let where = `sites[${i}]`;
    if (!isRecord(raw)) throw new BadArgs(`${where} must be an object`);
    onlyKeys(raw, ['loginBase', 'name', 'country', 'city', 'latitude', 'longitude'], where);
    const loginBase = requireString(raw['loginBase'], `${where}: loginBase`);
    where = `site ${loginBase}`;
    if (!LOGIN_BASE.test(loginBase)) {
      throw new BadArgs(`${where}: the login base must be 1 to 20 lower-case letters or digits`);
    }
    if (siteNames.has(loginBase)) throw new BadArgs(`${where} is listed twice`);
    siteNames.add(loginBase);
    const optional = (key: string): string | null =>
      raw[key] === undefined ? null : requireString(raw[key], `${where}: ${key}`);
    return {
      where,
      loginBase,
      name: requireString(raw['name'], `${where}: name`),
      hrn: siteHrn(authority, loginBase),
      country: optional('country'),
      city: optional('city'),
      latitude:
        optionalNumber(raw, 'latitude', where, (n) => n >= -90 && n <= 90, 'between -90 and 90') ??
        null,
      longitude:
        optionalNumber(
          raw,
          'longitude',
          where,
          (n) => n >= -180 && n <= 180,
          'between -180 and 180',
        ) ?? null,
    };
  });

  const hostnames = new Set<string>();
  const nodes = list(data['nodes'], 'nodes').map((raw, i): CheckedNode => {
    let where = `nodes[${i}]`;
    if (!isRecord(raw)) throw new BadArgs(`${where} must be an object`);
    const hostname = checkHostname(raw['hostname'], where);
    where = `node ${hostname}`;
    onlyKeys(
      raw,
      [
        'hostname',
        'site',
        'bootState',
        'exclusive',
        'maxSlivers',
        'cpuShares',
        'loadAverage',
        'checksUp',
        'checksDown',
        'hardwareType',
        'tags',
      ],
      where,
    );
    if (hostnames.has(hostname)) throw new BadArgs(`${where} is listed twice`);
    hostnames.add(hostname);
    const site = requireString(raw['site'], `${where}: site`);
    const bootState = raw['bootState'];
    if (bootState !== undefined && !(BOOT_STATES as readonly unknown[]).includes(bootState)) {
      throw new BadArgs(
        `${where}: bootState must be one of ${BOOT_STATES.join(', ')}, got ${quote(bootState)}`,
      );
    }
    const exclusive = raw['exclusive'];
    if (exclusive !== undefined && typeof exclusive !== 'boolean') {
      throw new BadArgs(`${where}: exclusive must be true or false`);
    }
    const hardwareType =
      raw['hardwareType'] === undefined
        ? undefined
        : requireString(raw['hardwareType'], `${where}: hardwareType`);
    // Refuses a hostname that cannot make a node URN.
    Xrn.fromHrn(nodeHrn(authority, LOGIN_BASE.test(site) ? site : 'x', hostname), 'node');
    const fields: Partial<InventoryNode> = {
      bootState: bootState as BootState | undefined,
      exclusive,
      maxSlivers: optionalNumber(raw, 'maxSlivers', where, count, 'a whole number ≥ 0'),
      cpuShares: optionalNumber(raw, 'cpuShares', where, count, 'a whole number ≥ 0'),
      loadAverage: optionalNumber(raw, 'loadAverage', where, (n) => n >= 0, 'a number ≥ 0'),
      checksUp: optionalNumber(raw, 'checksUp', where, count, 'a whole number ≥ 0'),
      checksDown: optionalNumber(raw, 'checksDown', where, count, 'a whole number ≥ 0'),
      hardwareType,
    };
    return { where, hostname, site, fields, tags: checkTags(raw['tags'], where) };
  });

  const groupNames = new Set<string>();
  const groups = list(data['nodegroups'], 'nodegroups').map((raw, i): CheckedGroup => {
    let where = `nodegroups[${i}]`;
    if (!isRecord(raw)) throw new BadArgs(`${where} must be an object`);
    onlyKeys(raw, ['name', 'tags', 'members'], where);
    const name = checkTagName(raw['name'], where);
    where = `nodegroup ${name}`;
    if (groupNames.has(name.toLowerCase())) throw new BadArgs(`${where} is listed twice`);
    groupNames.add(name.toLowerCase());
    const members = raw['members'];
    if (members !== undefined && !Array.isArray(members)) {
      throw new BadArgs(`${where}: members must be a list of hostnames`);
    }
    return {
      where,
      name,
      tags: checkTags(raw['tags'], where),
      members: members?.map((m: unknown) => checkHostname(m, `${where}: member`)),
    };
  });
  return { sites, nodes, groups };
}

export interface InventorySummary {
  sites: number;
  nodes: number;
  nodegroups: number;
}

/**
 * Load (upsert) an inventory, all or nothing (see the module comment).
 * @throws BadArgs naming the first bad entry: a malformed field, an unknown site or member, a
 *   node moved to another site while it has slivers.
 */
export function loadInventory(ctx: EngineContext, data: unknown): InventorySummary {
  const { store, policy } = ctx;
  const checked = checkInventory(data, policy.authority);
  return store.transaction(() => {
    for (const s of checked.sites) {
      store.upsertSite({
        loginBase: s.loginBase,
        name: s.name,
        hrn: s.hrn,
        country: s.country,
        city: s.city,
        latitude: s.latitude,
        longitude: s.longitude,
      });
    }
    for (const n of checked.nodes) {
      const site = store.siteByLoginBase(n.site);
      if (!site) {
        throw new BadArgs(`${n.where}: no site ${quote(n.site)}; list it under sites first`);
      }
      const old = store.nodeByHostname(n.hostname);
      if (old && old.siteId !== site.id && store.countSliversOnNode(old.id) > 0) {
        throw new BadArgs(
          `${n.where}: it belongs to site ${old.siteLoginBase} and has slivers; delete them before moving it to ${site.loginBase}`,
        );
      }
      const f = n.fields;
      const node = store.upsertNode({
        hostname: n.hostname,
        siteId: site.id,
        hrn: nodeHrn(policy.authority, site.loginBase, n.hostname),
        urn: nodeUrn(policy.authority, site.loginBase, n.hostname),
        bootState: f.bootState ?? old?.bootState ?? 'boot',
        exclusive: f.exclusive ?? old?.exclusive ?? false,
        maxSlivers: f.maxSlivers ?? old?.maxSlivers ?? policy.defaultMaxSlivers,
        cpuShares: f.cpuShares ?? old?.cpuShares ?? policy.defaultCpuShares,
        loadAverage: f.loadAverage ?? old?.loadAverage ?? 0,
        checksUp: f.checksUp ?? old?.checksUp ?? 0,
        checksDown: f.checksDown ?? old?.checksDown ?? 0,
        hardwareType: f.hardwareType ?? old?.hardwareType ?? DEFAULT_HARDWARE_TYPE,
      });
      if (n.tags) store.replaceNodeTags(node.id, n.tags);
    }
    for (const g of checked.groups) {
      const group = store.ensureNodegroup(g.name);
      if (g.tags) store.replaceNodegroupTags(group.id, g.tags);
      if (g.members) {
        const ids = g.members.map((hostname) => {
          const node = store.nodeByHostname(hostname);
          if (!node)
            throw new BadArgs(`${g.where}: member ${hostname} is not a node of this aggregate`);
          return node.id;
        });
        store.replaceNodegroupMembers(group.id, ids);
      }
    }
    return {
      sites: checked.sites.length,
      nodes: checked.nodes.length,
      nodegroups: checked.groups.length,
    };
  });
}

/** Read an inventory file (JSON); BadArgs if it is not JSON. Load it with loadInventory. */
export function readInventoryFile(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new BadArgs(`inventory ${path} is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

/** Add or update one node (its site must exist). */
export function addNode(ctx: EngineContext, node: InventoryNode): NodeRow {
  loadInventory(ctx, { nodes: [node] });
  return requireNode(ctx.store, String(node.hostname).toLowerCase());
}

/**
 * Remove a node with its tags and memberships.
 * @throws Refused while it carries live slivers, naming their slices; SearchFailed if unknown.
 */
export function removeNode(ctx: EngineContext, hostname: string, now: Date): void {
  const at = floorSeconds(now);
  const reaped = ctx.store.transaction(() => {
    const node = requireNode(ctx.store, hostname);
    // Lapsed slivers still reference the node.
    const reaped = reapLapsed(ctx, at);
    const live = ctx.store.liveSliversOnNode(node.id, at);
    if (live.length > 0) {
      throw new Refused(
        `node ${node.hostname} has slivers of ${[...new Set(live.map((s) => s.sliceUrn))].join(', ')}; delete them (or wait for them to expire) first`,
      );
    }
    ctx.store.deleteNode(node.id);
    return reaped;
  });
  if (!isEmptyReap(reaped)) ctx.onReap?.(reaped);
}

/** What monitoring learns of a node. */
export interface NodeStatusUpdate {
  bootState?: BootState;
  loadAverage?: number;
  /** One more status check, successful (`up`) or not: feeds the reliability figure. */
  check?: 'up' | 'down';
  /**
   * When this was learnt: given, the status is also added to the node's bounded history (the
   * only history a node without a node manager has).
   */
  at?: Date;
}

export function setNodeStatus(
  ctx: EngineContext,
  hostname: string,
  update: NodeStatusUpdate,
): NodeRow {
  const { bootState, loadAverage, check } = update;
  if (bootState !== undefined && !(BOOT_STATES as readonly string[]).includes(bootState)) {
    throw new BadArgs(
      `bootState must be one of ${BOOT_STATES.join(', ')}, got ${quote(bootState)}`,
    );
  }
  if (loadAverage !== undefined && !(Number.isFinite(loadAverage) && loadAverage >= 0)) {
    throw new BadArgs(`loadAverage must be a number ≥ 0, got ${quote(loadAverage)}`);
  }
  if (check !== undefined && check !== 'up' && check !== 'down') {
    throw new BadArgs(`check must be 'up' or 'down', got ${quote(check)}`);
  }
  return ctx.store.transaction(() => {
    const node = requireNode(ctx.store, hostname);
    ctx.store.updateNodeStatus(node.id, {
      bootState: bootState ?? node.bootState,
      loadAverage: loadAverage ?? node.loadAverage,
      checksUp: node.checksUp + (check === 'up' ? 1 : 0),
      checksDown: node.checksDown + (check === 'down' ? 1 : 0),
    });
    if (update.at !== undefined) {
      ctx.store.recordNodeStatus(
        {
          nodeId: node.id,
          at: update.at,
          bootState: bootState ?? node.bootState,
          loadAverage: loadAverage ?? node.loadAverage,
          checked: check ?? null,
          slivers: ctx.store.countSliversOnNode(node.id),
        },
        NODE_REPORT_KEEP,
      );
    }
    return requireNode(ctx.store, hostname);
  });
}

/** A node as the advertisement shows it. */
export interface NodeAdvert {
  hostname: string;
  urn: string;
  hrn: string;
  site: Omit<SiteRow, 'id'>;
  bootState: BootState;
  /**
   * Could take a sliver now: booted, room for one more sliver and CPU share, if exclusive not
   * leased or held by any slice at this moment, and, if managed, not silent (node-health.ts).
   */
  available: boolean;
  /**
   * A managed node's reports (absent for an unmanaged node): when it first and last reported,
   * how many slivers its last report had, and `silent` when it has not reported for three
   * report intervals.
   */
  reported?: { since: Date; last: Date; slivers: number; silent: boolean };
  /**
   * A managed node's traffic: the sums of its live slivers' last reported bytes and packets,
   * only those some sliver reported; absent when none did (and for an unmanaged node).
   */
  traffic?: NodeTraffic;
  exclusive: boolean;
  hardwareType: string;
  /** Live slivers on it (the aggregate's count; the ad shows a managed node's own count). */
  slivers: number;
  maxSlivers: number;
  cpuShares: number;
  cpuSharesUsed: number;
  loadAverage: number;
  /**
   * Percent, one decimal. A managed node: the share of expected reports received over the
   * last 7 days. Otherwise: the share of successful status checks, null before any check.
   */
  reliability: number | null;
  tags: Attribute[];
  nodegroups: string[];
}

/** See NodeAdvert's `traffic`. */
export interface NodeTraffic {
  bytesIn?: number;
  bytesOut?: number;
  packetsIn?: number;
  packetsOut?: number;
}

/** The counters that were reported, or undefined when none was. */
function nodeTraffic(row: NodeTrafficRow | undefined): NodeTraffic | undefined {
  if (!row) return undefined;
  const t: NodeTraffic = {
    ...(row.bytesIn !== null ? { bytesIn: row.bytesIn } : {}),
    ...(row.bytesOut !== null ? { bytesOut: row.bytesOut } : {}),
    ...(row.packetsIn !== null ? { packetsIn: row.packetsIn } : {}),
    ...(row.packetsOut !== null ? { packetsOut: row.packetsOut } : {}),
  };
  return Object.keys(t).length > 0 ? t : undefined;
}

export function reliability(checksUp: number, checksDown: number): number | null {
  const total = checksUp + checksDown;
  return total === 0 ? null : Math.round((checksUp / total) * 1000) / 10;
}

/** Every node (or only the available ones), by hostname. */
interface StaticInventory {
  version: number;
  sites: Map<number, SiteRow>;
  nodes: NodeRow[];
  tags: Map<number, Attribute[]>;
  groups: Map<number, string[]>;
}

const snapshots = new WeakMap<AggregateStore, StaticInventory>();

/**
 * Sites, nodes, tags and nodegroup memberships: most of an advertisement, and static between
 * inventory changes. Re-read only when the trigger-maintained version moved (rows are treated
 * as read-only by every caller).
 */
function staticInventory(store: AggregateStore): StaticInventory {
  const version = store.inventoryVersion();
  const known = snapshots.get(store);
  if (known && known.version === version) return known;
  const snapshot = {
    version,
    sites: new Map(store.sites().map((s) => [s.id, s])),
    nodes: store.nodes(),
    tags: store.allNodeTags(),
    groups: store.allMemberships(),
  };
  snapshots.set(store, snapshot);
  return snapshot;
}

/** Every node, from the snapshot kept between inventory changes (treat the rows as read-only). */
export function inventoryNodes(store: AggregateStore): readonly NodeRow[] {
  return staticInventory(store).nodes;
}

export function listNodes(
  ctx: EngineContext,
  now: Date,
  options: { availableOnly?: boolean } = {},
): NodeAdvert[] {
  const { store } = ctx;
  const at = floorSeconds(now);
  return store.snapshot(() => {
    const { sites, nodes, tags, groups } = staticInventory(store);
    const load = store.sliverLoad(at);
    const managed = store.managedNodes(reliabilityWindowStart(at));
    const traffic = store.nodeTraffic(at);
    const busy = new Set(
      store
        .liveLeases(at)
        .filter((l) => l.start <= at)
        .map((l) => l.nodeId),
    );
    const out: NodeAdvert[] = [];
    for (const node of nodes) {
      const site = sites.get(node.siteId);
      if (!site) throw new Error(`site ${node.siteId} of node ${node.hostname} is missing`);
      const siteFields = {
        loginBase: site.loginBase,
        name: site.name,
        hrn: site.hrn,
        country: site.country,
        city: site.city,
        latitude: site.latitude,
        longitude: site.longitude,
      };
      const used = load.get(node.id) ?? { slivers: 0, cpu: 0 };
      const m = managed.get(node.id);
      const silent = m !== undefined && isSilent(m, at);
      const t = m ? nodeTraffic(traffic.get(node.id)) : undefined;
      const available =
        node.bootState === 'boot' &&
        !silent &&
        used.slivers < node.maxSlivers &&
        used.cpu < node.cpuShares &&
        !(node.exclusive && busy.has(node.id));
      if (options.availableOnly && !available) continue;
      out.push({
        hostname: node.hostname,
        urn: node.urn,
        hrn: node.hrn,
        site: siteFields,
        bootState: node.bootState,
        available,
        exclusive: node.exclusive,
        hardwareType: node.hardwareType,
        slivers: used.slivers,
        maxSlivers: node.maxSlivers,
        cpuShares: node.cpuShares,
        cpuSharesUsed: used.cpu,
        loadAverage: node.loadAverage,
        ...(m
          ? { reported: { since: m.since, last: m.lastReport, slivers: m.lastSlivers, silent } }
          : {}),
        ...(t ? { traffic: t } : {}),
        reliability: m ? reportReliability(m, at) : reliability(node.checksUp, node.checksDown),
        tags: tags.get(node.id) ?? [],
        nodegroups: groups.get(node.id) ?? [],
      });
    }
    return out;
  });
}

/** Every live lease (reservations and holds, of every slice), by hostname then start. */
export function listLeases(ctx: EngineContext, now: Date): LeaseInfo[] {
  const { store, policy } = ctx;
  const at = floorSeconds(now);
  return store.snapshot(() => {
    const nodes = new Map(store.nodes().map((n) => [n.id, n]));
    return store.liveLeases(at).map((l) => {
      const node = nodes.get(l.nodeId);
      if (!node) throw new Error(`node ${l.nodeId} of a lease is missing`);
      return leaseInfo(policy.authority, l, node);
    });
  });
}

/** Every site, by login base. */
export function listSites(ctx: EngineContext): SiteRow[] {
  return ctx.store.sites();
}
