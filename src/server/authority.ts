/**
 * Run an authority: the registry (and, as they arrive, the aggregate manager and slice manager)
 * on their ports, with the interface authority's own key and GID as TLS identity.
 */
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dataDir, type Ports } from '../config.js';
import { openRegistry } from '../registry/open-registry.js';
import type { Logger } from './log.js';
import { createRegistryServer } from './registry-server.js';

export interface StartOptions {
  dir?: string;
  /** Override the configured ports (0 picks a free one: tests). */
  ports?: Partial<Ports>;
  listen?: string;
  log: Logger;
  clock?: () => Date;
}

export interface RunningAuthority {
  readonly authority: string;
  readonly urls: { registry: string };
  close(): Promise<void>;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        e.code === 'EADDRINUSE'
          ? new Error(
              `port ${port} on ${host} is already in use: choose another with --*-port or in sfa.json`,
            )
          : e,
      ),
    );
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

export async function startAuthority(opts: StartOptions): Promise<RunningAuthority> {
  const dir = dataDir(opts.dir);
  const registry = openRegistry(dir);
  const { config } = registry.ctx;
  const host = opts.listen ?? config.listen;
  const ports = { ...config.ports, ...opts.ports };
  const server = createRegistryServer({ ctx: registry.ctx, log: opts.log, clock: opts.clock });
  let port: number;
  try {
    port = await listen(server, ports.registry, host);
  } catch (e) {
    registry.close();
    throw e;
  }
  const shown = host === '0.0.0.0' || host === '::' ? config.hostname : host;
  return {
    authority: config.authority,
    urls: { registry: `https://${shown}:${port}/` },
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      registry.close();
    },
  };
}
