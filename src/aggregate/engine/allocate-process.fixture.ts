/**
 * A process allocating against a shared aggregate database, for concurrency.test.ts: several
 * of these race for the same exclusive nodes, ports and capacity.
 *
 *   race <db> <tag> <n>  print `ready`, wait for a line on stdin, then for i in 0..n-1, in an
 *                        order shuffled by the tag (so that racers meet all over the list):
 *                        allocate slice <tag>e<i> on exclusive node x<i>.race.org,
 *                        slice <tag>p<i> on ports.race.org with port tcp:<8000+i>,
 *                        slice <tag>c<i> on cap.race.org;
 *                        print one JSON line {won: {exclusive, ports, capacity}, lost: codes}
 */
import { writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isGeniFault } from '../../faults.js';
import { AggregateEngine } from './engine.js';
import type { Inventory } from './inventory.js';

export const RACE_NOW = new Date('2026-11-25T12:00:00Z');
const EXPIRES = new Date('2026-12-25T12:00:00Z');

const say = (line: string): void => void writeSync(1, `${line}\n`);
const pause = new Int32Array(new SharedArrayBuffer(4));
/**
 * Between attempts, outside any transaction: SQLite's busy handler lets waiters sleep, so a
 * racer writing back to back would take the lock again and again and the race would be a queue.
 */
const breathe = (): void => void Atomics.wait(pause, 0, 0, 2);

/** The inventory the racers share: n exclusive nodes, a port node, a node with n slots. */
export function raceInventory(n: number): Inventory {
  return {
    sites: [{ loginBase: 'race', name: 'Race' }],
    nodes: [
      ...Array.from({ length: n }, (_, i) => ({
        hostname: `x${i}.race.org`,
        site: 'race',
        exclusive: true,
      })),
      { hostname: 'ports.race.org', site: 'race', maxSlivers: 10_000, cpuShares: 10_000 },
      { hostname: 'cap.race.org', site: 'race', maxSlivers: n, cpuShares: 10_000 },
    ],
  };
}

export interface RaceResult {
  won: { exclusive: number[]; ports: number[]; capacity: number[] };
  /** GENI codes of the refusals, by kind (anything else is a bug: a message is recorded). */
  lost: { exclusive: number[]; ports: number[]; capacity: number[] };
  errors: string[];
}

/** 0..n-1 in an order fixed by `seed` (Fisher-Yates over a small LCG). */
export function shuffled(seed: string, n: number): number[] {
  let state = [...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
  const next = (): number => (state = (state * 1_103_515_245 + 12_345) >>> 0);
  const out = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function race(engine: AggregateEngine, tag: string, n: number): RaceResult {
  const result: RaceResult = {
    won: { exclusive: [], ports: [], capacity: [] },
    lost: { exclusive: [], ports: [], capacity: [] },
    errors: [],
  };
  const attempt = (kind: keyof RaceResult['won'], i: number, slice: string, node: object): void => {
    try {
      engine.allocate(
        `urn:publicid:IDN+ple:race+slice+${slice}`,
        { nodes: [{ clientId: 'n', ...node }] },
        { now: RACE_NOW, expires: EXPIRES },
      );
      result.won[kind].push(i);
    } catch (e) {
      if (isGeniFault(e)) result.lost[kind].push(e.geniCode);
      else result.errors.push(`${kind} ${i}: ${String(e)}`);
    }
    breathe();
  };
  for (const i of shuffled(tag, n)) {
    attempt('exclusive', i, `${tag}e${i}`, { hostname: `x${i}.race.org` });
    attempt('ports', i, `${tag}p${i}`, {
      hostname: 'ports.race.org',
      attributes: [{ name: 'ports', value: `tcp:${8000 + i}` }],
    });
    attempt('capacity', i, `${tag}c${i}`, { hostname: 'cap.race.org' });
  }
  return result;
}

function main(argv: string[]): void {
  const [mode, path, tag, n] = argv;
  if (mode !== 'race' || !path || !tag || !n) {
    throw new Error('usage: allocate-process.fixture.ts race <db> <tag> <n>');
  }
  const engine = AggregateEngine.open(path);
  say('ready');
  process.stdin.once('data', () => {
    const result = race(engine, tag, Number(n));
    engine.close();
    say(JSON.stringify(result));
    process.exit(0);
  });
}

// Only when run as a script: the test imports the helpers above.
if (process.argv[1] && pathToFileURL(resolve(process.argv[1])).href === import.meta.url) {
  main(process.argv.slice(2));
}
