/**
 * The RSpec versions this aggregate speaks, as GetVersion advertises them, and the matcher for
 * the `geni_rspec_version` option of ListResources/Describe (and `rspec_version` from sfi).
 *
 * One version only: GENI 3, for ads, requests and manifests.
 */
import { BadArgs, BadVersion } from '../faults.js';
import {
  OPSTATE_NS,
  PLANETLAB_NS,
  RSPEC3_AD_SCHEMA,
  RSPEC3_NS,
  RSPEC3_REQUEST_SCHEMA,
  SFATS_NS,
} from './namespaces.js';

/** One entry of `geni_request_rspec_versions` / `geni_ad_rspec_versions`. */
export interface RspecVersionDict {
  type: string;
  version: string;
  schema: string;
  namespace: string;
  extensions: string[];
}

/** The GetVersion lists, fresh objects on each call (callers may serialize or extend them). */
export function rspecVersions(): {
  geni_request_rspec_versions: RspecVersionDict[];
  geni_ad_rspec_versions: RspecVersionDict[];
} {
  return {
    geni_request_rspec_versions: [
      {
        type: 'GENI',
        version: '3',
        schema: RSPEC3_REQUEST_SCHEMA,
        namespace: RSPEC3_NS,
        extensions: [PLANETLAB_NS, SFATS_NS],
      },
    ],
    geni_ad_rspec_versions: [
      {
        type: 'GENI',
        version: '3',
        schema: RSPEC3_AD_SCHEMA,
        namespace: RSPEC3_NS,
        extensions: [PLANETLAB_NS, SFATS_NS, OPSTATE_NS],
      },
    ],
  };
}

const SUPPORTED = 'supported: GENI 3 ({type: "GENI", version: "3"})';

function show(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

function isThree(version: unknown): boolean {
  if (typeof version === 'number') return version === 3;
  // SFA compares versions as floats, so "3.0" is 3 too.
  return typeof version === 'string' && /^\s*3(\.0*)?\s*$/.test(version);
}

/**
 * Check a client's `geni_rspec_version` (a struct `{type, version, ...}` or a string such as
 * `"GENI 3"`): type matched case-insensitively, version `"3"`, `3` or `"3.0"`; `schema`,
 * `namespace` and `content_type` are ignored (sfi sends the manifest schema even to
 * ListResources). Missing or malformed: BadArgs. Well-formed but not ours: BadVersion.
 */
export function matchRspecVersion(option: unknown): 'GENI 3' {
  let type: unknown;
  let version: unknown;
  if (option === undefined || option === null || option === '') {
    throw new BadArgs(`geni_rspec_version is required: ${SUPPORTED}`);
  } else if (typeof option === 'string') {
    [type, version] = option.trim().split(/\s+/);
  } else if (typeof option === 'object' && !Array.isArray(option)) {
    type = (option as Record<string, unknown>).type;
    version = (option as Record<string, unknown>).version;
    if (type === undefined && version === undefined) {
      throw new BadArgs(`geni_rspec_version is required: ${SUPPORTED}`);
    }
  } else {
    throw new BadArgs(
      `geni_rspec_version must be a struct with type and version, not ${show(option)}; ${SUPPORTED}`,
    );
  }
  if (typeof type !== 'string' || type.trim() === '') {
    throw new BadArgs(`geni_rspec_version has no type: ${SUPPORTED}`);
  }
  if (version === undefined || version === null || version === '') {
    throw new BadArgs(`geni_rspec_version has no version: ${SUPPORTED}`);
  }
  if (type.trim().toLowerCase() === 'geni' && isThree(version)) return 'GENI 3';
  throw new BadVersion(
    `RSpec version ${show(type)} ${show(version)} is not supported; ${SUPPORTED}`,
  );
}
