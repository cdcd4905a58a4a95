/**
 * The slice manager on the wire (port 12347), with the authority's identity, one log line per
 * call.
 */
import type { Server } from 'node:https';
import { callSliceManager, type SmContext } from '../slicemgr/slice-manager.js';
import type { ConnectionLimits } from '../xmlrpc/connection-guard.js';
import { logText } from '../text.js';
import { createXmlRpcServer } from '../xmlrpc/server.js';
import { callLine, callerLabel, type Logger } from './log.js';

export function createSliceManagerServer(opts: {
  ctx: SmContext;
  log: Logger;
  clock?: () => Date;
  beforeCall?: (now: Date) => void;
  connections?: Partial<ConnectionLimits>;
}): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  return createXmlRpcServer({
    key: ctx.identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    cert: ctx.identity.gid.pem,
    log,
    connections: opts.connections,
    handler: async ({ method, params, peer, userAgent }) => {
      const started = performance.now();
      const now = clock();
      opts.beforeCall?.(now);
      const result = await callSliceManager(
        ctx,
        {
          peerKey: peer.publicKey,
          peerCertPem: peer.certificate,
          peerChainPem: peer.chainPem,
          now,
          origin: {
            caller: callerLabel(peer.certificate),
            ...(userAgent === undefined ? {} : { client: logText(userAgent, 200) }),
          },
        },
        method,
        params,
        log,
      );
      log(
        callLine({
          now,
          iface: 'slicemgr',
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
