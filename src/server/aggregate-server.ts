/**
 * The aggregate manager on the wire: XML-RPC over HTTPS, v3 on any path, v2 on `/v2` and the
 * node API on `/node`, with the authority's own key and GID as TLS identity, one log line per
 * call.
 */
import type { Server } from 'node:https';
import { callAggregate } from '../aggregate/api.js';
import { isAuthorityCaller, readOrigin } from '../aggregate/options.js';
import type { AmContext } from '../aggregate/context.js';
import { NodeChanges } from '../aggregate/node-changes.js';
import { callNodeApi, isNodePath } from '../aggregate/node-api.js';
import type { ConnectionLimits } from '../xmlrpc/connection-guard.js';
import { createXmlRpcServer } from '../xmlrpc/server.js';
import { logText } from '../text.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { callLine, callerLabel, type Logger } from './log.js';
import { storageFault } from '../store/storage-fault.js';

export interface AggregateServerOptions {
  /** Bounds on connections (sfa.json `connections`). */
  connections?: Partial<ConnectionLimits>;
  ctx: AmContext;
  log: Logger;
  clock?: () => Date;
  /** Called before each call (the peers' trust source refreshes itself there). */
  beforeCall?: (now: Date) => void;
  /** Where node API long polls wait; told after every AM call (default: one of its own). */
  nodeChanges?: NodeChanges;
}

/** AM API methods that never change what a node runs: no need to wake waiting nodes. */
const READ_ONLY = new Set(['GetVersion', 'ListResources', 'Describe', 'Status', 'SliverStatus']);

/** AM calls (v3 and v2) that change a slice: recorded in its history (Shutdown records itself). */
const SLICE_CHANGES = new Set([
  'Allocate',
  'Provision',
  'Renew',
  'Delete',
  'PerformOperationalAction',
  'Update',
  'CreateSliver',
  'RenewSliver',
  'DeleteSliver',
  'UpdateSliver',
]);

/** The slice or sliver URNs a call names first: a slice URN, or a list of URNs. */
function slicesTouched(ctx: AmContext, params: readonly XmlRpcValue[]): string[] {
  const first = params[0];
  const urns = typeof first === 'string' ? [first] : Array.isArray(first) ? first : [];
  try {
    return ctx.engine.slicesNamed(urns.filter((u): u is string => typeof u === 'string'));
  } catch (e) {
    // The store cannot be read: the call itself will say so (DBERROR); no history to write.
    if (storageFault(e)) return [];
    throw e;
  }
}

/** `PerformOperationalAction geni_start` names its action; other calls their method. */
function actionName(method: string, params: readonly XmlRpcValue[]): string {
  const action = params[2];
  return method === 'PerformOperationalAction' && typeof action === 'string'
    ? `${method} ${logText(action, 30)}`
    : method;
}

export function createAggregateServer(opts: AggregateServerOptions): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const nodeChanges =
    opts.nodeChanges ??
    new NodeChanges({
      generationOf: (id) => ctx.engine.nodeGeneration(id),
      generationsOf: (ids) => ctx.engine.nodeGenerations(ids),
      log,
    });
  return createXmlRpcServer({
    key: ctx.identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    cert: ctx.identity.gid.pem,
    log,
    connections: opts.connections,
    handler: async ({ method, params, peer, path, userAgent }) => {
      const started = performance.now();
      const now = clock();
      opts.beforeCall?.(now);
      const caller = {
        peerKey: peer.publicKey,
        peerCertPem: peer.certificate,
        peerChainPem: peer.chainPem,
        now,
      };
      if (isNodePath(path)) {
        const answer = await callNodeApi(ctx, nodeChanges, caller, method, params, clock, log);
        log(
          callLine({
            now,
            iface: 'aggregate/node',
            method,
            caller: answer.node ?? callerLabel(peer.certificate),
            code: answer.code,
            ms: performance.now() - started,
            message: answer.message,
          }),
        );
        if ('fault' in answer.result) throw answer.result.fault;
        return answer.result.value;
      }
      // The slices a changing call names, known before it runs (Delete removes the slivers).
      const touched = SLICE_CHANGES.has(method) ? slicesTouched(ctx, params) : [];
      const result = callAggregate(ctx, caller, path, method, params, log);
      if (!READ_ONLY.has(method)) nodeChanges.notify();
      if (result.code === 0 && touched.length > 0) {
        // Relayed by a slice manager (an authority): its word on who called it, with which
        // client. From anyone else, an origin in the options is ignored.
        const tls = callerLabel(peer.certificate);
        const origin = isAuthorityCaller(tls)
          ? params.map(readOrigin).find((o) => o !== undefined)
          : undefined;
        const actor = origin ? `${logText(origin.caller, 300)} via ${tls}` : tls;
        const client = origin ? (origin.client ?? null) : (userAgent ?? null);
        for (const sliceUrn of touched) {
          try {
            ctx.engine.recordSliceCall(sliceUrn, {
              at: now,
              action: actionName(method, params),
              actor,
              client: client === null ? null : logText(client, 200),
            });
          } catch (e) {
            // The call succeeded: a history row that cannot be written is logged, not failed.
            log(`aggregate: slice history of ${sliceUrn}: ${(e as Error).message}`);
          }
        }
      }
      log(
        callLine({
          now,
          iface: path.match(/v2/i) ? 'aggregate/v2' : 'aggregate',
          method,
          caller: callerLabel(peer.certificate),
          code: result.code,
          ms: performance.now() - started,
          message: result.message,
        }),
      );
      return result.answer;
    },
  });
}
