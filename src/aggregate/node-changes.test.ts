/**
 * Long polls of the node API, woken by the store's node generations, read for every waiting
 * node at once (one read however many nodes wait: on PostgreSQL each read is a round trip).
 */
import { expect, it } from 'vitest';
import { describeEngine, openEngine } from './engine/engine.fixture.js';
import { NodeChanges } from './node-changes.js';

describeEngine('NodeChanges', () => {
  it('answers the waiting calls of the nodes that changed, reading all their generations at once', async () => {
    const engine = openEngine();
    const id = (host: string) => engine.store.nodeByHostname(host)!.id;
    const reads: number[][] = [];
    const changes = new NodeChanges({
      generationOf: (n) => engine.nodeGeneration(n),
      generationsOf: (ids) => {
        reads.push([...ids]);
        return engine.nodeGenerations(ids);
      },
      pollMs: 60_000,
    });
    const hosts = ['s1.inria.fr', 's2.inria.fr', 's3.upmc.fr'];
    const waits = hosts.map((h) => changes.wait(id(h), engine.nodeGeneration(id(h)), 5_000));
    engine.setNodeTag('s2.inria.fr', 'deployment', 'beta');
    changes.notify();
    expect(reads).toEqual([hosts.map(id)]);
    expect(await waits[1]).toBe(true);
    expect(changes.waiting).toBe(2);
    changes.close();
    expect(await Promise.all([waits[0], waits[2]])).toEqual([false, false]);
  });

  it('answers every waiting call when the generations cannot be read (the node calls again)', async () => {
    const engine = openEngine();
    const node = engine.store.nodeByHostname('s1.inria.fr')!.id;
    const logged: string[] = [];
    const changes = new NodeChanges({
      generationOf: (n) => engine.nodeGeneration(n),
      generationsOf: (ids) => engine.nodeGenerations(ids),
      pollMs: 60_000,
      log: (line) => logged.push(line),
    });
    const wait = changes.wait(node, engine.nodeGeneration(node), 5_000);
    engine.close();
    changes.notify();
    expect(await wait).toBe(true);
    expect(logged).toEqual([expect.stringMatching(/^node API: reading the nodes' generations: /)]);
  });
});
