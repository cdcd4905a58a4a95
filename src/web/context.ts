/**
 * What the web view reads: the same registry context and aggregate engine the APIs use, the
 * slice manager's relay statistics, and the interfaces' URLs. Nothing here writes.
 */
import type { AggregateEngine } from '../aggregate/engine/engine.js';
import type { RegistryContext } from '../registry/context.js';
import type { RelayStats } from '../slicemgr/relay-stats.js';

export interface WebInterfaces {
  registry: string;
  aggregate: string;
  aggregate_v2: string;
  slicemgr: string;
  web: string;
}

export interface WebContext {
  readonly registry: RegistryContext;
  readonly engine: AggregateEngine;
  readonly relayStats: RelayStats;
  /** Filled in once every server listens. */
  readonly urls: WebInterfaces;
  /** The authority's data folder (login tokens). */
  readonly dir: string;
}
