/**
 * Open an authority's registry from its data folder: configuration, keys, trusted roots,
 * store. Used by the servers and by the operator commands alike.
 */
import { AuthorityKeystore } from '../authority/keystore.js';
import { loadConfig, paths } from '../config.js';
import { TrustStore } from '../credentials/chain.js';
import { CredentialVerifier } from '../credentials/verifier.js';
import { RegistryStore } from '../store/registry-store.js';
import type { RegistryContext } from './context.js';

export interface OpenRegistry {
  readonly ctx: RegistryContext;
  close(): void;
}

export function openRegistry(dir: string): OpenRegistry {
  const config = loadConfig(dir);
  const keys = new AuthorityKeystore(dir);
  keys.get(config.authority); // fail early, and clearly, when the authority's key is missing
  const trust = TrustStore.fromFiles([paths.trustedRoots(dir)]);
  const store = RegistryStore.open(paths.database(dir));
  const ctx: RegistryContext = {
    config,
    store,
    keys,
    trust,
    verifier: new CredentialVerifier(trust),
    peers: () => ({}),
  };
  return { ctx, close: () => store.close() };
}
