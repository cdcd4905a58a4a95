/**
 * Issue 8, item 5. Registering an authority on a full disk used to leave a 0-byte
 * keys/<hrn>.pkey; once space came back, Register and `sfa authority add` failed with "not a PEM
 * private key" until someone deleted the file by hand: a full disk for a moment poisoned the
 * name for good. Here the data folder is on a real, tiny tmpfs that the test fills up, and the
 * registry is called over its real HTTPS API.
 */
import { createPublicKey } from 'node:crypto';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { paths } from '../../src/config.js';
import { Gid } from '../../src/credentials/gid.js';
import { loadPrivateKey, sameKey } from '../../src/credentials/keys.js';
import { Xrn } from '../../src/credentials/xrn.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import {
  client,
  fault,
  newUser,
  selfSignedCert,
  startTestAuthority,
  type TestUser,
} from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { fillDisk, mountTmpfs, unmount } from '../support/tmpfs.js';

let base: string;
let mnt: string;
let dir: string;
let filler: string;
/** Why the tests cannot run here (no root, no tmpfs), or undefined. */
let cannot: string | undefined;
let mounted = false;
let running: RunningAuthority | undefined;
let alice: TestUser;
/** alice's client and her credential on authority ple.inria (she is its PI). */
let call: ReturnType<typeof client>;
let authCred: string;

/** Names in keys/ and gids/ that belong to `hrn`, temporary files included. */
function leftovers(hrn: string): string[] {
  return [paths.keys(dir), paths.gids(dir)].flatMap((folder) =>
    readdirSync(folder).filter((f) => f.includes(hrn) || f.endsWith('.tmp')),
  );
}

const run = (...args: string[]) => sfa([...args, '--dir', dir]);

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'sfa-full-disk-'));
  mnt = join(base, 'mnt');
  mkdirSync(mnt);
  cannot = mountTmpfs(mnt, '8m');
  if (cannot) return;
  mounted = true;
  dir = join(mnt, 'data');
  filler = join(mnt, 'filler');
  await initAuthority({ dir, authority: 'ple', hostname: 'localhost', now: NOW });
  alice = newUser('ple.inria.alice');
  const reg = openRegistry(dir, { now: NOW });
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: 'ple.inria', type: 'authority', name: 'INRIA' }, NOW);
    await createRecord(
      ctx,
      { hrn: alice.hrn, type: 'user', email: 'alice@inria.fr', keys: [alice.sshKey] },
      NOW,
    );
    ctx.store.setPis(ctx.store.get('ple.inria', 'authority')!.id, [
      ctx.store.get(alice.hrn, 'user')!.id,
    ]);
  } finally {
    reg.close();
  }
  running = await startTestAuthority(dir);
  const url = running.urls.registry;
  const sscert = selfSignedCert(alice);
  const anon = client(url, alice.keyPem, sscert);
  const cred = (await anon('GetSelfCredential', sscert, alice.hrn, 'user')) as string;
  const records = (await anon('Resolve', alice.hrn, cred)) as XmlRpcStruct[];
  call = client(url, alice.keyPem, records.find((r) => r['type'] === 'user')!['gid'] as string);
  authCred = (await call('GetCredential', cred, 'ple.inria', 'authority')) as string;
}, 60_000);

afterAll(async () => {
  await running?.close();
  if (mounted) unmount(mnt);
  rmSync(base, { recursive: true, force: true });
});

describe('Security: a full disk poisons an authority name', () => {
  it('answers Register on a full disk with DBERROR saying so, and leaves no key behind', async (ctx) => {
    ctx.skip(cannot !== undefined, cannot);
    fillDisk(filler);
    try {
      const f = await fault(
        call('Register', { hrn: 'ple.inria.lab', type: 'authority', name: 'Lab' }, authCred),
      );
      expect(f.faultCode).toBe(9);
      expect(f.faultString).toMatch(
        /^: Register: storage failure at this authority: the disk is full; /,
      );
      // Neither an empty key under the real name, nor a temporary file, nor a GID.
      expect(leftovers('ple.inria.lab')).toEqual([]);
      const gone = await fault(call('Resolve', 'ple.inria.lab', authCred));
      expect(gone.faultCode).toBe(12);

      // The operator's command on the same full disk: one clear line, no stack trace.
      const cli = run('authority', 'add', 'ple.inria.lab');
      expect(cli.status).toBe(1);
      expect(cli.stderr).toContain(
        'error: DBERROR (geni_code 9): storage failure: the disk is full: ENOSPC',
      );
      expect(cli.stderr).toContain('free space');
      expect(cli.stderr).not.toMatch(/^\s+at /m);
      expect(leftovers('ple.inria.lab')).toEqual([]);
    } finally {
      rmSync(filler, { force: true });
    }

    // Space is back: the same name registers at once, nothing to delete by hand.
    const gidPem = (await call(
      'Register',
      { hrn: 'ple.inria.lab', type: 'authority', name: 'Lab' },
      authCred,
    )) as string;
    const gid = Gid.fromPem(gidPem);
    expect(gid.urn).toBe(Xrn.fromHrn('ple.inria.lab', 'authority').urn);
    const keyFile = paths.key(dir, 'ple.inria.lab');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    const key = loadPrivateKey(readFileSync(keyFile, 'utf8'));
    expect(sameKey(gid.publicKey, createPublicKey(key))).toBe(true);
    expect(leftovers('ple.inria.lab').sort()).toEqual(['ple.inria.lab.gid', 'ple.inria.lab.pkey']);
  });

  it("replaces the empty key file an older version left, and 'sfa authority add' says so", (ctx) => {
    ctx.skip(cannot !== undefined, cannot);
    const keyFile = paths.key(dir, 'ple.inria.old');
    writeFileSync(keyFile, '', { mode: 0o600 });
    const r = run('authority', 'add', 'ple.inria.old', '--name', 'Old');
    expect(r.stderr).toContain(`${keyFile} was empty (left by an interrupted write`);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('added ple.inria.old (authority)');
    const key = loadPrivateKey(readFileSync(keyFile, 'utf8'));
    const gid = Gid.fromPem(readFileSync(paths.gid(dir, 'ple.inria.old'), 'utf8'));
    expect(sameKey(gid.publicKey, createPublicKey(key))).toBe(true);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
  });

  it('refuses a truncated key file, naming it and what to do, and never replaces it', async (ctx) => {
    ctx.skip(cannot !== undefined, cannot);
    const keyFile = paths.key(dir, 'ple.inria.cut');
    const truncated = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n';
    writeFileSync(keyFile, truncated, { mode: 0o600 });

    const r = run('authority', 'add', 'ple.inria.cut');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      `error: DBERROR (geni_code 9): storage failure: a file in the data folder is damaged: ${keyFile} (the private key of authority ple.inria.cut) is not a readable PEM private key`,
    );
    expect(r.stderr).toContain('restore it from a backup');
    expect(r.stderr).not.toMatch(/^\s+at /m);

    // Over the API: DBERROR, without the server's paths.
    const f = await fault(call('Register', { hrn: 'ple.inria.cut', type: 'authority' }, authCred));
    expect(f.faultCode).toBe(9);
    expect(f.faultString).toContain('a file in the data folder is damaged');
    expect(f.faultString).not.toContain(dir);

    expect(readFileSync(keyFile, 'utf8')).toBe(truncated);
    expect(readdirSync(paths.gids(dir))).not.toContain('ple.inria.cut.gid');
  });
});
