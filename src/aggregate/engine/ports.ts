/**
 * Port reservations. A sliver asks for ports on its node with the attribute
 * `ports` = `tcp:8080,udp:5000-5010` (several `ports` attributes add up). On one node a port of
 * one protocol belongs to at most one slice; the store's triggers refuse overlaps too.
 *
 * Only the request's own `ports` attributes count, never node or nodegroup tags: a tag would
 * ask for the same ports for every slice on the node, and all but the first would be refused.
 */
import { BadArgs } from '../../faults.js';
import type { PortRow } from '../../store/aggregate-store.js';
import type { Attribute, PortRange } from './types.js';

/** The attribute that asks for ports. */
export const PORTS_ATTRIBUTE = 'ports';

const ENTRY = /^(tcp|udp):(\d{1,5})(?:-(\d{1,5}))?$/;

/**
 * Parse one `ports` value. `where` names the sliver for the message.
 * @throws BadArgs naming the entry that is not `tcp|udp:<port>[-<port>]` with 1 ≤ from ≤ to ≤ 65535.
 */
export function parsePorts(value: string, where: string): PortRange[] {
  return value.split(',').map((raw) => {
    const entry = raw.trim().toLowerCase();
    const m = ENTRY.exec(entry);
    const from = Number(m?.[2]);
    const to = m?.[3] === undefined ? from : Number(m[3]);
    if (!m || from < 1 || to > 65535 || from > to) {
      throw new BadArgs(
        `${where}: ports entry '${raw.trim()}' is not valid; write tcp:<port> or udp:<from>-<to> ` +
          'with ports from 1 to 65535, separated by commas (e.g. tcp:8080,udp:5000-5010)',
      );
    }
    return { proto: m[1] as PortRange['proto'], from, to };
  });
}

/** Sort and merge overlapping or adjacent ranges of the same protocol. */
export function mergePorts(ranges: readonly PortRange[]): PortRange[] {
  const sorted = [...ranges].sort((a, b) =>
    a.proto !== b.proto ? (a.proto < b.proto ? -1 : 1) : a.from - b.from,
  );
  const out: PortRange[] = [];
  for (const r of sorted) {
    const last = out.at(-1);
    if (last && last.proto === r.proto && r.from <= last.to + 1) last.to = Math.max(last.to, r.to);
    else out.push({ ...r });
  }
  return out;
}

/** The ports a request's attributes ask for, merged. */
export function requestedPorts(attributes: readonly Attribute[], where: string): PortRange[] {
  return mergePorts(
    attributes.filter((a) => a.name === PORTS_ATTRIBUTE).flatMap((a) => parsePorts(a.value, where)),
  );
}

export function formatPorts(r: PortRange): string {
  return r.from === r.to ? `${r.proto}:${r.from}` : `${r.proto}:${r.from}-${r.to}`;
}

/** The first reservation of another slice that overlaps `wanted`. */
export function portConflict(
  held: readonly PortRow[],
  sliceId: number,
  wanted: PortRange,
): PortRow | undefined {
  return held.find(
    (h) =>
      h.sliceId !== sliceId &&
      h.proto === wanted.proto &&
      h.from <= wanted.to &&
      wanted.from <= h.to,
  );
}

export const toPortRange = (p: PortRow): PortRange => ({ proto: p.proto, from: p.from, to: p.to });
