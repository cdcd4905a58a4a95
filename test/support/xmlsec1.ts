import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from './tmp.js';

/**
 * Verify one signature of a credential with xmlsec1, the tool the Python SFA, geni-tools and
 * ProtoGENI verify with, at a fixed time. Arguments go as an array: never through a shell.
 */
export function xmlsec1Verify(
  xml: string,
  nodeId: string,
  trustedPems: string[],
  at: Date,
): { ok: boolean; output: string } {
  const dir = makeTempDir('xmlsec1');
  try {
    const file = join(dir, 'cred.xml');
    writeFileSync(file, xml);
    const args = ['--verify', '--node-id', nodeId];
    trustedPems.forEach((pem, i) => {
      const p = join(dir, `trusted${i}.pem`);
      writeFileSync(p, pem);
      args.push('--trusted-pem', p);
    });
    // xmlsec1 wants local time as "YYYY-MM-DD HH:MM:SS"; the process runs with TZ=UTC.
    args.push('--verification-time', at.toISOString().slice(0, 19).replace('T', ' '), file);
    const r = spawnSync('xmlsec1', args, { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    removeTempDir(dir);
  }
}
