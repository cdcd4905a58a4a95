import { hostname } from 'node:os';
import { Xrn } from '../../credentials/xrn.js';
import { rspecVersions } from '../../rspec/version.js';
import { CODE_TAG, CODE_URL } from '../../registry/get-version.js';
import type { XmlRpcStruct } from '../../xmlrpc/value.js';
import type { AmContext } from '../context.js';

/**
 * GetVersion: what omni, jFed and sfi read. `geni_single_allocation` is an int (a boolean fails
 * omni's checks); `geni_api_versions` keys are strings; credential type versions are strings.
 */
export function getVersion(ctx: AmContext, geniApi: 2 | 3): XmlRpcStruct {
  return {
    geni_api: geniApi,
    geni_api_versions: { '2': ctx.urls.v2, '3': ctx.urls.v3 },
    ...(rspecVersions() as unknown as XmlRpcStruct),
    geni_credential_types: [
      { geni_type: 'geni_sfa', geni_version: '2' },
      { geni_type: 'geni_sfa', geni_version: '3' },
    ],
    geni_single_allocation: 0,
    geni_allocate: 'geni_many',
    geni_handles_speaksfor: true,
    code_tag: CODE_TAG,
    code_url: CODE_URL,
    hostname: ctx.config.hostname || hostname(),
    testbed: 'PlanetLab',
    interface: 'aggregate',
    sfa: 3,
    hrn: ctx.config.authority,
    urn: Xrn.fromHrn(ctx.config.authority, 'authority+am').urn,
  };
}
