/**
 * Federation test parts: authority roots and the principals they sign (fresh keys), and real
 * authorities made by `initAuthority` and served by `startAuthority` on loopback.
 */
import { spawn } from 'node:child_process';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initAuthority } from '../../src/authority/init-authority.js';
import { paths } from '../../src/config.js';
import { issueCredential } from '../../src/credentials/issue-credential.js';
import { Gid, issueGid } from '../../src/credentials/gid.js';
import { generateKeyPair, publicKeyToOpenSsh } from '../../src/credentials/keys.js';
import { defaultPrivilegeNames } from '../../src/credentials/privileges.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import type { TestUser } from '../support/authority.js';
import { NOW, ROOT } from '../support/paths.js';
import { makeTempDir } from '../support/tmp.js';

/** When the test authorities were made: a day before the servers' clock (NOW). */
export const T0 = new Date(NOW.getTime() - 86_400_000);

export interface Principal {
  gid: Gid;
  keyPem: string;
}

/** A self-signed authority root, as `sfa init` makes one. */
export function authorityRoot(hrn: string, notBefore: Date = T0): Principal {
  const k = generateKeyPair();
  return {
    gid: issueGid({ hrn, type: 'authority', subjectPublicKey: k.privateKeyPem, notBefore }),
    keyPem: k.privateKeyPem,
  };
}

/** A principal `hrn` of `type` signed by `issuer` (whatever its namespace: tests need forgeries). */
export function signedBy(issuer: Principal, hrn: string, type: string): Principal {
  const k = generateKeyPair();
  return {
    gid: issueGid({
      hrn,
      type,
      subjectPublicKey: k.publicKeyPem,
      issuerKey: issuer.keyPem,
      issuerGid: issuer.gid,
      notBefore: T0,
    }),
    keyPem: k.privateKeyPem,
  };
}

/** A credential `issuer` signs for `who` on itself, with the default privileges of its type. */
export function selfCredentialBy(issuer: Principal, who: Principal, expires: Date): string {
  return issueCredential({
    owner: who.gid,
    target: who.gid,
    privileges: defaultPrivilegeNames(who.gid.type).map((name) => ({ name, canDelegate: true })),
    expires,
    signerKey: createPrivateKey(issuer.keyPem),
    signerGid: issuer.gid,
  });
}

export function newUser(hrn: string): TestUser {
  const pair = generateKeyPair();
  const key = createPrivateKey(pair.privateKeyPem);
  return {
    hrn,
    keyPem: pair.privateKeyPem,
    key,
    sshKey: publicKeyToOpenSsh(createPublicKey(key), hrn),
  };
}

export interface TestAuthority {
  dir: string;
  hrn: string;
  /** The root authority's key and GID (what `sfa init` made). */
  root: Principal;
  /** `<hrn>.<site>` users, with keys. */
  users: Record<string, TestUser>;
}

/**
 * An authority `hrn` made at T0 with site `<hrn>.<site>` and users `<hrn>.<site>.<name>`, in a
 * new folder `<under>/sfa-<hrn>-XXXXXX` (the test's own: test/support/tmp.ts), which the caller
 * removes. `config` is merged into sfa.json (e.g. `{ peerTimeoutMs: 500 }`).
 */
export async function makeAuthority(
  under: string,
  hrn: string,
  site: string,
  names: string[],
  config: Record<string, unknown> = {},
): Promise<TestAuthority> {
  const dir = makeTempDir(hrn, under);
  await initAuthority({ dir, authority: hrn, hostname: 'localhost', now: T0 });
  const file = paths.config(dir);
  writeFileSync(
    file,
    JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), ...config }, null, 2),
  );
  const users: Record<string, TestUser> = {};
  const reg = openRegistry(dir, { now: T0 });
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: `${hrn}.${site}`, type: 'authority', name: site }, T0);
    for (const name of names) {
      const u = newUser(`${hrn}.${site}.${name}`);
      await createRecord(
        ctx,
        { hrn: u.hrn, type: 'user', email: `${name}@${site}.org`, keys: [u.sshKey] },
        T0,
      );
      users[name] = u;
    }
  } finally {
    reg.close();
  }
  return {
    dir,
    hrn,
    root: {
      gid: Gid.fromPem(readFileSync(paths.gid(dir, hrn), 'utf8')),
      keyPem: readFileSync(paths.key(dir, hrn), 'utf8'),
    },
    users,
  };
}

/** Serve `dir` on 127.0.0.1 (free ports) with the clock `clock()`. */
export function serve(dir: string, clock: () => Date): Promise<RunningAuthority> {
  return startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
    log: () => {},
    clock,
  });
}

export { fault } from '../support/authority.js';

/**
 * Run the real `sfa` command as a separate process without blocking this one: needed when the
 * command calls a server that this test process serves (`sfa peer add` bootstrapping).
 */
export function sfaAsync(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv } = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_NO_WARNINGS: '1', ...opts.env },
      },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill(), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
