/**
 * Pieces the ad and manifest writers share.
 */
import { formatRfc3339 } from '../credentials/time.js';
import { escapeAttr } from './escape.js';
import type { Lease } from './model.js';

function cmp(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Leases in time order, then by slice and first node: a total order on what is written. */
export function compareLeases(x: Lease, y: Lease): number {
  return (
    x.start.getTime() - y.start.getTime() ||
    x.end.getTime() - y.end.getTime() ||
    cmp(x.sliceUrn ?? '', y.sliceUrn ?? '') ||
    cmp([...x.componentIds].sort().join(' '), [...y.componentIds].sort().join(' '))
  );
}

/**
 * `<sfa-ts:lease>` with its nodes, indented one level. A lease over no node holds nothing and
 * is left out (the schema requires at least one node).
 */
export function leaseXml(lease: Lease): string {
  if (lease.componentIds.length === 0) return '';
  let s = '  <sfa-ts:lease';
  if (lease.sliceUrn !== undefined) s += ` slice_id="${escapeAttr(lease.sliceUrn)}"`;
  s += ` start_time="${formatRfc3339(lease.start)}" end_time="${formatRfc3339(lease.end)}">\n`;
  for (const id of [...lease.componentIds].sort()) {
    s += `    <sfa-ts:node component_id="${escapeAttr(id)}"/>\n`;
  }
  return s + '  </sfa-ts:lease>\n';
}

/** ` name="value"` for a finite number, nothing for undefined, NaN or an infinity. */
export function numberAttr(name: string, value: number | undefined): string {
  return value !== undefined && Number.isFinite(value) ? ` ${name}="${value}"` : '';
}
