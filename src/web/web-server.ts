/**
 * The web view on the wire: plain HTTP, read-only, one log line per request. Pages answer the
 * HTML shell (shell.ts) and the browser side draws them from the JSON API; operator pages and
 * endpoints need a session made from a one-time token (`sfa web login`).
 */
import { createServer, type Server } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { formatRfc3339 } from '../credentials/time.js';
import type { Logger } from '../server/log.js';
import { logText } from '../text.js';
import { homeView } from './api/home.js';
import { nodesView, nodeView } from './api/nodes.js';
import { peersView } from './api/peers.js';
import { slicesView, sliceView } from './api/slices.js';
import type { WebContext } from './context.js';
import { consumeLoginToken } from './login-tokens.js';
import { SESSION_COOKIE, SESSION_TTL_SECONDS, WebSessions, sessionIdFrom } from './sessions.js';
import { shellPage, type WebPage } from './shell.js';
import { STATIC_DIR, VENDOR_FILES } from './static-files.js';
import { storageFault } from '../store/storage-fault.js';

export interface WebServerOptions {
  ctx: WebContext;
  log: Logger;
  /** The clock; tests pass a fixed one (token and session expiry). */
  clock?: () => Date;
}

export const OPERATOR_REQUIRED =
  "operator session required: run `sfa web login` on the authority's machine";

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; " +
    "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

/** A year: the vendored files change only with the package. */
const VENDOR_MAX_AGE_MS = 365 * 86_400_000;

export function createWebServer(opts: WebServerOptions): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const sessions = new WebSessions(clock);
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag'); // JSON is no-store; static files use Last-Modified
  app.set('query parser', 'simple');

  const isOperator = (req: Request) => sessions.valid(sessionIdFrom(req.headers.cookie));

  // Every answer: one log line, the security headers, and nothing that writes.
  app.use((req: Request, res: Response, next: NextFunction) => {
    const started = performance.now();
    res.on('finish', () =>
      log(
        `${formatRfc3339(clock())} web ${logText(req.method, 10)} ${logText(req.originalUrl.split('?')[0]!, 300)} ${res.statusCode} ${(performance.now() - started).toFixed(1)}ms`,
      ),
    );
    res.set(SECURITY_HEADERS);
    const logout = req.method === 'POST' && req.path === '/logout';
    if (req.method !== 'GET' && req.method !== 'HEAD' && !logout) {
      res.set('Allow', 'GET, HEAD');
      res.status(405).json({ error: `${req.method} is not allowed: the web view is read-only` });
      return;
    }
    next();
  });

  const page = (res: Response, status: number, p: WebPage, title: string, arg = '') =>
    res
      .status(status)
      .type('html')
      .set('Cache-Control', 'no-store')
      .send(shellPage(p, title, arg));
  const json = (res: Response, status: number, body: unknown) =>
    res
      .status(status)
      .set('Content-Type', 'application/json; charset=utf-8')
      .set('Cache-Control', 'no-store')
      .send(JSON.stringify(body));
  const param = (req: Request, name: string): string => String(req.params[name] ?? '');

  app.get('/', (_req, res) => page(res, 200, 'home', 'Home'));
  app.get('/nodes', (_req, res) => page(res, 200, 'nodes', 'Nodes'));
  app.get('/nodes/:hostname', (req, res) =>
    page(res, 200, 'node', param(req, 'hostname'), param(req, 'hostname')),
  );
  const operatorPage = (p: WebPage, title: (req: Request) => string, arg = '') =>
    ((req: Request, res: Response) =>
      isOperator(req)
        ? page(res, 200, p, title(req), arg && param(req, arg))
        : page(res, 401, 'login-required', 'Login required')) satisfies express.RequestHandler;
  app.get(
    '/slices',
    operatorPage('slices', () => 'Slices'),
  );
  app.get(
    '/slices/:hrn',
    operatorPage('slice', (req) => param(req, 'hrn'), 'hrn'),
  );
  app.get(
    '/peers',
    operatorPage('peers', () => 'Peers'),
  );

  app.get('/login', (req, res) => {
    const token = typeof req.query['token'] === 'string' ? req.query['token'] : '';
    if (!consumeLoginToken(ctx.dir, token, clock())) {
      page(res, 403, 'login-failed', 'Login failed');
      return;
    }
    res
      .status(303)
      .set('Location', '/slices')
      .set('Cache-Control', 'no-store')
      .set(
        'Set-Cookie',
        `${SESSION_COOKIE}=${sessions.create()}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${SESSION_TTL_SECONDS}`,
      )
      .end();
  });
  app.post('/logout', (req, res) => {
    sessions.end(sessionIdFrom(req.headers.cookie));
    res
      .status(303)
      .set('Location', '/')
      .set('Set-Cookie', `${SESSION_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`)
      .end();
  });

  app.get('/api/home', (req, res) => json(res, 200, homeView(ctx, clock(), isOperator(req))));
  app.get('/api/nodes', (_req, res) => json(res, 200, nodesView(ctx, clock())));
  app.get('/api/nodes/:hostname', (req, res) => {
    const view = nodeView(ctx, param(req, 'hostname'), clock());
    if (view) json(res, 200, view);
    else json(res, 404, { error: `no node '${param(req, 'hostname')}' in this aggregate` });
  });
  const operatorApi =
    (answer: (req: Request) => unknown): express.RequestHandler =>
    (req, res) => {
      if (!isOperator(req)) return void json(res, 401, { error: OPERATOR_REQUIRED });
      const body = answer(req);
      if (body === undefined) json(res, 404, { error: `no slice '${param(req, 'hrn')}'` });
      else json(res, 200, body);
    };
  app.get(
    '/api/slices',
    operatorApi(() => slicesView(ctx, clock())),
  );
  app.get(
    '/api/slices/:hrn',
    operatorApi((req) => sliceView(ctx, param(req, 'hrn'), clock())),
  );
  app.get(
    '/api/peers',
    operatorApi(() => peersView(ctx, clock())),
  );

  app.get('/static/vendor/:name', (req, res, next) => {
    const file = Object.hasOwn(VENDOR_FILES, param(req, 'name'))
      ? VENDOR_FILES[param(req, 'name')]
      : undefined;
    if (!file) return next();
    res.sendFile(file, { maxAge: VENDOR_MAX_AGE_MS, immutable: true });
  });
  app.use('/static', express.static(STATIC_DIR, { index: false, redirect: false }));

  app.use('/api', (_req, res) => json(res, 404, { error: 'no such endpoint' }));
  app.use((_req, res) => page(res, 404, 'not-found', 'Not found'));
  // A bug of ours: the details go to the log, never to the browser. A store that cannot be read
  // (the database server is down) is said as such: 503, try again later.
  app.use((e: unknown, req: Request, res: Response, _next: NextFunction) => {
    const storage = storageFault(e);
    if (storage) {
      log(
        `${formatRfc3339(clock())} web ${logText(req.path, 300)}: ${logText((e as Error).message, 500)}`,
      );
      if (!res.headersSent) json(res, 503, { error: storage.message });
      return;
    }
    log(
      `${formatRfc3339(clock())} web ${logText(req.path, 300)}: internal error: ${logText((e as Error).stack ?? String(e), 2000)}`,
    );
    if (res.headersSent) return;
    json(res, 500, { error: 'internal error; the operator can find the details in the log' });
  });

  return createServer(app);
}
