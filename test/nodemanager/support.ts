/**
 * What the node manager's tests share: a node folder as `sfa node credentials` writes it, the
 * real `sfa` command run without blocking, and waiting for the system to reach a state.
 */
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { issueNodeIdentity } from '../../src/registry/node-identity.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { writeFileAtomic } from '../../src/store/atomic-file.js';
import type { AliceSession } from '../support/authority.js';
import { provisionSliver } from '../support/slivers.js';
import { NOW, ROOT } from '../support/paths.js';

/**
 * What `sfa node credentials HOST --out DIR` writes for node `hrn` (`hostname`) of the
 * authority in `authorityDir`, issued at `now` (the command itself stamps the wall clock), with
 * `aggregateUrl`'s node API as the aggregate.
 */
export async function writeNodeFolder(
  authorityDir: string,
  aggregateUrl: string,
  hrn: string,
  hostname: string,
  out: string,
  now: Date,
): Promise<void> {
  const reg = openRegistry(authorityDir);
  try {
    const { keyPem, gid } = await issueNodeIdentity(reg.ctx, hrn, now);
    mkdirSync(out, { recursive: true, mode: 0o700 });
    writeFileAtomic(join(out, 'node.pkey'), keyPem, { mode: 0o600 });
    writeFileAtomic(join(out, 'node.gid'), gid.pem);
    writeFileAtomic(join(out, 'root.gid'), reg.ctx.keys.get('ple').gid.pem);
    const config = { hostname, hrn, urn: gid.urn, aggregate: `${aggregateUrl}node` };
    writeFileAtomic(join(out, 'node.json'), `${JSON.stringify(config, null, 2)}\n`);
  } finally {
    reg.close();
  }
}

/** The node folder of `host` of site ple.inria, for the test authority of `session`. */
export function writeNodeDir(session: AliceSession, host: string, out: string): Promise<void> {
  const hrn = `ple.inria.${host.replace(/\./g, '\\.')}`;
  const issued = new Date(NOW.getTime() - 86_400_000);
  return writeNodeFolder(session.dir, session.running.urls.aggregate, hrn, host, out, issued);
}

/** The real `sfa` command, run without blocking (the authority is served by this process). */
export function sfaAsync(
  args: string[],
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        encoding: 'utf8',
        timeout: 60_000,
      },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        resolve({ status: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
      },
    );
  });
}

/** Poll `check` every 50 ms until it holds; throws naming `what` after `ms`. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  ms = 10_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Make every folder from `dir` up to `/` searchable by others (o+x, g+x): a sliver's root, a
 * host uid of its own, walks down to its folders in the node folder. Returns what puts the
 * modes back.
 */
export function searchableAbove(dir: string): () => void {
  const changed: [string, number][] = [];
  for (let d = dir; d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if ((mode & 0o001) === 0) {
      changed.push([d, mode]);
      chmodSync(d, mode | 0o011);
    }
  }
  return () => {
    for (const [d, mode] of changed.reverse()) chmodSync(d, mode);
  };
}

/** Allocate, provision and start a sliver (see test/support/slivers.ts). */
export async function startSliver(
  session: AliceSession,
  slice: string,
  host: string,
  attributes: Record<string, string> | [string, string][] = {},
): Promise<void> {
  await provisionSliver(session, slice, host, { attributes, start: true });
}
