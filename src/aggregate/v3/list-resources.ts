import { deflateSync } from 'node:zlib';
import { BadArgs } from '../../faults.js';
import { writeAdvertisement } from '../../rspec/advertisement.js';
import { matchRspecVersion } from '../../rspec/version.js';
import type { XmlRpcValue } from '../../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from '../authorize-am.js';
import type { AmContext } from '../context.js';
import { toAdNode, toLease } from '../mapping.js';
import type { AmOptions } from '../options.js';

/** Ads say they are valid this long. */
const AD_LIFETIME_MS = 3_600_000;

/**
 * ListResources(creds, options): the advertisement. Needs a valid credential of the caller
 * (`listnodes`: a user credential does). `geni_available` lists only available nodes;
 * `list_leases` (sfi: resources, leases or all) chooses nodes, leases or both;
 * `geni_compressed` answers zlib + base64.
 */
export function listResources(
  ctx: AmContext,
  caller: AmCaller,
  creds: XmlRpcValue,
  options: AmOptions,
): string {
  authorizeAm(caller, {
    credentials: creds,
    operation: 'listnodes',
    speakingFor: options.speakingFor,
    verifier: ctx.verifier,
    trust: ctx.trust,
  });
  if (options.sliceUrn) {
    throw new BadArgs(
      'ListResources takes no geni_slice_urn in AM API v3: use Describe for a slice',
    );
  }
  matchRspecVersion(options.rspecVersion);
  return buildAdvertisement(ctx, caller.now, options);
}

/** The advertisement itself (no credential check): ListResources and the slice manager use it. */
export function buildAdvertisement(
  ctx: AmContext,
  now: Date,
  options: Pick<AmOptions, 'available' | 'listLeases' | 'compressed'>,
): string {
  const nodes =
    options.listLeases === 'leases'
      ? []
      : ctx.engine.listNodes(now, { availableOnly: options.available });
  const leases =
    options.listLeases === 'resources'
      ? []
      : ctx.engine
          .listLeases(now)
          .filter((l) => l.kind === 'reservation')
          .map(toLease);
  const xml = writeAdvertisement({
    nodes: nodes.map((n) => toAdNode(n, ctx.cmUrn)),
    leases,
    granularity: Math.round(ctx.engine.policy.leaseGranularityMs / 1000),
    generated: now,
    expires: new Date(now.getTime() + AD_LIFETIME_MS),
    aggregateManagerId: ctx.amUrn,
  });
  return options.compressed ? deflateSync(xml).toString('base64') : xml;
}
