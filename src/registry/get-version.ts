import { hostname } from 'node:os';
import { Xrn } from '../credentials/xrn.js';
import type { XmlRpcStruct } from '../xmlrpc/value.js';
import type { RegistryContext } from './context.js';

export const CODE_TAG = 'sfa-ts-0.1.0';
export const CODE_URL = 'https://github.com/sfa-ts/sfa-ts';

/**
 * GetVersion, returned raw (not in the AM's code/value/output struct), as SFA registries do:
 * peers bootstrap by finding the `sfa` key.
 */
export function getVersion(ctx: RegistryContext): XmlRpcStruct {
  return {
    code_tag: CODE_TAG,
    code_url: CODE_URL,
    hostname: ctx.config.hostname || hostname(),
    interface: 'registry',
    sfa: 3,
    hrn: ctx.config.authority,
    urn: Xrn.fromHrn(ctx.config.authority, 'authority').urn,
    peers: ctx.peers(),
  };
}
