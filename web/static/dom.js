/* global document */
/**
 * Small DOM helpers shared by every page.
 *
 * Everything shown on these pages comes from outside (node tags, slice names,
 * hostnames, peer errors ...) and may contain markup, so nothing here ever
 * assigns innerHTML: elements are created with createElement and filled with
 * text nodes only. The Content-Security-Policy also forbids inline style
 * attributes, so presentation goes through classes in app.css.
 */

const SVG_NS = 'http://www.w3.org/2000/svg';

/**
 * Append children (strings become text nodes, null/undefined/false are skipped).
 * @param {Element} parent
 * @param {Array<Node|string|number|null|undefined|false>} children
 */
function append(parent, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (typeof child === 'object') parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Set attributes; `class` and `text` are conveniences, `on*` functions become listeners.
 * @param {Element} el
 * @param {Record<string, unknown>} attrs
 */
function setAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/**
 * Create an HTML element.
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...any} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * Create an SVG element (same conventions as {@link h}).
 * @param {string} tag
 * @param {Record<string, unknown>} [attrs]
 * @param {...any} children
 * @returns {SVGElement}
 */
export function s(tag, attrs = {}, ...children) {
  const el = /** @type {SVGElement} */ (document.createElementNS(SVG_NS, tag));
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

/**
 * A same-origin link. Path segments are percent-encoded by the caller.
 * @param {string} href
 * @param {string} text
 */
export function link(href, text) {
  return h('a', { href }, text);
}

/**
 * A link to an outside URL only when it is plainly http(s); anything else
 * (javascript:, data: ...) is shown as text.
 * @param {unknown} url
 */
export function externalLink(url) {
  if (typeof url !== 'string' || url === '') return dash();
  return /^https?:\/\//i.test(url)
    ? h('a', { href: url, rel: 'noreferrer' }, url)
    : h('span', {}, url);
}

/** An em-dash placeholder for missing values. */
export function dash() {
  return h('span', { class: 'muted' }, '—');
}

/**
 * A simple table: headers, then rows of cells (each cell is a Node, string or number).
 * @param {Record<string, unknown>} attrs attributes of the <table> (id ...)
 * @param {string[]} headers
 * @param {Array<{attrs?: Record<string, unknown>, cells: any[]}>} rows
 * @param {string} [empty] text shown in a single row when there are no rows
 */
export function table(attrs, headers, rows, empty = 'none') {
  const thead = h(
    'thead',
    {},
    h(
      'tr',
      {},
      headers.map((t) => h('th', { scope: 'col' }, t)),
    ),
  );
  const tbody = h('tbody');
  if (rows.length === 0) {
    tbody.appendChild(h('tr', { class: 'empty' }, h('td', { colspan: headers.length }, empty)));
  }
  for (const row of rows) {
    tbody.appendChild(
      h(
        'tr',
        row.attrs ?? {},
        row.cells.map((c) => h('td', {}, c ?? dash())),
      ),
    );
  }
  return h('div', { class: 'table-wrap' }, h('table', attrs, thead, tbody));
}

/** Remove every child of an element. */
export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
}
