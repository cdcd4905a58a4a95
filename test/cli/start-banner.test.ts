/**
 * The `npm start` banner tells a newcomer how to become a researcher of the authority: the
 * commands it prints are run here as printed (in a HOME of the test's own), and then the new
 * user's sfi bootstrap works against the running registry.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBanner } from '../../src/cli/banner.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import { bootstrapUser, makeAuthorityDir } from '../support/authority.js';
import { ROOT } from '../support/paths.js';

let dir: string;
let home: string;
let running: RunningAuthority;
const savedHome = process.env['HOME'];

beforeAll(async () => {
  dir = (await makeAuthorityDir()).dir;
  home = mkdtempSync(join(tmpdir(), 'sfa-banner-home-'));
  // The wall clock, like the CLI the banner's commands run: the user's GID is made now.
  running = await startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
    log: () => {},
  });
});
afterAll(async () => {
  process.env['HOME'] = savedHome;
  await running?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

describe('the npm start banner', () => {
  it('prints commands that, run as printed, make a researcher who can use sfi here', async () => {
    process.env['HOME'] = home;
    const banner = startBanner(running, dir, 'newcomer');
    process.env['HOME'] = savedHome;
    const commands = banner
      .split('\n')
      .filter((l) => /^ {2}(mkdir|openssl|npx sfa) /.test(l))
      .map((l) => l.trim());
    expect(commands).toHaveLength(4);
    expect(commands[2]).toBe(
      `npx sfa user add ple.newcomer --email newcomer@example.org --key ${home}/.sfi/ple.newcomer.pub --dir ${dir}`,
    );
    for (const c of commands) {
      execFileSync('bash', ['-c', c], {
        cwd: ROOT,
        env: { ...process.env, HOME: home },
        stdio: 'pipe',
      });
    }
    expect(banner).toContain(`user = ple.newcomer`);
    expect(banner).toContain(`sm = ${running.urls.slicemgr.replace('https://', 'http://')}`);

    // The key the banner had made is the user's identity at the registry now.
    const keyPem = readFileSync(join(home, '.sfi/ple.newcomer.pkey'), 'utf8');
    const { cred } = await bootstrapUser(running.urls.registry, {
      hrn: 'ple.newcomer',
      keyPem,
    } as Parameters<typeof bootstrapUser>[1]);
    expect(cred).toContain('<owner_urn>urn:publicid:IDN+ple+user+newcomer</owner_urn>');
  });
});
