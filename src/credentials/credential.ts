/**
 * The GENI/SFA privilege credential (`geni_sfa` versions 2 and 3): its fields, how they are read
 * from a `<credential>` element, and how a new one is written.
 *
 * Element order is the schema's (`schemas/credential/credential.xsd`):
 * type, serial, owner_gid, owner_urn, target_gid, target_urn, uuid, expires, privileges, parent.
 */
import type { Element } from '@xmldom/xmldom';
import { CredentialInvalid } from '../faults.js';
import { Gid } from './gid.js';
import type { Privilege } from './privileges.js';
import { formatRfc3339, parseRfc3339 } from './time.js';
import { childElements, textOf, XML_NS } from './xml.js';

/** What a credential says, one level of the delegation chain. */
export interface CredentialBody {
  /** `privilege` (tickets and capabilities are not issued by SFA and not accepted here). */
  readonly type: string;
  readonly serial: string;
  readonly ownerGid: Gid;
  readonly ownerUrn: string;
  readonly targetGid: Gid;
  readonly targetUrn: string;
  readonly uuid: string;
  readonly expires: Date;
  /** As written, `*` not expanded. */
  readonly privileges: readonly Privilege[];
}

/** A `<credential>` element read strictly: its xml:id, body, and the parent credential element. */
export interface CredentialElement {
  readonly element: Element;
  readonly refid: string;
  readonly body: CredentialBody;
  readonly parentElement: Element | undefined;
}

const FIELD_ORDER = [
  'type',
  'serial',
  'owner_gid',
  'owner_urn',
  'target_gid',
  'target_urn',
  'uuid',
  'expires',
  'privileges',
  'parent',
] as const;
const OPTIONAL = new Set(['owner_urn', 'target_urn', 'parent']);

function invalid(message: string): CredentialInvalid {
  return new CredentialInvalid(`malformed credential: ${message}`);
}

/**
 * Read a `<credential>` element. Every field must appear once, in schema order, as an element
 * child without namespace; anything else (an extra element, a repeated field) is refused rather
 * than ignored, so that no reader can be made to see a different field than the signer did.
 */
export function readCredentialElement(el: Element): CredentialElement {
  if (el.localName !== 'credential' || el.namespaceURI) throw invalid('expected <credential>');
  const refid = el.getAttributeNS(XML_NS, 'id');
  if (!refid) throw invalid('<credential> has no xml:id');
  const fields = new Map<string, Element>();
  let position = 0;
  for (const child of childElements(el)) {
    const name = child.localName ?? '';
    if (child.namespaceURI) throw invalid(`unexpected namespaced element <${child.tagName}>`);
    const at = FIELD_ORDER.indexOf(name as (typeof FIELD_ORDER)[number]);
    if (name === 'extensions') continue; // allowed by the schema, carries nothing we read
    if (at < 0)
      throw invalid(`unexpected element <${name}> (tickets and capabilities are not accepted)`);
    if (fields.has(name)) throw invalid(`<${name}> appears twice`);
    if (at < position) throw invalid(`<${name}> is out of order`);
    position = at;
    fields.set(name, child);
  }
  for (const name of FIELD_ORDER) {
    if (!fields.has(name) && !OPTIONAL.has(name)) throw invalid(`<${name}> is missing`);
  }
  const text = (name: string): string => {
    const f = fields.get(name);
    return f ? textOf(f, 'credential').trim() : '';
  };
  const type = text('type');
  if (type !== 'privilege') throw invalid(`type '${type}' is not accepted (only 'privilege')`);
  const ownerGid = readGid(text('owner_gid'), 'owner_gid');
  const targetGid = readGid(text('target_gid'), 'target_gid');
  let expires: Date;
  try {
    expires = parseRfc3339(text('expires'), 'expires');
  } catch (e) {
    throw invalid((e as Error).message);
  }
  const body: CredentialBody = {
    type,
    serial: text('serial'),
    ownerGid,
    ownerUrn: text('owner_urn') || ownerGid.urn,
    targetGid,
    targetUrn: text('target_urn') || targetGid.urn,
    uuid: text('uuid'),
    expires,
    privileges: readPrivileges(fields.get('privileges')!),
  };
  let parentElement: Element | undefined;
  const parent = fields.get('parent');
  if (parent) {
    const inner = childElements(parent);
    if (inner.length !== 1) throw invalid('<parent> must hold exactly one <credential>');
    parentElement = inner[0];
  }
  return { element: el, refid, body, parentElement };
}

function readGid(pem: string, what: string): Gid {
  try {
    return Gid.fromPem(pem);
  } catch (e) {
    throw invalid(`<${what}> is not a certificate: ${(e as Error).message}`);
  }
}

function readPrivileges(el: Element): Privilege[] {
  const out: Privilege[] = [];
  for (const p of childElements(el)) {
    if (p.localName !== 'privilege' || p.namespaceURI)
      throw invalid(`unexpected <${p.tagName}> in <privileges>`);
    const parts = childElements(p);
    const [nameEl, delegateEl] = parts;
    if (
      parts.length !== 2 ||
      nameEl?.localName !== 'name' ||
      delegateEl?.localName !== 'can_delegate'
    ) {
      throw invalid('a <privilege> must hold <name> then <can_delegate>');
    }
    const name = textOf(nameEl, 'privilege name').trim();
    const flag = textOf(delegateEl, 'can_delegate').trim().toLowerCase();
    if (!name) throw invalid('a privilege has an empty name');
    if (!['true', 'false', '1', '0'].includes(flag))
      throw invalid(`can_delegate '${flag}' is not a boolean`);
    out.push({ name, canDelegate: flag === 'true' || flag === '1' });
  }
  return out;
}

/** Escape text for an XML element body. */
export function escapeXmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escape text for a double-quoted XML attribute. */
export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s).replace(/"/g, '&quot;');
}

/**
 * Write the `<credential xml:id="…">` element for `body`, with `parentXml` (an already signed
 * `<credential>` element, serialized) under `<parent>` when delegating.
 */
export function writeCredentialElement(
  refid: string,
  body: CredentialBody,
  parentXml?: string,
): string {
  const t = (name: string, value: string): string =>
    value === '' ? `<${name}/>` : `<${name}>${escapeXmlText(value)}</${name}>`;
  const privileges = body.privileges
    .map(
      (p) =>
        `<privilege>${t('name', p.name)}${t('can_delegate', String(p.canDelegate))}</privilege>`,
    )
    .join('');
  return (
    `<credential xml:id="${escapeXmlAttr(refid)}">` +
    t('type', body.type) +
    t('serial', body.serial) +
    t('owner_gid', body.ownerGid.pem) +
    t('owner_urn', body.ownerUrn) +
    t('target_gid', body.targetGid.pem) +
    t('target_urn', body.targetUrn) +
    t('uuid', body.uuid) +
    t('expires', formatRfc3339(body.expires)) +
    `<privileges>${privileges}</privileges>` +
    (parentXml ? `<parent>${parentXml}</parent>` : '') +
    `</credential>`
  );
}
