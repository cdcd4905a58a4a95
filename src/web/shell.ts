/**
 * The one HTML page every web route answers: a shell that names the page and its argument;
 * the browser side (web/static/app.js) fills `<main>` from the JSON API.
 */

/** Pages the browser side knows how to draw. */
export type WebPage =
  | 'home'
  | 'nodes'
  | 'node'
  | 'slices'
  | 'slice'
  | 'peers'
  | 'login-required'
  | 'login-failed'
  | 'not-found';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML content and double- or single-quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/**
 * The shell for `page`. `arg` (a hostname or slice HRN, straight from the URL) and `title` are
 * escaped here: whatever a path carries stays an attribute value.
 */
export function shellPage(page: WebPage, title: string, arg = ''): string {
  return (
    '<!doctype html><html lang="en"><head><meta charset="utf-8">' +
    '<meta name="viewport" content="width=device-width,initial-scale=1">' +
    `<title>${escapeHtml(title)} — sfa-ts</title>` +
    '<link rel="icon" href="/static/favicon.svg"><link rel="stylesheet" href="/static/app.css">' +
    '<script type="module" src="/static/app.js"></script></head>' +
    `<body data-page="${page}" data-arg="${escapeHtml(arg)}"><header><nav>` +
    '<a href="/">Home</a> <a href="/nodes">Nodes</a> <a href="/slices">Slices</a> ' +
    '<a href="/peers">Peers</a></nav></header><main id="main"></main></body></html>'
  );
}
