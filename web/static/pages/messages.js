/* global document */
/**
 * Static message pages: login-required, login-failed, not-found.
 */
import { h, clear } from '../dom.js';

function loginCommand() {
  return h('code', {}, 'sfa web login');
}

export const loginRequired = {
  /** @param {HTMLElement} main */
  async render(main) {
    clear(main);
    document.title = 'Operator session required';
    main.append(
      h('h1', {}, 'Operator session required'),
      h(
        'p',
        { id: 'login-help' },
        'The operator pages (slices, peers) need a session. Run ',
        loginCommand(),
        " on the authority's machine and open the link it prints.",
      ),
      h('p', {}, h('a', { href: '/' }, 'Back to the home page')),
    );
  },
};

export const loginFailed = {
  /** @param {HTMLElement} main */
  async render(main) {
    clear(main);
    document.title = 'Login failed';
    main.append(
      h('h1', {}, 'Login failed'),
      h(
        'p',
        { id: 'login-help' },
        'This login link was already used, has expired or is wrong. Run ',
        loginCommand(),
        " again on the authority's machine and open the new link it prints.",
      ),
      h('p', {}, h('a', { href: '/' }, 'Back to the home page')),
    );
  },
};

export const notFound = {
  /** @param {HTMLElement} main */
  async render(main) {
    clear(main);
    document.title = 'Not found';
    main.append(
      h('h1', {}, 'Not found'),
      h('p', { id: 'not-found' }, 'There is no such page here.'),
      h('p', {}, h('a', { href: '/' }, 'Back to the home page')),
    );
  },
};
