/**
 * A slice's login name: the Linux account (and vserver) its slivers get on every node.
 *
 * As PlanetLab's SFA driver (`PlXrn.pl_slicename`): the login base is the slice authority's
 * last component, lower-cased, letters and digits only; the name is the slice name up to a
 * `:`, letters, digits and `_` only; joined by `_`. So at any authority depth:
 *
 *   urn:publicid:IDN+ple:inria+slice+myslice          → inria_myslice
 *   urn:publicid:IDN+plc:princeton:cs+slice+exp1      → cs_exp1
 *   urn:publicid:IDN+emulab.net:proj+slice+my-exp     → proj_myexp
 *
 * Unlike SFA the whole name is lower-cased: Linux tools expect lower-case user names, and GENI
 * compares slice names case-insensitively. The price of this mapping, SFA's too, is that
 * different slices can map to one name (`ple:inria` and `plc:inria`, `my-exp` and `myexp`): the
 * engine refuses the second one (Refused, naming the holder) rather than share an account.
 */
import { BadArgs } from '../../faults.js';
import { Xrn } from '../../credentials/xrn.js';
import { MAX_LOGIN_NAME_LENGTH } from '../../store/aggregate-store.js';

export { MAX_LOGIN_NAME_LENGTH };

/** Parse and check a slice URN; BadArgs if it is not one. */
export function parseSliceUrn(sliceUrn: string): Xrn {
  const xrn = Xrn.fromUrn(sliceUrn);
  if (xrn.type !== 'slice') {
    throw new BadArgs(`${xrn.urn} is a ${xrn.type} URN; a slice URN (…+slice+<name>) is needed`);
  }
  return xrn;
}

/**
 * The login name of a slice.
 * @throws BadArgs if the URN is not a slice URN, if nothing usable is left of its authority or
 *   name, or if the result exceeds Linux's 32 characters.
 */
export function loginNameFor(sliceUrn: string | Xrn): string {
  const xrn = typeof sliceUrn === 'string' ? parseSliceUrn(sliceUrn) : sliceUrn;
  const authority = xrn.urn.split('+')[1] ?? '';
  const site = authority.split(':').at(-1) ?? '';
  const base = site.toLowerCase().replace(/[^a-z0-9]/g, '');
  if (base === '') {
    throw new BadArgs(
      `slice ${xrn.urn}: its authority '${site}' has no letter or digit to make a login base from`,
    );
  }
  const name = (xrn.leaf.split(':')[0] ?? '').toLowerCase().replace(/[^a-z0-9_]/g, '');
  if (name === '') {
    throw new BadArgs(
      `slice ${xrn.urn}: its name '${xrn.leaf}' has no letter, digit or '_' to make a login name from`,
    );
  }
  const login = `${base}_${name}`;
  if (login.length > MAX_LOGIN_NAME_LENGTH) {
    throw new BadArgs(
      `slice ${xrn.urn} would have the login name '${login}' (${login.length} characters), ` +
        `longer than Linux allows (${MAX_LOGIN_NAME_LENGTH}): use a slice name of at most ` +
        `${Math.max(0, MAX_LOGIN_NAME_LENGTH - base.length - 1)} characters under '${site}'`,
    );
  }
  return login;
}
