/**
 * Authorities as separate processes: `sfa serve` on loopback with free ports, its URLs read
 * from what it prints.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface ProcessAuthority {
  hrn: string;
  dir: string;
  child: ChildProcess;
  urls: { registry: string; aggregate: string; slicemgr: string; web: string };
  log: string[];
  stop(): Promise<void>;
}

/** `sfa serve` on `dir`, with `extraArgs` after the usual ones (`--reap-interval 1`…). */
export function spawnAuthority(
  hrn: string,
  dir: string,
  extraArgs: readonly string[] = [],
): Promise<ProcessAuthority> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src/cli/main.ts'),
      'serve',
      '--dir',
      dir,
      '--listen',
      '127.0.0.1',
      '--registry-port',
      '0',
      '--aggregate-port',
      '0',
      '--slicemgr-port',
      '0',
      '--web-port',
      '0',
      ...extraArgs,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const log: string[] = [];
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      // Not left running: it would hold its data folder, which the test removes.
      child.kill('SIGKILL');
      reject(new Error(`${hrn} did not start: ${out} ${log.join('\n')}`));
    }, 30_000);
    child.stderr!.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter(Boolean)));
    child.on('exit', (code) => reject(new Error(`${hrn} exited with ${code}: ${log.join('\n')}`)));
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const registry = /registry:\s+(https:\/\/\S+)/.exec(out)?.[1];
      const aggregate = /aggregate \(v3\):\s+(https:\/\/\S+)/.exec(out)?.[1];
      const slicemgr = /slice manager:\s+(https:\/\/\S+)/.exec(out)?.[1];
      const web = /web view:\s+(http:\/\/\S+)/.exec(out)?.[1];
      if (registry && aggregate && slicemgr && web) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({
          hrn,
          dir,
          child,
          urls: { registry, aggregate, slicemgr, web },
          log,
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null || child.signalCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGKILL');
            }),
        });
      }
    });
  });
}
