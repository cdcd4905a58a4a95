import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { Gid, issueGid, keyIdentifier } from './gid.js';
import { generateKeyPair, loadPrivateKey, sameKey, spkiDer } from './keys.js';
import { NOW, SFA_REFERENCE } from '../../test/support/paths.js';
import { tempRoot } from '../../test/support/tmp.js';

const ref = (name: string): string => readFileSync(join(SFA_REFERENCE, name), 'utf8');
const refGid = (name: string): Gid => Gid.fromPem(ref(name));

function badArgs(fn: () => unknown): BadArgs {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BadArgs);
    expect((e as BadArgs).geniCode).toBe(1);
    return e as BadArgs;
  }
  throw new Error('expected BadArgs');
}

describe('Gid: the Python SFA 4.0.3 reference GIDs', () => {
  it('reads the self-signed root ple.gid', () => {
    const ple = refGid('ple.gid');
    expect(ple).toMatchObject({
      urn: 'urn:publicid:IDN+ple+authority+sa',
      hrn: 'ple',
      type: 'authority',
      uuid: '2bcc2d2e-c5b8-45da-8a16-d72b51820e16',
      email: undefined,
      subjectCN: 'ple',
      subjectDN: 'CN=ple',
      issuerDN: 'CN=ple',
      isCA: true,
      parent: undefined,
      // SFA writes every GID with serial 3 and without key identifiers.
      serial: '03',
      ski: undefined,
      aki: undefined,
    });
    expect(ple.isSelfIssued).toBe(true);
    expect(ple.notBefore.toISOString()).toBe('2026-11-25T09:02:58.000Z');
    expect(ple.notAfter.toISOString()).toBe('2031-11-24T09:02:58.000Z');
    expect(ple.chain()).toHaveLength(1);
  });

  it('reads a user GID with its issuer chain, leaf first', () => {
    const alice = refGid('ple.inria.alice.user.gid');
    expect(alice).toMatchObject({
      urn: 'urn:publicid:IDN+ple:inria+user+alice',
      hrn: 'ple.inria.alice',
      type: 'user',
      uuid: '2450ebbe-a08a-493c-bf82-337ba2c5fee8',
      email: 'alice@inria.fr',
      subjectCN: 'ple.inria.alice',
      issuerDN: 'CN=ple.inria',
      isCA: false,
    });
    expect(alice.chain().map((g) => g.urn)).toEqual([
      'urn:publicid:IDN+ple:inria+user+alice',
      'urn:publicid:IDN+ple:inria+authority+sa',
      'urn:publicid:IDN+ple+authority+sa',
    ]);
    expect(alice.parent?.fingerprint256).toBe(refGid('ple.inria.gid').fingerprint256);
    expect(alice.parent?.parent?.fingerprint256).toBe(refGid('ple.gid').fingerprint256);
    expect(sameKey(alice.publicKey, loadPrivateKey(ref('ple.inria.alice.pkey')))).toBe(true);
  });

  it('reads bob, the slice and the authority', () => {
    const bob = refGid('ple.inria.bob.user.gid');
    expect(bob).toMatchObject({
      hrn: 'ple.inria.bob',
      type: 'user',
      email: 'bob@inria.fr',
      isCA: false,
    });
    expect(bob.uuid).toBe('73288403-0a19-4894-9dc7-c4df003ff177');
    const slice = refGid('ple.inria.myslice.slice.gid');
    expect(slice).toMatchObject({
      urn: 'urn:publicid:IDN+ple:inria+slice+myslice',
      hrn: 'ple.inria.myslice',
      type: 'slice',
      email: undefined,
      isCA: false,
    });
    const inria = refGid('ple.inria.gid');
    expect(inria).toMatchObject({ hrn: 'ple.inria', type: 'authority', isCA: true });
    expect(inria.chain()).toHaveLength(2);
    expect(sameKey(inria.publicKey, loadPrivateKey(ref('ple.inria.pkey')))).toBe(true);
  });

  it('writes the chain back as PEM that reads the same', () => {
    const alice = refGid('ple.inria.alice.user.gid');
    const again = Gid.fromPem(alice.pem);
    expect(again.chain().map((g) => g.fingerprint256)).toEqual(
      alice.chain().map((g) => g.fingerprint256),
    );
    expect(alice.certPem.match(/BEGIN CERTIFICATE/g)).toHaveLength(1);
    expect(Gid.fromPem(alice.certPem).parent).toBeUndefined();
    // The very bytes SFA wrote, base64 lines included.
    expect(alice.pem).toBe(ref('ple.inria.alice.user.gid'));
  });
});

describe('Gid.fromPem refuses what is not a certificate', () => {
  it.each([
    ['plain text', 'hello', /no PEM certificate found/],
    ['a private key', ref('ple.pkey'), /no PEM certificate found/],
    ['an unterminated block', '-----BEGIN CERTIFICATE-----\nMIIB', /unterminated/],
    [
      'bad base64',
      '-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----',
      /not valid base64/,
    ],
    [
      'base64 of garbage',
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----',
      /certificate 1 of 1 is not an X.509/,
    ],
  ])('%s', (_name, text, message) => {
    expect(badArgs(() => Gid.fromPem(text)).message).toMatch(message);
  });

  it('names which certificate of a chain is broken', () => {
    const broken = ref('ple.inria.gid').replace(
      /(-----BEGIN CERTIFICATE-----\n)(?![\s\S]*BEGIN)[\s\S]*?(-----END)/,
      '$1AAAA\n$2',
    );
    expect(badArgs(() => Gid.fromPem(broken)).message).toMatch(/certificate 2 of 2/);
  });
});

describe('issueGid', () => {
  const tmp = tempRoot('gid');
  const file = (name: string, text: string): string => {
    const p = join(tmp.path, name);
    writeFileSync(p, text);
    return p;
  };
  const openssl = (...args: string[]): string =>
    execFileSync('openssl', args, { encoding: 'utf8' });
  // openssl verify reads the wall clock; pin it to the test clock.
  const attime = String(Math.floor(NOW.getTime() / 1000) + 60);

  const rootKey = generateKeyPair();
  const saKey = generateKeyPair();
  const userKey = generateKeyPair();
  const sliceKey = generateKeyPair();
  const root = issueGid({
    hrn: 'plc',
    type: 'authority',
    subjectPublicKey: rootKey.privateKeyPem,
    notBefore: NOW,
  });
  const sa = issueGid({
    hrn: 'plc.princeton',
    type: 'authority',
    subjectPublicKey: saKey.publicKeyPem,
    issuerKey: rootKey.privateKeyPem,
    issuerGid: root,
    notBefore: NOW,
  });
  const user = issueGid({
    urn: 'urn:publicid:IDN+plc:princeton+user+alice',
    subjectPublicKey: loadPrivateKey(userKey.privateKeyPem),
    issuerKey: loadPrivateKey(saKey.privateKeyPem),
    issuerGid: sa,
    email: 'alice@princeton.edu',
    uuid: '0f5e3a52-8d4c-4c1e-9f2a-7b6d5c4e3a21',
    notBefore: NOW,
  });
  const slice = issueGid({
    hrn: 'plc.princeton.myslice',
    type: 'slice',
    subjectPublicKey: sliceKey.publicKeyPem,
    issuerKey: saKey.privateKeyPem,
    issuerGid: sa,
    notBefore: NOW,
    lifetimeDays: 30,
  });

  it('names the subject as SFA does', () => {
    expect(root).toMatchObject({
      urn: 'urn:publicid:IDN+plc+authority+sa',
      hrn: 'plc',
      type: 'authority',
      isCA: true,
    });
    expect(root.isSelfIssued).toBe(true);
    expect(sa).toMatchObject({
      urn: 'urn:publicid:IDN+plc:princeton+authority+sa',
      subjectCN: 'plc.princeton',
      issuerDN: 'CN=plc',
    });
    expect(user).toMatchObject({
      hrn: 'plc.princeton.alice',
      type: 'user',
      email: 'alice@princeton.edu',
      uuid: '0f5e3a52-8d4c-4c1e-9f2a-7b6d5c4e3a21',
      subjectCN: 'plc.princeton.alice',
      issuerDN: 'CN=plc.princeton',
      isCA: false,
    });
    expect(slice).toMatchObject({ type: 'slice', isCA: false, email: undefined });
    expect(slice.uuid).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    expect(sameKey(user.publicKey, userKey.publicKeyPem)).toBe(true);
  });

  it('sets validity from the given clock: five years by default, or lifetimeDays', () => {
    expect(user.notBefore).toEqual(NOW);
    expect(user.notAfter.toISOString()).toBe('2031-11-24T12:00:00.000Z');
    expect(slice.notAfter.getTime() - slice.notBefore.getTime()).toBe(30 * 86_400_000);
    const ms = issueGid({
      hrn: 'plc.x',
      type: 'slice',
      subjectPublicKey: sliceKey.publicKeyPem,
      issuerKey: saKey.privateKeyPem,
      issuerGid: sa,
      notBefore: new Date('2026-11-25T12:00:00.789Z'),
    });
    expect(ms.notBefore).toEqual(NOW);
  });

  it('appends the issuer chain unless told not to', () => {
    expect(user.chain().map((g) => g.hrn)).toEqual(['plc.princeton.alice', 'plc.princeton', 'plc']);
    expect(Gid.fromPem(user.pem).chain()).toHaveLength(3);
    const bare = issueGid({
      hrn: 'plc.princeton.bob',
      type: 'user',
      subjectPublicKey: userKey.publicKeyPem,
      issuerKey: saKey.privateKeyPem,
      issuerGid: sa,
      notBefore: NOW,
      includeChain: false,
    });
    expect(bare.parent).toBeUndefined();
    expect(bare.pem).toBe(bare.certPem);
  });

  it('copies the issuer name byte for byte and links key identifiers', () => {
    expect(user.issuerDer.equals(sa.subjectDer)).toBe(true);
    expect(sa.issuerDer.equals(root.subjectDer)).toBe(true);
    expect(root.ski).toBe(keyIdentifier(spkiDer(rootKey.publicKeyPem)));
    expect(root.aki).toBe(root.ski);
    expect(sa.aki).toBe(root.ski);
    expect(user.aki).toBe(sa.ski);
    expect(slice.aki).toBe(sa.ski);
    expect(user.x509.checkIssued(sa.x509)).toBe(true);
    expect(user.x509.verify(sa.publicKey)).toBe(true);
  });

  it('gives unique positive 16-byte serials', () => {
    const serials = [root, sa, user, slice].map((g) => g.serial);
    expect(new Set(serials).size).toBe(4);
    for (const s of serials) expect(s).toMatch(/^[4-7][0-9a-f]{31}$/);
  });

  it('is what openssl reads: SFA URN in subjectAltName, CA:TRUE only for authorities', () => {
    const text = (g: Gid): string =>
      openssl('x509', '-noout', '-text', '-in', file(`${g.hrn}.pem`, g.certPem));
    const rootText = text(root);
    expect(rootText).toContain('Version: 3 (0x2)');
    expect(rootText).toContain('Signature Algorithm: sha256WithRSAEncryption');
    expect(rootText).toContain('URI:urn:publicid:IDN+plc+authority+sa');
    expect(rootText).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    expect(rootText).toMatch(/Key Usage: critical\s+Digital Signature, Certificate Sign, CRL Sign/);
    expect(text(sa)).toMatch(/Basic Constraints: critical\s+CA:TRUE/);
    const userText = text(user);
    expect(userText).toContain(
      'URI:urn:publicid:IDN+plc:princeton+user+alice, URI:urn:uuid:0f5e3a52-8d4c-4c1e-9f2a-7b6d5c4e3a21, email:alice@princeton.edu',
    );
    expect(userText).toMatch(/Basic Constraints: critical\s+CA:FALSE/);
    expect(userText).not.toContain('Key Usage');
    expect(userText).toMatch(/Subject: CN ?= ?plc\.princeton\.alice/);
    const sliceText = text(slice);
    expect(sliceText).toContain('URI:urn:publicid:IDN+plc:princeton+slice+myslice');
    expect(sliceText).toMatch(/CA:FALSE/);
    expect(sliceText).not.toContain('email:');
  });

  it('builds chains that openssl verify accepts', () => {
    const rootFile = file('root.pem', root.certPem);
    const saFile = file('sa.pem', sa.certPem);
    for (const leaf of [user, slice]) {
      const out = openssl(
        'verify',
        '-attime',
        attime,
        '-CAfile',
        rootFile,
        '-untrusted',
        saFile,
        file('leaf.pem', leaf.certPem),
      );
      expect(out.trim()).toMatch(/: OK$/);
    }
  });

  it('issues under the SFA reference authority, whose certificate has no key identifier', () => {
    const inria = refGid('ple.inria.gid');
    const carol = issueGid({
      hrn: 'ple.inria.carol',
      type: 'user',
      subjectPublicKey: userKey.publicKeyPem,
      issuerKey: ref('ple.inria.pkey'),
      issuerGid: inria,
      notBefore: NOW,
    });
    expect(carol.issuerDer.equals(inria.subjectDer)).toBe(true);
    // The RFC 5280 key id of the issuer's key: what OpenSSL matches when the issuer has no SKI.
    expect(carol.aki).toBe(keyIdentifier(spkiDer(inria.publicKey)));
    expect(carol.chain().map((g) => g.hrn)).toEqual(['ple.inria.carol', 'ple.inria', 'ple']);
    const out = openssl(
      'verify',
      '-attime',
      attime,
      '-CAfile',
      join(SFA_REFERENCE, 'ple.gid'),
      '-untrusted',
      join(SFA_REFERENCE, 'ple.inria.gid'),
      file('carol.pem', carol.certPem),
    );
    expect(out.trim()).toMatch(/: OK$/);
  });

  it('refuses an issuer key that does not belong to the issuer GID', () => {
    const e = badArgs(() =>
      issueGid({
        hrn: 'plc.princeton.eve',
        type: 'user',
        subjectPublicKey: userKey.publicKeyPem,
        issuerKey: rootKey.privateKeyPem,
        issuerGid: sa,
        notBefore: NOW,
      }),
    );
    expect(e.message).toContain('does not belong to urn:publicid:IDN+plc:princeton+authority+sa');
  });

  it('refuses bad options', () => {
    const base = {
      subjectPublicKey: userKey.publicKeyPem,
      issuerKey: saKey.privateKeyPem,
      issuerGid: sa,
      notBefore: NOW,
    };
    expect(badArgs(() => issueGid({ ...base, hrn: 'plc.princeton.x' })).message).toMatch(
      /urn, or as hrn and type/,
    );
    expect(
      badArgs(() => issueGid({ ...base, urn: 'urn:publicid:IDN+plc+user+x', hrn: 'plc.x' }))
        .message,
    ).toMatch(/not both/);
    expect(badArgs(() => issueGid({ ...base, urn: 'not a urn' })).message).toMatch(/invalid URN/);
    expect(
      badArgs(() => issueGid({ ...base, hrn: 'plc.x', type: 'user', uuid: 'nope' })).message,
    ).toMatch(/not a UUID/);
    expect(
      badArgs(() => issueGid({ ...base, hrn: 'plc.x', type: 'user', email: 'a b@c' })).message,
    ).toMatch(/e-mail/);
    expect(
      badArgs(() => issueGid({ ...base, hrn: 'plc.x', type: 'user', lifetimeDays: 0 })).message,
    ).toMatch(/lifetimeDays/);
    expect(
      badArgs(() => issueGid({ ...base, hrn: 'plc.x', type: 'user', notBefore: new Date('x') }))
        .message,
    ).toMatch(/valid Date/);
    expect(
      badArgs(() => issueGid({ ...base, issuerKey: undefined, hrn: 'plc.x', type: 'user' }))
        .message,
    ).toMatch(/needs that issuer's private key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect(
      badArgs(() => issueGid({ ...base, hrn: 'plc.x', type: 'user', subjectPublicKey: ec }))
        .message,
    ).toMatch(/need an RSA key/);
  });

  it('refuses a self-signed GID without the subject private key, or signed by another key', () => {
    expect(
      badArgs(() =>
        issueGid({
          hrn: 'plc',
          type: 'authority',
          subjectPublicKey: rootKey.publicKeyPem,
          notBefore: NOW,
        }),
      ).message,
    ).toMatch(/needs the subject's private key/);
    expect(
      badArgs(() =>
        issueGid({
          hrn: 'plc',
          type: 'authority',
          subjectPublicKey: rootKey.publicKeyPem,
          issuerKey: saKey.privateKeyPem,
          notBefore: NOW,
        }),
      ).message,
    ).toMatch(/issuerKey is not the subject's key/);
  });

  it('lets the caller set the CA bit explicitly', () => {
    const notCa = issueGid({
      hrn: 'plc.princeton.am',
      type: 'authority+am',
      subjectPublicKey: saKey.publicKeyPem,
      issuerKey: saKey.privateKeyPem,
      issuerGid: sa,
      notBefore: NOW,
      isCA: false,
    });
    expect(notCa).toMatchObject({ type: 'authority+am', isCA: false });
  });
});
