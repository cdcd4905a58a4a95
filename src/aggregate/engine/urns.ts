/**
 * The aggregate's names: sliver URNs (from the sliver's id, never reused) and node URNs and
 * HRNs (from the site and hostname, as PlanetLab's `hostname_to_urn`).
 */
import { SearchFailed } from '../../faults.js';
import { escapeHrnComponent, Xrn } from '../../credentials/xrn.js';

/** `urn:publicid:IDN+ple+sliver+42`. */
export function sliverUrn(authority: string, id: number): string {
  return Xrn.fromHrn(`${authority}.${id}`, 'sliver').urn;
}

/**
 * The id in one of our sliver URNs.
 * @throws SearchFailed if the URN is a sliver of another authority, or not one we could have
 *   issued (the name is not a decimal id): no such sliver exists here.
 */
export function sliverIdOf(authority: string, xrn: Xrn): number {
  if (xrn.authorityHrn.toLowerCase() !== authority.toLowerCase()) {
    throw new SearchFailed(
      `no sliver ${xrn.urn} at this aggregate: its slivers are named by authority ${authority}`,
    );
  }
  const id = /^[1-9][0-9]{0,14}$/.test(xrn.leaf) ? Number(xrn.leaf) : NaN;
  if (!Number.isSafeInteger(id)) {
    throw new SearchFailed(`no sliver ${xrn.urn} at this aggregate: sliver names are numbers`);
  }
  return id;
}

/** `ple.inria.node1\.inria\.fr`. */
export function nodeHrn(authority: string, loginBase: string, hostname: string): string {
  return `${authority}.${loginBase}.${escapeHrnComponent(hostname)}`;
}

/** `urn:publicid:IDN+ple:inria+node+node1.inria.fr`. */
export function nodeUrn(authority: string, loginBase: string, hostname: string): string {
  return Xrn.fromHrn(nodeHrn(authority, loginBase, hostname), 'node').urn;
}

/** `ple.inria`. */
export function siteHrn(authority: string, loginBase: string): string {
  return `${authority}.${loginBase}`;
}
