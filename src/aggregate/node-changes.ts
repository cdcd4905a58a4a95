/**
 * Long polls of the node API: a GetSlivers call that saw a node's current generation waits here
 * until the generation changes or its wait ends, without holding the event loop.
 *
 * The aggregate calls {@link NodeChanges.notify} after each call that may change state (so a
 * waiting node learns at once); while calls wait, the stored generations are also read every
 * `pollMs` (so changes made by another process, `sfa node …`, are seen too).
 */
import { Busy } from '../faults.js';

export interface NodeChangesOptions {
  /** The stored generation of a node (the engine's `nodeGeneration`). */
  generationOf: (nodeId: number) => number;
  /**
   * The stored generations of many nodes at once (the engine's `nodeGenerations`): one read for
   * every waiting node, not one each, which matters when a read is a round trip to a database
   * server. Nodes absent from the answer are taken as changed.
   */
  generationsOf?: (nodeIds: readonly number[]) => Map<number, number>;
  /** How often the stored generations are read while calls wait. Default 500 ms. */
  pollMs?: number;
  /** Waiting calls per node. Default 4. */
  maxPerNode?: number;
  /** Waiting calls in all. Default 1024. */
  maxTotal?: number;
  /** Told when reading a generation fails (the waiters are then answered). */
  log?: (line: string) => void;
}

interface Waiter {
  readonly seen: number;
  readonly done: (changed: boolean) => void;
}

export class NodeChanges {
  private readonly waiters = new Map<number, Set<Waiter>>();
  private count = 0;
  private poller: NodeJS.Timeout | undefined;
  private readonly pollMs: number;
  private readonly maxPerNode: number;
  private readonly maxTotal: number;

  constructor(private readonly opts: NodeChangesOptions) {
    this.pollMs = opts.pollMs ?? 500;
    this.maxPerNode = opts.maxPerNode ?? 4;
    this.maxTotal = opts.maxTotal ?? 1024;
  }

  /** How many calls wait now. */
  get waiting(): number {
    return this.count;
  }

  /**
   * Wait until node `nodeId`'s generation is no longer `seen`, or `ms` have passed.
   * @returns true if it changed, false at the end of the wait (or when closed).
   * @throws Busy when the node, or the aggregate, already has as many waiting calls as allowed.
   */
  wait(nodeId: number, seen: number, ms: number): Promise<boolean> {
    const set = this.waiters.get(nodeId) ?? new Set<Waiter>();
    if (set.size >= this.maxPerNode) {
      throw new Busy(
        `this node already has ${set.size} GetSlivers calls waiting; run one node manager per node, or wait less (wait_seconds)`,
      );
    }
    if (this.count >= this.maxTotal) {
      throw new Busy(
        'too many GetSlivers calls are waiting at this aggregate; try again shortly, or call without wait_seconds',
      );
    }
    if (this.opts.generationOf(nodeId) !== seen) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), ms);
      timer.unref();
      const waiter: Waiter = { seen, done: (changed) => finish(changed) };
      const finish = (changed: boolean) => {
        clearTimeout(timer);
        if (!set.delete(waiter)) return; // already answered
        this.count--;
        if (set.size === 0) this.waiters.delete(nodeId);
        if (this.count === 0) this.stopPolling();
        resolve(changed);
      };
      set.add(waiter);
      this.waiters.set(nodeId, set);
      this.count++;
      this.startPolling();
    });
  }

  /** Something may have changed: answer every call whose node's generation moved. */
  notify(): void {
    if (this.waiters.size === 0) return;
    if (this.opts.generationsOf) {
      let generations: Map<number, number> | undefined;
      try {
        generations = this.opts.generationsOf([...this.waiters.keys()]);
      } catch (e) {
        this.opts.log?.(`node API: reading the nodes' generations: ${(e as Error).message}`);
      }
      for (const [nodeId, set] of [...this.waiters]) {
        const generation = generations?.get(nodeId);
        for (const w of [...set]) if (generation !== w.seen) w.done(true);
      }
      return;
    }
    for (const [nodeId, set] of [...this.waiters]) {
      let generation: number | undefined;
      try {
        generation = this.opts.generationOf(nodeId);
      } catch (e) {
        // The store is unreadable: answer now (the node calls again) rather than hang.
        this.opts.log?.(`node API: reading node ${nodeId}'s generation: ${(e as Error).message}`);
      }
      for (const w of [...set]) if (generation !== w.seen) w.done(true);
    }
  }

  /** Answer every waiting call (unchanged) and stop polling. */
  close(): void {
    for (const set of [...this.waiters.values()]) for (const w of [...set]) w.done(false);
    this.stopPolling();
  }

  private startPolling(): void {
    if (this.poller) return;
    this.poller = setInterval(() => this.notify(), this.pollMs);
    this.poller.unref();
  }

  private stopPolling(): void {
    if (this.poller) clearInterval(this.poller);
    this.poller = undefined;
  }
}
