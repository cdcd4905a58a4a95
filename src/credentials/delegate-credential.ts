/**
 * Delegate a credential (what `sfi delegate` does): its owner grants it, or a subset of its
 * privileges, to another principal. The parent is embedded whole under `<parent>` and keeps its
 * signatures; the new credential is signed by the parent's owner.
 */
import type { KeyObject } from 'node:crypto';
import { XMLSerializer, type Element } from '@xmldom/xmldom';
import { BadArgs } from '../faults.js';
import { readCredentialElement, writeCredentialElement } from './credential.js';
import type { Gid } from './gid.js';
import { sameKey } from './keys.js';
import { expandPrivileges, uncoveredPrivilege, type Privilege } from './privileges.js';
import { signCredentialDocument } from './sign.js';
import type { SignatureAlgorithm } from './signature.js';
import { formatRfc3339 } from './time.js';
import { childElements, parseXml, XML_NS } from './xml.js';

export interface DelegateOptions {
  /** The principal receiving the credential. */
  to: Gid;
  /** The private key of the parent credential's owner. */
  signerKey: KeyObject;
  /** The owner's GID with its chain; by default the parent's `owner_gid`. */
  signerGid?: Gid;
  /** Privilege names to pass on; by default every privilege the parent lets its owner delegate. */
  privileges?: readonly string[];
  /** By default the parent's expiry; never later. */
  expires?: Date;
  algorithm?: SignatureAlgorithm;
}

/** Returns the signed XML of the delegated credential. */
export function delegateCredential(parentXml: string, opts: DelegateOptions): string {
  const doc = parseXml(parentXml, 'credential to delegate');
  const root = doc.documentElement!;
  const [credentialEl, signaturesEl] = childElements(root);
  if (
    root.localName !== 'signed-credential' ||
    credentialEl?.localName !== 'credential' ||
    signaturesEl?.localName !== 'signatures'
  ) {
    throw new BadArgs(
      'the credential to delegate is not a <signed-credential> with <credential> and <signatures>',
    );
  }
  const parent = readCredentialElement(credentialEl).body;
  const signerGid = opts.signerGid ?? parent.ownerGid;
  if (!sameKey(opts.signerKey, parent.ownerGid.publicKey)) {
    throw new BadArgs(
      `the key given is not the key of ${parent.ownerUrn}, the owner of the credential: only its owner can delegate it`,
    );
  }
  const type = parent.targetGid.type;
  const delegable = expandPrivileges(parent.privileges, type).filter((p) => p.canDelegate);
  let privileges: Privilege[];
  if (opts.privileges) {
    privileges = opts.privileges.map((name) => ({ name, canDelegate: true }));
    const missing = uncoveredPrivilege(delegable, privileges);
    if (missing) {
      throw new BadArgs(
        `privilege '${missing.name}' cannot be delegated: the credential allows delegating ${delegable.map((p) => p.name).join(', ') || 'nothing'}`,
      );
    }
  } else {
    privileges = delegable;
    if (privileges.length === 0)
      throw new BadArgs('the credential allows delegating none of its privileges');
  }
  const expires = opts.expires ?? parent.expires;
  if (expires.getTime() > parent.expires.getTime()) {
    throw new BadArgs(
      `a delegated credential cannot outlive its parent (expires ${formatRfc3339(parent.expires)})`,
    );
  }

  const refid = firstUnusedRefid(root);
  const serializer = new XMLSerializer();
  const credentialXml = writeCredentialElement(
    refid,
    {
      type: 'privilege',
      serial: parent.serial || '8',
      ownerGid: opts.to,
      ownerUrn: opts.to.urn,
      targetGid: parent.targetGid,
      targetUrn: parent.targetUrn,
      uuid: '',
      expires,
      privileges,
    },
    serializer.serializeToString(credentialEl),
  );
  // The parent's digest covers the namespaces it inherits from <signed-credential>: carry the
  // parent's root attributes over unchanged, or its signature breaks.
  const rootAttributes: Array<[string, string]> = [];
  for (let i = 0; i < root.attributes.length; i++) {
    const a = root.attributes.item(i)!;
    rootAttributes.push([a.name, a.value]);
  }
  return signCredentialDocument({
    rootAttributes,
    credentialXml,
    refid,
    parentSignaturesXml: childElements(signaturesEl)
      .map((s: Element) => serializer.serializeToString(s))
      .join(''),
    signerKey: opts.signerKey,
    signerGid,
    algorithm: opts.algorithm ?? 'rsa-sha1',
  });
}

/** `refN` with the smallest N used neither as an xml:id nor as `Sig_refN`. */
function firstUnusedRefid(root: Element): string {
  const used = new Set<string>();
  const walk: Element[] = [root];
  while (walk.length > 0) {
    const el = walk.pop()!;
    const id = el.getAttributeNS(XML_NS, 'id');
    if (id) used.add(id.replace(/^Sig_/, ''));
    walk.push(...childElements(el));
  }
  let n = 0;
  while (used.has(`ref${n}`)) n++;
  return `ref${n}`;
}
