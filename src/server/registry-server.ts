/**
 * The registry on the wire: XML-RPC over HTTPS, the TLS identity of the interface's authority,
 * one log line per call. Faults carry the GENI code and name the method, as SFA's do.
 */
import type { Server } from 'node:https';
import { isGeniFault } from '../faults.js';
import { callRegistry } from '../registry/api.js';
import { storageFault } from '../store/storage-fault.js';
import { logText } from '../text.js';
import type { RegistryContext } from '../registry/context.js';
import { XmlRpcFault } from '../xmlrpc/errors.js';
import type { ConnectionLimits } from '../xmlrpc/connection-guard.js';
import { createXmlRpcServer } from '../xmlrpc/server.js';
import { callLine, callerLabel, type Logger } from './log.js';

export interface RegistryServerOptions {
  /** Bounds on connections (sfa.json `connections`). */
  connections?: Partial<ConnectionLimits>;
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
    connections: opts.connections,
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
        const fault = isGeniFault(e) ? e : storageFault(e);
        if (!fault) throw e; // the transport logs it and answers a generic fault
        if (fault !== e)
          log(`registry ${logText(method, 80)}: ${logText((e as Error).message, 500)}`);
        line(fault.geniCode, fault.message);
        // SFA's form: the method name before the message (": Resolve: Record not found: …").
        throw new XmlRpcFault(fault.geniCode, `: ${method}: ${fault.message}`);
      }
    },
  });
}
