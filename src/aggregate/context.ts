/**
 * What the AM API operations work with. They take this, the caller and plain values, and return
 * values or throw GeniFaults; they never see sockets or the wall clock.
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import type { SfaConfig } from '../config.js';
import type { TrustStore } from '../credentials/chain.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { AggregateEngine } from './engine/engine.js';
import type { CallIdCache } from './call-ids.js';
import type { AdvertisementCache } from './ad-cache.js';

export interface AmContext {
  readonly config: SfaConfig;
  readonly engine: AggregateEngine;
  readonly trust: TrustStore;
  readonly verifier: CredentialVerifier;
  /** This aggregate's authority: TLS identity, and what its URNs are under. */
  readonly identity: AuthorityIdentity;
  /** `urn:publicid:IDN+<hrn>+authority+am`. */
  readonly amUrn: string;
  /** `…+authority+cm`: what our ad's component_manager_id says (same aggregate). */
  readonly cmUrn: string;
  /** URLs of the v3 and v2 endpoints, for GetVersion. */
  readonly urls: { v3: string; v2: string };
  readonly callIds: CallIdCache;
  readonly ads: AdvertisementCache;
}
