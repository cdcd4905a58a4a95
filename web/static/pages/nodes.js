/* global document */
/**
 * Nodes page: a filter bar, a world map of the sites and a sortable table.
 *
 * Large inventories (10,000 nodes and more): all nodes stay in memory with
 * precomputed lower-case search text and sort keys. Sorting produces an
 * ordered array that is cached until the sort column changes; a filter
 * change only walks that array, and the table renders a bounded window:
 * the first PAGE_SIZE matching rows, with `button#show-more` appending the
 * next PAGE_SIZE. So a keystroke costs one pass over the array plus at most
 * PAGE_SIZE rows of DOM, well under the 100 ms aim.
 */
import { h, clear, dash } from '../dom.js';
import { getJSON } from '../api.js';
import { availabilityText, formatLoad, formatNumber, formatPercent, seg } from '../format.js';
import { renderMap } from '../map.js';

/** How many rows are rendered at once (and added by "show more"). */
const PAGE_SIZE = 200;

/** Sortable columns: key, header text, numeric or text. */
const COLUMNS = [
  { key: 'hostname', label: 'Hostname', numeric: false },
  { key: 'site', label: 'Site', numeric: false },
  { key: 'country', label: 'Country', numeric: false },
  { key: 'load_average', label: 'Load', numeric: true },
  { key: 'slivers', label: 'Slivers', numeric: true },
  { key: 'reliability', label: 'Reliability', numeric: true },
  { key: 'available', label: 'Availability', numeric: false },
];

/**
 * @typedef {object} Entry  a node plus what filtering and sorting need
 * @property {any} node
 * @property {string} search  lower-case "site site_name"
 * @property {number} index  position in the server's order (stable sort tie-break)
 */

/**
 * Sort key of a node for a column; null sorts last in both directions.
 * @param {any} node
 * @param {string} key
 */
function sortValue(node, key) {
  const v = node[key];
  if (key === 'available') return v ? 1 : 0;
  if (v === null || v === undefined) return null;
  if (typeof v === 'number') return v;
  return String(v).toLowerCase();
}

/**
 * @param {HTMLElement} main
 */
export async function render(main) {
  const data = await getJSON('/api/nodes');
  /** @type {any[]} */
  const nodes = Array.isArray(data.nodes) ? data.nodes : [];
  clear(main);
  document.title = 'Nodes';

  /** @type {Entry[]} */
  const entries = nodes.map((node, index) => ({
    node,
    index,
    search: `${node.site ?? ''}\u0000${node.site_name ?? ''}`.toLowerCase(),
  }));

  // ---- filter bar -------------------------------------------------------
  const siteInput = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'filter-site',
      type: 'search',
      placeholder: 'site or site name',
      autocomplete: 'off',
    })
  );
  const countries = [...new Set(nodes.map((n) => n.country).filter((c) => c))].sort();
  const countrySelect = /** @type {HTMLSelectElement} */ (
    h(
      'select',
      { id: 'filter-country' },
      h('option', { value: '' }, 'all'),
      countries.map((c) => h('option', { value: c }, c)),
    )
  );
  const availableInput = /** @type {HTMLInputElement} */ (
    h('input', { id: 'filter-available', type: 'checkbox' })
  );
  const maxLoadInput = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'filter-max-load',
      type: 'number',
      min: '0',
      step: 'any',
      inputmode: 'decimal',
    })
  );
  const minRelInput = /** @type {HTMLInputElement} */ (
    h('input', {
      id: 'filter-min-reliability',
      type: 'number',
      min: '0',
      max: '100',
      step: 'any',
      inputmode: 'decimal',
    })
  );
  const matchCount = h('p', { id: 'match-count', 'aria-live': 'polite' });

  const filterBar = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter nodes' },
    h('label', { for: 'filter-site' }, 'Site ', siteInput),
    h('label', { for: 'filter-country' }, 'Country ', countrySelect),
    h('label', { for: 'filter-available', class: 'check' }, availableInput, ' available now'),
    h('label', { for: 'filter-max-load' }, 'Max load ', maxLoadInput),
    h('label', { for: 'filter-min-reliability' }, 'Min reliability % ', minRelInput),
    matchCount,
  );
  filterBar.addEventListener('submit', (e) => e.preventDefault());

  // ---- table --------------------------------------------------------------
  const headerRow = h('tr');
  /** @type {Map<string, HTMLElement>} */
  const headers = new Map();
  for (const col of COLUMNS) {
    const th = h(
      'th',
      { scope: 'col', 'data-sort': col.key, class: col.numeric ? 'num sortable' : 'sortable' },
      h('button', { type: 'button', class: 'sort' }, col.label),
    );
    th.addEventListener('click', () => sortBy(col.key));
    headers.set(col.key, th);
    headerRow.appendChild(th);
  }
  headerRow.appendChild(h('th', { scope: 'col' }, 'Tags'));
  const tbody = h('tbody');
  const nodesTable = h(
    'table',
    { id: 'nodes-table', class: 'nodes' },
    h('thead', {}, headerRow),
    tbody,
  );
  const showMore = /** @type {HTMLButtonElement} */ (
    h('button', { id: 'show-more', type: 'button', hidden: true }, 'Show more')
  );
  showMore.addEventListener('click', () => {
    shown += PAGE_SIZE;
    renderRows();
  });

  const mapHolder = h('section', { class: 'map-holder', 'aria-label': 'Map of the sites' });

  main.append(
    h('h1', {}, 'Nodes'),
    filterBar,
    mapHolder,
    h('div', { class: 'table-wrap tall' }, nodesTable),
    h('p', { class: 'more' }, showMore),
  );

  // ---- state --------------------------------------------------------------
  /** @type {Entry[]} entries in the current sort order */
  let sorted = entries;
  /** @type {Entry[]} matching entries, in sort order */
  let matching = entries;
  let sortKey = '';
  let ascending = true;
  let shown = PAGE_SIZE;
  /** @type {((sites: Set<string>|null) => void) | null} */
  let dimMap = null;

  function sortBy(key) {
    if (key === sortKey) ascending = !ascending;
    else {
      sortKey = key;
      ascending = true;
    }
    const dir = ascending ? 1 : -1;
    sorted = entries.slice().sort((a, b) => {
      const va = sortValue(a.node, key);
      const vb = sortValue(b.node, key);
      if (va === vb) return a.index - b.index;
      if (va === null) return 1;
      if (vb === null) return -1;
      return (va < vb ? -1 : 1) * dir;
    });
    for (const [k, th] of headers) {
      if (k === key) th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    }
    applyFilters(false);
  }

  /** Parse a number input; NaN/empty means "no filter". */
  function numberOf(input) {
    if (input.value.trim() === '') return null;
    const v = Number(input.value);
    return Number.isFinite(v) ? v : null;
  }

  /** @param {boolean} [resetWindow] start again from the first PAGE_SIZE rows */
  function applyFilters(resetWindow = true) {
    const text = siteInput.value.trim().toLowerCase();
    const country = countrySelect.value;
    const onlyAvailable = availableInput.checked;
    const maxLoad = numberOf(maxLoadInput);
    const minRelPct = numberOf(minRelInput);
    const minRel = minRelPct === null ? null : minRelPct / 100;
    const all = !text && !country && !onlyAvailable && maxLoad === null && minRel === null;
    if (all) matching = sorted;
    else {
      matching = sorted.filter(({ node, search }) => {
        if (text && !search.includes(text)) return false;
        if (country && node.country !== country) return false;
        if (onlyAvailable && !node.available) return false;
        if (
          maxLoad !== null &&
          !(typeof node.load_average === 'number' && node.load_average <= maxLoad)
        ) {
          return false;
        }
        if (
          minRel !== null &&
          !(typeof node.reliability === 'number' && node.reliability >= minRel - 1e-9)
        ) {
          return false;
        }
        return true;
      });
    }
    if (resetWindow) shown = PAGE_SIZE;
    matchCount.textContent = `${matching.length} of ${entries.length} nodes`;
    renderRows();
    if (dimMap) dimMap(all ? null : new Set(matching.map((e) => e.node.site)));
  }

  function renderRows() {
    const frag = document.createDocumentFragment();
    const end = Math.min(shown, matching.length);
    for (let i = 0; i < end; i++) frag.appendChild(nodeRow(matching[i].node));
    if (matching.length === 0) {
      frag.appendChild(
        h('tr', { class: 'empty' }, h('td', { colspan: COLUMNS.length + 1 }, 'No node matches.')),
      );
    }
    clear(tbody);
    tbody.appendChild(frag);
    showMore.hidden = end >= matching.length;
    showMore.textContent = `Show more (${matching.length - end} more)`;
  }

  for (const input of [siteInput, maxLoadInput, minRelInput]) {
    input.addEventListener('input', () => applyFilters());
  }
  countrySelect.addEventListener('change', () => applyFilters());
  availableInput.addEventListener('change', () => applyFilters());

  applyFilters();

  // The map is drawn after the table so that the table is usable at once; a
  // map failure is shown in place of the map, not as a page error.
  try {
    dimMap = renderMap(mapHolder, nodes);
  } catch (err) {
    clear(mapHolder);
    mapHolder.appendChild(
      h('p', { class: 'muted' }, `Map unavailable: ${String(err?.message ?? err)}`),
    );
  }
}

/**
 * One table row. Built with textContent only: every field may contain markup.
 * @param {any} node
 */
function nodeRow(node) {
  const tags = h('td', { class: 'tags' });
  if (Array.isArray(node.tags)) {
    node.tags.forEach((tag, i) => {
      if (i > 0) tags.appendChild(document.createTextNode(' '));
      const [name, value] = Array.isArray(tag) ? tag : [String(tag), ''];
      tags.appendChild(h('span', { class: 'tag' }, `${name}=${value ?? ''}`));
    });
  }
  const availability = availabilityText(node);
  return h(
    'tr',
    { 'data-hostname': node.hostname ?? '' },
    h('td', {}, h('a', { href: `/nodes/${seg(node.hostname ?? '')}` }, node.hostname ?? '')),
    h('td', { title: node.site_name ?? '' }, node.site ?? ''),
    h('td', {}, node.country ?? dash()),
    h('td', { class: 'num' }, formatLoad(node.load_average)),
    h('td', { class: 'num' }, formatNumber(node.slivers, 0)),
    h('td', { class: 'num' }, formatPercent(node.reliability)),
    h('td', { class: `avail ${availability.split(',')[0]}` }, availability),
    tags,
  );
}
