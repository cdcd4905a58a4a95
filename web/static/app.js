/* global document */
/**
 * Entry point of every page.
 *
 * The server sends the same HTML shell for every page,
 * `<body data-page="PAGE" data-arg="ARG">…<main id="main">`, and this module
 * picks the page renderer, fetches its JSON and renders into #main. Page
 * modules are imported lazily so a page loads only the code it needs.
 */
import { h, clear } from './dom.js';

/** @type {Record<string, () => Promise<{render: (main: HTMLElement, arg: string) => Promise<void>}>>} */
const PAGES = {
  home: () => import('./pages/home.js'),
  nodes: () => import('./pages/nodes.js'),
  node: () => import('./pages/node.js'),
  slices: () => import('./pages/slices.js'),
  slice: () => import('./pages/slice.js'),
  peers: () => import('./pages/peers.js'),
  'login-required': () => import('./pages/messages.js').then((m) => m.loginRequired),
  'login-failed': () => import('./pages/messages.js').then((m) => m.loginFailed),
  'not-found': () => import('./pages/messages.js').then((m) => m.notFound),
};

/**
 * Show an error in #main (textContent only: the message may echo outside data), under a
 * heading naming what was asked for (a hostname or slice HRN from the address), if anything.
 * @param {HTMLElement} main
 * @param {unknown} err
 * @param {string} [arg]
 */
export function showError(main, err, arg = '') {
  clear(main);
  if (arg !== '') main.appendChild(h('h1', {}, arg));
  const message = err instanceof Error ? err.message : String(err);
  main.appendChild(h('p', { id: 'error', class: 'error', role: 'alert' }, message));
  const status = err && typeof err === 'object' && 'status' in err ? err.status : undefined;
  if (status === 401) {
    main.appendChild(
      h(
        'p',
        { id: 'login-help' },
        'This page needs an operator session: run ',
        h('code', {}, 'sfa web login'),
        " on the authority's machine and open the link it prints.",
      ),
    );
  }
}

async function main() {
  const mainEl = /** @type {HTMLElement|null} */ (document.getElementById('main'));
  if (!mainEl) return;
  const page = document.body.dataset.page ?? '';
  const arg = document.body.dataset.arg ?? '';
  clear(mainEl);
  mainEl.appendChild(
    h('p', { id: 'loading', class: 'loading', 'aria-live': 'polite' }, 'Loading…'),
  );
  mainEl.setAttribute('aria-busy', 'true');
  try {
    const load = PAGES[page] ?? PAGES['not-found'];
    const mod = await load();
    await mod.render(mainEl, arg);
  } catch (err) {
    showError(mainEl, err, arg);
  } finally {
    mainEl.removeAttribute('aria-busy');
    document.getElementById('loading')?.remove();
  }
}

main();
