/**
 * Run an authority: the registry, the aggregate manager and the slice manager on their ports,
 * with the interface authority's own key and GID as TLS identity, and the read-only web view
 * (plain HTTP) beside them.
 */
import type { Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dataDir, storeLocation, type Ports } from '../config.js';
import { setCallLimits } from '../limits.js';
import { AdvertisementCache } from '../aggregate/ad-cache.js';
import { CallIdCache } from '../aggregate/call-ids.js';
import type { AmContext } from '../aggregate/context.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import { NodeChanges } from '../aggregate/node-changes.js';
import { Xrn } from '../credentials/xrn.js';
import { formatRfc3339 } from '../credentials/time.js';
import { openRegistry } from '../registry/open-registry.js';
import { createAggregateServer } from './aggregate-server.js';
import type { Logger } from './log.js';
import { createRegistryServer } from './registry-server.js';
import { createSliceManagerServer } from './slicemgr-server.js';
import { RelayCredentials } from '../slicemgr/credentials.js';
import { RelayStats } from '../slicemgr/relay-stats.js';
import type { SmContext } from '../slicemgr/slice-manager.js';
import type { WebContext } from '../web/context.js';
import { createWebServer } from '../web/web-server.js';
import { storageFault } from '../store/storage-fault.js';
import { redactUrl } from '../store/postgres.js';

export interface StartOptions {
  dir?: string;
  /** Override the configured ports (0 picks a free one: tests). */
  ports?: Partial<Ports>;
  listen?: string;
  log: Logger;
  clock?: () => Date;
  /** The slice manager's deadline per aggregate (default: sfa.json relayTimeoutMs, else 30 s). */
  relayTimeoutMs?: number;
  /** How long the slice manager serves a merged advertisement (default 60 s; 0: never). */
  smAdCacheMs?: number;
  /** A PostgreSQL URL to use instead of sfa.json's store (`sfa serve --store`). */
  store?: string;
  /** How often lapsed slivers are reaped (default 30 s). */
  reapIntervalMs?: number;
}

export interface RunningAuthority {
  readonly authority: string;
  readonly urls: {
    registry: string;
    aggregate: string;
    aggregateV2: string;
    slicemgr: string;
    /** The web view (plain HTTP). */
    web: string;
  };
  /** The aggregate's engine (tests and benchmarks look inside). */
  readonly engine: AggregateEngine;
  /** The PostgreSQL store served from (its URL without password); undefined: SQLite files. */
  readonly store?: string;
  close(): Promise<void>;
}

/** How often lapsed slivers are reaped. */
const REAP_INTERVAL_MS = 30_000;
/** How long a prepared advertisement is served before it is built again. */
const AD_CACHE_TTL_MS = 60_000;

type Server = HttpServer | HttpsServer;

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
  const registry = openRegistry(dir, opts.store === undefined ? {} : { store: opts.store });
  const { config } = registry.ctx;
  setCallLimits(config.limits);
  const clock = opts.clock ?? (() => new Date());
  const host = opts.listen ?? config.listen;
  const ports = { ...config.ports, ...opts.ports };
  const engine = AggregateEngine.open(storeLocation(dir, config, 'aggregate'), {
    authority: config.authority,
  });
  const servers: Server[] = [];
  let reaper: NodeJS.Timeout | undefined;
  // Node API long polls: woken by the aggregate's calls and the reaper.
  const nodeChanges = new NodeChanges({
    generationOf: (id) => engine.nodeGeneration(id),
    generationsOf: (ids) => engine.nodeGenerations(ids),
    log: opts.log,
  });
  const closeAll = async () => {
    if (reaper) clearInterval(reaper);
    nodeChanges.close();
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    engine.close();
    registry.close();
    setCallLimits(); // the process's defaults again
  };
  try {
    const registryServer = createRegistryServer({
      ctx: registry.ctx,
      log: opts.log,
      clock,
      connections: config.connections,
    });
    servers.push(registryServer);
    const registryPort = await listen(registryServer, ports.registry, host);
    const shown = host === '0.0.0.0' || host === '::' ? config.hostname : host;

    // The aggregate listens first on its port, so that GetVersion can name its own URLs.
    const amCtx: { -readonly [K in keyof AmContext]: AmContext[K] } = {
      config,
      engine,
      trust: registry.ctx.trust,
      verifier: registry.ctx.verifier,
      identity: registry.ctx.keys.get(config.authority),
      amUrn: Xrn.fromHrn(config.authority, 'authority+am').urn,
      cmUrn: Xrn.fromHrn(config.authority, 'authority+cm').urn,
      urls: { v3: '', v2: '' },
      callIds: new CallIdCache(engine.store),
      ads: new AdvertisementCache(AD_CACHE_TTL_MS),
    };
    // The peers' roots are read from the store before each call. When the store cannot be
    // read, the roots last read still hold, and the call itself answers DBERROR if it needs
    // the store: a call that does not (GetVersion) is still answered.
    const refreshTrust = (now: Date) => {
      try {
        registry.ctx.trustSource.refresh(now);
      } catch (e) {
        if (!storageFault(e)) throw e;
      }
    };
    const amServer = createAggregateServer({
      ctx: amCtx,
      log: opts.log,
      clock,
      beforeCall: refreshTrust,
      connections: config.connections,
      nodeChanges,
    });
    servers.push(amServer);
    const amPort = await listen(amServer, ports.aggregate, host);
    amCtx.urls = { v3: `https://${shown}:${amPort}/`, v2: `https://${shown}:${amPort}/v2` };
    // The aggregate as this host's slice manager reaches it (loopback when bound everywhere).
    const localAm = `https://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host}:${amPort}/`;

    const smCtx: { -readonly [K in keyof SmContext]: SmContext[K] } = {
      authority: config.authority,
      hostname: config.hostname,
      identity: amCtx.identity,
      trust: registry.ctx.trust,
      verifier: registry.ctx.verifier,
      credentials: new RelayCredentials(amCtx.identity, registry.ctx.keys, registry.ctx.verifier),
      aggregates: () => [
        { hrn: config.authority, url: localAm },
        ...registry.ctx.peerStore
          .list()
          .flatMap((p) => p.aggregateUrls.map((url) => ({ hrn: p.hrn, url }))),
      ],
      timeoutMs: opts.relayTimeoutMs ?? config.relayTimeoutMs ?? 30_000,
      adCacheMs: opts.smAdCacheMs ?? config.mergedAdCacheMs ?? 60_000,
      url: '',
      relayStats: new RelayStats(clock),
    };
    const smServer = createSliceManagerServer({
      ctx: smCtx,
      log: opts.log,
      clock,
      beforeCall: refreshTrust,
      connections: config.connections,
    });
    servers.push(smServer);
    const smPort = await listen(smServer, ports.slicemgr, host);
    smCtx.url = `https://${shown}:${smPort}/`;

    const webCtx: WebContext = {
      registry: registry.ctx,
      engine,
      relayStats: smCtx.relayStats!,
      dir,
      urls: {
        registry: `https://${shown}:${registryPort}/`,
        aggregate: amCtx.urls.v3,
        aggregate_v2: amCtx.urls.v2,
        slicemgr: smCtx.url,
        web: '',
      },
    };
    const webServer = createWebServer({ ctx: webCtx, log: opts.log, clock });
    servers.push(webServer);
    const webPort = await listen(webServer, ports.web, host);
    webCtx.urls.web = `http://${shown}:${webPort}/`;

    // With several front-ends on one PostgreSQL store, one reaps at a time: the one holding the
    // store's advisory lock, until its connection ends (a crash included); then the next tick
    // of another front-end takes it.
    let leading = false;
    reaper = setInterval(() => {
      const now = clock();
      const leads = engine.store.db.leads('reaper');
      if (leads !== leading) {
        leading = leads;
        opts.log(
          `${formatRfc3339(now)} aggregate reaper: ${leads ? 'this front-end reaps' : 'another front-end reaps (or the store is unreachable)'}`,
        );
      }
      if (!leads) return;
      try {
        const reaped = engine.reap(now);
        if (reaped.slivers.length > 0) {
          amCtx.ads.invalidate();
          nodeChanges.notify();
          opts.log(
            `${formatRfc3339(now)} aggregate reaper freed ${reaped.slivers.length} lapsed sliver(s)`,
          );
        }
      } catch (e) {
        opts.log(`${formatRfc3339(now)} aggregate reaper failed: ${(e as Error).message}`);
      }
    }, opts.reapIntervalMs ?? REAP_INTERVAL_MS);
    reaper.unref();

    return {
      authority: config.authority,
      ...(config.store === undefined ? {} : { store: redactUrl(config.store) }),
      urls: {
        registry: `https://${shown}:${registryPort}/`,
        aggregate: amCtx.urls.v3,
        aggregateV2: amCtx.urls.v2,
        slicemgr: smCtx.url,
        web: webCtx.urls.web,
      },
      engine,
      close: closeAll,
    };
  } catch (e) {
    await closeAll();
    throw e;
  }
}
