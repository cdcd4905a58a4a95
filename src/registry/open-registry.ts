/**
 * Open an authority's registry from its data folder: configuration, keys, trusted roots (the
 * folder's own and its peers'), store. Used by the servers and by the operator commands alike.
 */
import { AuthorityKeystore } from '../authority/keystore.js';
import { loadConfig, paths, storeLocation } from '../config.js';
import { TrustStore } from '../credentials/chain.js';
import { CredentialVerifier } from '../credentials/verifier.js';
import { PeerForwarder } from '../peers/forward.js';
import { PeerStore } from '../peers/peer-store.js';
import { readPeerTimeoutMs } from '../peers/settings.js';
import { TrustSource } from '../peers/trust-source.js';
import { RegistryStore } from '../store/registry-store.js';
import type { RegistryContext } from './context.js';

export interface OpenRegistry {
  readonly ctx: RegistryContext;
  close(): void;
}

export interface OpenRegistryOptions {
  /** Deadline of a call to a peer's registry; default: sfa.json `peerTimeoutMs`, else 10 s. */
  peerTimeoutMs?: number;
  /** The time of the first build of the trusted roots; every call refreshes them at its own. */
  now?: Date;
  /** A PostgreSQL URL to use instead of sfa.json's store (`sfa serve --store`). */
  store?: string;
}

export function openRegistry(dir: string, opts: OpenRegistryOptions = {}): OpenRegistry {
  const loaded = loadConfig(dir);
  const config = opts.store === undefined ? loaded : { ...loaded, store: opts.store };
  const keys = new AuthorityKeystore(dir);
  const identity = keys.get(config.authority); // fail early, and clearly, when the key is missing
  const trust = TrustStore.fromFiles([paths.trustedRoots(dir)]);
  const timeoutMs = opts.peerTimeoutMs ?? readPeerTimeoutMs(dir);
  const store = RegistryStore.open(storeLocation(dir, config, 'registry'));
  try {
    const peerStore = new PeerStore(store.db, config.authority);
    const trustSource = new TrustSource({ trust, peers: peerStore, now: opts.now ?? new Date() });
    const ctx: RegistryContext = {
      config,
      store,
      keys,
      trust,
      verifier: new CredentialVerifier(trust),
      trustSource,
      peerStore,
      forwarder: new PeerForwarder({ identity, peers: peerStore, timeoutMs }),
      peers: () =>
        Object.fromEntries(peerStore.routes().map((p) => [p.hrn, p.registryUrl])) as Record<
          string,
          string
        >,
    };
    return { ctx, close: () => store.close() };
  } catch (e) {
    store.close();
    throw e;
  }
}
