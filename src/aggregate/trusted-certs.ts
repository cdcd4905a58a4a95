/**
 * get_trusted_certs(cred?), at the aggregate and the slice manager alike: this interface's GID
 * without a credential (peers bootstrap from it); with one allowing `gettrustedcerts`, every
 * trusted root (sfi's `trusted`).
 */
import type { AuthorityIdentity } from '../authority/keystore.js';
import type { TrustStore } from '../credentials/chain.js';
import type { CredentialVerifier } from '../credentials/verifier.js';
import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from './authorize-am.js';

export function trustedCerts(
  ctx: {
    readonly identity: AuthorityIdentity;
    readonly trust: TrustStore;
    readonly verifier: CredentialVerifier;
  },
  caller: AmCaller,
  cred: XmlRpcValue | undefined,
): string[] {
  if (cred === undefined || cred === null || cred === '') return [ctx.identity.gid.pem];
  authorizeAm(caller, {
    credentials: cred,
    operation: 'gettrustedcerts',
    speakingFor: undefined,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  return ctx.trust.roots.map((g) => g.pem);
}
