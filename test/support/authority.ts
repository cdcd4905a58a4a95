/**
 * A real authority for tests: a data folder made by `initAuthority`, records made by the same
 * code as the operator commands, the registry served over HTTPS on loopback, and clients that
 * call it with real certificates.
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initAuthority } from '../../src/authority/init-authority.js';
import { generateKeyPair, publicKeyToOpenSsh } from '../../src/credentials/keys.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import { startAuthority, type RunningAuthority } from '../../src/server/authority.js';
import { xmlRpcCall } from '../../src/xmlrpc/client.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import { NOW } from './paths.js';
import { makeTempDir, removeTempDir } from './tmp.js';

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
  const dir = makeTempDir('sscert');
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
    removeTempDir(dir); // the user's private key was in there
  }
}

/**
 * `ple` with sub-authority `ple.inria`, PI alice, researcher bob, slice `ple.inria.myslice`
 * (researcher alice), and `carol` (no role), in a new folder `<under>/sfa-authority-XXXXXX`
 * (by default under the system temporary folder): the caller removes it.
 */
export async function makeAuthorityDir(
  now: Date = NOW,
  under?: string,
  /** A PostgreSQL URL for the authority's data (sfa.json `store`); default: SQLite files. */
  store?: string,
): Promise<{
  dir: string;
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
}> {
  const dir = makeTempDir('authority', under);
  await initAuthority({
    dir,
    authority: 'ple',
    hostname: 'localhost',
    now,
    ...(store === undefined ? {} : { store }),
  });
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
    ports: { registry: 0, aggregate: 0, slicemgr: 0, web: 0 },
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

/** A running test authority with alice bootstrapped as sfi does, ready to call an interface. */
export interface AliceSession {
  readonly dir: string;
  readonly running: RunningAuthority;
  readonly alice: TestUser;
  /** alice's user credential and GID (her TLS certificate). */
  readonly userCred: string;
  readonly gid: string;
  /** The registry, as alice. */
  readonly registry: ReturnType<typeof client>;
  /** `url` (the aggregate unless said otherwise), as alice; answers are AM API structs. */
  readonly am: (method: string, ...params: XmlRpcValue[]) => Promise<XmlRpcStruct>;
  /** alice's slice credential for `ple.inria.<name>`, as AM API v3 credential structs. */
  sliceCred(name: string): Promise<XmlRpcStruct[]>;
  /** Stop the servers and remove the folder. */
  close(): Promise<void>;
}

/**
 * {@link makeAuthorityDir}, more slices of alice's (`ple.inria.<name>`), the authority served on
 * the fixed clock, and alice bootstrapped: what most API tests start from.
 */
export async function aliceSession(
  opts: {
    slices?: string[];
    interface?: 'aggregate' | 'aggregateV2' | 'slicemgr';
    /** A PostgreSQL URL for the authority's data (default: SQLite files in its folder). */
    store?: string;
  } = {},
): Promise<AliceSession> {
  const made = await makeAuthorityDir(NOW, undefined, opts.store);
  let running: RunningAuthority | undefined;
  try {
    const reg = openRegistry(made.dir);
    try {
      for (const s of opts.slices ?? []) {
        const input = { hrn: `ple.inria.${s}`, type: 'slice', researchers: [made.alice.hrn] };
        await createRecord(reg.ctx, input as Parameters<typeof createRecord>[1], NOW);
      }
    } finally {
      reg.close();
    }
    running = await startTestAuthority(made.dir);
    const a = await bootstrapUser(running.urls.registry, made.alice);
    const call = client(running.urls[opts.interface ?? 'aggregate'], made.alice.keyPem, a.gid);
    const r = running;
    return {
      dir: made.dir,
      running: r,
      alice: made.alice,
      userCred: a.cred,
      gid: a.gid,
      registry: a.registry,
      am: async (method, ...params) => (await call(method, ...params)) as XmlRpcStruct,
      sliceCred: async (name) => {
        const cred = await a.registry('GetCredential', a.cred, `ple.inria.${name}`, 'slice');
        return [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: cred as string }];
      },
      close: async () => {
        await r.close();
        removeTempDir(made.dir);
      },
    };
  } catch (e) {
    await running?.close();
    removeTempDir(made.dir);
    throw e;
  }
}

/** The GENI code of an AM API answer. */
export const geniCode = (answer: XmlRpcStruct): unknown =>
  (answer['code'] as XmlRpcStruct)['geni_code'];
