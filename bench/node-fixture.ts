/**
 * What the node benchmarks share: `count` slices of ple:bench, each with one provisioned sliver
 * on `host`, made through the engine (no HTTPS: the set-up is not what is measured).
 */
import type { AggregateEngine } from '../src/aggregate/engine/engine.js';

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
