/**
 * What every operation works with: the store, the policy, and where to report what a write
 * operation reaped on the way.
 */
import type { AggregateStore } from '../../store/aggregate-store.js';
import type { AggregatePolicy } from './policy.js';
import type { ReapResult } from './reap.js';

export interface EngineContext {
  readonly store: AggregateStore;
  readonly policy: AggregatePolicy;
  /** Told, after the commit, what an Allocate, Provision or Renew reaped before deciding. */
  readonly onReap?: (reaped: ReapResult) => void;
}
