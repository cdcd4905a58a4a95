/* global document, navigator */
/**
 * Home page: the authority's identity, totals, interfaces and ready-to-paste
 * sfi / omni configuration.
 */
import { h, clear, externalLink, dash } from '../dom.js';
import { getJSON } from '../api.js';
import { formatTime } from '../format.js';

const TOTAL_LABELS = [
  ['sites', 'Sites'],
  ['nodes', 'Nodes'],
  ['nodes_up', 'Nodes up'],
  ['slices', 'Slices'],
  ['slivers', 'Slivers'],
  ['peers', 'Peers'],
];

const INTERFACE_LABELS = [
  ['registry', 'Registry'],
  ['aggregate', 'Aggregate manager (AM API v3)'],
  ['aggregate_v2', 'Aggregate manager (AM API v2)'],
  ['slicemgr', 'Slice manager'],
  ['web', 'Web'],
];

/**
 * A <pre> with a copy button (the button is only added when the Clipboard API exists).
 * @param {string} id
 * @param {string} title
 * @param {unknown} text
 */
function configBlock(id, title, text) {
  const pre = h('pre', { id, class: 'config' }, typeof text === 'string' ? text : '');
  const heading = h('h2', {}, title);
  const section = h('section', { class: 'config-block' }, heading);
  if (navigator.clipboard) {
    const button = h('button', { type: 'button', class: 'copy' }, 'Copy');
    button.addEventListener('click', () => {
      navigator.clipboard.writeText(pre.textContent ?? '').then(
        () => (button.textContent = 'Copied'),
        () => (button.textContent = 'Copy failed'),
      );
    });
    heading.appendChild(button);
  }
  section.appendChild(pre);
  return section;
}

/**
 * @param {HTMLElement} main
 */
export async function render(main) {
  const data = await getJSON('/api/home');
  const auth = data.authority ?? {};
  const totals = data.totals ?? {};
  const ifaces = auth.interfaces ?? {};
  clear(main);
  document.title = `${auth.hrn ?? 'SFA'} authority`;

  const totalsTable = h(
    'table',
    { id: 'totals', class: 'totals' },
    h(
      'tbody',
      {},
      TOTAL_LABELS.map(([key, label]) =>
        h(
          'tr',
          { 'data-total': key },
          h('th', { scope: 'row' }, label),
          h('td', { class: 'num' }, String(totals[key] ?? '—')),
        ),
      ),
    ),
  );

  const ifaceTable = h(
    'table',
    { id: 'interfaces' },
    h(
      'tbody',
      {},
      INTERFACE_LABELS.filter(([key]) => ifaces[key]).map(([key, label]) =>
        h(
          'tr',
          { 'data-interface': key },
          h('th', { scope: 'row' }, label),
          h('td', {}, externalLink(ifaces[key])),
        ),
      ),
    ),
  );

  main.append(
    h('h1', {}, 'Authority ', h('span', { id: 'authority-hrn' }, auth.hrn ?? '')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'URN'),
      h('dd', { id: 'authority-urn', class: 'mono' }, auth.urn ?? ''),
      h('dt', {}, 'Root certificate fingerprint'),
      h('dd', { id: 'root-fingerprint', class: 'mono' }, auth.root_fingerprint ?? ''),
      h('dt', {}, 'Root certificate expires'),
      h('dd', { id: 'root-expires' }, auth.expires ? formatTime(auth.expires) : dash()),
    ),
    h(
      'div',
      { class: 'columns' },
      h('section', {}, h('h2', {}, 'Totals'), totalsTable),
      h('section', {}, h('h2', {}, 'Interfaces'), ifaceTable),
    ),
    h(
      'nav',
      { class: 'page-links', 'aria-label': 'Pages' },
      h('a', { href: '/nodes' }, 'Nodes and map'),
      h('a', { href: '/slices' }, 'Slices'),
      h('a', { href: '/peers' }, 'Peers'),
      data.operator
        ? null
        : h('span', { class: 'muted' }, '(slices and peers need an operator session)'),
    ),
    configBlock('sfi-config', 'sfi configuration (~/.sfi/sfi_config)', data.sfi_config),
    configBlock('omni-config', 'omni configuration (omni_config)', data.omni_config),
  );
}
