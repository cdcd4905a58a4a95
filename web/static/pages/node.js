/* global document */
/**
 * One node: facts, tags, node groups, history charts and its slivers.
 */
import { h, clear, dash, table } from '../dom.js';
import { getJSON } from '../api.js';
import {
  availabilityText,
  formatLoad,
  formatNumber,
  formatPercent,
  formatTime,
  seg,
} from '../format.js';
import { lineChart } from '../chart.js';

/**
 * @param {HTMLElement} main
 * @param {string} hostname
 */
export async function render(main, hostname) {
  const data = await getJSON(`/api/nodes/${seg(hostname)}`);
  const node = data.node ?? {};
  const history = Array.isArray(data.history) ? data.history : [];
  const slivers = Array.isArray(data.slivers) ? data.slivers : [];
  clear(main);
  document.title = `Node ${node.hostname ?? hostname}`;

  const place = [node.city, node.country].filter((x) => x).join(', ');
  /** @type {Array<[string, any]>} */
  const facts = [
    ['Site', node.site_name ? `${node.site ?? ''} (${node.site_name})` : (node.site ?? '')],
    ['Place', place || dash()],
    [
      'Position',
      typeof node.latitude === 'number' && typeof node.longitude === 'number'
        ? `${node.latitude.toFixed(3)}, ${node.longitude.toFixed(3)}`
        : dash(),
    ],
    ['Boot state', node.boot_state ?? dash()],
    ['Load average', formatLoad(node.load_average)],
    ['Slivers', formatNumber(node.slivers, 0)],
    ['Reliability', formatPercent(node.reliability)],
    ['Availability', availabilityText(node)],
    ['Exclusive', node.exclusive ? 'yes' : 'no'],
    ['Managed', node.managed ? 'yes' : 'no'],
  ];
  const info = h(
    'dl',
    { id: 'node-info', class: 'facts' },
    facts.map(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k.toLowerCase() }, v)]),
  );

  const tags = Array.isArray(node.tags) ? node.tags : [];
  const tagsTable = table(
    { id: 'tags-table' },
    ['Tag', 'Value'],
    tags.map((t) => ({
      attrs: { 'data-tag': Array.isArray(t) ? t[0] : String(t) },
      cells: Array.isArray(t) ? [String(t[0] ?? ''), String(t[1] ?? '')] : [String(t), ''],
    })),
    'no tags',
  );

  const groups = Array.isArray(node.nodegroups) ? node.nodegroups : [];
  const nodegroups = h(
    'ul',
    { id: 'nodegroups', class: 'inline-list' },
    groups.length ? groups.map((g) => h('li', {}, String(g))) : h('li', { class: 'muted' }, 'none'),
  );

  const charts = h('section', { class: 'charts' }, h('h2', {}, 'History'));
  if (history.length === 0) {
    charts.appendChild(h('p', { id: 'no-history', class: 'muted' }, 'No reports yet.'));
  } else {
    charts.append(
      figure(
        'Load average',
        lineChart({
          id: 'chart-load',
          title: 'Load average over time',
          history,
          value: (e) => e.load_average,
          format: (v) => formatNumber(v),
        }),
      ),
      figure(
        'Slivers',
        lineChart({
          id: 'chart-slivers',
          title: 'Slivers over time',
          history,
          value: (e) => e.slivers,
          format: (v) => formatNumber(v, 0),
        }),
      ),
      figure(
        'Available',
        lineChart({
          id: 'chart-available',
          title: 'Availability over time (1 = available)',
          history,
          value: (e) => (e.available ? 1 : 0),
          format: (v) => (v >= 1 ? 'yes' : 'no'),
        }),
      ),
    );
  }

  const sliversTable = table(
    { id: 'slivers-table' },
    ['Slice', 'Sliver URN', 'State', 'Expires'],
    slivers.map((sl) => ({
      attrs: { 'data-sliver': sl.sliver_urn ?? '' },
      cells: [
        sl.slice_hrn ? h('a', { href: `/slices/${seg(sl.slice_hrn)}` }, sl.slice_hrn) : dash(),
        h('span', { class: 'mono' }, sl.sliver_urn ?? ''),
        sl.state ?? dash(),
        formatTime(sl.expires),
      ],
    })),
    'no slivers',
  );

  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '/nodes' }, 'Nodes'), ' / '),
    h('h1', {}, node.hostname ?? hostname),
    info,
    h(
      'div',
      { class: 'columns' },
      h('section', {}, h('h2', {}, 'Tags'), tagsTable),
      h('section', {}, h('h2', {}, 'Node groups'), nodegroups),
    ),
    charts,
    h('section', {}, h('h2', {}, 'Slivers'), sliversTable),
  );
}

/**
 * @param {string} caption
 * @param {SVGElement} chart
 */
function figure(caption, chart) {
  return h('figure', { class: 'chart-figure' }, h('figcaption', {}, caption), chart);
}
