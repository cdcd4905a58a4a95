/**
 * The web view in a real browser (headless Chromium through puppeteer-core) against a running
 * authority with the demo inventory, a slice with slivers, and a node's reported history: pages
 * load without console errors; the nodes table shows, filters and sorts the inventory; the map
 * draws the sites; a node's chart shows its history; operator pages refuse without a session
 * and work with one; names and tags carrying `<script>` are shown as text. With
 * SFA_SCREENSHOTS=DIR, the nodes and node pages are saved there (the README's screenshots).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLoginToken } from '../../src/web/login-tokens.js';
import { aliceSession, type AliceSession } from '../support/authority.js';
import { launchChromium, missingChromium, watchedPage } from '../support/chromium.js';
import { NOW } from '../support/paths.js';
import { provisionSliver } from '../support/slivers.js';

const missing = missingChromium();
const REPORTED = 'node1.inria.fr';
const EVIL = '<script>alert(1)</script>';

let s: AliceSession | undefined;
let browser: Browser | undefined;
let base: string;

function requireChromium(): void {
  if (missing !== undefined) throw new Error(missing);
}

/** Open `path`; the page and what went wrong on it (console errors, failed requests). */
async function open(path: string): Promise<{ page: Page; problems: string[] }> {
  const w = await watchedPage(browser!);
  await w.page.goto(`${base}${path.replace(/^\//, '')}`, { waitUntil: 'networkidle0' });
  return w;
}

/** The hostnames of the nodes table's rows, in order. */
function rows(page: Page): Promise<string[]> {
  return page.$$eval('#nodes-table tbody tr[data-hostname]', (trs) =>
    trs.map((tr) => (tr as HTMLElement).dataset['hostname']!),
  );
}

async function loginAsOperator(page: Page): Promise<void> {
  const { url } = createLoginToken(s!.dir, { now: NOW });
  const u = new URL(url);
  await page.goto(`${base}login${u.search}`, { waitUntil: 'networkidle0' });
}

beforeAll(async () => {
  requireChromium();
  s = await aliceSession();
  base = s.running.urls.web;
  const p = await provisionSliver(s, 'myslice', REPORTED);
  const sliverUrn = String(
    ((p['value'] as Record<string, unknown>)['geni_slivers'] as Record<string, unknown>[])[0]![
      'geni_sliver_urn'
    ],
  );
  // A node manager's reports, an hour apart, the last one now (the engine records them as the
  // node API does): the sliver reported running from the third on.
  const engine = s.running.engine;
  const node = engine.store.nodeByHostname(REPORTED)!;
  for (let i = 0; i < 6; i++) {
    engine.recordNodeReport(
      node.id,
      {
        loadAverage: 0.5 + i / 4,
        memoryTotal: 8e9,
        memoryFree: 4e9,
        uptime: 3600 * (i + 1),
        slivers: i < 2 ? [] : [{ sliverUrn, state: 'running' }],
      },
      new Date(NOW.getTime() - (5 - i) * 3_600_000),
    );
  }
  // Names from outside: a tag carrying markup.
  engine.setNodeTag('node2.inria.fr', 'note', EVIL);
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await s?.close();
}, 60_000);

describe('the web view in Chromium', () => {
  it('has Chromium (else: what to install)', () => {
    expect(missing).toBeUndefined();
  });

  it('home: the authority, its root fingerprint and totals, without console errors', async () => {
    requireChromium();
    const { page, problems } = await open('/');
    expect(await page.$eval('#authority-hrn', (e) => e.textContent)).toContain('ple');
    expect(await page.$eval('#root-fingerprint', (e) => e.textContent)).toMatch(
      /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/,
    );
    expect(await page.$eval('#totals', (e) => e.textContent)).toMatch(/36/);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('nodes: the table shows the inventory’s 36 nodes and the map its sites', async () => {
    requireChromium();
    const { page, problems } = await open('/nodes');
    await page.waitForSelector('#nodes-table tbody tr[data-hostname]');
    expect(await rows(page)).toHaveLength(36);
    expect(await page.$eval('#match-count', (e) => e.textContent)).toMatch(/36 of 36/);
    await page.waitForSelector('#map path.country');
    expect((await page.$$('#map path.country')).length).toBeGreaterThan(100);
    // 9 sites, each with coordinates in the demo inventory.
    expect((await page.$$('#map circle.site')).length).toBe(9);
    expect(problems).toEqual([]);
    if (process.env['SFA_SCREENSHOTS']) {
      mkdirSync(process.env['SFA_SCREENSHOTS'], { recursive: true });
      await page.setViewport({ width: 1280, height: 900 });
      await page.screenshot({ path: join(process.env['SFA_SCREENSHOTS'], 'nodes.png') });
    }
    await page.close();
  }, 60_000);

  it('nodes: filters by site, country, availability, load and reliability without reloading', async () => {
    requireChromium();
    const { page, problems } = await open('/nodes');
    await page.waitForSelector('#nodes-table tbody tr[data-hostname]');
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
    await page.type('#filter-site', 'inria');
    await page.waitForFunction(
      () => !/^36 of/.test(document.querySelector('#match-count')!.textContent ?? ''),
    );
    const inria = await rows(page);
    expect(inria.length).toBeGreaterThan(0);
    expect(inria.every((h) => h.endsWith('.inria.fr'))).toBe(true);
    // Still the same page: nothing reloaded.
    expect(await page.evaluate(() => (window as unknown as { marker: number }).marker)).toBe(42);
    await page.$eval('#filter-site', (e) => ((e as HTMLInputElement).value = ''));
    await page.$eval('#filter-site', (e) => e.dispatchEvent(new Event('input', { bubbles: true })));
    const countries = await page.$$eval('#filter-country option', (os) =>
      os.map((o) => (o as HTMLOptionElement).value).filter((v) => v !== ''),
    );
    expect(countries.length).toBeGreaterThan(1);
    await page.select('#filter-country', countries[0]!);
    await page.waitForFunction(
      () => !/^36 of/.test(document.querySelector('#match-count')!.textContent ?? ''),
    );
    const inCountry = await page.$$eval('#nodes-table tbody tr[data-hostname]', (trs) =>
      trs.map((tr) => tr.querySelectorAll('td')[2]!.textContent),
    );
    expect(new Set(inCountry).size).toBe(1);
    await page.select('#filter-country', '');
    await page.click('#filter-available');
    await page.waitForFunction(
      () => !/^36 of/.test(document.querySelector('#match-count')!.textContent ?? ''),
    );
    const available = await page.$$eval('#nodes-table tbody tr[data-hostname]', (trs) =>
      trs.map((tr) => tr.textContent ?? ''),
    );
    expect(available.every((t) => !/\bdown\b/.test(t))).toBe(true);
    await page.click('#filter-available');
    await page.type('#filter-max-load', '1');
    await page.waitForFunction(
      () => !/^36 of/.test(document.querySelector('#match-count')!.textContent ?? ''),
    );
    const loads = await page.$$eval('#nodes-table tbody tr[data-hostname]', (trs) =>
      trs.map((tr) => Number(tr.querySelectorAll('td')[3]!.textContent)),
    );
    expect(loads.every((l) => l <= 1)).toBe(true);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('nodes: sorts by a column, ascending then descending', async () => {
    requireChromium();
    const { page, problems } = await open('/nodes');
    await page.waitForSelector('#nodes-table tbody tr[data-hostname]');
    const loads = () =>
      page.$$eval('#nodes-table tbody tr[data-hostname]', (trs) =>
        trs.map((tr) => Number(tr.querySelectorAll('td')[3]!.textContent || 'NaN')),
      );
    await page.click('th[data-sort="load_average"]');
    const up = (await loads()).filter((n) => !Number.isNaN(n));
    expect(up).toEqual([...up].sort((a, b) => a - b));
    expect(
      await page.$eval('th[data-sort="load_average"]', (e) => e.getAttribute('aria-sort')),
    ).toBe('ascending');
    await page.click('th[data-sort="load_average"]');
    const down = (await loads()).filter((n) => !Number.isNaN(n));
    expect(down).toEqual([...down].sort((a, b) => b - a));
    const hosts = async () => rows(page);
    await page.click('th[data-sort="hostname"]');
    const byName = await hosts();
    expect(byName).toEqual([...byName].sort());
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('a tag carrying <script> is shown as text, and runs nothing', async () => {
    requireChromium();
    const { page, problems } = await open('/nodes');
    await page.waitForSelector('tr[data-hostname="node2.inria.fr"]');
    const text = await page.$eval('tr[data-hostname="node2.inria.fr"]', (e) => e.textContent);
    expect(text).toContain(`note=${EVIL}`);
    expect(await page.$$('#nodes-table script')).toHaveLength(0);
    const node = await open('/nodes/node2.inria.fr');
    await node.page.waitForSelector('#tags-table');
    expect(await node.page.$eval('#tags-table', (e) => e.textContent)).toContain(EVIL);
    expect([...problems, ...node.problems]).toEqual([]);
    await node.page.close();
    await page.close();
  }, 60_000);

  it('a node: its reported history as charts, its tags, nodegroups and slivers', async () => {
    requireChromium();
    const { page, problems } = await open(`/nodes/${REPORTED}`);
    await page.waitForSelector('#chart-load polyline');
    expect(await page.$eval('h1', (e) => e.textContent)).toContain(REPORTED);
    const points = await page.$eval('#chart-load polyline', (e) =>
      (e.getAttribute('points') ?? '').trim().split(/\s+/),
    );
    expect(points).toHaveLength(6);
    expect(await page.$$('#chart-slivers polyline')).toHaveLength(1);
    expect(await page.$eval('#slivers-table', (e) => e.textContent)).toContain('myslice');
    expect(problems).toEqual([]);
    if (process.env['SFA_SCREENSHOTS']) {
      await page.setViewport({ width: 1280, height: 900 });
      await page.screenshot({ path: join(process.env['SFA_SCREENSHOTS'], 'node.png') });
    }
    await page.close();
  }, 60_000);

  it('operator pages refuse without a session, and work with one from `sfa web login`', async () => {
    requireChromium();
    for (const path of ['/slices', '/peers', '/slices/ple.inria.myslice']) {
      const { page, problems } = await open(path);
      await page.waitForSelector('#login-help');
      expect(await page.$eval('#login-help', (e) => e.textContent)).toContain('sfa web login');
      expect(await page.$$('#slices-table, #peers-table')).toHaveLength(0);
      // The 401 itself is the browser's only complaint.
      expect(problems.filter((p) => !/401/.test(p))).toEqual([]);
      await page.close();
    }
    const { page, problems } = await open('/');
    await loginAsOperator(page);
    await page.goto(`${base}slices`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#slices-table tr[data-slice]');
    expect(await page.$eval('#slices-table', (e) => e.textContent)).toContain('ple.inria.myslice');
    await page.goto(`${base}slices/ple.inria.myslice`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#history-table');
    expect(await page.$eval('#history-table', (e) => e.textContent)).toMatch(/[Aa]llocate/);
    await page.goto(`${base}peers`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#peers-table');
    // The session cookie is HttpOnly: the page's scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(problems).toEqual([]);
    await page.close();
  }, 90_000);

  it('a slice name carrying <script> in the address is shown as text', async () => {
    requireChromium();
    const { page, problems } = await open('/');
    await loginAsOperator(page);
    await page.goto(`${base}slices/${encodeURIComponent(EVIL)}`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('h1');
    expect(await page.$eval('h1', (e) => e.textContent)).toContain(EVIL);
    // The slice does not exist (404 is the browser's only complaint); no script ran.
    expect(problems.filter((p) => !/404/.test(p))).toEqual([]);
    await page.close();
  }, 60_000);
});
