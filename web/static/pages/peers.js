/* global document */
/**
 * Peers (operator only): federation partners, relay statistics and the audit log.
 */
import { h, clear, dash, externalLink, table } from '../dom.js';
import { getJSON } from '../api.js';
import { formatNumber, formatPercent, formatTime } from '../format.js';

/**
 * @param {HTMLElement} main
 */
export async function render(main) {
  const data = await getJSON('/api/peers');
  const peers = Array.isArray(data.peers) ? data.peers : [];
  const audit = Array.isArray(data.audit) ? data.audit : [];
  clear(main);
  document.title = 'Peers';

  const ms = (/** @type {unknown} */ v) =>
    typeof v === 'number' ? `${formatNumber(v, 0)} ms` : '—';
  main.append(
    h('h1', {}, 'Peers'),
    table(
      { id: 'peers-table' },
      [
        'Peer',
        'Registry',
        'Aggregate',
        'Root fingerprint',
        'Root expires',
        'Last contact',
        'Health',
        'Relays',
        'Success',
        'Median',
        'p95',
        'Last error',
      ],
      peers.map((p) => {
        const r = p.relays ?? {};
        const health = String(p.health ?? 'unknown');
        return {
          attrs: { 'data-peer': p.hrn ?? '' },
          cells: [
            p.hrn ?? '',
            externalLink(p.registry_url),
            externalLink(p.aggregate_url),
            h('span', { class: 'mono fingerprint' }, p.root_fingerprint ?? ''),
            formatTime(p.root_expires),
            p.last_contact ? formatTime(p.last_contact) : 'never',
            h('span', { class: `health health-${health.replace(/[^a-z0-9-]/gi, '')}` }, health),
            formatNumber(r.count ?? 0, 0),
            formatPercent(r.success_rate),
            ms(r.median_ms),
            ms(r.p95_ms),
            r.last_error ? h('span', { class: 'error-text' }, String(r.last_error)) : dash(),
          ],
        };
      }),
      'no peers',
    ),
    h('h2', {}, 'Audit log'),
    table(
      { id: 'audit-table' },
      ['At', 'Action', 'Peer', 'By', 'Detail'],
      audit.map((a) => ({
        cells: [
          formatTime(a.at),
          a.action ?? '',
          a.peer ?? '',
          a.by ?? '',
          typeof a.detail === 'string' || a.detail == null
            ? (a.detail ?? '')
            : JSON.stringify(a.detail),
        ],
      })),
      'no audit entries',
    ),
  );
}
