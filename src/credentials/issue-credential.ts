/**
 * Issue a new (root) privilege credential: an authority grants `owner` privileges on `target`.
 */
import type { KeyObject } from 'node:crypto';
import { BadArgs } from '../faults.js';
import { writeCredentialElement } from './credential.js';
import type { Gid } from './gid.js';
import { sameKey } from './keys.js';
import type { Privilege } from './privileges.js';
import { DEFAULT_ROOT_ATTRIBUTES, signCredentialDocument } from './sign.js';
import type { SignatureAlgorithm } from './signature.js';

export interface IssueCredentialOptions {
  owner: Gid;
  target: Gid;
  privileges: readonly Privilege[];
  expires: Date;
  /** The issuing authority's private key and GID (with its chain). */
  signerKey: KeyObject;
  signerGid: Gid;
  /** RSA-SHA1 by default, what every SFA and GENI tool verifies. */
  algorithm?: SignatureAlgorithm;
}

/** Create and sign a credential; returns the signed XML. */
export function issueCredential(opts: IssueCredentialOptions): string {
  if (!sameKey(opts.signerKey, opts.signerGid.publicKey)) {
    throw new BadArgs(`the signing key does not belong to ${opts.signerGid.urn}`);
  }
  const credentialXml = writeCredentialElement('ref0', {
    type: 'privilege',
    serial: '8', // what SFA writes; nothing reads it
    ownerGid: opts.owner,
    ownerUrn: opts.owner.urn,
    targetGid: opts.target,
    targetUrn: opts.target.urn,
    uuid: '',
    expires: opts.expires,
    privileges: opts.privileges,
  });
  return signCredentialDocument({
    rootAttributes: DEFAULT_ROOT_ATTRIBUTES,
    credentialXml,
    refid: 'ref0',
    signerKey: opts.signerKey,
    signerGid: opts.signerGid,
    algorithm: opts.algorithm ?? 'rsa-sha1',
  });
}
