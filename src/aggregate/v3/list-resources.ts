import { deflateSync } from 'node:zlib';
import { BadArgs } from '../../faults.js';
import { writeAdvertisement } from '../../rspec/advertisement.js';
import { matchRspecVersion } from '../../rspec/version.js';
import type { XmlRpcValue } from '../../xmlrpc/value.js';
import { authorizeAm, type AmCaller } from '../authorize-am.js';
import type { AmContext } from '../context.js';
import { toAdNode, toLease } from '../mapping.js';
import type { AmOptions } from '../options.js';
import { amSuccess } from '../envelope.js';
import { prepareResponse, type PreparedResponse } from '../../xmlrpc/server.js';

/** Ads say they are valid this long. */
const AD_LIFETIME_MS = 3_600_000;

/**
 * ListResources(creds, options): the advertisement. Needs a valid credential of the caller
 * (`listnodes`: a user credential does). `geni_available` lists only available nodes;
 * `list_leases` (sfi: resources, leases or all) chooses nodes, leases or both;
 * `geni_compressed` answers zlib + base64. The whole answer is served from prepared bytes
 * (ad-cache.ts) unless `cached` is false or the resources changed.
 */
export function listResources(
  ctx: AmContext,
  caller: AmCaller,
  creds: XmlRpcValue,
  options: AmOptions,
): PreparedResponse {
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
  // Checked before the cache: a missing or unknown version is the caller's error every time.
  matchRspecVersion(options.rspecVersion);
  const key = `${options.available}|${options.listLeases}|${options.compressed}`;
  // Read before building: a write landing meanwhile moves the stamp, and the next call rebuilds.
  const stamp = ctx.engine.store.resourcesStamp();
  const hit = options.cached ? ctx.ads.get(key, caller.now, stamp) : undefined;
  if (hit) return hit;
  const prepared = prepareResponse(amSuccess(3, buildAdvertisement(ctx, caller.now, options)));
  ctx.ads.put(key, caller.now, stamp, prepared);
  return prepared;
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
