/**
 * Registry records on the wire, field for field as the Python SFA sends them, and the record
 * structs clients send to Register and Update.
 */
import { BadArgs } from '../faults.js';
import { Xrn } from '../credentials/xrn.js';
import type { RecordRow, RegistryStore } from '../store/registry-store.js';
import type { XmlRpcStruct, XmlRpcValue } from '../xmlrpc/value.js';

/** Record types the registry holds. */
export const REGISTRABLE_TYPES = ['authority', 'user', 'slice', 'node'] as const;
export type RegistrableType = (typeof REGISTRABLE_TYPES)[number];

export function isRegistrableType(t: string): t is RegistrableType {
  return (REGISTRABLE_TYPES as readonly string[]).includes(t);
}

/**
 * The record struct of `row`: common fields (`hrn, type, gid, authority, peer_authority,
 * pointer, date_created, last_updated, reg-urn, record_id, classtype`) and, per type,
 * `email, reg-keys, reg-slices, reg-pi-authorities` (user), `reg-researchers` (slice),
 * `name, reg-pis` (authority). Dates go as dateTime.iso8601, as SFA marshals them.
 */
export function toWire(store: RegistryStore, row: RecordRow): XmlRpcStruct {
  const out: XmlRpcStruct = {
    record_id: row.id,
    classtype: row.type.split('+')[0]!,
    hrn: row.hrn,
    type: row.type,
    gid: row.gid,
    authority: row.authority,
    peer_authority: row.peerAuthority,
    pointer: row.pointer,
    date_created: row.dateCreated,
    last_updated: row.lastUpdated,
    'reg-urn': Xrn.fromHrn(row.hrn, row.type).urn,
  };
  const hrns = (rows: RecordRow[]): XmlRpcValue[] => rows.map((r) => r.hrn);
  switch (row.type) {
    case 'user':
      out['email'] = row.email ?? '';
      out['reg-keys'] = store.keys(row.id);
      out['reg-slices'] = hrns(store.slicesOf(row.id));
      out['reg-pi-authorities'] = hrns(store.piAuthoritiesOf(row.id));
      break;
    case 'slice':
      out['reg-researchers'] = hrns(store.researchers(row.id));
      if (row.expires) out['expires'] = row.expires;
      break;
    case 'authority':
      out['name'] = row.name;
      out['reg-pis'] = hrns(store.pis(row.id));
      break;
  }
  return out;
}

/** A record struct from Register or Update, normalized (legacy field names accepted). */
export interface RecordInput {
  hrn: string;
  type: RegistrableType;
  email?: string;
  name?: string;
  keys?: string[];
  researchers?: string[];
  pis?: string[];
  gid?: string;
}

function stringList(value: XmlRpcValue | undefined, field: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value === '' ? [] : [value];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value as string[];
  throw new BadArgs(`'${field}' must be a string or a list of strings`);
}

function optionalString(value: XmlRpcValue | undefined, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new BadArgs(`'${field}' must be a string`);
  return value;
}

/**
 * Read the record struct sfi (or another client) sends. The name comes from `hrn`, else from
 * `urn`; `reg-researchers`/`researcher`, `reg-pis`/`pi`, `reg-keys`/`keys` are the same fields.
 * Unknown fields (`first_name`, `enabled`, …) are ignored, as SFA does.
 */
export function readRecordInput(value: XmlRpcValue): RecordInput {
  if (
    !value ||
    typeof value !== 'object' ||
    Array.isArray(value) ||
    value instanceof Date ||
    Buffer.isBuffer(value)
  ) {
    throw new BadArgs('the record must be a struct with at least hrn (or urn) and type');
  }
  const r = value as XmlRpcStruct;
  const type = optionalString(r['type'], 'type');
  const hrn = optionalString(r['hrn'], 'hrn');
  const urn = optionalString(r['urn'] ?? r['reg-urn'], 'urn');
  let xrn: Xrn;
  if (hrn) {
    if (!type) throw new BadArgs(`record ${hrn} has no type (authority, user, slice or node)`);
    xrn = Xrn.fromHrn(hrn, type);
  } else if (urn) {
    xrn = Xrn.fromUrn(urn);
  } else {
    throw new BadArgs('the record has neither hrn nor urn');
  }
  const recordType = (type ?? xrn.type).split('+')[0]!;
  if (!isRegistrableType(recordType)) {
    throw new BadArgs(`unknown record type '${type ?? xrn.type}' (authority, user, slice or node)`);
  }
  const pick = (...names: string[]) => names.map((n) => r[n]).find((v) => v !== undefined);
  return {
    hrn: xrn.hrn,
    type: recordType,
    email: optionalString(r['email'], 'email'),
    name: optionalString(r['name'], 'name'),
    keys: stringList(pick('reg-keys', 'keys', 'key'), 'reg-keys'),
    researchers: stringList(
      pick('reg-researchers', 'researcher', 'researchers'),
      'reg-researchers',
    ),
    pis: stringList(pick('reg-pis', 'pi', 'pis'), 'reg-pis'),
    gid: optionalString(r['gid'], 'gid'),
  };
}
