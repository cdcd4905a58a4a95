/**
 * Tags and nodegroups: how vservers are created.
 *
 * A sliver's attributes are resolved from three layers, lowest to highest precedence:
 *
 *   1. the tags of every nodegroup containing the node, groups taken in name order (so when two
 *      groups set the same tag, the group whose name sorts last wins);
 *   2. the node's own tags;
 *   3. the request's own attributes (`planetlab:attribute`), the last of equal names winning.
 *
 * The operator sets defaults per group (`net_max_rate` for a deployment), overrides them per
 * node, and the experimenter has the final word for the slice's own sliver, except on the
 * operator's caps: a request may lower a bandwidth cap (`net_max_rate`, `net_i2_max_rate`,
 * kbit/s) the operator set, never raise or lift it. The resolved set, with where each value
 * came from, goes into the manifest. (`vsys` scripts asked for by a request are granted on the
 * node by the operator: see the node manager's vsys.ts.)
 */

/** Caps the operator sets that a request may only lower. */
const LOWER_ONLY = new Set(['net_max_rate', 'net_i2_max_rate']);

/** A positive number, or undefined (`-1`, empty, not a number: no cap). */
function cap(value: string): number | undefined {
  const n = Number(value.trim());
  return value.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}
import { BadArgs, SearchFailed } from '../../faults.js';
import type { AggregateStore, NodeRow, NodegroupRow } from '../../store/aggregate-store.js';
import { checkTagName, checkTagValue } from './input.js';
import type { Attribute, ResolvedAttribute } from './types.js';

/** Resolve the three layers (see the module comment); the result is sorted by name. */
export function resolveAttributes(
  groupTags: readonly (Attribute & { nodegroup: string })[],
  nodeTags: readonly Attribute[],
  sliverAttributes: readonly Attribute[],
): ResolvedAttribute[] {
  const out = new Map<string, ResolvedAttribute>();
  const byGroup = [...groupTags].sort((a, b) =>
    a.nodegroup < b.nodegroup ? -1 : a.nodegroup > b.nodegroup ? 1 : 0,
  );
  for (const t of byGroup) {
    out.set(t.name, { name: t.name, value: t.value, source: 'nodegroup', nodegroup: t.nodegroup });
  }
  for (const t of nodeTags) out.set(t.name, { name: t.name, value: t.value, source: 'node' });
  for (const t of sliverAttributes) {
    const operator = LOWER_ONLY.has(t.name) ? out.get(t.name) : undefined;
    const limit = operator === undefined ? undefined : cap(operator.value);
    if (limit !== undefined) {
      const asked = cap(t.value);
      if (asked === undefined || asked >= limit) continue; // the operator's cap stays
    }
    out.set(t.name, { name: t.name, value: t.value, source: 'sliver' });
  }
  return [...out.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The resolved attributes of a (prospective) sliver on `nodeId`. */
export function resolveForNode(
  store: AggregateStore,
  nodeId: number,
  sliverAttributes: readonly Attribute[],
): ResolvedAttribute[] {
  return resolveAttributes(
    store.nodegroupTagsOfNode(nodeId),
    store.nodeTags(nodeId),
    sliverAttributes,
  );
}

export function requireNode(store: AggregateStore, hostname: string): NodeRow {
  const node = store.nodeByHostname(hostname);
  if (!node) throw new SearchFailed(`no node ${hostname} at this aggregate`);
  return node;
}

export function requireNodegroup(store: AggregateStore, name: string): NodegroupRow {
  const group = store.nodegroupByName(name);
  if (!group) throw new SearchFailed(`no nodegroup ${name} at this aggregate`);
  return group;
}

/** Set (add or replace) a node tag. */
export function setNodeTag(
  store: AggregateStore,
  hostname: string,
  name: string,
  value: string,
): void {
  const what = `tag of node ${hostname}`;
  const checked = { name: checkTagName(name, what), value: checkTagValue(value, what) };
  store.transaction(() =>
    store.setNodeTag(requireNode(store, hostname).id, checked.name, checked.value),
  );
}

/** Remove a node tag; SearchFailed if the node has no such tag. */
export function removeNodeTag(store: AggregateStore, hostname: string, name: string): void {
  store.transaction(() => {
    if (!store.deleteNodeTag(requireNode(store, hostname).id, name)) {
      throw new SearchFailed(`node ${hostname} has no tag ${name}`);
    }
  });
}

export interface NodegroupInfo {
  name: string;
  tags: Attribute[];
  members: string[];
}

/** Every nodegroup with its tags and members, by name. */
export function listNodegroups(store: AggregateStore): NodegroupInfo[] {
  return store.nodegroups().map((g) => ({
    name: g.name,
    tags: store.nodegroupTags(g.id),
    members: store.nodegroupMembers(g.id),
  }));
}

/** Create a nodegroup (no-op if it exists). */
export function addNodegroup(store: AggregateStore, name: string): void {
  const checked = checkTagName(name, 'nodegroup');
  store.transaction(() => store.ensureNodegroup(checked));
}

/** Remove a nodegroup with its tags and memberships (the nodes stay). */
export function removeNodegroup(store: AggregateStore, name: string): void {
  store.transaction(() => store.deleteNodegroup(requireNodegroup(store, name).id));
}

export function setNodegroupTag(
  store: AggregateStore,
  group: string,
  name: string,
  value: string,
): void {
  const what = `tag of nodegroup ${group}`;
  const checked = { name: checkTagName(name, what), value: checkTagValue(value, what) };
  store.transaction(() =>
    store.setNodegroupTag(requireNodegroup(store, group).id, checked.name, checked.value),
  );
}

export function removeNodegroupTag(store: AggregateStore, group: string, name: string): void {
  store.transaction(() => {
    if (!store.deleteNodegroupTag(requireNodegroup(store, group).id, name)) {
      throw new SearchFailed(`nodegroup ${group} has no tag ${name}`);
    }
  });
}

export function addNodegroupMember(store: AggregateStore, group: string, hostname: string): void {
  store.transaction(() =>
    store.addNodegroupMember(requireNodegroup(store, group).id, requireNode(store, hostname).id),
  );
}

export function removeNodegroupMember(
  store: AggregateStore,
  group: string,
  hostname: string,
): void {
  store.transaction(() => {
    const g = requireNodegroup(store, group);
    if (!store.removeNodegroupMember(g.id, requireNode(store, hostname).id)) {
      throw new BadArgs(`node ${hostname} is not a member of nodegroup ${group}`);
    }
  });
}
