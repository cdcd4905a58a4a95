/**
 * A node's identity as `sfa node credentials` would give it: a key, and a GID for the node's
 * URN signed by its site authority (whose key is in the authority's data folder).
 */
import { createPrivateKey } from 'node:crypto';
import { AuthorityKeystore } from '../../src/authority/keystore.js';
import { issueGid } from '../../src/credentials/gid.js';
import { generateKeyPair } from '../../src/credentials/keys.js';
import { NOW } from './paths.js';

/**
 * A key and GID for node `nodeUrn`, signed by `site` (an authority of the folder `dir`), valid
 * from `notBefore` (by default a day before the tests' fixed clock).
 */
export function nodeIdentity(
  dir: string,
  site: string,
  nodeUrn: string,
  notBefore: Date = new Date(NOW.getTime() - 86_400_000),
): { keyPem: string; gidPem: string } {
  const signer = new AuthorityKeystore(dir).get(site);
  const pair = generateKeyPair();
  const gid = issueGid({
    urn: nodeUrn,
    subjectPublicKey: createPrivateKey(pair.privateKeyPem),
    issuerKey: signer.key,
    issuerGid: signer.gid,
    notBefore,
  });
  return { keyPem: pair.privateKeyPem, gidPem: gid.pem };
}
