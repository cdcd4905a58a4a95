import { describe, expect, it } from 'vitest';
import { BadArgs, CredentialSignerUntrusted } from '../faults.js';
import { NOW } from '../../test/support/paths.js';
import { authorityRoot, signedBy } from '../../test/peers/support.js';
import { checkPeerHrn, checkPeerRoot, checkPeerUrl } from './check-peer.js';

const plc = authorityRoot('plc');
const DAY = 86_400_000;

describe('checkPeerHrn', () => {
  it('accepts another authority, given as an HRN or a URN', () => {
    expect(checkPeerHrn('plc', 'ple')).toBe('plc');
    expect(checkPeerHrn('urn:publicid:IDN+plc+authority+sa', 'ple')).toBe('plc');
    expect(checkPeerHrn('plc.princeton', 'ple')).toBe('plc.princeton');
  });

  it.each(['ple', 'PLE', 'ple.inria'])("refuses '%s', inside this authority's namespace", (hrn) => {
    expect(() => checkPeerHrn(hrn, 'ple')).toThrow(
      `overlaps this authority's own namespace ple: a peer must be another authority`,
    );
  });

  it('refuses a namespace that contains ours', () => {
    expect(() => checkPeerHrn('ple', 'ple.inria')).toThrow(BadArgs);
  });

  it('refuses a malformed HRN', () => {
    expect(() => checkPeerHrn('plc..x', 'ple')).toThrow(BadArgs);
  });
});

describe('checkPeerUrl', () => {
  it('accepts http and https URLs', () => {
    expect(checkPeerUrl(' https://plc.example:12345/ ', '--registry')).toBe(
      'https://plc.example:12345/',
    );
    expect(checkPeerUrl('http://plc.example:12346/', '--aggregate')).toBe(
      'http://plc.example:12346/',
    );
  });

  it.each(['plc.example:12345', 'ftp://plc/', 'https://', 'https://u:p@plc/', ''])(
    "refuses '%s'",
    (url) => {
      expect(() => checkPeerUrl(url, '--registry')).toThrow(/^--registry must/);
    },
  );
});

describe('checkPeerRoot', () => {
  it("accepts the peer's self-signed authority root", () => {
    expect(checkPeerRoot(plc.gid, 'plc', NOW)).toBeUndefined();
    expect(checkPeerRoot(plc.gid, 'PLC', NOW)).toBeUndefined();
  });

  it('Security: refuses a root that names another authority (a plc root named ple)', () => {
    const named = authorityRoot('ple');
    expect(() => checkPeerRoot(named.gid, 'plc', NOW)).toThrow(CredentialSignerUntrusted);
    expect(() => checkPeerRoot(named.gid, 'plc', NOW)).toThrow(
      'the root offered for peer plc (urn:publicid:IDN+ple+authority+sa) names ple: the root of peer plc must name plc itself',
    );
  });

  it('refuses a certificate signed by another (not a root)', () => {
    const child = signedBy(plc, 'plc.princeton', 'authority');
    expect(() => checkPeerRoot(child.gid, 'plc.princeton', NOW)).toThrow(
      /is not self-signed \(issuer CN=plc\): give the peer's root, not a child$/,
    );
  });

  it('refuses a user', () => {
    const user = signedBy(plc, 'plc.bob', 'user');
    expect(() => checkPeerRoot(user.gid, 'plc', NOW)).toThrow(/is a user, not an authority$/);
  });

  it('refuses an expired root, warns about one not yet valid', () => {
    expect(() => checkPeerRoot(plc.gid, 'plc', new Date(NOW.getTime() + 2000 * DAY))).toThrow(
      /^the root offered for peer plc expired at /,
    );
    expect(checkPeerRoot(plc.gid, 'plc', new Date(NOW.getTime() - 2 * DAY))).toMatch(
      /^the root of plc is not valid before .*: check the clocks$/,
    );
  });
});
