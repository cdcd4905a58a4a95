/**
 * The AM API `options` struct. Unknown options are ignored (sfi marshals more than the API
 * defines); the ones honoured are read here, once, with a clear BADARGS on a wrong shape.
 */
import { BadArgs } from '../faults.js';
import { CALL_LIMITS } from '../limits.js';
import { parseRfc3339 } from '../credentials/time.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';

export interface GeniUser {
  urn: string;
  keys: string[];
  email?: string;
}

export interface AmOptions {
  /** `geni_rspec_version`, or the legacy `rspec_version`, as sent (matched by the rspec module). */
  rspecVersion: XmlRpcValue | undefined;
  available: boolean;
  compressed: boolean;
  endTime: Date | undefined;
  users: GeniUser[] | undefined;
  bestEffort: boolean;
  extendAlap: boolean;
  listLeases: 'resources' | 'leases' | 'all';
  cached: boolean;
  callId: string | undefined;
  speakingFor: string | undefined;
  /** AM API v2: `geni_slice_urn` on ListResources asks for a manifest. */
  sliceUrn: string | undefined;
}

function isStruct(v: XmlRpcValue | undefined): v is XmlRpcStruct {
  return (
    !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v)
  );
}

function flag(v: XmlRpcValue | undefined): boolean {
  return v === true || v === 1 || v === 'true' || v === 'True' || v === '1';
}

function optionalString(o: XmlRpcStruct, name: string): string | undefined {
  const v = o[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new BadArgs(`option ${name} must be a string`);
  return v;
}

function readUsers(v: XmlRpcValue | undefined): GeniUser[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v))
    throw new BadArgs('option geni_users must be a list of {urn, keys} structs');
  if (v.length > CALL_LIMITS.users) {
    throw new BadArgs(
      `option geni_users lists ${v.length} users; one call may carry at most ${CALL_LIMITS.users}`,
    );
  }
  return v.map((u, i) => {
    if (!isStruct(u) || typeof u['urn'] !== 'string') {
      throw new BadArgs(`geni_users[${i}] must be a struct with a urn and keys`);
    }
    const keys = u['keys'] ?? [];
    if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
      throw new BadArgs(`geni_users[${i}].keys must be a list of public key strings`);
    }
    if (keys.length > CALL_LIMITS.keysPerUser) {
      throw new BadArgs(
        `geni_users[${i}].keys lists ${keys.length} keys; at most ${CALL_LIMITS.keysPerUser} per user are accepted`,
      );
    }
    return {
      urn: u['urn'],
      keys: keys as string[],
      ...(typeof u['email'] === 'string' ? { email: u['email'] } : {}),
    };
  });
}

/**
 * Longest `call_id` kept for replay. Clients send a UUID (36 characters) or a URN around one;
 * anything much longer is an attempt to make the replay cache hold it.
 */
export const MAX_CALL_ID_LENGTH = 256;

function readCallId(o: XmlRpcStruct): string | undefined {
  const id = optionalString(o, 'call_id');
  if (id !== undefined && id.length > MAX_CALL_ID_LENGTH) {
    throw new BadArgs(
      `option call_id is ${id.length} characters long; at most ${MAX_CALL_ID_LENGTH} are accepted (a UUID is 36)`,
    );
  }
  return id;
}

export function readOptions(value: XmlRpcValue | undefined): AmOptions {
  const o: XmlRpcStruct = isStruct(value) ? value : {};
  if (value !== undefined && value !== null && !isStruct(value))
    throw new BadArgs('options must be a struct');
  const leases = optionalString(o, 'list_leases') ?? 'resources';
  if (!['resources', 'leases', 'all'].includes(leases)) {
    throw new BadArgs(`option list_leases must be resources, leases or all, not '${leases}'`);
  }
  const end = o['geni_end_time'];
  let endTime: Date | undefined;
  if (end instanceof Date) endTime = end;
  else if (typeof end === 'string' && end !== '') endTime = parseRfc3339(end, 'geni_end_time');
  return {
    rspecVersion: o['geni_rspec_version'] ?? o['rspec_version'] ?? undefined,
    available: flag(o['geni_available']),
    compressed: flag(o['geni_compressed']),
    endTime,
    users: readUsers(o['geni_users']),
    bestEffort: flag(o['geni_best_effort']),
    extendAlap: flag(o['geni_extend_alap']),
    listLeases: leases as AmOptions['listLeases'],
    cached: o['cached'] === undefined ? true : flag(o['cached']),
    callId: readCallId(o),
    speakingFor: optionalString(o, 'geni_speaking_for'),
    sliceUrn: optionalString(o, 'geni_slice_urn'),
  };
}

/**
 * The option a slice manager adds when it relays a call: who called it and with which client
 * (`{caller, client}`), so that the aggregate's records (a slice's history) name the researcher
 * and the client program rather than the slice manager. Informative only: authorization uses
 * the credentials and the TLS caller, never this.
 */
export const ORIGIN_OPTION = 'sfa_ts_origin';

/** The origin a relayed call's options carry, if well formed (bounded strings). */
export function readOrigin(
  options: XmlRpcValue | undefined,
): { caller: string; client?: string } | undefined {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return undefined;
  const o = (options as XmlRpcStruct)[ORIGIN_OPTION];
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return undefined;
  const { caller, client } = o as XmlRpcStruct;
  if (typeof caller !== 'string' || caller === '' || caller.length > 300) return undefined;
  return {
    caller,
    ...(typeof client === 'string' && client.length <= 200 ? { client } : {}),
  };
}

/** Whether a caller label (a URN) names an authority: only they may pass an origin on. */
export function isAuthorityCaller(label: string | undefined): boolean {
  return label !== undefined && /^urn:publicid:IDN\+[^+]+\+authority\+/.test(label);
}
