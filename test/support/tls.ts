/**
 * Real TLS identities for transport tests: an SFA-style PKI (authority GID, user GID under it)
 * and sfi's self-signed bootstrap certificate, all made with fresh RSA keys.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:https';
import forge from 'node-forge';
import { issueGid, type Gid } from '../../src/credentials/gid.js';
import { generateKeyPair } from '../../src/credentials/keys.js';
import { NOW } from './paths.js';

export interface Identity {
  /** PKCS#1 PEM private key. */
  key: string;
  /** PEM certificate, followed by its chain for GIDs. */
  cert: string;
}

export interface TestPki {
  /** The authority `ple.inria`: a self-signed CA GID; it also serves as the server identity. */
  authority: Identity & { gid: Gid };
  /** The user `ple.inria.alice`: a GID signed by the authority, PEM = leaf + authority. */
  alice: Identity & { gid: Gid };
  /** What sfi makes before its first call: CN=ple.inria.alice, self-signed, no extensions. */
  aliceSelfSigned: Identity;
}

/** A fresh PKI. RSA key generation takes a moment: build it once per test file. */
export function makeTestPki(now: Date = NOW): TestPki {
  const authorityKeys = generateKeyPair();
  const authorityGid = issueGid({
    urn: 'urn:publicid:IDN+ple:inria+authority+sa',
    subjectPublicKey: authorityKeys.privateKeyPem,
    notBefore: new Date(now.getTime() - 86_400_000),
  });
  const aliceKeys = generateKeyPair();
  const aliceGid = issueGid({
    urn: 'urn:publicid:IDN+ple:inria+user+alice',
    subjectPublicKey: aliceKeys.publicKeyPem,
    issuerKey: authorityKeys.privateKeyPem,
    issuerGid: authorityGid,
    email: 'alice@example.org',
    notBefore: new Date(now.getTime() - 86_400_000),
  });
  return {
    authority: { key: authorityKeys.privateKeyPem, cert: authorityGid.pem, gid: authorityGid },
    alice: { key: aliceKeys.privateKeyPem, cert: aliceGid.pem, gid: aliceGid },
    aliceSelfSigned: {
      key: aliceKeys.privateKeyPem,
      cert: selfSignedCert('ple.inria.alice', aliceKeys.privateKeyPem, now),
    },
  };
}

/**
 * A certificate like sfi's `<user>.sscert`: subject and issuer CN=<cn>, signed by its own key,
 * no subjectAltName, valid 1825 days.
 */
export function selfSignedCert(cn: string, privateKeyPem: string, now: Date = NOW): string {
  const key = forge.pki.privateKeyFromPem(privateKeyPem);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = '03';
  cert.validity.notBefore = new Date(now.getTime() - 86_400_000);
  cert.validity.notAfter = new Date(now.getTime() + 1825 * 86_400_000);
  const name = [{ name: 'commonName', value: cn }];
  cert.setSubject(name);
  cert.setIssuer(name);
  cert.sign(key, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** Listen on 127.0.0.1 on a free port; resolves to the `https://127.0.0.1:PORT` origin. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve(`https://127.0.0.1:${(server.address() as AddressInfo).port}`);
    });
  });
}

/** Close a server and every connection it holds (keep-alive ones included). */
export function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
