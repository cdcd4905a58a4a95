import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TrustStore } from './chain.js';
import { issueGid, type Gid } from './gid.js';
import { generateKeyPair } from './keys.js';
import { DEFAULT_ROOT_ATTRIBUTES, signCredentialDocument } from './sign.js';
import { verifySpeaksFor, writeSpeaksForElement } from './speaks-for.js';
import { xmlsec1Verify } from '../../test/support/xmlsec1.js';
import { NOW } from '../../test/support/paths.js';

function principal(urn: string, issuer?: { gid: Gid; key: KeyObject }, email?: string) {
  const key = createPrivateKey(generateKeyPair().privateKeyPem);
  const gid = issueGid({
    urn,
    subjectPublicKey: createPublicKey(key),
    issuerKey: issuer?.key ?? key,
    issuerGid: issuer?.gid,
    email,
    notBefore: new Date('2026-11-01T00:00:00Z'),
  });
  return { gid, key };
}

const root = principal('urn:publicid:IDN+ple+authority+sa');
const user = principal('urn:publicid:IDN+ple+user+alice', root);
const tool = principal('urn:publicid:IDN+ple+user+jfed', root);
const other = principal('urn:publicid:IDN+ple+user+mallory', root);
const trust = new TrustStore([root.gid]);

function speaksFor(
  signer = user,
  forTool = tool,
  expires = new Date('2026-12-31T00:00:00Z'),
): string {
  return signCredentialDocument({
    rootAttributes: DEFAULT_ROOT_ATTRIBUTES,
    credentialXml: writeSpeaksForElement('ref0', signer.gid, forTool.gid, expires),
    refid: 'ref0',
    signerKey: signer.key,
    signerGid: signer.gid,
    algorithm: 'rsa-sha1',
  });
}

describe('speaks-for', () => {
  it('returns the user when the user says the tool speaks for them (and xmlsec1 agrees)', () => {
    const xml = speaksFor();
    const u = verifySpeaksFor(xml, {
      tool: tool.gid,
      speakingForUrn: user.gid.urn,
      trust,
      now: NOW,
    });
    expect(u.urn).toBe('urn:publicid:IDN+ple+user+alice');
    expect(xmlsec1Verify(xml, 'Sig_ref0', [root.gid.certPem], NOW).ok).toBe(true);
  });

  it('refuses another tool presenting it (CREDENTIAL_MISMATCH)', () => {
    expect(() =>
      verifySpeaksFor(speaksFor(), {
        tool: other.gid,
        speakingForUrn: user.gid.urn,
        trust,
        now: NOW,
      }),
    ).toThrow(
      expect.objectContaining({
        geniCode: 22,
        message: expect.stringContaining('does not say that'),
      }),
    );
  });

  it('refuses a geni_speaking_for naming someone other than the signer', () => {
    expect(() =>
      verifySpeaksFor(speaksFor(), {
        tool: tool.gid,
        speakingForUrn: other.gid.urn,
        trust,
        now: NOW,
      }),
    ).toThrow(expect.objectContaining({ geniCode: 22 }));
  });

  it('refuses a statement signed by the tool itself, claiming to be the user', () => {
    // mallory signs "alice.speaks_for_alice <- tool": the signer is mallory, not alice.
    expect(() =>
      verifySpeaksFor(speaksFor(other), {
        tool: tool.gid,
        speakingForUrn: user.gid.urn,
        trust,
        now: NOW,
      }),
    ).toThrow(expect.objectContaining({ geniCode: 22 }));
  });

  it('refuses an expired or tampered statement', () => {
    expect(() =>
      verifySpeaksFor(speaksFor(user, tool, new Date('2026-11-20T00:00:00Z')), {
        tool: tool.gid,
        speakingForUrn: user.gid.urn,
        trust,
        now: NOW,
      }),
    ).toThrow(expect.objectContaining({ geniCode: 21 }));
    const tampered = speaksFor().replace(
      /<keyid>([0-9a-f])/g,
      (_m, c: string) => `<keyid>${c === 'a' ? 'b' : 'a'}`,
    );
    expect(() =>
      verifySpeaksFor(tampered, { tool: tool.gid, speakingForUrn: user.gid.urn, trust, now: NOW }),
    ).toThrow(expect.objectContaining({ geniCode: 20 }));
  });

  it('refuses a user certificate that does not chain to a trusted root', () => {
    const stranger = principal('urn:publicid:IDN+ple+user+alice');
    expect(() =>
      verifySpeaksFor(speaksFor(stranger), {
        tool: tool.gid,
        speakingForUrn: user.gid.urn,
        trust,
        now: NOW,
      }),
    ).toThrow(expect.objectContaining({ geniCode: 23 }));
  });
});
