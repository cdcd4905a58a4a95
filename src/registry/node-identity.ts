/**
 * A node's identity: a key of its own and a GID `…+node+<hostname>` on it, signed by its site
 * authority (the nearest local authority above the node's name), recorded as the node's record
 * in the registry. A node is then a principal like any other: its TLS client certificate is its
 * GID, checked against the trusted roots. `sfa node credentials` writes the result for the node.
 */
import { createPublicKey } from 'node:crypto';
import { GID_LIFETIME_DAYS } from '../authority/keystore.js';
import { issueGid, type Gid } from '../credentials/gid.js';
import { generateKeyPairAsync } from '../credentials/keys.js';
import { Xrn } from '../credentials/xrn.js';
import type { RegistryContext } from './context.js';
import { createRecord } from './register.js';

export interface NodeIdentity {
  /** PKCS#1 PEM: the node keeps it; the authority keeps nothing of it. */
  readonly keyPem: string;
  /** The node's GID followed by its issuers' chain. */
  readonly gid: Gid;
}

/**
 * A new key and GID for node `hrn` (`ple.inria.node1\.inria\.fr`), replacing the GID of its
 * registry record (or creating the record): the node's earlier key, if any, no longer matches.
 */
export async function issueNodeIdentity(
  ctx: RegistryContext,
  hrn: string,
  now: Date,
): Promise<NodeIdentity> {
  const xrn = Xrn.fromHrn(hrn, 'node');
  if (!ctx.store.get(xrn.hrn, 'node')) await createRecord(ctx, { hrn: xrn.hrn, type: 'node' }, now);
  const row = ctx.store.get(xrn.hrn, 'node')!;
  const pair = await generateKeyPairAsync();
  const signer = ctx.keys.signerFor(xrn.hrn);
  const gid = issueGid({
    urn: xrn.urn,
    subjectPublicKey: createPublicKey(pair.publicKeyPem),
    issuerKey: signer.key,
    issuerGid: signer.gid,
    notBefore: now,
    lifetimeDays: GID_LIFETIME_DAYS,
    isCA: false,
  });
  ctx.store.update(row.id, { gid: gid.pem }, now);
  return { keyPem: pair.privateKeyPem, gid };
}
