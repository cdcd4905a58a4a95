/**
 * Scoped write transactions for calls on one slice: they hold the slice and the nodes it has
 * slivers on, and run beside calls on other slices and nodes (several front-ends on one
 * PostgreSQL store). What they may read to decide, and write, lies within what they hold:
 * the slice's rows, and the slivers, leases and ports of those nodes. The store's triggers move
 * the generations of exactly those nodes. On SQLite every write transaction holds the whole
 * file: there, scoped and exclusive are the same.
 */
import { Xrn } from '../../credentials/xrn.js';
import type { SliceRow } from '../../store/aggregate-store.js';
import type { EngineContext } from './context.js';
import type { Held } from './reap.js';
import { sliverIdOf } from './urns.js';

/**
 * Hold the slice (by its login name, which every spelling of its URN shares, and no two slices
 * may have) and the nodes it has slivers on, plus `moreNodes`, in the current (scoped)
 * transaction. The slice comes first, alone: while it is held, its slivers cannot move, so the
 * nodes read next are all of them.
 * @returns what is held: the nodes' ids, in order, and the login name.
 */
export function holdSlice(
  ctx: EngineContext,
  loginName: string,
  moreNodes: () => readonly number[] = () => [],
): Held {
  const { store } = ctx;
  store.lockScope({ loginNames: [loginName] });
  // Read again under the lock: another call may have made the slice meanwhile.
  const current = store.sliceByLoginName(loginName);
  const ids = new Set([...(current ? store.nodeIdsOfSlice(current.id) : []), ...moreNodes()]);
  const nodes = [...ids].sort((a, b) => a - b);
  store.lockScope({ nodeIds: nodes });
  return { nodes, loginNames: [loginName] };
}

/** The slice that slice or sliver URNs name (the first that names a known one), read as is. */
function sliceNamed(ctx: EngineContext, urns: readonly unknown[]): SliceRow | undefined {
  for (const urn of urns) {
    if (typeof urn !== 'string') continue;
    try {
      const xrn = Xrn.fromUrn(urn);
      if (xrn.type === 'slice') return ctx.store.sliceByUrn(xrn.urn);
      if (xrn.type === 'sliver') {
        const sliver = ctx.store.sliverById(sliverIdOf(ctx.policy.authority, xrn));
        return sliver && ctx.store.sliceById(sliver.sliceId);
      }
    } catch {
      // Not a URN of ours: the call's own checks say so.
    }
  }
  return undefined;
}

/**
 * Run `fn` as a write transaction scoped to the slice that `urns` name; `fn` gets what is
 * held (reap only that). URNs that name no known slice (the call will fail, or names a slice
 * being made meanwhile) take the whole store instead: `fn` then gets undefined.
 */
export function sliceTransaction<T>(
  ctx: EngineContext,
  urns: readonly unknown[],
  fn: (held: Held | undefined) => T,
): T {
  const slice = Array.isArray(urns) ? sliceNamed(ctx, urns) : undefined;
  if (!slice) return ctx.store.transaction(() => fn(undefined));
  return ctx.store.transaction(() => fn(holdSlice(ctx, slice.loginName)), 'scoped');
}
