/**
 * What the v3 operations share: the caller, URN lists, the slice a call acts on, manifests.
 */
import { BadArgs } from '../../faults.js';
import { quote } from '../../text.js';
import { CALL_LIMITS } from '../../limits.js';
import { isUrn, Xrn } from '../../credentials/xrn.js';
import type { VerifiedCredential } from '../../credentials/verify-credential.js';
import { writeManifest } from '../../rspec/manifest.js';
import type { XmlRpcValue } from '../../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from '../authorize-am.js';
import type { AmContext } from '../context.js';
import type { SliceDescription } from '../engine/types.js';
import { latestExpiry, toLease, toManifestNodes } from '../mapping.js';
import type { AmOptions } from '../options.js';

/** A list of slice and/or sliver URNs (a bare string is taken as a list of one). */
export function readUrns(value: XmlRpcValue | undefined): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    !list.every((u) => typeof u === 'string' && isUrn(u))
  ) {
    throw new BadArgs(`urns must be a non-empty list of slice or sliver URNs, not ${quote(value)}`);
  }
  if (list.length > CALL_LIMITS.urns) {
    throw new BadArgs(
      `urns lists ${list.length} URNs; one call may name at most ${CALL_LIMITS.urns}: name the slice, or split the call`,
    );
  }
  return list as string[];
}

/** The `rspec` argument: an XML document as a string. */
export function readRspecText(value: XmlRpcValue | undefined): string {
  if (typeof value !== 'string') {
    throw new BadArgs(`rspec must be a request RSpec as an XML string, not ${quote(value)}`);
  }
  return value;
}

/** A string argument such as `action`. */
export function requireStringArg(value: XmlRpcValue | undefined, name: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new BadArgs(`${name} must be a non-empty string, not ${quote(value)}`);
  }
  return value;
}

/** A slice URN argument (`slice_urn` unless named otherwise). */
export function readSliceUrn(value: XmlRpcValue | undefined, name = 'slice_urn'): string {
  if (typeof value !== 'string' || !isUrn(value) || Xrn.fromUrn(value).type !== 'slice') {
    throw new BadArgs(
      `${name} must be a slice URN string (urn:publicid:IDN+<authority>+slice+<name>), not ${quote(value)}`,
    );
  }
  return value;
}

/**
 * The slice a list of URNs belongs to: the slice URN among them, or the slice of the slivers
 * named (all must be of one slice).
 */
export function sliceOf(ctx: AmContext, urns: readonly string[], now: Date): string {
  const slices = urns.filter((u) => Xrn.fromUrn(u).type === 'slice');
  if (slices.length > 1 && new Set(slices.map((s) => s.toLowerCase())).size > 1) {
    throw new BadArgs('the URNs name more than one slice: act on one slice per call');
  }
  if (slices[0]) return slices[0];
  return ctx.engine.status(urns, now).slice.urn;
}

/** Check the credentials for a call on slice `sliceUrn`. */
export function authorizeSlice(
  ctx: AmContext,
  caller: AmCaller,
  creds: XmlRpcValue,
  operation: string,
  options: AmOptions,
  sliceUrn: string,
): VerifiedCredential {
  return authorizeAm(caller, {
    credentials: creds,
    operation,
    speakingFor: options.speakingFor,
    sliceUrn,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
}

/**
 * The common start of a call on slivers: the URNs, the slice they belong to, and the caller's
 * credential for that slice allowing `operation`.
 */
export function onSlivers(
  ctx: AmContext,
  caller: AmCaller,
  urnsArg: XmlRpcValue,
  creds: XmlRpcValue,
  operation: string,
  options: AmOptions,
): { urns: string[]; slice: string; cred: VerifiedCredential } {
  const urns = readUrns(urnsArg);
  const slice = sliceOf(ctx, urns, caller.now);
  return { urns, slice, cred: authorizeSlice(ctx, caller, creds, operation, options, slice) };
}

export function manifestOf(ctx: AmContext, d: SliceDescription, now: Date): string {
  const leases = d.slivers.flatMap((s) =>
    s.leases.filter((l) => l.kind === 'reservation').map(toLease),
  );
  return writeManifest({
    nodes: toManifestNodes(d, ctx.cmUrn),
    leases,
    generated: now,
    expires: latestExpiry(d.slivers, d.slice.expires),
  });
}

/** Is `id` this aggregate, by its `+am` or `+cm` URN (an ad says cm, GetVersion am)? */
export function isOurs(ctx: AmContext, id: string): boolean {
  try {
    const x = Xrn.fromUrn(id);
    return (
      x.type.startsWith('authority') && x.hrn.toLowerCase() === ctx.config.authority.toLowerCase()
    );
  } catch {
    return false;
  }
}
