/**
 * The web view's server side over real HTTP on loopback: a real authority (demo inventory, a
 * slice with a provisioned sliver), pages, JSON shapes, operator sessions from the real
 * `sfa web login` code, and the headers every answer carries.
 */
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginToken } from '../../src/web/login-tokens.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { provisionSliver } from '../support/slivers.js';

const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const NODE = 'node1.inria.fr';
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/;

let s: AliceSession;
let base: string;

const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${base}${path.replace(/^\//, '')}`, { headers, redirect: 'manual' });
const json = async (path: string, headers: Record<string, string> = {}) => {
  const r = await get(path, headers);
  expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
  expect(r.headers.get('cache-control')).toBe('no-store');
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
};
/** A session cookie from a fresh token, as a browser following the link would get it. */
async function login(): Promise<string> {
  const { token } = createLoginToken(s.dir, { now: NOW });
  const r = await get(`/login?token=${token}`);
  expect(r.status).toBe(303);
  return r.headers.get('set-cookie')!.split(';')[0]!;
}

beforeAll(async () => {
  s = await aliceSession({ slices: ['other'] });
  base = s.running.urls.web;
  await provisionSliver(s, 'myslice', NODE);
  // An unmanaged node's status, as `sfa node status` records it.
  s.running.engine.setNodeStatus(NODE, { loadAverage: 2.5, check: 'up', at: NOW });
}, 60_000);
afterAll(async () => {
  await s?.close();
});

describe('pages', () => {
  it.each([
    ['/', 'home', ''],
    ['/nodes', 'nodes', ''],
    [`/nodes/${NODE}`, 'node', NODE],
  ])('%s answers the shell of page %s', async (path, page, arg) => {
    const r = await get(path);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await r.text();
    expect(html).toMatch(/^<!doctype html><html lang="en">/);
    expect(html).toContain(`<body data-page="${page}" data-arg="${arg}">`);
    expect(html).toContain('<script type="module" src="/static/app.js"></script>');
  });

  it('an unknown path is 404 with page not-found', async () => {
    const r = await get('/no/such/page');
    expect(r.status).toBe(404);
    expect(await r.text()).toContain('data-page="not-found"');
  });

  it('operator pages without a session are 401 with page login-required', async () => {
    for (const path of ['/slices', '/slices/ple.inria.myslice', '/peers']) {
      const r = await get(path);
      expect(r.status, path).toBe(401);
      expect(await r.text()).toContain('data-page="login-required" data-arg=""');
    }
  });
});

describe('Security: markup in a hostname or slice name', () => {
  it('comes back escaped in data-arg and the title', async () => {
    const r = await get(`/nodes/${encodeURIComponent('<script>alert(1)</script>"x')}`);
    const html = await r.text();
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('data-arg="&lt;script&gt;alert(1)&lt;/script&gt;&quot;x"');
    expect(html).toContain('<title>&lt;script&gt;alert(1)&lt;/script&gt;&quot;x — sfa-ts</title>');
    const cookie = await login();
    const slice = await get(`/slices/${encodeURIComponent("ple.<script>'x")}`, { cookie });
    expect(await slice.text()).toContain('data-page="slice" data-arg="ple.&lt;script&gt;&#39;x"');
  });
});

describe('headers', () => {
  it('every answer carries the security headers and no X-Powered-By', async () => {
    for (const path of [
      '/',
      '/api/nodes',
      '/api/slices',
      '/nope',
      '/static/vendor/countries-110m.json',
    ]) {
      const r = await get(path);
      expect(r.headers.get('content-security-policy'), path).toBe(
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
      );
      expect(r.headers.get('x-content-type-options')).toBe('nosniff');
      expect(r.headers.get('referrer-policy')).toBe('no-referrer');
      expect(r.headers.get('x-frame-options')).toBe('DENY');
      expect(r.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('is read-only: POST /api/nodes is 405', async () => {
    const r = await fetch(`${base}api/nodes`, { method: 'POST' });
    expect(r.status).toBe(405);
    expect(r.headers.get('allow')).toBe('GET, HEAD');
  });

  it('serves the vendored map and TopoJSON decoder', async () => {
    const map = await get('/static/vendor/countries-110m.json');
    expect(map.status).toBe(200);
    expect(((await map.json()) as { type: string }).type).toBe('Topology');
    const js = await get('/static/vendor/topojson-client.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    expect(await js.text()).toContain('topojson');
  });
});

describe('JSON', () => {
  it('/api/home: the authority, totals and client configurations, no email', async () => {
    const r = await get('/api/home');
    const text = await r.text();
    expect(text).not.toMatch(EMAIL);
    const body = JSON.parse(text) as Record<string, Record<string, unknown>>;
    expect(body['authority']).toEqual({
      hrn: 'ple',
      urn: 'urn:publicid:IDN+ple+authority+sa',
      root_fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
      expires: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
      interfaces: {
        registry: s.running.urls.registry,
        aggregate: s.running.urls.aggregate,
        aggregate_v2: s.running.urls.aggregateV2,
        slicemgr: s.running.urls.slicemgr,
        web: base,
      },
    });
    expect(body['totals']).toEqual({
      sites: expect.any(Number),
      nodes: expect.any(Number),
      nodes_up: expect.any(Number),
      slices: 2,
      slivers: 1,
      peers: 0,
    });
    expect(body['sfi_config']).toContain(`registry = ${s.running.urls.registry}`);
    expect(body['omni_config']).toContain('[omni]');
    expect(body['operator']).toBe(false);
    const cookie = await login();
    expect((await json('/api/home', { cookie })).body['operator']).toBe(true);
  });

  it('/api/nodes: every node with its site, state and tags, no email', async () => {
    const r = await get('/api/nodes');
    const text = await r.text();
    expect(text).not.toMatch(EMAIL);
    const body = JSON.parse(text) as { now: string; nodes: Record<string, unknown>[] };
    expect(body.now).toBe('2026-11-25T12:00:00Z');
    expect(body.nodes.length).toBeGreaterThan(10);
    const node = body.nodes.find((n) => n['hostname'] === NODE)!;
    expect(node).toEqual({
      hostname: NODE,
      site: 'inria',
      site_name: expect.any(String),
      country: expect.any(String),
      city: expect.any(String),
      latitude: expect.any(Number),
      longitude: expect.any(Number),
      boot_state: 'boot',
      available: true,
      exclusive: false,
      next_free: null,
      load_average: 2.5,
      slivers: 1,
      reliability: expect.any(Number),
      tags: expect.arrayContaining([['net_max_rate', '10000']]),
    });
    expect(node['reliability']).toBeGreaterThanOrEqual(0);
    expect(node['reliability']).toBeLessThanOrEqual(1);
  });

  it('/api/nodes/:hostname: the node, its history and slivers; 404 for an unknown one', async () => {
    const { status, body } = await json(`/api/nodes/${NODE}`);
    expect(status).toBe(200);
    expect(body['node']).toMatchObject({ hostname: NODE, managed: false });
    expect((body['node'] as { nodegroups: string[] }).nodegroups.length).toBeGreaterThan(0);
    expect(body['history']).toEqual([
      { at: '2026-11-25T12:00:00Z', load_average: 2.5, slivers: 1, available: true },
    ]);
    expect(body['slivers']).toEqual([
      {
        slice_hrn: 'ple.inria.myslice',
        sliver_urn: expect.stringMatching(/^urn:publicid:IDN\+ple\+sliver\+\d+$/),
        state: 'geni_ready',
        expires: expect.any(String),
      },
    ]);
    const missing = await json('/api/nodes/no.such.node');
    expect(missing.status).toBe(404);
    expect(missing.body['error']).toContain('no.such.node');
  });
});

describe('an exclusive node under a lease', () => {
  it('is shown unavailable, free again when its lease ends (next_free)', async () => {
    const cred = await s.sliceCred('other');
    const host = 'node4.inria.fr';
    const end = new Date(NOW.getTime() + 2 * 3_600_000).toISOString().replace('.000', '');
    const rspec =
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3" xmlns:sfa-ts="http://sfa-ts.org/resources/rspec/ext/sfa-ts/1">' +
      `<node client_id="box" component_id="urn:publicid:IDN+ple:inria+node+${host}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="true"><sliver_type name="plab-vserver"/></node>` +
      `<sfa-ts:lease start_time="${NOW.toISOString().replace('.000', '')}" end_time="${end}"><sfa-ts:node component_id="urn:publicid:IDN+ple:inria+node+${host}"/></sfa-ts:lease></rspec>`;
    const a = await s.am('Allocate', 'urn:publicid:IDN+ple:inria+slice+other', cred, rspec, {});
    expect(geniCode(a), String(a['output'])).toBe(0);
    const r = await json('/api/nodes');
    const node = (r.body['nodes'] as Record<string, unknown>[]).find(
      (n) => n['hostname'] === host,
    )!;
    expect(node).toMatchObject({ exclusive: true, next_free: end });
  });
});

describe('operator endpoints', () => {
  it('answer 401 without a session', async () => {
    for (const path of ['/api/slices', '/api/slices/ple.inria.myslice', '/api/peers']) {
      const r = await json(path);
      expect(r.status, path).toBe(401);
      expect(r.body).toEqual({
        error: "operator session required: run `sfa web login` on the authority's machine",
      });
    }
  });

  it('answer with a session made by `sfa web login`', async () => {
    const cookie = await login();
    const slices = await json('/api/slices', { cookie });
    expect(slices.status).toBe(200);
    const list = slices.body['slices'] as Record<string, unknown>[];
    expect(list.map((x) => x['hrn'])).toEqual(['ple.inria.myslice', 'ple.inria.other']);
    expect(list[0]).toEqual({
      hrn: 'ple.inria.myslice',
      urn: SLICE,
      researchers: ['ple.inria.alice'],
      expires: expect.any(String),
      slivers: [
        {
          hostname: NODE,
          sliver_urn: expect.any(String),
          state: 'geni_ready',
          expires: expect.any(String),
        },
      ],
      leases: [],
      ports: [],
    });
    expect(JSON.stringify(slices.body)).not.toMatch(EMAIL);

    const one = await json('/api/slices/ple.inria.myslice', { cookie });
    expect(one.status).toBe(200);
    // Its history: the AM calls that changed it, by whom, from which client program.
    const caller = 'urn:publicid:IDN+ple:inria+user+alice';
    expect(one.body).toEqual({
      slice: list[0],
      history: ['Allocate', 'Provision'].map((action) => ({
        at: '2026-11-25T12:00:00Z',
        action,
        caller,
        client: 'sfa-ts-xmlrpc',
      })),
    });
    expect((await json('/api/slices/ple.inria.nothing', { cookie })).status).toBe(404);

    const peers = await json('/api/peers', { cookie });
    expect(peers).toEqual({ status: 200, body: { peers: [], audit: [] } });
  });

  it('a token works once only', async () => {
    const { token } = createLoginToken(s.dir, { now: NOW });
    const first = await get(`/login?token=${token}`);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/slices');
    expect(first.headers.get('set-cookie')).toMatch(
      /^sfa_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/; Max-Age=43200$/,
    );
    const again = await get(`/login?token=${token}`);
    expect(again.status).toBe(403);
    expect(await again.text()).toContain('data-page="login-failed"');
  });

  it('an expired token fails (the server runs on the fixed clock)', async () => {
    const { token } = createLoginToken(s.dir, {
      now: new Date(NOW.getTime() - 11 * 60_000),
      ttlMinutes: 10,
    });
    const r = await get(`/login?token=${token}`);
    expect(r.status).toBe(403);
    expect((await get('/login?token=not-a-token')).status).toBe(403);
  });

  it('tokens that expired unused are removed when the next one is made', () => {
    const folder = join(s.dir, 'web-tokens');
    createLoginToken(s.dir, { now: new Date(NOW.getTime() - 60 * 60_000), ttlMinutes: 10 });
    const before = readdirSync(folder).length;
    const fresh = createLoginToken(s.dir, { now: NOW });
    const left = readdirSync(folder);
    expect(left.length).toBeLessThan(before + 1);
    expect(left).toContain(createHash('sha256').update(fresh.token).digest('hex'));
  });

  it('POST /logout ends the session', async () => {
    const cookie = await login();
    const out = await fetch(`${base}logout`, {
      method: 'POST',
      headers: { cookie },
      redirect: 'manual',
    });
    expect(out.status).toBe(303);
    expect((await json('/api/slices', { cookie })).status).toBe(401);
  });

  it('`sfa web login` prints a link whose token opens a session', async () => {
    const r = sfa(['web', 'login', '--dir', s.dir, '--ttl-minutes', '5']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const url = new URL(r.stdout.split('\n')[0]!);
    expect(`${url.protocol}//${url.host}${url.pathname}`).toBe('http://localhost:12380/login');
    // The CLI dates the token on the wall clock; the server here runs on NOW, before it.
    const used = await get(`/login${url.search}`);
    expect(used.status).toBe(303);
    expect(sfa(['web', 'login', '--help']).stdout).toContain('--ttl-minutes');
  }, 60_000);
});

describe('a slice changed through the slice manager', () => {
  it('has the researcher, via the slice manager, and the client program in its history', async () => {
    const sm = await aliceSession({ interface: 'slicemgr', slices: ['viasm'] });
    try {
      await provisionSliver(sm, 'viasm', 'node2.inria.fr');
      const rows = sm.running.engine.sliceAudit('urn:publicid:IDN+ple:inria+slice+viasm');
      expect(rows.map((r) => [r.action, r.actor, r.client])).toEqual(
        ['Allocate', 'Provision'].map((action) => [
          action,
          'urn:publicid:IDN+ple:inria+user+alice via urn:publicid:IDN+ple+authority+sa',
          'sfa-ts-xmlrpc',
        ]),
      );
    } finally {
      await sm.close();
    }
  }, 60_000);

  it('Security: a researcher cannot name someone else in the history (sfa_ts_origin is ignored from them)', async () => {
    for (const iface of ['aggregate', 'slicemgr'] as const) {
      const x = await aliceSession({ interface: iface, slices: ['forged'] });
      try {
        const cred = await x.sliceCred('forged');
        const urn = 'urn:publicid:IDN+ple:inria+slice+forged';
        const rspec =
          '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
          `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+node2.inria.fr" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;
        const a = await x.am('Allocate', urn, cred, rspec, {
          sfa_ts_origin: { caller: 'urn:publicid:IDN+ple:inria+user+bob', client: 'not me' },
        });
        expect(geniCode(a), String(a['output'])).toBe(0);
        const [row] = x.running.engine.sliceAudit(urn);
        expect(row!.actor, iface).toMatch(/^urn:publicid:IDN\+ple:inria\+user\+alice\b/);
        expect(row!.client, iface).toBe('sfa-ts-xmlrpc');
      } finally {
        await x.close();
      }
    }
  }, 90_000);
});
