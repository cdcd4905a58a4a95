import type { XmlRpcValue } from '../xmlrpc/value.js';
import { authorizeCall } from './common.js';
import type { Call, RegistryContext } from './context.js';

/**
 * get_trusted_certs(cred?) → GID PEM strings. Without a credential: this interface's own GID,
 * what a peer fetches to bootstrap trust (it must check the fingerprint out of band). With one
 * allowing `gettrustedcerts` (authority, ma, operator): every trusted root.
 */
export function getTrustedCerts(
  ctx: RegistryContext,
  call: Call,
  cred: XmlRpcValue | undefined,
): string[] {
  const own = ctx.keys.get(ctx.config.authority).gid.pem;
  if (cred === undefined || cred === null || cred === '') return [own];
  authorizeCall(ctx, call, cred, 'gettrustedcerts');
  return ctx.trust.roots.map((g) => g.pem);
}
