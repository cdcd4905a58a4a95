/**
 * Issue 8, item 2: CreateGid gave a PI a certificate authority. A PI of `ple.inria` holding the
 * authority credential called CreateGid(cred, 'ple.inria', <certificate on any key>) and got
 * `CN=ple.inria, CA:TRUE` signed by `ple`, on the key of their choice, for five years, recorded
 * nowhere; with it they minted GIDs and credentials for anyone under `ple.inria`.
 *
 * Real parts: the registry and the aggregate over HTTPS on loopback with real certificates, the
 * registry's SQLite file, and the `sfa` command as a process. Fixed clock (NOW).
 */
import { sign as cryptoSign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initAuthority } from '../../src/authority/init-authority.js';
import { paths } from '../../src/config.js';
import { TrustStore, verifyChain } from '../../src/credentials/chain.js';
import { Gid, issueGid } from '../../src/credentials/gid.js';
import { issueCredential } from '../../src/credentials/issue-credential.js';
import { keyFingerprint, loadPrivateKey, sameKey } from '../../src/credentials/keys.js';
import { formatRfc3339 } from '../../src/credentials/time.js';
import { verifyCredential } from '../../src/credentials/verify-credential.js';
import { CredentialSignerUntrusted } from '../../src/faults.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import { createRecord } from '../../src/registry/register.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import { RegistryStore } from '../../src/store/registry-store.js';
import type { XmlRpcStruct, XmlRpcValue } from '../../src/xmlrpc/value.js';
import {
  bootstrapUser,
  client,
  fault,
  newUser,
  selfSignedCert,
  startTestAuthority,
  type TestUser,
} from '../support/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';

const INRIA_URN = 'urn:publicid:IDN+ple:inria+authority+sa';
const BOB_URN = 'urn:publicid:IDN+ple:inria+user+bob';
const SLICE = 'ple.inria.bobslice';
const SLICE_URN = 'urn:publicid:IDN+ple:inria+slice+bobslice';
const GENI3 = {
  type: 'GENI',
  version: '3',
  schema: 'http://www.geni.net/resources/rspec/3/manifest.xsd',
  namespace: 'http://www.geni.net/resources/rspec/3',
  extensions: [],
};
const ALL: { name: string; canDelegate: boolean }[] = [{ name: '*', canDelegate: true }];
const EXPIRES = new Date('2026-12-20T00:00:00Z');

const tmp = tempRoot('create-gid');
let dir: string;
let running: RunningAuthority;
let trust: TrustStore;
/** PI of ple.inria. */
let alice: TestUser;
/** A user of ple.inria, researcher of ple.inria.bobslice; the PI wants to be bob. */
let bob: TestUser;
let aliceGid: string;
let authCred: string;
let sliceGid: Gid;
/** What CreateGid answered the PI for 'ple.inria' on the PI's own certificate. */
let issued: Gid;

/** An AM API v3 call; the answer's GENI code and output. */
async function am(
  keyPem: string,
  certPem: string,
  method: string,
  ...params: XmlRpcValue[]
): Promise<{ code: number; output: string }> {
  const r = (await client(
    running.urls.aggregate,
    keyPem,
    certPem,
  )(method, ...params)) as XmlRpcStruct;
  return {
    code: (r['code'] as XmlRpcStruct)['geni_code'] as number,
    output: String(r['output'] ?? ''),
  };
}

const sfaCred = (xml: string) => [{ geni_type: 'geni_sfa', geni_version: '3', geni_value: xml }];

/**
 * The same certificate with keyUsage `digitalSignature` only instead of `digitalSignature,
 * keyCertSign, cRLSign`, re-signed by `issuerKey`: a CA:TRUE certificate that may not sign
 * certificates. Both BIT STRINGs are 2 bytes and an RSA-2048 signature is 256 bytes whatever it
 * signs, so the DER keeps its layout: patch the TBS, sign it again, overwrite the signature.
 */
function withoutKeyCertSign(gid: Gid, issuerKey: KeyObject): Gid {
  const der = Buffer.from(gid.der);
  // keyUsage OID, critical, OCTET STRING { BIT STRING, 1 unused bit, 0x86 }.
  const from = Buffer.from('0603551d0f0101ff040403020186', 'hex');
  const at = der.indexOf(from);
  if (at < 0 || der.indexOf(from, at + 1) >= 0) throw new Error('keyUsage not found once');
  Buffer.from('0603551d0f0101ff040403020780', 'hex').copy(der, at);
  if (der[4] !== 0x30 || der[5] !== 0x82) throw new Error('unexpected TBS header');
  const tbs = der.subarray(4, 8 + der.readUInt16BE(6));
  cryptoSign('sha256', tbs, issuerKey).copy(der, der.length - 256);
  return Gid.fromDer(der).withParent(gid.parent);
}

beforeAll(async () => {
  dir = tmp.dir('authority');
  // Awaited whether these are synchronous or not: key generation moves off the event loop.
  await initAuthority({
    dir,
    authority: 'ple',
    hostname: 'localhost',
    now: NOW,
    demoInventory: false,
  });
  alice = newUser('ple.inria.alice');
  bob = newUser('ple.inria.bob');
  const reg = openRegistry(dir);
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: 'ple.inria', type: 'authority', name: 'INRIA' }, NOW);
    for (const u of [alice, bob]) {
      await createRecord(ctx, { hrn: u.hrn, type: 'user', keys: [u.sshKey] }, NOW);
    }
    const inria = ctx.store.get('ple.inria', 'authority')!;
    ctx.store.setPis(inria.id, [ctx.store.get(alice.hrn, 'user')!.id]);
    await createRecord(ctx, { hrn: SLICE, type: 'slice', researchers: [bob.hrn] }, NOW);
    sliceGid = Gid.fromPem(ctx.store.get(SLICE, 'slice')!.gid);
  } finally {
    reg.close();
  }
  running = await startTestAuthority(dir);
  trust = TrustStore.fromFiles([paths.trustedRoots(dir)]);

  // The PI, as sfi: self credential, then the authority credential of ple.inria.
  const a = await bootstrapUser(running.urls.registry, alice);
  aliceGid = a.gid;
  authCred = (await a.registry('GetCredential', a.cred, 'ple.inria', 'authority')) as string;
  // The attack: a GID for the authority's own name, on a certificate of the PI's key.
  issued = Gid.fromPem(
    (await a.registry('CreateGid', authCred, 'ple.inria', selfSignedCert(alice))) as string,
  );
});
afterAll(async () => {
  await running?.close();
});

describe('Security: CreateGid gives a PI a certificate authority', () => {
  it("issues a GID for the authority's name that is no CA and may not sign certificates", () => {
    expect(issued.urn).toBe(INRIA_URN);
    expect(sameKey(issued.publicKey, alice.key)).toBe(true);
    expect(issued.issuerDN).toBe('CN=ple');
    expect(issued.isCA).toBe(false);
    expect(issued.keyUsage ?? []).not.toContain('keyCertSign');
    expect(issued.mayIssue).toBe(false);
    // Nothing else wrong with it: it chains to the root, as a name and nothing more.
    expect(verifyChain(issued, [], trust, NOW).map((g) => g.subjectCN)).toEqual([
      'ple.inria',
      'ple',
    ]);
  });

  it('refuses a user GID the PI mints under it (chain validator, registry, aggregate)', async () => {
    const mintedBob = issueGid({
      urn: BOB_URN,
      subjectPublicKey: alice.key,
      issuerKey: alice.key,
      issuerGid: issued,
      notBefore: NOW,
    });
    const notACa = `${INRIA_URN} is not a CA (basicConstraints CA:FALSE) and cannot issue ${BOB_URN}`;
    expect(() => verifyChain(mintedBob, [], trust, NOW)).toThrow(CredentialSignerUntrusted);
    expect(() => verifyChain(mintedBob, [], trust, NOW)).toThrow(notACa);

    // Acting as bob: a slice credential for bob's slice owned by the minted bob. Signed here by
    // the real ple.inria key, so that only the minted owner is wrong with it.
    const inria = openRegistry(dir);
    let forged: string;
    try {
      const signer = inria.ctx.keys.get('ple.inria');
      forged = issueCredential({
        owner: mintedBob,
        target: sliceGid,
        privileges: ALL,
        expires: EXPIRES,
        signerKey: signer.key,
        signerGid: signer.gid,
      });
    } finally {
      inria.close();
    }
    const untrustedOwner = `the owner of credential ref0 (${BOB_URN}) is not trusted: ${notACa}`;
    expect(() => verifyCredential(forged, { trust, now: NOW })).toThrow(untrustedOwner);

    const asBob = client(running.urls.registry, alice.keyPem, mintedBob.pem);
    const f = await fault(asBob('Resolve', SLICE, forged));
    expect(f).toEqual({ faultCode: 23, faultString: `: Resolve: ${untrustedOwner}` });

    const r = await am(alice.keyPem, mintedBob.pem, 'Describe', [SLICE_URN], sfaCred(forged), {
      geni_rspec_version: GENI3,
    });
    expect(r.code).toBe(23);
    expect(r.output).toContain(untrustedOwner);
  });

  it('refuses a credential signed with it (verifier, registry, aggregate)', async () => {
    // The PI's own, genuine GID as owner: only the signer is wrong.
    const owner = Gid.fromPem(aliceGid);
    const forged = issueCredential({
      owner,
      target: sliceGid,
      privileges: ALL,
      expires: EXPIRES,
      signerKey: alice.key,
      signerGid: issued,
    });
    const notCaSigner =
      `credential ref0 for ${SLICE_URN} is signed with a certificate of ${INRIA_URN} that ` +
      'is not a CA (basicConstraints CA:FALSE): an authority signs credentials with its CA certificate';
    expect(() => verifyCredential(forged, { trust, now: NOW })).toThrow(CredentialSignerUntrusted);
    expect(() => verifyCredential(forged, { trust, now: NOW })).toThrow(notCaSigner);

    const asAlice = client(running.urls.registry, alice.keyPem, aliceGid);
    const f = await fault(asAlice('Resolve', SLICE, forged));
    expect(f).toEqual({ faultCode: 23, faultString: `: Resolve: ${notCaSigner}` });

    const r = await am(alice.keyPem, aliceGid, 'Describe', [SLICE_URN], sfaCred(forged), {
      geni_rspec_version: GENI3,
    });
    expect(r.code).toBe(23);
    expect(r.output).toContain(notCaSigner);
  });

  it('refuses a CA:TRUE authority certificate whose keyUsage lacks keyCertSign, as issuer and as signer', () => {
    const ple = loadPrivateKey(readFileSync(paths.key(dir, 'ple'), 'utf8'));
    const pleGid = Gid.fromPem(readFileSync(paths.gid(dir, 'ple'), 'utf8'));
    const caGid = issueGid({
      urn: INRIA_URN,
      subjectPublicKey: alice.key,
      issuerKey: ple,
      issuerGid: pleGid,
      notBefore: NOW,
    });
    const noCertSign = withoutKeyCertSign(caGid, ple);
    // basicConstraints critical CA:TRUE, keyUsage digitalSignature only.
    expect(noCertSign.der.includes(Buffer.from('0603551d130101ff040530030101ff', 'hex'))).toBe(
      true,
    );
    expect(noCertSign.keyUsage).toEqual(['digitalSignature']);
    expect(noCertSign.mayIssue).toBe(false);

    const minted = issueGid({
      urn: BOB_URN,
      subjectPublicKey: alice.key,
      issuerKey: alice.key,
      issuerGid: noCertSign,
      notBefore: NOW,
    });
    expect(() => verifyChain(minted, [], trust, NOW)).toThrow(
      `${INRIA_URN} may not sign certificates (its keyUsage lacks keyCertSign) and cannot issue ${BOB_URN}`,
    );
    const forged = issueCredential({
      owner: Gid.fromPem(aliceGid),
      target: sliceGid,
      privileges: ALL,
      expires: EXPIRES,
      signerKey: alice.key,
      signerGid: noCertSign,
    });
    expect(() => verifyCredential(forged, { trust, now: NOW })).toThrow(
      `credential ref0 for ${SLICE_URN} is signed with a certificate of ${INRIA_URN} that ` +
        'may not sign certificates (its keyUsage lacks keyCertSign): an authority signs credentials with its CA certificate',
    );
  });

  it('records every GID CreateGid hands out: who asked, for what, its fingerprint', async () => {
    // A second one on a key the registry generates (nothing given): recorded too.
    const a = client(running.urls.registry, alice.keyPem, aliceGid);
    const fresh = Gid.fromPem((await a('CreateGid', authCred, bob.hrn)) as string);
    expect(fresh.isCA).toBe(false);

    const store = RegistryStore.open(paths.database(dir));
    let rows;
    try {
      rows = store.issuedGids('ple.inria');
      expect(store.issuedGids('ple.inria.bob').map((r) => r.fingerprint)).toEqual([
        fresh.fingerprint256,
      ]);
    } finally {
      store.close();
    }
    expect(rows).toEqual([
      {
        id: expect.any(Number),
        issuedAt: NOW,
        callerUrn: 'urn:publicid:IDN+ple:inria+user+alice',
        callerFingerprint: Gid.fromPem(aliceGid).fingerprint256,
        credentialUrn: INRIA_URN,
        hrn: 'ple.inria',
        type: 'authority',
        urn: INRIA_URN,
        fingerprint: issued.fingerprint256,
        serial: issued.serial,
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        ca: false,
        keySource: 'given',
        keyFingerprint: keyFingerprint(alice.key),
        certificate: issued.certPem,
      },
      expect.objectContaining({
        hrn: 'ple.inria.bob',
        type: 'user',
        urn: BOB_URN,
        fingerprint: fresh.fingerprint256,
        keySource: 'generated',
        keyFingerprint: keyFingerprint(fresh.publicKey),
        callerUrn: 'urn:publicid:IDN+ple:inria+user+alice',
      }),
    ]);
  });

  it('lists them for the operator: sfa gid issued', () => {
    const help = sfa(['gid', 'issued', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: sfa gid issued [options] [hrn]');
    expect(help.stdout).toContain('--dir <dir>');

    const all = sfa(['gid', 'issued', '--dir', dir]);
    expect(all.status).toBe(0);
    expect(all.stdout).toContain(
      [
        `2026-11-25T12:00:00Z ${INRIA_URN}`,
        `  sha256:       ${issued.fingerprint256}`,
        `  serial:       ${issued.serial}`,
        `  valid:        ${formatRfc3339(issued.notBefore)} to ${formatRfc3339(issued.notAfter)}`,
        `  CA:           no`,
        `  key:          given (sha256 ${keyFingerprint(alice.key)})`,
        `  asked by:     urn:publicid:IDN+ple:inria+user+alice`,
        `  caller cert:  ${Gid.fromPem(aliceGid).fingerprint256}`,
        `  credential:   ${INRIA_URN}`,
      ].join('\n'),
    );
    expect(all.stdout).toContain(BOB_URN);

    const json = sfa(['gid', 'issued', 'ple.inria.bob', '--json', '--dir', dir]);
    expect(json.status).toBe(0);
    const listed = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    expect(listed.map((g) => [g['urn'], g['key_source'], g['ca']])).toEqual([
      [BOB_URN, 'generated', false],
    ]);

    const none = sfa(['gid', 'issued', 'ple.other', '--dir', dir]);
    expect(none.status).toBe(0);
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('no GIDs issued by CreateGid\n');
  });
});
