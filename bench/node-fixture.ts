/**
 * What the node benchmarks share: `count` slices of ple:bench, each with one provisioned sliver
 * on `host`, made through the engine (no HTTPS: the set-up is not what is measured).
 */
import type { AggregateEngine } from '../src/aggregate/engine/engine.js';
import { writeNodeFolder } from '../test/nodemanager/support.js';
import type { AliceSession } from '../test/support/authority.js';
import { NOW } from '../test/support/paths.js';

export function provisionOnOneNode(
  engine: AggregateEngine,
  host: string,
  count: number,
  now: Date,
): void {
  const expires = new Date(now.getTime() + 7 * 86_400_000);
  for (let i = 0; i < count; i++) {
    const slice = `urn:publicid:IDN+ple:bench+slice+s${i}`;
    const users = [
      { urn: `urn:publicid:IDN+ple:bench+user+u${i}`, keys: [`ssh-rsa AAAA${i} u${i}`] },
    ];
    engine.allocate(slice, { nodes: [{ clientId: 'n', hostname: host }] }, { now, expires, users });
    engine.provision([slice], { now, credentialExpires: expires });
  }
}

/**
 * The node folder of the demo inventory's node1.inria.fr (site ple.inria) for an authority
 * served by `s`, as `sfa node credentials` writes it, valid from a day before the fixed clock.
 */
export async function writeDemoNodeFolder(s: AliceSession, nodeDir: string): Promise<void> {
  await writeNodeFolder(
    s.dir,
    s.running.urls.aggregate,
    'ple.inria.node1\\.inria\\.fr',
    'node1.inria.fr',
    nodeDir,
    new Date(NOW.getTime() - 86_400_000),
  );
}
