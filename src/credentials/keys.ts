/**
 * RSA keys for SFA identities: generate, load (PEM private/public, OpenSSH public), compare.
 *
 * SFA and sfi write private keys as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), so that is
 * what we write; PKCS#8 is accepted on input (the Python SFA 4.0.3 reference keys are PKCS#8).
 * Every failure to read a key is a BadArgs whose message says what was wrong.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPair as generateKeyPairCallback,
  generateKeyPairSync,
  KeyObject,
  type JsonWebKey,
  type RSAKeyPairOptions,
} from 'node:crypto';
import { BadArgs } from '../faults.js';

/** Keys shorter than this are refused: SFA issues 2048-bit keys, anything less is too weak. */
export const MIN_RSA_BITS = 2048;

/** A key as the callers hold it: a KeyObject or PEM text. */
export type KeyLike = KeyObject | string;

export interface GeneratedKeyPair {
  /** PKCS#1 PEM, `-----BEGIN RSA PRIVATE KEY-----`, as SFA and sfi write it. */
  privateKeyPem: string;
  /** SPKI PEM, `-----BEGIN PUBLIC KEY-----`. */
  publicKeyPem: string;
}

const RSA_OPTIONS: RSAKeyPairOptions<'pem', 'pem'> = {
  modulusLength: 2048,
  publicExponent: 0x10001,
  privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  publicKeyEncoding: { type: 'spki', format: 'pem' },
};

/**
 * Generate a fresh RSA 2048 key pair (exponent 65537), blocking the caller (~50–500 ms): for
 * command-line tools only. Servers use {@link generateKeyPairAsync}.
 */
export function generateKeyPair(): GeneratedKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', RSA_OPTIONS);
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * The same, on libuv's thread pool: the event loop keeps serving other calls while the primes
 * are searched for.
 */
export function generateKeyPairAsync(): Promise<GeneratedKeyPair> {
  return new Promise((resolve, reject) => {
    generateKeyPairCallback('rsa', RSA_OPTIONS, (err, publicKey, privateKey) => {
      if (err) reject(err);
      else resolve({ privateKeyPem: privateKey, publicKeyPem: publicKey });
    });
  });
}

/**
 * Read a private key: PEM PKCS#1 (`RSA PRIVATE KEY`) or PKCS#8 (`PRIVATE KEY`), unencrypted.
 * A KeyObject that is already private is returned as is. Throws BadArgs otherwise.
 */
export function loadPrivateKey(pem: KeyLike | Buffer): KeyObject {
  if (pem instanceof KeyObject) {
    if (pem.type !== 'private') throw new BadArgs(`expected a private key, got a ${pem.type} key`);
    return requireRsa(pem);
  }
  const text = Buffer.isBuffer(pem) ? pem.toString('utf8') : pem;
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(text)) {
    throw new BadArgs(
      'the private key is encrypted with a passphrase; give an unencrypted PEM key',
    );
  }
  if (!/-----BEGIN (RSA )?PRIVATE KEY-----/.test(text)) {
    throw new BadArgs(
      'not a PEM private key: expected -----BEGIN RSA PRIVATE KEY----- or -----BEGIN PRIVATE KEY-----',
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: text, format: 'pem' });
  } catch (e) {
    throw new BadArgs(`the PEM private key cannot be read: ${(e as Error).message}`, { cause: e });
  }
  return requireRsa(key);
}

/**
 * The public half of a key: a private or public KeyObject, or PEM text of a private key, a
 * public key or a certificate. Throws BadArgs when the text is none of these.
 */
export function publicKeyOf(key: KeyLike | Buffer): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type === 'public') return key;
    if (key.type === 'private') return createPublicKey(key);
    throw new BadArgs('a secret (symmetric) key has no public half');
  }
  try {
    return createPublicKey(key);
  } catch (e) {
    throw new BadArgs(`not a PEM key or certificate: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Read a public key from text: an OpenSSH `ssh-rsa AAAA… comment` line, a PEM SPKI
 * (`PUBLIC KEY`) or a PEM PKCS#1 (`RSA PUBLIC KEY`) block. Only RSA keys are accepted.
 */
export function loadPublicKey(text: string): KeyObject {
  const trimmed = text.trim();
  if (/-----BEGIN (RSA )?PUBLIC KEY-----/.test(trimmed)) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: trimmed, format: 'pem' });
    } catch (e) {
      throw new BadArgs(`the PEM public key cannot be read: ${(e as Error).message}`, { cause: e });
    }
    return requireRsa(key);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(trimmed)) {
    throw new BadArgs('expected a public key but this is a private key; give the public key');
  }
  if (trimmed.startsWith('-----BEGIN')) {
    throw new BadArgs(
      'not a public key: expected -----BEGIN PUBLIC KEY----- or -----BEGIN RSA PUBLIC KEY-----',
    );
  }
  return publicKeyFromOpenSsh(trimmed);
}

/** authorized_keys key types that we recognise, to name them in the refusal. */
const OPENSSH_TYPE = /^(ssh-(rsa|dss|ed25519|ed448)|ecdsa-sha2-[a-z0-9]+|sk-[a-z0-9@.-]+)$/;

/**
 * Parse one OpenSSH public key line, `ssh-rsa AAAA… [comment]`, optionally preceded by
 * authorized_keys options. Non-RSA keys are refused: SFA GIDs and credentials are RSA-signed.
 */
export function publicKeyFromOpenSsh(line: string): KeyObject {
  const fields = line.trim().split(/\s+/);
  const at = fields.findIndex((f) => OPENSSH_TYPE.test(f));
  const type = at >= 0 ? fields[at]! : undefined;
  const b64 = at >= 0 ? fields[at + 1] : undefined;
  if (type === undefined || b64 === undefined) {
    throw new BadArgs('not an OpenSSH public key: expected a line like "ssh-rsa AAAA... comment"');
  }
  if (type !== 'ssh-rsa') {
    throw new BadArgs(`SFA identities need an RSA key; this is an ${type} key`);
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new BadArgs('the OpenSSH key is not valid base64');
  const blob = Buffer.from(b64, 'base64');
  try {
    const reader = new SshReader(blob);
    const inner = reader.string().toString('latin1');
    if (inner !== type) throw new Error(`the key data says ${inner}, the line says ${type}`);
    const e = reader.mpint();
    const n = reader.mpint();
    if (!reader.done()) throw new Error('trailing bytes after the modulus');
    const key = createPublicKey({
      key: { kty: 'RSA', e: e.toString('base64url'), n: n.toString('base64url') },
      format: 'jwk',
    });
    return requireRsa(key);
  } catch (err) {
    if (err instanceof BadArgs) throw err;
    throw new BadArgs(`the OpenSSH ssh-rsa key is malformed: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** The OpenSSH `ssh-rsa AAAA…` line of an RSA key (public or private), with an optional comment. */
export function publicKeyToOpenSsh(key: KeyLike, comment?: string): string {
  const pub = requireRsa(publicKeyOf(key));
  const jwk = pub.export({ format: 'jwk' }) as JsonWebKey;
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    sshMpint(Buffer.from(jwk.e!, 'base64url')),
    sshMpint(Buffer.from(jwk.n!, 'base64url')),
  ]);
  const line = `ssh-rsa ${blob.toString('base64')}`;
  return comment ? `${line} ${comment}` : line;
}

/** DER SubjectPublicKeyInfo of a key's public half: the canonical form to compare keys by. */
export function spkiDer(key: KeyLike): Buffer {
  return publicKeyOf(key).export({ type: 'spki', format: 'der' });
}

/** True when both keys (private or public, KeyObject or PEM) have the same public key. */
export function sameKey(a: KeyLike, b: KeyLike): boolean {
  // KeyObject.equals compares the key material without exporting it (the hot path of every call).
  return publicKeyOf(a).equals(publicKeyOf(b));
}

/** SHA-256 of the key's DER SubjectPublicKeyInfo, lowercase hex (64 characters). */
export function keyFingerprint(key: KeyLike): string {
  return createHash('sha256').update(spkiDer(key)).digest('hex');
}

/** A private key as PKCS#1 PEM (`-----BEGIN RSA PRIVATE KEY-----`), the form SFA tools read. */
export function privateKeyToPem(key: KeyLike): string {
  return loadPrivateKey(key).export({ type: 'pkcs1', format: 'pem' }) as string;
}

/** Refuse anything that is not an RSA key of at least {@link MIN_RSA_BITS} bits. */
function requireRsa(key: KeyObject): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new BadArgs(
      `SFA identities need an RSA key; this is an ${key.asymmetricKeyType ?? 'unknown'} key`,
    );
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < MIN_RSA_BITS)
    throw new BadArgs(`RSA key of ${bits} bits is too short; at least ${MIN_RSA_BITS} needed`);
  return key;
}

/** Reads the SSH wire format (RFC 4251): uint32 length-prefixed strings and mpints. */
class SshReader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}

  string(): Buffer {
    if (this.at + 4 > this.buf.length) throw new Error('truncated key data');
    const len = this.buf.readUInt32BE(this.at);
    const start = this.at + 4;
    if (start + len > this.buf.length) throw new Error('truncated key data');
    this.at = start + len;
    return this.buf.subarray(start, start + len);
  }

  /** A non-negative mpint, without its sign byte. */
  mpint(): Buffer {
    const v = this.string();
    if (v.length === 0) throw new Error('empty integer');
    if ((v[0]! & 0x80) !== 0) throw new Error('negative integer');
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    return v.subarray(i);
  }

  done(): boolean {
    return this.at === this.buf.length;
  }
}

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An unsigned big-endian integer as an SSH mpint: a zero byte in front when the top bit is set. */
function sshMpint(b: Buffer): Buffer {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  const v = b.subarray(i);
  return sshString((v[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v]) : v);
}
