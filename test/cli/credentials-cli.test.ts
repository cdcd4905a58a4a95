import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { publicKeyToOpenSsh } from '../../src/credentials/keys.js';
import { sfa } from '../support/cli.js';
import { referenceKey } from '../support/vectors.js';
import { SFA_REFERENCE } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';
import { xmlsec1Verify } from '../support/xmlsec1.js';

const ref = (name: string) => join(SFA_REFERENCE, name);
const AT = '2026-11-25T12:00:00Z';
const root = tempRoot('credentials-cli');
const tmp = () => root.dir('cli');

describe('sfa credential verify', () => {
  it('accepts the Python SFA user credential with ple.gid as root (exit 0)', () => {
    const r = sfa([
      'credential',
      'verify',
      ref('ple.inria.alice.user.cred'),
      '--trusted',
      ref('ple.gid'),
      '--at',
      AT,
    ]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(
      'valid: urn:publicid:IDN+ple:inria+user+alice holds [refresh, resolve, info]',
    );
  });

  it('prints one JSON object with --json', () => {
    const r = sfa([
      'credential',
      'verify',
      ref('ple.inria.myslice.slice_for_ple.inria.bob.user.cred'),
      '--trusted',
      ref('ple.gid'),
      '--at',
      AT,
      '--json',
    ]);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      valid: true,
      geni_code: 0,
      fault: null,
      message: 'valid',
      owner_urn: 'urn:publicid:IDN+ple:inria+user+bob',
      target_urn: 'urn:publicid:IDN+ple:inria+slice+myslice',
      privileges: ['refresh', 'embed', 'bind', 'control', 'info'],
      expires: '2026-12-26T09:02:59Z',
    });
  });

  it('exits 1 with the fault name, geni_code and message when expired', () => {
    const args = [
      'credential',
      'verify',
      ref('ple.inria.alice.user.cred'),
      '--trusted',
      ref('ple.gid'),
      '--at',
      '2026-12-27T00:00:00Z',
    ];
    const r = sfa(args);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(
      /CREDENTIAL_EXPIRED \(geni_code 21\): credential ref0 .* expired at 2026-12-26T09:02:59Z/,
    );
    const j = sfa([...args, '--json']);
    expect(j.status).toBe(1);
    expect(JSON.parse(j.stdout)).toMatchObject({
      valid: false,
      geni_code: 21,
      fault: 'CREDENTIAL_EXPIRED',
    });
  });

  it('says what is wrong with a missing file or a bad date, without a stack trace', () => {
    const missing = sfa(['credential', 'verify', '/nonexistent.cred', '--trusted', ref('ple.gid')]);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain("cannot read credential '/nonexistent.cred': no such file");
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const badDate = sfa([
      'credential',
      'verify',
      ref('ple.inria.alice.user.cred'),
      '--trusted',
      ref('ple.gid'),
      '--at',
      'tomorrow',
    ]);
    expect(badDate.status).toBe(1);
    expect(badDate.stderr).toContain("--at 'tomorrow' is not an RFC 3339 date");
  });
});

describe('sfa credential delegate', () => {
  it("delegates alice's slice credential to bob; the result verifies here and in xmlsec1", () => {
    const dir = tmp();
    const out = join(dir, 'bob.slice.cred');
    const r = sfa([
      'credential',
      'delegate',
      ref('ple.inria.alice-ple.inria.myslice.slice.cred'),
      '--to',
      ref('ple.inria.bob.user.gid'),
      '--key',
      ref('ple.inria.alice.pkey'),
      '--privileges',
      'embed,info',
      '-o',
      out,
    ]);
    expect(r.stderr).toContain(`wrote ${out}`);
    expect(r.status).toBe(0);
    const v = sfa(['credential', 'verify', out, '--trusted', ref('ple.gid'), '--at', AT, '--json']);
    expect(JSON.parse(v.stdout)).toMatchObject({
      valid: true,
      owner_urn: 'urn:publicid:IDN+ple:inria+user+bob',
      privileges: ['embed', 'info'],
    });
    const xml = readFileSync(out, 'utf8');
    const root = readFileSync(ref('ple.gid'), 'utf8');
    expect(xmlsec1Verify(xml, 'Sig_ref1', [root], new Date(AT)).ok).toBe(true);
    expect(xmlsec1Verify(xml, 'Sig_ref0', [root], new Date(AT)).ok).toBe(true);
  });

  it("refuses a key that is not the credential owner's", () => {
    const r = sfa([
      'credential',
      'delegate',
      ref('ple.inria.alice-ple.inria.myslice.slice.cred'),
      '--to',
      ref('ple.inria.bob.user.gid'),
      '--key',
      ref('ple.inria.bob.pkey'),
    ]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(
      'BADARGS (geni_code 1): the key given is not the key of urn:publicid:IDN+ple:inria+user+alice',
    );
    expect(r.stdout).toBe('');
  });
});

describe('sfa gid issue / show and sfa credential issue / show', () => {
  it('issues a root, an authority and a user GID that openssl reads and verifies, then a credential', () => {
    const dir = tmp();
    const p = (f: string) => join(dir, f);
    expect(
      sfa([
        'gid',
        'issue',
        '--hrn',
        'plc',
        '--type',
        'authority',
        '--key-out',
        p('plc.pkey'),
        '-o',
        p('plc.gid'),
      ]).status,
    ).toBe(0);
    expect(
      sfa([
        'gid',
        'issue',
        '--hrn',
        'plc.princeton',
        '--type',
        'authority',
        '--key-out',
        p('princeton.pkey'),
        '--issuer-gid',
        p('plc.gid'),
        '--issuer-key',
        p('plc.pkey'),
        '-o',
        p('princeton.gid'),
      ]).status,
    ).toBe(0);
    // A user whose key is their OpenSSH public key, as SFA does it.
    writeFileSync(
      p('tmack.pub'),
      publicKeyToOpenSsh(referenceKey('ple.inria.alice.pkey'), 'tmack') + '\n',
    );
    const u = sfa([
      'gid',
      'issue',
      '--hrn',
      'plc.princeton.tmack',
      '--type',
      'user',
      '--public-key',
      p('tmack.pub'),
      '--email',
      'tmack@princeton.edu',
      '--issuer-gid',
      p('princeton.gid'),
      '--issuer-key',
      p('princeton.pkey'),
      '-o',
      p('tmack.gid'),
    ]);
    expect(u.status).toBe(0);

    const text = execFileSync('openssl', ['x509', '-in', p('tmack.gid'), '-noout', '-text'], {
      encoding: 'utf8',
    });
    expect(text).toContain('URI:urn:publicid:IDN+plc:princeton+user+tmack');
    expect(text).toContain('email:tmack@princeton.edu');
    expect(text).toContain('CA:FALSE');
    const chain = readFileSync(p('princeton.gid'), 'utf8');
    writeFileSync(p('untrusted.pem'), chain);
    const verified = execFileSync(
      'openssl',
      ['verify', '-CAfile', p('plc.gid'), '-untrusted', p('untrusted.pem'), p('tmack.gid')],
      { encoding: 'utf8' },
    );
    expect(verified).toContain(': OK');

    const show = sfa(['gid', 'show', p('tmack.gid')]);
    expect(show.status).toBe(0);
    expect(show.stdout).toContain('gid: urn:publicid:IDN+plc:princeton+user+tmack');
    expect(show.stdout).toContain('issued by: urn:publicid:IDN+plc:princeton+authority+sa');
    expect(show.stdout).toMatch(/CA:\s+no/);

    const cred = sfa([
      'credential',
      'issue',
      '--owner',
      p('tmack.gid'),
      '--target',
      p('tmack.gid'),
      '--signer-gid',
      p('princeton.gid'),
      '--signer-key',
      p('princeton.pkey'),
      '-o',
      p('tmack.cred'),
    ]);
    expect(cred.status).toBe(0);
    const v = sfa([
      'credential',
      'verify',
      p('tmack.cred'),
      '--trusted',
      p('plc.gid'),
      '--json',
      '--schema',
    ]);
    expect(JSON.parse(v.stdout)).toMatchObject({
      valid: true,
      privileges: ['refresh', 'resolve', 'info'],
    });
    const shown = sfa(['credential', 'show', p('tmack.cred')]);
    expect(shown.stdout).toContain('owner:      urn:publicid:IDN+plc:princeton+user+tmack');
  });

  it('refuses a malformed HRN and a wrong issuer key, changing nothing', () => {
    const dir = tmp();
    const bad = sfa([
      'gid',
      'issue',
      '--hrn',
      'plc..x',
      '--type',
      'user',
      '--key-out',
      join(dir, 'k'),
      '-o',
      join(dir, 'g'),
    ]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/BADARGS \(geni_code 1\): .*plc\.\.x/);
    const wrong = sfa([
      'gid',
      'issue',
      '--hrn',
      'ple.inria.carol',
      '--type',
      'user',
      '--key-out',
      join(dir, 'carol.pkey'),
      '--issuer-gid',
      ref('ple.inria.gid'),
      '--issuer-key',
      ref('ple.pkey'),
      '-o',
      join(dir, 'carol.gid'),
    ]);
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('BADARGS');
  });

  it('has --help on every command', () => {
    for (const cmd of [
      [],
      ['credential'],
      ['credential', 'verify'],
      ['credential', 'delegate'],
      ['gid', 'issue'],
    ]) {
      const r = sfa([...cmd, '--help']);
      expect(r.status, cmd.join(' ')).toBe(0);
      expect(r.stdout).toContain('Usage: sfa');
    }
  });
});
