import { createHash, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import {
  generateKeyPair,
  keyFingerprint,
  loadPrivateKey,
  loadPublicKey,
  privateKeyToPem,
  publicKeyFromOpenSsh,
  publicKeyOf,
  publicKeyToOpenSsh,
  sameKey,
  spkiDer,
} from './keys.js';
import { SFA_REFERENCE } from '../../test/support/paths.js';

const alicePkey = readFileSync(join(SFA_REFERENCE, 'ple.inria.alice.pkey'), 'utf8');
const bobPkey = readFileSync(join(SFA_REFERENCE, 'ple.inria.bob.pkey'), 'utf8');
// `ssh-keygen -y -f ple.inria.alice.pkey` (OpenSSH 9), for interoperability.
const aliceOpenSsh =
  'ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCtlIkv8nxLZlPaCLAf26xC27OD2SwAF60owG0tnN7jnz0A42WIvtUOmAySFwPvtcBv39TEh9EYEI6nb4G5SpVBoDYr0TdQjCRuNdKWWlkHBY6OOzE2P2XlZsW9FIId1auxBInvhDyPyq5XVgB4oSpTcIRxkBczsPavldogTzGpTplaehFBkKxaF85Gec+pLpypRp1r14Cz63sAJOyLcvL2njGwXYHO4NPwn03WBgNOALf8hKhK01m2TWXL5Tk19gjOnoWxZlkbEL/r7/gQO+u8y3UyLqgqeHOqmx6WbNmztcIWvDOZA9s4Eo3p3SuzWkhIhiMKqXFBPeJQLRbRux8D';
const ed25519 =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2inYeOMlU+eb0+d3BNzBZ4aRpga96UXrziSqPRkFBf me@x';
const ecdsa =
  'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBL3fuPIBpWDi7zJgs7wD+CubHD7Kcj4Ctvhf0bM7vaXvc8+RCOMsfsx4rsc/rb/Qz1VLMPelx+AGQTIDxKVrETw= me@x';

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

describe('generateKeyPair', () => {
  it('makes RSA 2048 keys, the private key as PKCS#1 PEM as SFA and sfi write it', () => {
    const pair = generateKeyPair();
    expect(pair.privateKeyPem).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(pair.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    const key = loadPrivateKey(pair.privateKeyPem);
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    expect(sameKey(key, pair.publicKeyPem)).toBe(true);
  });
});

describe('loadPrivateKey', () => {
  it('reads the PKCS#8 keys of the SFA reference vectors', () => {
    expect(alicePkey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const key = loadPrivateKey(alicePkey);
    expect(key.type).toBe('private');
    expect(key.asymmetricKeyType).toBe('rsa');
  });

  it('reads PKCS#1 and writes PKCS#1', () => {
    const pkcs1 = privateKeyToPem(alicePkey);
    expect(pkcs1).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(sameKey(loadPrivateKey(pkcs1), alicePkey)).toBe(true);
  });

  it('refuses what is not an unencrypted RSA private key', () => {
    expect(badArgs(() => loadPrivateKey('hello')).message).toMatch(/not a PEM private key/);
    expect(badArgs(() => loadPrivateKey(publicKeyOf(alicePkey))).message).toMatch(
      /expected a private key/,
    );
    const broken = alicePkey.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    expect(badArgs(() => loadPrivateKey(broken)).message).toMatch(/cannot be read/);
    const encrypted = loadPrivateKey(alicePkey).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    }) as string;
    expect(badArgs(() => loadPrivateKey(encrypted)).message).toMatch(/encrypted/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    });
    expect(badArgs(() => loadPrivateKey(ec as string)).message).toBe(
      'SFA identities need an RSA key; this is an ec key',
    );
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(badArgs(() => loadPrivateKey(short)).message).toMatch(/1024 bits is too short/);
  });
});

describe('OpenSSH public keys', () => {
  it('reads what ssh-keygen writes, and writes it back identically', () => {
    const key = publicKeyFromOpenSsh(`${aliceOpenSsh} alice@inria.fr`);
    expect(sameKey(key, alicePkey)).toBe(true);
    expect(publicKeyToOpenSsh(alicePkey)).toBe(aliceOpenSsh);
    expect(publicKeyToOpenSsh(key, 'alice@inria.fr')).toBe(`${aliceOpenSsh} alice@inria.fr`);
  });

  it('round-trips fresh keys (moduli with the top bit set need a zero byte in the mpint)', () => {
    for (let i = 0; i < 3; i++) {
      const pair = generateKeyPair();
      expect(
        sameKey(publicKeyFromOpenSsh(publicKeyToOpenSsh(pair.privateKeyPem)), pair.publicKeyPem),
      ).toBe(true);
    }
  });

  it('skips authorized_keys options before the key type', () => {
    const key = publicKeyFromOpenSsh(`from="10.0.0.1",no-pty ${aliceOpenSsh} alice`);
    expect(sameKey(key, alicePkey)).toBe(true);
  });

  it('refuses non-RSA keys: SFA identities need an RSA key', () => {
    expect(badArgs(() => publicKeyFromOpenSsh(ed25519)).message).toMatch(
      /^SFA identities need an RSA key/,
    );
    expect(badArgs(() => publicKeyFromOpenSsh(ecdsa)).message).toMatch(
      /^SFA identities need an RSA key/,
    );
    expect(badArgs(() => loadPublicKey(ed25519)).message).toMatch(/ssh-ed25519/);
  });

  it('refuses malformed lines', () => {
    expect(badArgs(() => publicKeyFromOpenSsh('hello world')).message).toMatch(
      /not an OpenSSH public key/,
    );
    expect(badArgs(() => publicKeyFromOpenSsh('ssh-rsa')).message).toMatch(
      /not an OpenSSH public key/,
    );
    expect(badArgs(() => publicKeyFromOpenSsh('ssh-rsa !!!')).message).toMatch(/base64/);
    expect(
      badArgs(() => publicKeyFromOpenSsh(`ssh-rsa ${aliceOpenSsh.slice(8, 100)}`)).message,
    ).toMatch(/malformed/);
    // An ed25519 blob under an ssh-rsa label.
    const blob = ed25519.split(' ')[1]!;
    expect(badArgs(() => publicKeyFromOpenSsh(`ssh-rsa ${blob}`)).message).toMatch(
      /says ssh-ed25519/,
    );
  });
});

describe('loadPublicKey', () => {
  const pub = publicKeyOf(alicePkey);
  it('accepts an OpenSSH line, PEM SPKI and PEM PKCS#1', () => {
    const spki = pub.export({ type: 'spki', format: 'pem' }) as string;
    const pkcs1 = pub.export({ type: 'pkcs1', format: 'pem' }) as string;
    expect(pkcs1).toMatch(/^-----BEGIN RSA PUBLIC KEY-----/);
    for (const text of [aliceOpenSsh, `  ${aliceOpenSsh} alice\n`, spki, pkcs1]) {
      expect(sameKey(loadPublicKey(text), pub)).toBe(true);
    }
  });

  it('refuses a private key and other PEM', () => {
    expect(badArgs(() => loadPublicKey(alicePkey)).message).toMatch(/private key/);
    expect(
      badArgs(() => loadPublicKey('-----BEGIN CERTIFICATE-----\nAA\n-----END CERTIFICATE-----'))
        .message,
    ).toMatch(/not a public key/);
  });
});

describe('sameKey and keyFingerprint', () => {
  it('compare public halves, whatever form the keys come in', () => {
    const priv = loadPrivateKey(alicePkey);
    const pub = createPublicKey(priv);
    expect(sameKey(priv, pub)).toBe(true);
    expect(sameKey(alicePkey, pub)).toBe(true);
    expect(sameKey(alicePkey, bobPkey)).toBe(false);
    expect(keyFingerprint(priv)).toBe(keyFingerprint(pub));
    expect(keyFingerprint(pub)).toBe(createHash('sha256').update(spkiDer(pub)).digest('hex'));
    expect(keyFingerprint(pub)).toMatch(/^[0-9a-f]{64}$/);
    expect(keyFingerprint(bobPkey)).not.toBe(keyFingerprint(pub));
  });
});
