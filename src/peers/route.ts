/**
 * Which peer's registry answers for a name.
 */
import type { Gid } from '../credentials/gid.js';
import { isAuthorityType, isHrnPrefix, splitHrn } from '../credentials/xrn.js';
import type { PeerRoute } from './peer-store.js';

/**
 * The peer whose HRN is the longest prefix of `hrn` (whole components, any case), or undefined
 * when the name is this authority's own (under `ownAuthority`: never forwarded, whatever a peer
 * claims) or under no peer.
 */
export function peerFor(
  hrn: string,
  ownAuthority: string,
  peers: readonly PeerRoute[],
): PeerRoute | undefined {
  if (isHrnPrefix(ownAuthority, hrn)) return undefined;
  let best: PeerRoute | undefined;
  let bestLength = 0;
  for (const p of peers) {
    if (!isHrnPrefix(p.hrn, hrn)) continue;
    const length = splitHrn(p.hrn).length;
    if (length > bestLength) {
      best = p;
      bestLength = length;
    }
  }
  return best;
}

/**
 * Whether a call made with a credential owned by `owner` may be forwarded to a peer: not when
 * the caller is itself an authority (a peer forwarding to us), so that two registries that each
 * think the other holds a name, or a peer URL pointing back at us, cannot bounce a call between
 * them forever. Such a call is answered from this registry's own records.
 */
export function mayForward(owner: Gid): boolean {
  return !isAuthorityType(owner.type);
}
