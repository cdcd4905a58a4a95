/**
 * Shape checks for what callers hand the engine. Each returns a fresh copy of what it checked,
 * so nothing the caller still holds can change between the check and its use.
 */
import { BadArgs } from '../../faults.js';
import { quote } from '../../text.js';
import type { Attribute, SliceUser } from './types.js';

const TAG_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_VALUE_LENGTH = 4096;

export { quote } from '../../text.js';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new BadArgs(`${what} must be a non-empty string, got ${quote(value)}`);
  }
  return value;
}

/** A tag or attribute name: 1 to 64 letters, digits, `_`, `.` or `-`. */
export function checkTagName(name: unknown, what: string): string {
  if (typeof name !== 'string' || !TAG_NAME.test(name)) {
    throw new BadArgs(
      `${what}: the name ${quote(name)} is not valid; use 1 to 64 letters, digits, '_', '.' or '-'`,
    );
  }
  return name;
}

export function checkTagValue(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length > MAX_VALUE_LENGTH) {
    throw new BadArgs(
      `${what}: the value must be a string of at most ${MAX_VALUE_LENGTH} characters`,
    );
  }
  return value;
}

/** A list of `{name, value}` pairs. */
export function checkAttributes(value: unknown, what: string): Attribute[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new BadArgs(`${what} must be a list of {name, value}`);
  return value.map((a: unknown, i) => {
    if (!isRecord(a)) throw new BadArgs(`${what}[${i}] must be a {name, value} pair`);
    const name = checkTagName(a['name'], `${what}[${i}]`);
    return { name, value: checkTagValue(a['value'], `${what}[${i}] (${name})`) };
  });
}

export function checkStringList(value: unknown, what: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new BadArgs(`${what} must be a list of strings`);
  return value.map((s: unknown, i) => requireString(s, `${what}[${i}]`));
}

/** `geni_users`: `[{urn, keys, email?}]`, each URN once. */
export function checkUsers(value: unknown): SliceUser[] {
  if (!Array.isArray(value)) throw new BadArgs('geni_users must be a list of {urn, keys}');
  const seen = new Set<string>();
  return value.map((u: unknown, i) => {
    if (!isRecord(u)) throw new BadArgs(`geni_users[${i}] must be a {urn, keys} struct`);
    const urn = requireString(u['urn'], `geni_users[${i}].urn`);
    if (seen.has(urn)) throw new BadArgs(`geni_users lists ${urn} twice; list each user once`);
    seen.add(urn);
    const keys = checkStringList(u['keys'] ?? [], `geni_users[${i}].keys`);
    const email = u['email'];
    if (email !== undefined && typeof email !== 'string') {
      throw new BadArgs(`geni_users[${i}].email must be a string`);
    }
    return { urn, keys, ...(email === undefined ? {} : { email }) };
  });
}
