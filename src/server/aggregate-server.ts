/**
 * The aggregate manager on the wire: XML-RPC over HTTPS, v3 on any path and v2 on `/v2`, with
 * the authority's own key and GID as TLS identity, one log line per call.
 */
import type { Server } from 'node:https';
import { callAggregate } from '../aggregate/api.js';
import type { AmContext } from '../aggregate/context.js';
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
}

export function createAggregateServer(opts: AggregateServerOptions): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  return createXmlRpcServer({
    key: ctx.identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    cert: ctx.identity.gid.pem,
    log,
    connections: opts.connections,
    handler: ({ method, params, peer, path }) => {
      const started = performance.now();
      const now = clock();
      opts.beforeCall?.(now);
      const result = callAggregate(
        ctx,
        {
          peerKey: peer.publicKey,
          peerCertPem: peer.certificate,
          peerChainPem: peer.chainPem,
          now,
        },
        path,
        method,
        params,
        log,
      );
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
