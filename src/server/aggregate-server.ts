/**
 * The aggregate manager on the wire: XML-RPC over HTTPS, v3 on any path, v2 on `/v2` and the
 * node API on `/node`, with the authority's own key and GID as TLS identity, one log line per
 * call.
 */
import type { Server } from 'node:https';
import { callAggregate } from '../aggregate/api.js';
import type { AmContext } from '../aggregate/context.js';
import { NodeChanges } from '../aggregate/node-changes.js';
import { callNodeApi, isNodePath } from '../aggregate/node-api.js';
import type { ConnectionLimits } from '../xmlrpc/connection-guard.js';
import { createXmlRpcServer } from '../xmlrpc/server.js';
import { callLine, callerLabel, type Logger } from './log.js';

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

export function createAggregateServer(opts: AggregateServerOptions): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const nodeChanges =
    opts.nodeChanges ??
    new NodeChanges({ generationOf: (id) => ctx.engine.nodeGeneration(id), log });
  return createXmlRpcServer({
    key: ctx.identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    cert: ctx.identity.gid.pem,
    log,
    connections: opts.connections,
    handler: async ({ method, params, peer, path }) => {
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
      const result = callAggregate(ctx, caller, path, method, params, log);
      if (!READ_ONLY.has(method)) nodeChanges.notify();
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
