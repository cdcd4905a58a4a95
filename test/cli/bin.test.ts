/**
 * `npm ci && npx sfa --help` in a fresh clone: the bin points into dist/, which `npm ci` builds
 * (the `prepare` script), so the command is there without a separate build step.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/paths.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  scripts: Record<string, string>;
};

describe('npx sfa after npm ci', () => {
  it('is built on install (prepare) where the bin points', () => {
    expect(pkg.scripts['prepare']).toBe('npm run build');
    expect(pkg.bin['sfa']).toBe('dist/cli/main.js');
    const bin = join(ROOT, pkg.bin['sfa']!);
    expect(
      existsSync(bin),
      'dist/ is missing: npm ci builds it (prepare); after changing sources, npm run build',
    ).toBe(true);
    // tsc writes 0644; npm does not make the root package's own bin executable: the build does.
    expect(statSync(bin).mode & 0o111, `${bin} is not executable`).toBe(0o111);
  });

  it('answers --help', () => {
    const out = execFileSync('npx', ['--no-install', 'sfa', '--help'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    expect(out).toMatch(/^Usage: sfa \[options\] \[command\]/);
    expect(out).toContain('init');
    expect(out).toContain('start');
  });
});
