/**
 * The registry on the wire: XML-RPC over HTTPS, the TLS identity of the interface's authority,
 * one log line per call. Faults carry the GENI code and name the method, as SFA's do.
 */
import type { Server } from 'node:https';
import { isGeniFault } from '../faults.js';
import { callRegistry } from '../registry/api.js';
import type { RegistryContext } from '../registry/context.js';
import { XmlRpcFault } from '../xmlrpc/errors.js';
import { createXmlRpcServer } from '../xmlrpc/server.js';
import { callLine, callerLabel, type Logger } from './log.js';

export interface RegistryServerOptions {
  ctx: RegistryContext;
  log: Logger;
  /** The clock; tests pass a fixed one. */
  clock?: () => Date;
}

export function createRegistryServer(opts: RegistryServerOptions): Server {
  const { ctx, log } = opts;
  const clock = opts.clock ?? (() => new Date());
  const identity = ctx.keys.get(ctx.config.authority);
  return createXmlRpcServer({
    key: identity.key.export({ type: 'pkcs1', format: 'pem' }).toString(),
    cert: identity.gid.pem,
    log,
    handler: async ({ method, params, peer }) => {
      const started = performance.now();
      const now = clock();
      const caller = callerLabel(peer.certificate);
      const line = (code: number, message?: string) =>
        log(
          callLine({
            now,
            iface: 'registry',
            method,
            caller,
            code,
            ms: performance.now() - started,
            message,
          }),
        );
      try {
        // Awaited here so that a peer's fault is logged and answered like a local one.
        const value = await callRegistry(
          ctx,
          { peerKey: peer.publicKey, peerCertPem: peer.certificate, now },
          method,
          params,
        );
        line(0);
        return value;
      } catch (e) {
        if (!isGeniFault(e)) throw e; // the transport logs it and answers a generic fault
        line(e.geniCode, e.message);
        // SFA's form: the method name before the message (": Resolve: Record not found: …").
        throw new XmlRpcFault(e.geniCode, `: ${method}: ${e.message}`);
      }
    },
  });
}
