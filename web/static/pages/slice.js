/* global document */
/**
 * One slice (operator only): slivers, leases, ports and its history.
 */
import { h, clear, dash, table } from '../dom.js';
import { getJSON } from '../api.js';
import { formatTime, seg } from '../format.js';

/**
 * @param {HTMLElement} main
 * @param {string} hrn
 */
export async function render(main, hrn) {
  const data = await getJSON(`/api/slices/${seg(hrn)}`);
  const slice = data.slice ?? {};
  const history = Array.isArray(data.history) ? data.history : [];
  const arr = (/** @type {unknown} */ x) => (Array.isArray(x) ? x : []);
  clear(main);
  document.title = `Slice ${slice.hrn ?? hrn}`;

  const researchers = arr(slice.researchers);
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '/slices' }, 'Slices'), ' / '),
    h('h1', {}, slice.hrn ?? hrn),
    h(
      'dl',
      { id: 'slice-info', class: 'facts' },
      h('dt', {}, 'URN'),
      h('dd', { class: 'mono' }, slice.urn ?? ''),
      h('dt', {}, 'Expires'),
      h('dd', {}, formatTime(slice.expires)),
      h('dt', {}, 'Researchers'),
      h('dd', {}, researchers.length ? researchers.map(String).join(', ') : dash()),
    ),
    h('h2', {}, 'Slivers'),
    table(
      { id: 'slice-slivers' },
      ['Node', 'Sliver URN', 'State', 'Expires'],
      arr(slice.slivers).map((sl) => ({
        attrs: { 'data-sliver': sl.sliver_urn ?? '' },
        cells: [
          sl.hostname ? h('a', { href: `/nodes/${seg(sl.hostname)}` }, sl.hostname) : dash(),
          h('span', { class: 'mono' }, sl.sliver_urn ?? ''),
          sl.state ?? dash(),
          formatTime(sl.expires),
        ],
      })),
      'no slivers',
    ),
    h('h2', {}, 'Leases'),
    table(
      { id: 'slice-leases' },
      ['Node', 'Start', 'End'],
      arr(slice.leases).map((l) => ({
        cells: [l.hostname ?? '', formatTime(l.start), formatTime(l.end)],
      })),
      'no leases',
    ),
    h('h2', {}, 'Ports'),
    table(
      { id: 'slice-ports' },
      ['Node', 'Protocol', 'From', 'To'],
      arr(slice.ports).map((p) => ({
        cells: [p.hostname ?? '', p.proto ?? '', String(p.from ?? ''), String(p.to ?? '')],
      })),
      'no ports',
    ),
    h('h2', {}, 'History'),
    table(
      { id: 'history-table' },
      ['At', 'Action', 'Caller', 'Client'],
      history.map((e) => ({
        cells: [formatTime(e.at), e.action ?? '', e.caller ?? '', e.client ?? ''],
      })),
      'no history',
    ),
  );
}
