/**
 * What every registry operation works with. Operations take this and plain values, and return
 * plain values or throw GeniFaults: they never see sockets, requests or the wall clock.
 */
import type { KeyObject } from 'node:crypto';
import type { AuthorityKeystore } from '../authority/keystore.js';
import type { SfaConfig } from '../config.js';
import type { TrustStore } from '../credentials/chain.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { PeerForwarder } from '../peers/forward.js';
import type { PeerStore } from '../peers/peer-store.js';
import type { TrustSource } from '../peers/trust-source.js';
import type { RegistryStore } from '../store/registry-store.js';

export interface RegistryContext {
  readonly config: SfaConfig;
  readonly store: RegistryStore;
  readonly keys: AuthorityKeystore;
  /** The trusted roots: local and peers'. Kept up to date, in place, by `trustSource`. */
  readonly trust: TrustStore;
  readonly verifier: CredentialVerifier;
  /** Owns `trust`: `refresh(now)` before verifying anything (callRegistry does it per call). */
  readonly trustSource: TrustSource;
  /** Federation peers: their registries, aggregates and roots (`sfa peer …`). */
  readonly peerStore: PeerStore;
  /** Calls a peer's registry as this authority (Resolve and List of a peer's names). */
  readonly forwarder: PeerForwarder;
  /** Other registries this one knows: HRN → URL (GetVersion's `peers`). */
  readonly peers: () => Record<string, string>;
}

/** Who is calling, and when: the TLS peer's key and the time of the call. */
export interface Call {
  readonly peerKey: KeyObject | undefined;
  /** The TLS peer's certificate (PEM), when it presented one. */
  readonly peerCertPem: string | undefined;
  readonly now: Date;
}

/** Credentials issued by the registry live this long unless the record says otherwise (SFA). */
export const CREDENTIAL_LIFETIME_MS = 31 * 86_400_000;
