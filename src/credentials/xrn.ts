/**
 * SFA identifiers: HRNs (human readable names, `plc.princeton.tmack`) and GENI publicid URNs
 * (`urn:publicid:IDN+plc:princeton+user+tmack`), and the mapping between them.
 *
 * The mapping is SFA's (sfa/util/xrn.py), so that names mean the same thing here and there:
 *  - the URN authority part `a:b:c` is the HRN prefix `a.b.c`; the URN name is the HRN leaf;
 *  - a `.` inside a URN component becomes `\.` in the HRN (`emulab.net` → `emulab\.net`);
 *  - an authority's URN names the authority itself in the authority part, followed by
 *    `+authority+sa` (type `authority`) or `+authority+am|cm|sm|...` (type `authority+am` ...).
 *
 * Unlike SFA, which maps garbage to garbage, malformed names are refused with {@link BadArgs}:
 * every HRN this module accepts maps to exactly one URN and back.
 */
import { BadArgs } from '../faults.js';

/** An SFA object type: `user`, `slice`, `node`, `sliver`, `authority`, `authority+am` ... */
export type XrnType = string;

/** The URN prefix of every SFA/GENI identifier (matched case-insensitively on input). */
export const URN_PREFIX = 'urn:publicid:IDN';

// Characters allowed inside a URN part: RFC 2141's <trans> minus the reserved `/ ? #` that GENI
// refuses, plus `%XX` escapes. `+` separates the parts, `:` separates authority components.
const PART_CHAR = /[A-Za-z0-9(),\-.:=@;$_!*']/;
const COMPONENT_CHAR = /[A-Za-z0-9(),\-.=@;$_!*']/;
// Types and authority sub-names (sa, am, cm, sm, ma ...) are plain words.
const TYPE_RE = /^[A-Za-z0-9_-]+$/;
const SLICE_NAME_RE = /^[a-zA-Z0-9][-a-zA-Z0-9]{0,18}$/;

/** Quote a caller-supplied value for an error message, bounded so a huge input stays readable. */
function show(value: unknown): string {
  let s: string;
  try {
    s = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    s = Object.prototype.toString.call(value);
  }
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function requireString(value: unknown, what: string): string {
  if (typeof value !== 'string') throw new BadArgs(`${what} must be a string, got ${show(value)}`);
  if (value === '') throw new BadArgs(`${what} is empty`);
  return value;
}

/**
 * Check `text` against an allowed character class (and `%XX` escapes).
 * Returns a description of the first problem, or undefined if the text is fine.
 */
function badCharacter(text: string, allowed: RegExp): string | undefined {
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    if (c === '%') {
      if (!/^%[0-9A-Fa-f]{2}/.test(text.slice(i, i + 3))) {
        return `a '%' that is not followed by two hex digits`;
      }
      i += 2;
    } else if (!allowed.test(c)) {
      if (/\s/.test(c)) return 'whitespace';
      return `the character ${JSON.stringify(c)}`;
    }
  }
  return undefined;
}

/** True for `authority` and `authority+<sub>` (`authority+am`, ...): the types that sign GIDs. */
export function isAuthorityType(type: string): boolean {
  return type === 'authority' || type.startsWith('authority+');
}

/**
 * True if `text` starts with the `urn:publicid:IDN` prefix (any case), as SFA's `Xrn.is_urn`.
 * This only routes a string to URN or HRN handling; {@link Xrn.fromUrn} does the validation.
 */
export function isUrn(text: string): boolean {
  return typeof text === 'string' && text.toLowerCase().startsWith(URN_PREFIX.toLowerCase());
}

/** Escape the dots of a raw name so it is one HRN component: `node1.inria.fr` → `node1\.inria\.fr`. */
export function escapeHrnComponent(name: string): string {
  return name.replaceAll('.', '\\.');
}

/** Undo {@link escapeHrnComponent}: `node1\.inria\.fr` → `node1.inria.fr`. */
export function unescapeHrnComponent(component: string): string {
  return component.replaceAll('\\.', '.');
}

/**
 * Split an HRN into its components, respecting escaped dots (components stay escaped):
 * `emulab\.net.myslice.jktest` → `['emulab\.net', 'myslice', 'jktest']`.
 *
 * @throws BadArgs for an empty HRN, an empty component (`a..b`, `.a`, `a.`) or a backslash that
 *   does not escape a dot.
 */
export function splitHrn(hrn: string): string[] {
  requireString(hrn, 'HRN');
  const parts: string[] = [];
  let current = '';
  for (let i = 0; i < hrn.length; i++) {
    const c = hrn.charAt(i);
    if (c === '\\') {
      // The only escape in an HRN is `\.`; anything else would be ambiguous.
      if (hrn.charAt(i + 1) !== '.') {
        throw new BadArgs(`invalid HRN ${show(hrn)}: a backslash may only escape a dot`);
      }
      current += '\\.';
      i++;
    } else if (c === '.') {
      if (current === '') throw new BadArgs(`invalid HRN ${show(hrn)}: empty component`);
      parts.push(current);
      current = '';
    } else {
      current += c;
    }
  }
  if (current === '') throw new BadArgs(`invalid HRN ${show(hrn)}: empty component`);
  parts.push(current);
  return parts;
}

/**
 * The HRN of the authority part: all components but the last, joined (`''` for a single
 * component). `a\.b.c.d` → `a\.b.c`.
 */
export function hrnAuthority(hrn: string): string {
  return splitHrn(hrn).slice(0, -1).join('.');
}

/**
 * The last component of an HRN, still escaped as in SFA's `hrn_leaf`:
 * `ple.inria.node1\.inria\.fr` → `node1\.inria\.fr` (see {@link Xrn.leaf} for the unescaped name).
 */
export function hrnLeaf(hrn: string): string {
  const parts = splitHrn(hrn);
  return parts[parts.length - 1] ?? '';
}

/**
 * True if `authorityHrn` is `hrn` or one of its ancestors, comparing whole components
 * case-insensitively (authority names are case-insensitive in GENI URNs). A textual
 * `startsWith` would be wrong: `a\.b` is a prefix of `a\.b.c.d`, but `a` is not a prefix of
 * `a\.b.c`, nor `plc.prince` of `plc.princeton.x`.
 *
 * @throws BadArgs if either HRN is malformed (see {@link splitHrn}).
 */
export function isHrnPrefix(authorityHrn: string, hrn: string): boolean {
  const auth = splitHrn(authorityHrn);
  const parts = splitHrn(hrn);
  if (auth.length > parts.length) return false;
  return auth.every((c, i) => c.toLowerCase() === parts[i]?.toLowerCase());
}

/**
 * Validate the name of a slice being registered locally: GENI's
 * `^[a-zA-Z0-9][-a-zA-Z0-9]{0,18}$` (alphanumerics and hyphens, no leading hyphen, at most 19).
 * Foreign slices are not checked: other authorities have other rules.
 *
 * @throws BadArgs naming the slice name if it does not match.
 */
export function validateSliceName(name: string): void {
  requireString(name, 'slice name');
  if (!SLICE_NAME_RE.test(name)) {
    throw new BadArgs(
      `invalid slice name ${show(name)}: use 1 to 19 letters, digits or hyphens, not starting with a hyphen`,
    );
  }
}

/**
 * Types that merely start with 'authority' ('authorityx', 'Authority') are refused: SFA (and
 * callers) test authority-ness with startsWith('authority'), so such a type would pass as one.
 */
function isConfusableType(type: string): boolean {
  return type.toLowerCase().startsWith('authority') && type !== 'authority';
}

/** Split a type such as `authority+am` into its base and authority sub-name (`sa` by default). */
function splitType(type: string): { base: string; sub: string | undefined } {
  const plus = type.indexOf('+');
  if (plus < 0) return { base: type, sub: undefined };
  return { base: type.slice(0, plus), sub: type.slice(plus + 1) };
}

/** Lower-case the authority part and upper-case `%xx` escapes elsewhere, for comparisons. */
function comparisonKey(urnBody: string): string {
  const [authority = '', type = '', name = ''] = urnBody.split('+');
  const hexUpper = (s: string): string =>
    s.replace(/%[0-9A-Fa-f]{2}/g, (escape) => escape.toUpperCase());
  return `${authority.toLowerCase()}+${hexUpper(type)}+${hexUpper(name)}`;
}

/** An SFA name: its HRN, URN and type, kept consistent. Build one with the static methods. */
export class Xrn {
  /** e.g. `plc.princeton.tmack`. */
  readonly hrn: string;
  /** e.g. `urn:publicid:IDN+plc:princeton+user+tmack`, prefix spelt canonically. */
  readonly urn: string;
  /** `user`, `slice`, `node`, `sliver`, `authority` (for `+authority+sa`), `authority+am` ... */
  readonly type: XrnType;
  /** The last HRN component, unescaped (`node1.inria.fr`); an authority's own name. */
  readonly leaf: string;
  /** The HRN of the authority holding this object (`''` for a top-level authority). */
  readonly authorityHrn: string;

  private constructor(hrn: string, urn: string, type: string, leaf: string, authorityHrn: string) {
    this.hrn = hrn;
    this.urn = urn;
    this.type = type;
    this.leaf = leaf;
    this.authorityHrn = authorityHrn;
  }

  /**
   * Build the name of an object from its HRN and type, as SFA's `hrn_to_urn`:
   * `('plc.princeton.tmack', 'user')` → `urn:publicid:IDN+plc:princeton+user+tmack`,
   * `('plc.princeton', 'authority')` → `urn:publicid:IDN+plc:princeton+authority+sa`.
   * Type `authority+sa` is the same as `authority`; `authority+am` etc. are kept.
   *
   * @throws BadArgs for a malformed HRN or type, a URN given as HRN, or a non-authority HRN with
   *   a single component (its URN would have no authority).
   */
  static fromHrn(hrn: string, type: string): Xrn {
    requireString(hrn, 'HRN');
    requireString(type, `type of HRN ${show(hrn)}`);
    if (isUrn(hrn)) throw new BadArgs(`expected an HRN, got the URN ${show(hrn)}`);

    const { base, sub } = splitType(type);
    if (
      !TYPE_RE.test(base) ||
      isConfusableType(base) ||
      (sub !== undefined && !(base === 'authority' && TYPE_RE.test(sub)))
    ) {
      throw new BadArgs(
        `invalid type ${show(type)}: use a word such as user, slice, node, authority or authority+am`,
      );
    }
    const isAuthority = base === 'authority';
    const normalType = isAuthority && sub !== undefined && sub !== 'sa' ? `authority+${sub}` : base;

    const parts = splitHrn(hrn);
    // An authority's own name goes into the URN authority part, so all its components do.
    const authorityParts = isAuthority ? parts : parts.slice(0, -1);
    if (authorityParts.length === 0) {
      throw new BadArgs(`invalid HRN ${show(hrn)} for type ${show(type)}: no authority part`);
    }
    for (const component of authorityParts) {
      const problem = badCharacter(unescapeHrnComponent(component), COMPONENT_CHAR);
      if (problem) throw new BadArgs(`invalid HRN ${show(hrn)}: contains ${problem}`);
    }
    const leafComponent = parts[parts.length - 1] ?? '';
    const leaf = unescapeHrnComponent(leafComponent);
    if (!isAuthority) {
      // The URN name may contain ':' (e.g. ExoGENI sliver names), but never '+'.
      const problem = badCharacter(leaf, PART_CHAR);
      if (problem) throw new BadArgs(`invalid HRN ${show(hrn)}: contains ${problem}`);
    }

    const urnAuthority = authorityParts.map(unescapeHrnComponent).join(':');
    const urn = isAuthority
      ? `${URN_PREFIX}+${urnAuthority}+authority+${sub ?? 'sa'}`
      : `${URN_PREFIX}+${urnAuthority}+${base}+${leaf}`;
    return new Xrn(parts.join('.'), urn, normalType, leaf, parts.slice(0, -1).join('.'));
  }

  /**
   * Parse a `urn:publicid:IDN+<authority>+<type>+<name>` URN, as SFA's `urn_to_hrn`:
   * `urn:publicid:IDN+emulab.net:myslice+slice+jktest` → `emulab\.net.myslice.jktest` (slice);
   * `urn:publicid:IDN+ple:inria+authority+sa` → `ple.inria` (authority);
   * `urn:publicid:IDN+ple:inria+authority+am` → `ple.inria` (authority+am).
   * The prefix is matched case-insensitively and spelt canonically in {@link Xrn.urn}.
   *
   * @throws BadArgs for anything that is not such a URN: wrong prefix, missing or empty parts,
   *   empty authority components, whitespace or characters not allowed in a URN.
   */
  static fromUrn(urn: string): Xrn {
    requireString(urn, 'URN');
    const prefix = `${URN_PREFIX}+`;
    if (!urn.toLowerCase().startsWith(prefix.toLowerCase())) {
      throw new BadArgs(`invalid URN ${show(urn)}: must start with ${prefix}`);
    }
    const body = urn.slice(prefix.length);
    const problem = badCharacter(body, /[+A-Za-z0-9(),\-.:=@;$_!*']/);
    if (problem) throw new BadArgs(`invalid URN ${show(urn)}: contains ${problem}`);

    const fields = body.split('+');
    if (fields.length !== 3) {
      throw new BadArgs(
        fields.length < 3
          ? `invalid URN ${show(urn)}: expected ${prefix}<authority>+<type>+<name>, missing type or name`
          : `invalid URN ${show(urn)}: too many '+' separated parts`,
      );
    }
    const [authority = '', type = '', name = ''] = fields;
    if (authority === '') throw new BadArgs(`invalid URN ${show(urn)}: empty authority`);
    if (type === '') throw new BadArgs(`invalid URN ${show(urn)}: empty type`);
    if (name === '') throw new BadArgs(`invalid URN ${show(urn)}: empty name`);
    if (!TYPE_RE.test(type) || isConfusableType(type)) {
      throw new BadArgs(`invalid URN ${show(urn)}: bad type ${show(type)}`);
    }

    // SFA silently drops empty authority components ('a::b'); refuse them instead.
    const components = authority.split(':');
    if (components.some((c) => c === '')) {
      throw new BadArgs(`invalid URN ${show(urn)}: empty authority component`);
    }
    const authorityHrn = components.map(escapeHrnComponent).join('.');
    const canonicalUrn = `${URN_PREFIX}+${body}`;

    if (type === 'authority') {
      // The name is the kind of authority: 'sa' is plain 'authority' (SFA's "bad hack").
      if (!TYPE_RE.test(name)) {
        throw new BadArgs(`invalid URN ${show(urn)}: bad authority kind ${show(name)}`);
      }
      const leaf = components[components.length - 1] ?? '';
      return new Xrn(
        authorityHrn,
        canonicalUrn,
        name === 'sa' ? 'authority' : `authority+${name}`,
        leaf,
        components.slice(0, -1).map(escapeHrnComponent).join('.'),
      );
    }
    // SFA cuts a ':id' suffix off the name and loses it from the HRN; keep the whole name so
    // that the HRN maps back to this URN.
    return new Xrn(
      `${authorityHrn}.${escapeHrnComponent(name)}`,
      canonicalUrn,
      type,
      name,
      authorityHrn,
    );
  }

  /**
   * Accept either form, as SFA's `Xrn(xrn, type)`: a string starting with `urn:` is parsed as a
   * URN, anything else as an HRN of the given type.
   *
   * @throws BadArgs if the name is malformed, if an HRN comes without a type, or if a URN's type
   *   contradicts the given type (`authority+sa` and `authority` are the same type).
   */
  static parse(hrnOrUrn: string, type?: string): Xrn {
    requireString(hrnOrUrn, 'name');
    if (hrnOrUrn.toLowerCase().startsWith('urn:')) {
      const xrn = Xrn.fromUrn(hrnOrUrn);
      if (type !== undefined) {
        const expected = type === 'authority+sa' ? 'authority' : type;
        if (xrn.type !== expected) {
          throw new BadArgs(`${show(hrnOrUrn)} is a ${xrn.type}, expected a ${show(type)}`);
        }
      }
      return xrn;
    }
    if (type === undefined) throw new BadArgs(`the HRN ${show(hrnOrUrn)} needs a type`);
    return Xrn.fromHrn(hrnOrUrn, type);
  }

  /**
   * True if this name is an authority (any `authority*` type) and its HRN is `other`'s HRN or
   * a component-wise ancestor of it (see {@link isHrnPrefix}). `other` may be an Xrn, a URN or
   * an HRN.
   *
   * @throws BadArgs if `other` is malformed.
   */
  isAuthorityFor(other: Xrn | string): boolean {
    let otherHrn: string;
    if (other instanceof Xrn) otherHrn = other.hrn;
    else if (typeof other === 'string' && other.toLowerCase().startsWith('urn:')) {
      otherHrn = Xrn.fromUrn(other).hrn;
    } else otherHrn = requireString(other, 'name');
    return isAuthorityType(this.type) && isHrnPrefix(this.hrn, otherHrn);
  }

  /**
   * Same URN, comparing the authority part case-insensitively (GENI) and `%xx` escapes
   * regardless of hex case (RFC 2141); type and name are case-sensitive.
   */
  equals(other: Xrn): boolean {
    const prefixLength = URN_PREFIX.length + 1;
    return (
      comparisonKey(this.urn.slice(prefixLength)) === comparisonKey(other.urn.slice(prefixLength))
    );
  }

  toString(): string {
    return this.urn;
  }
}

/**
 * The URN of an HRN of the given type (see {@link Xrn.fromHrn}).
 *
 * @throws BadArgs for a malformed HRN or type.
 */
export function hrnToUrn(hrn: string, type: string): string {
  return Xrn.fromHrn(hrn, type).urn;
}

/**
 * The HRN and type of a URN (see {@link Xrn.fromUrn}): `+authority+sa` gives type `authority`,
 * `+authority+am` gives `authority+am`.
 *
 * @throws BadArgs for a malformed URN.
 */
export function urnToHrn(urn: string): { hrn: string; type: string } {
  const xrn = Xrn.fromUrn(urn);
  return { hrn: xrn.hrn, type: xrn.type };
}

// The publicid ↔ URN transcription of RFC 3151 as GENI applies it (geni-tools urn_util), in
// the order that matters: '::' must be seen before ':' and '//' before '/'.
const PUBLICID_ESCAPES: ReadonlyMap<string, string> = new Map([
  ['%', '%25'],
  [';', '%3B'],
  ['+', '%2B'],
  ['#', '%23'],
  ['?', '%3F'],
  ["'", '%27'],
  [':', '%3A'],
  ['/', '%2F'],
]);

/**
 * Transcribe a publicid into its URN (RFC 3151, as GENI does): whitespace collapses to a single
 * `+`, `//` → `:`, `::` → `;`, and `% ; + # ? ' : /` are %-escaped.
 * `IDN plc//princeton user tmack` → `urn:publicid:IDN+plc:princeton+user+tmack`.
 *
 * @throws BadArgs for an empty or blank publicid.
 */
export function publicIdToUrn(publicId: string): string {
  requireString(publicId, 'publicid');
  const words = publicId.trim().split(/\s+/);
  if (words.length === 1 && words[0] === '') throw new BadArgs('publicid is blank');
  const text = words.join(' ');
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    const pair = text.slice(i, i + 2);
    if (pair === '::') {
      out += ';';
      i++;
    } else if (pair === '//') {
      out += ':';
      i++;
    } else if (c === ' ') out += '+';
    else out += PUBLICID_ESCAPES.get(c) ?? c;
  }
  return `urn:publicid:${out}`;
}

/**
 * Transcribe a `urn:publicid:` URN back into its publicid (inverse of {@link publicIdToUrn}):
 * `+` → space, `:` → `//`, `;` → `::`, and every `%XX` escape is decoded.
 *
 * @throws BadArgs if `urn` does not start with `urn:publicid:` (any case), contains whitespace
 *   or a malformed `%` escape.
 */
export function urnToPublicId(urn: string): string {
  requireString(urn, 'URN');
  const prefix = 'urn:publicid:';
  if (!urn.toLowerCase().startsWith(prefix)) {
    throw new BadArgs(`invalid URN ${show(urn)}: must start with ${prefix}`);
  }
  const body = urn.slice(prefix.length);
  if (/\s/.test(body)) throw new BadArgs(`invalid URN ${show(urn)}: contains whitespace`);
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const c = body.charAt(i);
    if (c === '%') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        throw new BadArgs(`invalid URN ${show(urn)}: a '%' is not followed by two hex digits`);
      }
      out += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (c === '+') out += ' ';
    else if (c === ':') out += '//';
    else if (c === ';') out += '::';
    else out += c;
  }
  return out;
}

/** True when `a` and `b` are URNs naming the same object; false for anything malformed. */
export function sameUrn(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return Xrn.fromUrn(a).equals(Xrn.fromUrn(b));
  } catch {
    return false;
  }
}
