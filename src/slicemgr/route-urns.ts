/**
 * Which aggregate a sliver URN goes to. An aggregate names its slivers under its own authority
 * (`urn:publicid:IDN+plc+sliver+42` is plc's), so the URN alone says where the sliver lives: the
 * slice manager sends each sliver only to the aggregate that issued it.
 */
import { BadArgs, SearchFailed } from '../faults.js';
import { isHrnPrefix, sameUrn, Xrn } from '../credentials/xrn.js';
import type { Aggregate } from './relay.js';

export interface RoutedUrns {
  /** The slice URN named, if any (one slice per call). */
  readonly slice: string | undefined;
  /** Each sliver URN named → the HRN (lower case) of the aggregate that issued it. */
  readonly slivers: ReadonlyMap<string, string>;
}

/**
 * The aggregate HRN (lower case) whose authority names `authorityHrn`: the aggregate's HRN is
 * that authority or an ancestor of it, the longest such when several match.
 */
export function aggregateFor(
  authorityHrn: string,
  aggregates: readonly Aggregate[],
): string | undefined {
  let best: string | undefined;
  for (const a of aggregates) {
    if (!isHrnPrefix(a.hrn, authorityHrn)) continue;
    if (best === undefined || a.hrn.length > best.length) best = a.hrn.toLowerCase();
  }
  return best;
}

/**
 * Sort a call's URNs into its slice and its slivers, each sliver with its aggregate.
 *
 * @throws BadArgs for a URN that is neither a slice's nor a sliver's, or URNs of two slices.
 * @throws SearchFailed naming a sliver whose authority is no aggregate this slice manager knows.
 */
export function routeUrns(urns: readonly string[], aggregates: readonly Aggregate[]): RoutedUrns {
  let slice: string | undefined;
  const slivers = new Map<string, string>();
  for (const urn of urns) {
    const x = Xrn.fromUrn(urn);
    if (x.type === 'slice') {
      if (slice !== undefined && !sameUrn(slice, urn)) {
        throw new BadArgs(
          `the URNs name two slices (${slice} and ${urn}): act on one slice per call`,
        );
      }
      slice ??= urn;
    } else if (x.type === 'sliver') {
      const hrn = aggregateFor(x.authorityHrn, aggregates);
      if (hrn === undefined) {
        throw new SearchFailed(
          `no aggregate of authority ${x.authorityHrn} is known to this slice manager, so sliver ${urn} cannot be reached: check the URN, or ask the operator to add that authority as a peer`,
        );
      }
      slivers.set(urn, hrn);
    } else {
      throw new BadArgs(`${urn} is a ${x.type} URN; give slice or sliver URNs`);
    }
  }
  return { slice, slivers };
}
