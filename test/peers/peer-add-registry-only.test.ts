/**
 * `sfa peer add` for a peer that has only a registry or a clearinghouse: `--aggregate` is
 * optional; the peer is trusted, and the slice manager relays to none of its aggregates.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { paths } from '../../src/config.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';

let base: string;
let ple: string;
let plc: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sfa-peer-registry-only-'));
  ple = join(base, 'ple');
  plc = join(base, 'plc');
  await initAuthority({ dir: ple, authority: 'ple', now: NOW, demoInventory: false });
  await initAuthority({ dir: plc, authority: 'plc', now: NOW, demoInventory: false });
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('sfa peer add without --aggregate', () => {
  it('adds a registry-only peer with its root', () => {
    const r = sfa([
      'peer',
      'add',
      'plc',
      '--registry',
      'https://registry.plc.example:12345/',
      '--root',
      paths.gid(plc, 'plc'),
      '--dir',
      ple,
    ]);
    expect(r.stderr).not.toMatch(/required option/);
    expect(r.status).toBe(0);
    const reg = openRegistry(ple);
    try {
      const peer = reg.ctx.peerStore.get('plc');
      expect(peer?.registryUrl).toBe('https://registry.plc.example:12345/');
      expect(peer?.aggregateUrls).toEqual([]);
    } finally {
      reg.close();
    }
  });
});
