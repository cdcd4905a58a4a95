/* global document */
/**
 * Slices (operator only): one row per slice with its slivers, leases and ports.
 */
import { h, clear, dash, table } from '../dom.js';
import { getJSON } from '../api.js';
import { formatTime, seg } from '../format.js';

/**
 * "3 (2 ready, 1 failed)": number of slivers and how many in each state.
 * @param {any[]} slivers
 */
export function sliverSummary(slivers) {
  /** @type {Map<string, number>} */
  const states = new Map();
  for (const sl of slivers) {
    const st = String(sl.state ?? 'unknown');
    states.set(st, (states.get(st) ?? 0) + 1);
  }
  const parts = [...states].map(([st, n]) => `${n} ${st}`);
  return parts.length ? `${slivers.length} (${parts.join(', ')})` : '0';
}

/** @param {any[]} items @param {(x: any) => string} text */
function list(items, text) {
  if (!items.length) return dash();
  return h(
    'ul',
    { class: 'cell-list' },
    items.map((x) => h('li', {}, text(x))),
  );
}

/** @param {any} p */
export function portText(p) {
  const range =
    p.from === p.to || p.to === undefined || p.to === null ? `${p.from}` : `${p.from}-${p.to}`;
  return `${p.hostname ?? ''} ${p.proto ?? ''}/${range}`;
}

/** @param {any} l */
export function leaseText(l) {
  return `${l.hostname ?? ''}: ${formatTime(l.start)} → ${formatTime(l.end)}`;
}

/**
 * @param {HTMLElement} main
 */
export async function render(main) {
  const data = await getJSON('/api/slices');
  const slices = Array.isArray(data.slices) ? data.slices : [];
  clear(main);
  document.title = 'Slices';
  main.append(
    h('h1', {}, 'Slices'),
    h('p', { class: 'muted' }, `${slices.length} slice${slices.length === 1 ? '' : 's'}`),
    table(
      { id: 'slices-table' },
      ['Slice', 'Researchers', 'Slivers', 'Expires', 'Leases', 'Ports'],
      slices.map((sl) => ({
        attrs: { 'data-slice': sl.hrn ?? '' },
        cells: [
          h('a', { href: `/slices/${seg(sl.hrn ?? '')}` }, sl.hrn ?? ''),
          list(Array.isArray(sl.researchers) ? sl.researchers : [], String),
          sliverSummary(Array.isArray(sl.slivers) ? sl.slivers : []),
          formatTime(sl.expires),
          list(Array.isArray(sl.leases) ? sl.leases : [], leaseText),
          list(Array.isArray(sl.ports) ? sl.ports : [], portText),
        ],
      })),
      'no slices',
    ),
  );
}
