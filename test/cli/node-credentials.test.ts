/**
 * `sfa node credentials HOST --out NODEDIR` (issue 10, node identity): the node's key and GID,
 * signed by its site authority and recorded in the registry, the root certificate, and the
 * aggregate's node API URL; a node's key is never overwritten.
 */
import { readFileSync, statSync } from 'node:fs';
import { createPublicKey } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { TrustStore, verifyChain } from '../../src/credentials/chain.js';
import { Gid } from '../../src/credentials/gid.js';
import { loadPrivateKey, sameKey } from '../../src/credentials/keys.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { makeAuthorityDir } from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { tempRoot } from '../support/tmp.js';

const tmp = tempRoot('node-credentials');
let dir: string;
let out: string;

beforeAll(async () => {
  dir = (await makeAuthorityDir(new Date(), tmp.path)).dir;
  out = join(tmp.dir('nodes'), 'node1');
});

describe('sfa node credentials', () => {
  it("writes the node's key, GID (signed by its site), the root and its aggregate URL", () => {
    const r = sfa(['node', 'credentials', 'node1.inria.fr', '--out', out, '--dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('urn:publicid:IDN+ple:inria+node+node1.inria.fr');

    expect(statSync(join(out, 'node.pkey')).mode & 0o777).toBe(0o600);
    const key = loadPrivateKey(readFileSync(join(out, 'node.pkey'), 'utf8'));
    const gid = Gid.fromPem(readFileSync(join(out, 'node.gid'), 'utf8'));
    const root = Gid.fromPem(readFileSync(join(out, 'root.gid'), 'utf8'));
    expect(gid.urn).toBe('urn:publicid:IDN+ple:inria+node+node1.inria.fr');
    expect(gid.isCA).toBe(false);
    expect(sameKey(createPublicKey(key), gid.publicKey)).toBe(true);
    // Signed by the site authority, chaining to the root the node was given.
    const chain = verifyChain(gid, [], new TrustStore([root]), new Date());
    expect(chain.map((g) => g.urn)).toEqual([
      'urn:publicid:IDN+ple:inria+node+node1.inria.fr',
      'urn:publicid:IDN+ple:inria+authority+sa',
      'urn:publicid:IDN+ple+authority+sa',
    ]);
    expect(JSON.parse(readFileSync(join(out, 'node.json'), 'utf8'))).toEqual({
      hostname: 'node1.inria.fr',
      hrn: 'ple.inria.node1\\.inria\\.fr',
      urn: 'urn:publicid:IDN+ple:inria+node+node1.inria.fr',
      aggregate: 'https://localhost:12346/node',
    });
    // The registry's record of the node now holds this GID.
    const reg = openRegistry(dir);
    try {
      const row = reg.ctx.store.get('ple.inria.node1\\.inria\\.fr', 'node');
      expect(row && Gid.fromPem(row.gid).fingerprint256).toBe(gid.fingerprint256);
    } finally {
      reg.close();
    }
  });

  it("never overwrites a node's key, and names a host the inventory lacks", () => {
    const before = readFileSync(join(out, 'node.pkey'), 'utf8');
    const again = sfa(['node', 'credentials', 'node1.inria.fr', '--out', out, '--dir', dir]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain('node.pkey exists');
    expect(readFileSync(join(out, 'node.pkey'), 'utf8')).toBe(before);
    const unknown = sfa([
      'node',
      'credentials',
      'nowhere.example',
      '--out',
      join(tmp.path, 'x'),
      '--dir',
      dir,
    ]);
    expect(unknown.status).not.toBe(0);
    expect(unknown.stderr).toContain('sfa node add nowhere.example --site');
    expect(sfa(['node', 'credentials', '--help']).stdout).toContain('--out <nodedir>');
  });
});
