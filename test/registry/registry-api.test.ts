/**
 * The SFA Registry API over real HTTPS on loopback, with real certificates and a real SQLite
 * file, called the way sfi 4.0.3 calls it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrustStore } from '../../src/credentials/chain.js';
import { Gid } from '../../src/credentials/gid.js';
import { sameKey, loadPublicKey } from '../../src/credentials/keys.js';
import { verifyCredential } from '../../src/credentials/verify-credential.js';
import { paths } from '../../src/config.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import {
  client,
  fault,
  makeAuthorityDir,
  newUser,
  selfSignedCert,
  startTestAuthority,
  type TestUser,
} from '../support/authority.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const tmp = tempRoot('registry-api');
let dir: string;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let running: RunningAuthority;
let url: string;
let trust: TrustStore;

/** sfi's bootstrap: a self-signed cert → GetSelfCredential → Resolve → the user's GID. */
async function bootstrap(
  user: TestUser,
): Promise<{ cred: string; gid: string; call: ReturnType<typeof client> }> {
  const sscert = selfSignedCert(user);
  const anon = client(url, user.keyPem, sscert);
  const cred = (await anon('GetSelfCredential', sscert, user.hrn, 'user')) as string;
  const records = (await anon('Resolve', user.hrn, cred)) as XmlRpcStruct[];
  const gid = records.find((r) => r['type'] === 'user')!['gid'] as string;
  return { cred, gid, call: client(url, user.keyPem, gid) };
}

beforeAll(async () => {
  ({ dir, alice, bob, carol } = await makeAuthorityDir(NOW, tmp.path));
  running = await startTestAuthority(dir);
  url = running.urls.registry;
  trust = TrustStore.fromFiles([paths.trustedRoots(dir)]);
});
afterAll(async () => {
  await running?.close();
});

describe('GetVersion', () => {
  it('answers the raw struct peers bootstrap from', async () => {
    const v = (await client(url, undefined, undefined)('GetVersion')) as XmlRpcStruct;
    expect(v).toMatchObject({
      interface: 'registry',
      sfa: 3,
      hrn: 'ple',
      urn: 'urn:publicid:IDN+ple+authority+sa',
      peers: {},
    });
    expect(typeof v['code_tag']).toBe('string');
    expect(typeof v['hostname']).toBe('string');
  });
});

describe('GetSelfCredential', () => {
  it("gives sfi's self-signed CN=hrn caller its own credential", async () => {
    const sscert = selfSignedCert(alice);
    const cred = (await client(url, alice.keyPem, sscert)(
      'GetSelfCredential',
      sscert,
      alice.hrn,
      'user',
    )) as string;
    const v = verifyCredential(cred, { trust, now: NOW });
    expect(v.ownerUrn).toBe('urn:publicid:IDN+ple:inria+user+alice');
    expect(v.targetUrn).toBe(v.ownerUrn);
    expect(v.privileges.map((p) => p.name)).toEqual(['refresh', 'resolve', 'info']);
    expect(v.privileges.every((p) => p.canDelegate)).toBe(true);
    expect(v.expires.getTime() - NOW.getTime()).toBe(31 * 86_400_000);
    expect(v.signer.urn).toBe('urn:publicid:IDN+ple:inria+authority+sa');
  });

  it('refuses a certificate argument with another key (CREDENTIAL_MISMATCH)', async () => {
    const f = await fault(
      client(url, bob.keyPem, selfSignedCert(bob))(
        'GetSelfCredential',
        selfSignedCert(bob),
        alice.hrn,
        'user',
      ),
    );
    expect(f.faultCode).toBe(22);
    expect(f.faultString).toBe(
      ': GetSelfCredential: the certificate given does not hold the key registered for ple.inria.alice',
    );
  });

  it("refuses when the TLS caller is not the record's key holder, even with its certificate", async () => {
    const aliceCert = selfSignedCert(alice);
    const f = await fault(
      client(url, bob.keyPem, selfSignedCert(bob))(
        'GetSelfCredential',
        aliceCert,
        alice.hrn,
        'user',
      ),
    );
    expect(f.faultCode).toBe(22);
    expect(f.faultString).toContain('connect with the key registered for ple.inria.alice');
  });

  it('answers SEARCHFAILED for an unknown user', async () => {
    const eve = newUser('ple.inria.eve');
    const f = await fault(
      client(url, eve.keyPem, selfSignedCert(eve))(
        'GetSelfCredential',
        selfSignedCert(eve),
        eve.hrn,
        'user',
      ),
    );
    expect(f.faultCode).toBe(12);
    expect(f.faultString).toContain('Record not found: ple.inria.eve');
  });
});

describe('Resolve and List', () => {
  it('resolves a user with a string credential, every field typed as SFA sends it', async () => {
    const { cred, call } = await bootstrap(alice);
    const [rec] = (await call('Resolve', alice.hrn, cred, { details: true })) as XmlRpcStruct[];
    expect(rec).toMatchObject({
      hrn: 'ple.inria.alice',
      type: 'user',
      classtype: 'user',
      authority: 'ple.inria',
      peer_authority: null,
      pointer: -1,
      'reg-urn': 'urn:publicid:IDN+ple:inria+user+alice',
      email: 'alice@inria.fr',
      'reg-keys': [alice.sshKey],
      'reg-slices': ['ple.inria.myslice'],
      'reg-pi-authorities': ['ple.inria'],
    });
    expect(typeof rec!['record_id']).toBe('number');
    expect(rec!['date_created']).toBeInstanceOf(Date);
    expect(rec!['last_updated']).toBeInstanceOf(Date);
    expect(sameKey(Gid.fromPem(rec!['gid'] as string).publicKey, alice.key)).toBe(true);
  });

  it('resolves a list of URNs (sfi allocate) and a slice with its researchers', async () => {
    const { cred, call } = await bootstrap(alice);
    const recs = (await call(
      'Resolve',
      ['urn:publicid:IDN+ple:inria+slice+myslice', 'urn:publicid:IDN+ple:inria+user+bob'],
      [cred],
    )) as XmlRpcStruct[];
    expect(recs.map((r) => [r['hrn'], r['type']])).toEqual([
      ['ple.inria.myslice', 'slice'],
      ['ple.inria.bob', 'user'],
    ]);
    expect(recs[0]!['reg-researchers']).toEqual(['ple.inria.alice']);
  });

  it('answers SEARCHFAILED, naming the method, for an unknown record', async () => {
    const { cred, call } = await bootstrap(alice);
    const f = await fault(call('Resolve', 'ple.nothere', cred));
    expect(f).toEqual({
      faultCode: 12,
      faultString: ': Resolve: Record not found: ["ple.nothere"]',
    });
  });

  it("lists an authority with sfi's whole option object, directly or recursively", async () => {
    const { cred, call } = await bootstrap(alice);
    const sfiOptions = {
      help: false,
      show_credential: false,
      type: 'all',
      file: null,
      format: 'text',
      fileformat: 'xml',
      recursive: false,
      verbose: false,
    };
    const direct = (await call('List', 'ple', cred, sfiOptions)) as XmlRpcStruct[];
    expect(direct.map((r) => r['hrn'])).toEqual(['ple.inria']);
    const all = (await call('List', 'ple', cred, {
      ...sfiOptions,
      recursive: true,
    })) as XmlRpcStruct[];
    expect(all.map((r) => r['hrn']).sort()).toEqual([
      'ple.inria',
      'ple.inria.alice',
      'ple.inria.bob',
      'ple.inria.carol',
      'ple.inria.myslice',
    ]);
    const f = await fault(call('List', 'plx', cred, sfiOptions));
    expect(f.faultCode).toBe(12);
    expect(f.faultString).toContain('Missing authority: plx');
  });
});

describe('credentials and callers', () => {
  it("refuses alice's credential presented over bob's connection (CREDENTIAL_MISMATCH)", async () => {
    const { cred } = await bootstrap(alice);
    const { gid: bobGid } = await bootstrap(bob);
    const f = await fault(client(url, bob.keyPem, bobGid)('Resolve', alice.hrn, cred));
    expect(f.faultCode).toBe(22);
    expect(f.faultString).toContain('belongs to urn:publicid:IDN+ple:inria+user+alice');
  });

  it('refuses a caller without a client certificate, saying what to do', async () => {
    const { cred } = await bootstrap(alice);
    const f = await fault(client(url, undefined, undefined)('Resolve', alice.hrn, cred));
    expect(f.faultCode).toBe(22);
    expect(f.faultString).toContain('no client certificate');
  });

  it('refuses a tampered credential (CREDENTIAL_INVALID) and a slice credential for Resolve (FORBIDDEN)', async () => {
    const { cred, call } = await bootstrap(alice);
    const tampered = await fault(
      call('Resolve', alice.hrn, cred.replace('<name>info</name>', '<name>sa</name>')),
    );
    expect(tampered.faultCode).toBe(20);
    const sliceCred = (await call('GetCredential', cred, 'ple.inria.myslice', 'slice')) as string;
    const f = await fault(call('Resolve', alice.hrn, sliceCred));
    expect(f.faultCode).toBe(3);
    expect(f.faultString).toContain("does not allow 'resolve'");
  });

  it('answers BADARGS for a wrong argument count and UNSUPPORTED for an unknown method', async () => {
    const { call } = await bootstrap(alice);
    expect(await fault(call('Resolve', alice.hrn))).toEqual({
      faultCode: 1,
      faultString: ': Resolve: Expected 2-3 arguments (xrns, credentials, options), got 1',
    });
    expect((await fault(call('ListResources', []))).faultCode).toBe(13);
  });
});

describe('GetCredential', () => {
  it('gives a slice credential to a researcher, signed by the slice authority', async () => {
    const { cred, call } = await bootstrap(alice);
    const sliceCred = (await call('GetCredential', cred, 'ple.inria.myslice', 'slice')) as string;
    const v = verifyCredential(sliceCred, { trust, now: NOW });
    expect(v.targetUrn).toBe('urn:publicid:IDN+ple:inria+slice+myslice');
    expect(v.privileges.map((p) => p.name)).toEqual([
      'refresh',
      'embed',
      'bind',
      'control',
      'info',
    ]);
  });

  it('gives an authority credential to its PI only', async () => {
    const a = await bootstrap(alice);
    const authCred = (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
    expect(verifyCredential(authCred, { trust, now: NOW }).privileges.map((p) => p.name)).toEqual([
      'authority',
      'sa',
    ]);
    const b = await bootstrap(bob);
    const f = await fault(b.call('GetCredential', b.cred, 'ple.inria', 'authority'));
    expect(f).toEqual({
      faultCode: 3,
      faultString: ': GetCredential: ple.inria.bob has no rights on authority ple.inria',
    });
  });

  it('does not hand any caller a credential on another user (the Python SFA hole)', async () => {
    const c = await bootstrap(carol);
    const f = await fault(c.call('GetCredential', c.cred, 'ple.inria.bob', 'user'));
    expect(f.faultCode).toBe(3);
    // The PI of bob's authority may.
    const a = await bootstrap(alice);
    const ok = (await a.call('GetCredential', a.cred, 'ple.inria.bob', 'user')) as string;
    expect(verifyCredential(ok, { trust, now: NOW }).targetUrn).toBe(
      'urn:publicid:IDN+ple:inria+user+bob',
    );
  });
});

describe('Register, Update, Remove, CreateGid, GetGids', () => {
  it("registers a user as sfi sends it; the GID is on the user's SSH key", async () => {
    const a = await bootstrap(alice);
    const authCred = (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
    const dave = newUser('ple.inria.dave');
    const gid = (await a.call(
      'Register',
      {
        urn: 'urn:publicid:IDN+ple:inria+user+dave',
        hrn: 'ple.inria.dave',
        type: 'user',
        'reg-keys': [dave.sshKey],
        email: 'dave@inria.fr',
        first_name: 'ple.inria.dave',
        last_name: 'ple.inria.dave',
      },
      authCred,
    )) as string;
    const g = Gid.fromPem(gid);
    expect(g.urn).toBe('urn:publicid:IDN+ple:inria+user+dave');
    expect(g.email).toBe('dave@inria.fr');
    expect(sameKey(g.publicKey, dave.key)).toBe(true);
    // dave can now bootstrap like any sfi user.
    const d = await bootstrap(dave);
    expect(verifyCredential(d.cred, { trust, now: NOW }).ownerUrn).toBe(g.urn);

    const again = await fault(
      a.call('Register', { hrn: 'ple.inria.dave', type: 'user' }, authCred),
    );
    expect(again.faultCode).toBe(17);
  });

  it('registers a user without a key, and refuses a non-RSA key saying why', async () => {
    const a = await bootstrap(alice);
    const authCred = (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
    const gid = (await a.call(
      'Register',
      { hrn: 'ple.inria.erin', type: 'user', email: 'erin@inria.fr' },
      authCred,
    )) as string;
    expect(Gid.fromPem(gid).urn).toBe('urn:publicid:IDN+ple:inria+user+erin');
    const f = await fault(
      a.call(
        'Register',
        {
          hrn: 'ple.inria.frank',
          type: 'user',
          'reg-keys': [
            'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0aXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxsIQ== frank',
          ],
        },
        authCred,
      ),
    );
    expect(f.faultCode).toBe(1);
    expect(f.faultString).toContain('RSA');
  });

  it('refuses Register with a credential on another authority, and with a user credential', async () => {
    const a = await bootstrap(alice);
    const f = await fault(a.call('Register', { hrn: 'ple.inria.gina', type: 'user' }, a.cred));
    expect(f.faultCode).toBe(3);
    const missing = await fault(
      a.call(
        'Register',
        { hrn: 'ple.inria.lab.x', type: 'user' },
        (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string,
      ),
    );
    expect(missing.faultCode).toBe(12);
    expect(missing.faultString).toContain('Missing authority: ple.inria.lab');
  });

  it("updates a slice's researchers with the slice credential (sfi update -r)", async () => {
    const a = await bootstrap(alice);
    const sliceCred = (await a.call(
      'GetCredential',
      a.cred,
      'ple.inria.myslice',
      'slice',
    )) as string;
    expect(
      await a.call(
        'Update',
        {
          hrn: 'ple.inria.myslice',
          type: 'slice',
          'reg-researchers': ['ple.inria.alice', 'ple.inria.bob'],
        },
        sliceCred,
      ),
    ).toBe(1);
    const [slice] = (await a.call('Resolve', 'ple.inria.myslice', a.cred)) as XmlRpcStruct[];
    expect(slice!['reg-researchers']).toEqual(['ple.inria.alice', 'ple.inria.bob']);
    // bob, now a researcher, gets the slice credential too.
    const b = await bootstrap(bob);
    expect(typeof (await b.call('GetCredential', b.cred, 'ple.inria.myslice', 'slice'))).toBe(
      'string',
    );
  });

  it("replaces a user's key and re-issues the GID with a new uuid", async () => {
    const c = await bootstrap(carol);
    const before = Gid.fromPem(c.gid);
    const next = newUser(carol.hrn);
    expect(
      await c.call('Update', { hrn: carol.hrn, type: 'user', 'reg-keys': [next.sshKey] }, c.cred),
    ).toBe(1);
    const [rec] = (await c.call('Resolve', carol.hrn, c.cred)) as XmlRpcStruct[];
    const after = Gid.fromPem(rec!['gid'] as string);
    expect(sameKey(after.publicKey, loadPublicKey(next.sshKey))).toBe(true);
    expect(after.uuid).not.toBe(before.uuid);
    carol.key = next.key;
    carol.keyPem = next.keyPem;
    carol.sshKey = next.sshKey;
  });

  it('creates a GID with CreateGid for the caller, storing nothing', async () => {
    const b = await bootstrap(bob);
    const gid = (await b.call('CreateGid', b.cred, bob.hrn, b.gid)) as string;
    const g = Gid.fromPem(gid);
    expect(g.urn).toBe('urn:publicid:IDN+ple:inria+user+bob');
    expect(sameKey(g.publicKey, bob.key)).toBe(true);
  });

  it('removes a record with an authority credential', async () => {
    const a = await bootstrap(alice);
    const authCred = (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
    await a.call(
      'Register',
      { hrn: 'ple.inria.temp', type: 'user', email: 't@inria.fr' },
      authCred,
    );
    expect(await a.call('Remove', 'ple.inria.temp', authCred, 'user')).toBe(1);
    expect((await fault(a.call('Resolve', 'ple.inria.temp', a.cred))).faultCode).toBe(12);
    expect((await fault(a.call('Remove', 'ple.inria.temp', authCred, '*'))).faultCode).toBe(12);
  });

  it('returns GIDs with GetGids and the trusted roots with get_trusted_certs', async () => {
    const a = await bootstrap(alice);
    const sliceCred = (await a.call(
      'GetCredential',
      a.cred,
      'ple.inria.myslice',
      'slice',
    )) as string;
    const gids = (await a.call('GetGids', ['ple.inria.myslice'], sliceCred)) as XmlRpcStruct[];
    expect(gids).toEqual([
      {
        hrn: 'ple.inria.myslice',
        type: 'slice',
        gid: expect.stringContaining('BEGIN CERTIFICATE'),
      },
    ]);
    const own = (await client(url, undefined, undefined)('get_trusted_certs')) as string[];
    expect(own.map((g) => Gid.fromPem(g).urn)).toEqual(['urn:publicid:IDN+ple+authority+sa']);
  });
});

describe('durability and concurrency', () => {
  it('keeps every record across a restart', async () => {
    const a = await bootstrap(alice);
    const before = ((await a.call('List', 'ple', a.cred, { recursive: true })) as XmlRpcStruct[])
      .map((r) => r['hrn'])
      .sort();
    await running.close();
    running = await startTestAuthority(dir);
    url = running.urls.registry;
    const again = await bootstrap(alice);
    const after = (
      (await again.call('List', 'ple', again.cred, { recursive: true })) as XmlRpcStruct[]
    )
      .map((r) => r['hrn'])
      .sort();
    expect(after).toEqual(before);
  });

  it('registers from concurrent callers without losing any', async () => {
    const a = await bootstrap(alice);
    const authCred = (await a.call('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
    const names = Array.from({ length: 12 }, (_, i) => `ple.inria.con${i}`);
    await Promise.all(
      names.map((hrn) =>
        a.call('Register', { hrn, type: 'user', email: `${hrn}@x.org` }, authCred),
      ),
    );
    const listed = ((await a.call('List', 'ple.inria', a.cred, {})) as XmlRpcStruct[]).map(
      (r) => r['hrn'],
    );
    for (const n of names) expect(listed).toContain(n);
  });
});
