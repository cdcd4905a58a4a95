/**
 * A real authority for tests: a data folder made by `initAuthority`, records made by the same
 * code as the operator commands, the registry served over HTTPS on loopback, and clients that
 * call it with real certificates.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initAuthority } from '../../src/authority/init-authority.js';
import { generateKeyPair, publicKeyToOpenSsh } from '../../src/credentials/keys.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import { xmlRpcCall } from '../../src/xmlrpc/client.js';
import type { XmlRpcValue } from '../../src/xmlrpc/value.js';
import { NOW } from './paths.js';

export interface TestUser {
  hrn: string;
  keyPem: string;
  key: KeyObject;
  sshKey: string;
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

/** A self-signed `CN=<hrn>` certificate on the user's key: what sfi makes on its first run. */
export function selfSignedCert(user: TestUser): string {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-sscert-'));
  const keyFile = join(dir, 'k.pem');
  writeFileSync(keyFile, user.keyPem, { mode: 0o600 });
  try {
    return execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        keyFile,
        '-subj',
        `/CN=${user.hrn}`,
        '-days',
        '1825',
        '-sha256',
      ],
      { encoding: 'utf8' },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true }); // the user's private key was in there
  }
}

/**
 * `ple` with sub-authority `ple.inria`, PI alice, researcher bob, slice `ple.inria.myslice`
 * (researcher alice), and `carol` (no role).
 */
export async function makeAuthorityDir(now: Date = NOW): Promise<{
  dir: string;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-authority-'));
  await initAuthority({ dir, authority: 'ple', hostname: 'localhost', now: now });
  const alice = newUser('ple.inria.alice');
  const bob = newUser('ple.inria.bob');
  const carol = newUser('ple.inria.carol');
  const reg = openRegistry(dir);
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: 'ple.inria', type: 'authority', name: 'INRIA' }, now);
    for (const u of [alice, bob, carol]) {
      await createRecord(
        ctx,
        { hrn: u.hrn, type: 'user', email: `${u.hrn.split('.').pop()}@inria.fr`, keys: [u.sshKey] },
        now,
      );
    }
    const inria = ctx.store.get('ple.inria', 'authority')!;
    ctx.store.setPis(inria.id, [ctx.store.get(alice.hrn, 'user')!.id]);
    await createRecord(
      ctx,
      { hrn: 'ple.inria.myslice', type: 'slice', researchers: [alice.hrn] },
      now,
    );
  } finally {
    reg.close();
  }
  return { dir, alice, bob, carol };
}

export async function startTestAuthority(dir: string): Promise<RunningAuthority> {
  return startAuthority({
    dir,
    listen: '127.0.0.1',
    ports: { registry: 0, aggregate: 0, slicemgr: 0 },
    log: () => {},
    clock: () => NOW,
  });
}

/** A client presenting `cert` (PEM, chain allowed) with `key`. */
export function client(url: string, keyPem: string | undefined, cert: string | undefined) {
  return (method: string, ...params: XmlRpcValue[]) =>
    xmlRpcCall(url, method, params, { key: keyPem, cert, timeoutMs: 10_000 });
}

/** sfi's bootstrap at `registryUrl`: self-signed cert → GetSelfCredential → Resolve → GID. */
export async function bootstrapUser(
  registryUrl: string,
  user: TestUser,
): Promise<{ cred: string; gid: string; registry: ReturnType<typeof client> }> {
  const sscert = selfSignedCert(user);
  const anon = client(registryUrl, user.keyPem, sscert);
  const cred = (await anon('GetSelfCredential', sscert, user.hrn, 'user')) as string;
  const records = (await anon('Resolve', user.hrn, cred)) as Array<Record<string, XmlRpcValue>>;
  const gid = records.find((r) => r['type'] === 'user')!['gid'] as string;
  return { cred, gid, registry: client(registryUrl, user.keyPem, gid) };
}

/** The fault an XML-RPC call answered with; throws when it answered without one. */
export async function fault(
  p: Promise<unknown>,
): Promise<{ faultCode: number; faultString: string }> {
  try {
    await p;
  } catch (e) {
    const f = e as { faultCode?: number; faultString?: string };
    if (f.faultCode !== undefined)
      return { faultCode: f.faultCode, faultString: f.faultString ?? '' };
    throw e;
  }
  throw new Error('expected a fault');
}
