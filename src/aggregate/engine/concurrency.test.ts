import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { AggregateStore } from '../../store/aggregate-store.js';
import { raceInventory, RACE_NOW, type RaceResult } from './allocate-process.fixture.js';
import { describeEngine, freshLocation, openEngine } from './engine.fixture.js';

const FIXTURE = fileURLToPath(new URL('./allocate-process.fixture.ts', import.meta.url));
/** The checkout, where `tsx` resolves (computed here: the build's rootDir is src). */
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

interface Racer {
  ready: Promise<void>;
  result: Promise<RaceResult>;
  go(): void;
}

function startRacer(path: string, tag: string, n: number): Racer {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, 'race', path, tag, `${n}`], {
    cwd: ROOT,
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const lines: string[] = [];
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    if (line === 'ready') onReady();
  });
  const result = new Promise<RaceResult>((resolve, reject) =>
    child.on('exit', (code) => {
      const last = lines.at(-1);
      if (code !== 0 || !last || last === 'ready') {
        reject(new Error(`racer ${tag} exited with ${code}: ${stderr}`));
      } else resolve(JSON.parse(last) as RaceResult);
    }),
  );
  return { ready, result, go: () => child.stdin.write('go\n') };
}

describeEngine('Security: concurrent Allocates never double-book', () => {
  it('gives each exclusive node, port and slot to exactly one of three processes', async () => {
    const n = 25;
    const path = freshLocation();
    openEngine({ path, inventory: raceInventory(n) }).close();

    const racers = ['ra', 'rb', 'rc'].map((tag) => startRacer(path, tag, n));
    await Promise.all(racers.map((r) => r.ready));
    for (const r of racers) r.go();
    const results = await Promise.all(racers.map((r) => r.result));

    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = (kind: keyof RaceResult['won']) =>
      results.flatMap((r) => r.won[kind]).sort((a, b) => a - b);
    const every = Array.from({ length: n }, (_, i) => i);
    // Each node and port won once, by whoever came first; the others refused.
    expect(all('exclusive')).toEqual(every);
    expect(all('ports')).toEqual(every);
    expect(all('capacity')).toHaveLength(n);
    expect(new Set(results.flatMap((r) => r.lost.exclusive))).toEqual(new Set([7]));
    expect(new Set(results.flatMap((r) => r.lost.ports))).toEqual(new Set([7]));
    expect(new Set(results.flatMap((r) => r.lost.capacity))).toEqual(new Set([26]));

    // And the database agrees.
    const store = AggregateStore.open(path);
    try {
      for (let i = 0; i < n; i++) {
        const node = store.nodeByHostname(`x${i}.race.org`)!;
        expect(store.liveSliversOnNode(node.id, RACE_NOW)).toHaveLength(1);
        expect(store.liveLeasesOnNode(node.id, RACE_NOW)).toHaveLength(1);
      }
      const cap = store.nodeByHostname('cap.race.org')!;
      expect(store.liveSliversOnNode(cap.id, RACE_NOW)).toHaveLength(n);
      const ports = store.portsOnNode(store.nodeByHostname('ports.race.org')!.id, RACE_NOW);
      expect(ports.map((p) => p.from).sort((a, b) => a - b)).toEqual(every.map((i) => 8000 + i));
    } finally {
      store.close();
    }
  });
});
