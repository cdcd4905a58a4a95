/**
 * `sfa peer …` run as processes on a real data folder, with plc's real registry to bootstrap
 * from: the exact syntax and output scripts rely on, and that bad input changes nothing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { formatRfc3339 } from '../../src/credentials/time.js';
import { openRegistry } from '../../src/registry/open-registry.js';
import type { RunningAuthority } from '../../src/server/authority.js';
import { sfa } from '../support/cli.js';
import { NOW } from '../support/paths.js';
import { tempRoot } from '../support/tmp.js';
import {
  authorityRoot,
  makeAuthority,
  serve,
  sfaAsync,
  type Principal,
  type TestAuthority,
} from './support.js';

const tmp = tempRoot('peer-cli');
let ple: TestAuthority;
let plc: TestAuthority;
let plcServer: RunningAuthority;
let plcUrl: string;
const AGG = 'https://plc.example:12346/';
const env = { USER: 'opal' };
const run = (...args: string[]) => sfa([...args, '--dir', ple.dir], { env });
const runAsync = (...args: string[]) => sfaAsync([...args, '--dir', ple.dir], { env });

/** A GID file `<name>.gid` in a new folder of this test file's own. */
function gidFile(name: string, p: Principal): string {
  const file = join(tmp.dir('gid'), `${name}.gid`);
  writeFileSync(file, p.gid.pem);
  return file;
}

const pad = (label: string) => `  ${`${label}:`.padEnd(14)}`;
function rootBlock(p: Principal): string {
  return (
    `${pad('root')}${p.gid.urn}\n` +
    `${pad('sha256')}${p.gid.fingerprint256}\n` +
    `${pad('valid')}${formatRfc3339(p.gid.notBefore)} to ${formatRfc3339(p.gid.notAfter)}\n`
  );
}

/** The peers and the audit trail, read directly: to check that a refused command changed nothing. */
function state(): string {
  const reg = openRegistry(ple.dir);
  try {
    return JSON.stringify([reg.ctx.peerStore.list(), reg.ctx.peerStore.audit()]);
  } finally {
    reg.close();
  }
}

/** Exit 1 with `line` as the last line on stderr (commander adds a usage hint after its own). */
function expectError(r: { status: number | null; stderr: string }, line: string): void {
  expect(r.status).toBe(1);
  const lines = r.stderr.trimEnd().split('\n');
  if (lines[lines.length - 1] === '(run with --help for usage)') lines.pop();
  expect(lines.pop()).toBe(line);
}

beforeAll(async () => {
  ple = await makeAuthority(tmp.path, 'ple', 'inria', []);
  plc = await makeAuthority(tmp.path, 'plc', 'princeton', []);
  plcServer = await serve(plc.dir, () => NOW);
  plcUrl = plcServer.urls.registry;
});
afterAll(async () => {
  await plcServer?.close();
});

describe('sfa peer, as scripts use it', { timeout: 120_000 }, () => {
  it('list: no peers yet', () => {
    const r = run('peer', 'list');
    expect(r).toEqual({ status: 0, stdout: '', stderr: 'no peers\n' });
  });

  it('add: says what is wrong with bad input and changes nothing', async () => {
    const plcGid = paths.gid(plc.dir, 'plc');
    const before = state();
    expectError(
      run('peer', 'add', 'ple.evil', '--registry', plcUrl, '--aggregate', AGG, '--root', plcGid),
      "error: BADARGS (geni_code 1): peer ple.evil overlaps this authority's own namespace ple: a peer must be another authority",
    );
    expectError(
      run('peer', 'add', 'plc', '--registry', 'plc.example:12345', '--aggregate', AGG),
      "error: BADARGS (geni_code 1): --registry must be an http(s) URL such as https://host:12345/, not 'plc.example:12345'",
    );
    expectError(
      run('peer', 'add', 'plc', '--aggregate', AGG),
      "error: required option '--registry <url>' not specified",
    );
    expectError(
      run(
        'peer',
        'add',
        'plc',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--root',
        '/nonexistent.gid',
      ),
      "error: BADARGS (geni_code 1): cannot read --root GID file '/nonexistent.gid': no such file",
    );
    // Security: a root for plc that names ple, and a child certificate, are not roots of plc.
    expectError(
      run(
        'peer',
        'add',
        'plc',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--root',
        paths.gid(ple.dir, 'ple'),
      ),
      'error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): the root offered for peer plc (urn:publicid:IDN+ple+authority+sa) names ple: the root of peer plc must name plc itself',
    );
    expectError(
      run(
        'peer',
        'add',
        'plc.princeton',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--root',
        paths.gid(plc.dir, 'plc.princeton'),
      ),
      "error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): the root offered for peer plc.princeton (urn:publicid:IDN+plc:princeton+authority+sa) is not self-signed (issuer CN=plc): give the peer's root, not a child",
    );
    expectError(
      run(
        'peer',
        'add',
        'plc',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--root',
        plcGid,
        '--accept-fingerprint',
        ple.root.gid.fingerprint256,
      ),
      `error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): the root in ${plcGid} has SHA-256 fingerprint ${plc.root.gid.fingerprint256}, not ${ple.root.gid.fingerprint256} given with --accept-fingerprint: nothing was added`,
    );
    expectError(
      run(
        'peer',
        'add',
        'plc',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--accept-fingerprint',
        'AB:CD',
      ),
      "error: BADARGS (geni_code 1): --accept-fingerprint must be a SHA-256 fingerprint: 64 hex digits, plain or colon-separated (AB:CD:…), not 'AB:CD'",
    );
    // The registry at that URL is plc, not plj.
    expectError(
      await runAsync('peer', 'add', 'plj', '--registry', plcUrl, '--aggregate', AGG),
      `error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): the registry at ${plcUrl} is plc, not plj: nothing was added`,
    );
    expect(state()).toBe(before);
  });

  it('add without --root: prints the root and its fingerprint, trusts nothing yet', async () => {
    const r = await runAsync('peer', 'add', 'plc', '--registry', plcUrl, '--aggregate', AGG);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe(`peer plc (${plcUrl}) offers this root:\n${rootBlock(plc.root)}`);
    expect(r.stderr).toBe(
      "Compare the fingerprint with the one plc's operator gives you over another channel, then run:\n" +
        `  sfa peer add plc --registry ${plcUrl} --aggregate ${AGG} --dir ${ple.dir} --accept-fingerprint ${plc.root.gid.fingerprint256}\n` +
        'error: BADARGS (geni_code 1): the root of peer plc is not trusted without --accept-fingerprint: nothing was added\n',
    );
    expect(run('peer', 'list').stderr).toBe('no peers\n');
  });

  it('add without --root: refuses a fingerprint other than the root offered', async () => {
    const other = ple.root.gid.fingerprint256;
    const r = await runAsync(
      'peer',
      'add',
      'plc',
      '--registry',
      plcUrl,
      '--aggregate',
      AGG,
      '--accept-fingerprint',
      other,
    );
    expect(r.stdout).toBe(`peer plc (${plcUrl}) offers this root:\n${rootBlock(plc.root)}`);
    expectError(
      r,
      `error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): peer plc offers no root with SHA-256 fingerprint ${other} (it offers ${plc.root.gid.fingerprint256}): nothing was added`,
    );
    expect(run('peer', 'list').stderr).toBe('no peers\n');
  });

  it('add without --root: trusts the root once its fingerprint is accepted (plain lower-case hex)', async () => {
    const fp = plc.root.gid.fingerprint256.replaceAll(':', '').toLowerCase();
    const r = await runAsync(
      'peer',
      'add',
      'plc',
      '--registry',
      plcUrl,
      '--aggregate',
      AGG,
      '--aggregate',
      'https://plc2.example:12346/',
      '--accept-fingerprint',
      fp,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      `peer plc (${plcUrl}) offers this root:\n${rootBlock(plc.root)}` +
        'added peer plc\n' +
        `${pad('registry')}${plcUrl}\n` +
        `${pad('aggregate')}${AGG}\n` +
        `${pad('aggregate')}https://plc2.example:12346/\n` +
        rootBlock(plc.root),
    );
    const list = run('peer', 'list');
    expect(list.status).toBe(0);
    const lines = list.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'plc',
      `${pad('registry')}${plcUrl}`,
      `${pad('aggregate')}${AGG}`,
      `${pad('aggregate')}https://plc2.example:12346/`,
      `${pad('root')}${plc.root.gid.fingerprint256} (certificate expires ${formatRfc3339(plc.root.gid.notAfter)}; trusted until revoked)`,
    ]);
    // The bootstrap was a contact, at the command's (wall) clock.
    expect(lines[5]).toMatch(/^ {2}last contact: \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(lines[6]).toBe(`${pad('health')}ok`);
  });

  it('add: refuses a peer that exists', () => {
    expectError(
      run(
        'peer',
        'add',
        'PLC',
        '--registry',
        plcUrl,
        '--aggregate',
        AGG,
        '--root',
        paths.gid(plc.dir, 'plc'),
      ),
      "error: ALREADYEXISTS (geni_code 17): peer plc already exists: 'sfa peer rotate' changes its root, 'sfa peer update' its URLs",
    );
  });

  const next = authorityRoot('plc');
  const third = authorityRoot('plc');

  it('rotate: says what is wrong with bad input and changes nothing', () => {
    const before = state();
    const file = gidFile('plc-next', next);
    expectError(
      run('peer', 'rotate', 'plc', '--root', file, '--overlap', '1w'),
      "error: BADARGS (geni_code 1): --overlap must be a positive duration such as 30m, 12h or 7d, not '1w'",
    );
    expectError(
      run('peer', 'rotate', 'plj', '--root', file),
      "error: SEARCHFAILED (geni_code 12): no peer plj (see 'sfa peer list')",
    );
    expectError(
      run('peer', 'rotate', 'plc', '--root', paths.gid(ple.dir, 'ple')),
      'error: CREDENTIAL_SIGNER_UNTRUSTED (geni_code 23): the root offered for peer plc (urn:publicid:IDN+ple+authority+sa) names ple: the root of peer plc must name plc itself',
    );
    expectError(
      run('peer', 'rotate', 'plc', '--root', paths.gid(plc.dir, 'plc')),
      `error: BADARGS (geni_code 1): ${plc.root.gid.fingerprint256} is already the root of peer plc: nothing to rotate`,
    );
    expect(state()).toBe(before);
  });

  it('rotate --overlap 7d: both roots trusted, the old one until now + 7 days', () => {
    const started = Date.now();
    const r = run('peer', 'rotate', 'plc', '--root', gidFile('plc-next', next), '--overlap', '7d');
    expect(r.stderr).toBe('');
    const [head, fresh, old, end] = r.stdout.split('\n');
    expect([head, fresh, end]).toEqual([
      'rotated the root of peer plc',
      `${pad('new root')}${next.gid.fingerprint256} (trusted until revoked)`,
      '',
    ]);
    const m = /^ {2}old root: {5}(\S+) \(trusted until (\S+)\)$/.exec(old!);
    expect(m?.[1]).toBe(plc.root.gid.fingerprint256);
    const until = new Date(m![2]!).getTime();
    expect(until).toBeGreaterThanOrEqual(Math.floor(started / 1000) * 1000 + 7 * 86_400_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 7 * 86_400_000);
    const roots = run('peer', 'list')
      .stdout.split('\n')
      .filter((l) => l.startsWith('  root:'));
    expect(roots).toEqual([
      `${pad('root')}${plc.root.gid.fingerprint256} (certificate expires ${formatRfc3339(plc.root.gid.notAfter)}; trusted until ${m![2]})`,
      `${pad('root')}${next.gid.fingerprint256} (certificate expires ${formatRfc3339(next.gid.notAfter)}; trusted until revoked)`,
    ]);
  });

  it('rotate without --overlap: the previous roots are dropped at once', () => {
    const r = run('peer', 'rotate', 'plc', '--root', gidFile('plc-third', third));
    expect(r).toEqual({
      status: 0,
      stderr: '',
      stdout:
        'rotated the root of peer plc\n' +
        `${pad('new root')}${third.gid.fingerprint256} (trusted until revoked)\n` +
        `${pad('old root')}${plc.root.gid.fingerprint256} (no longer trusted)\n` +
        `${pad('old root')}${next.gid.fingerprint256} (no longer trusted)\n`,
    });
    const roots = run('peer', 'list')
      .stdout.split('\n')
      .filter((l) => l.startsWith('  root:'));
    expect(roots).toHaveLength(1);
  });

  it("update: replaces the peer's aggregate URLs", () => {
    const r = run('peer', 'update', 'plc', '--aggregate', 'https://am.plc.example/');
    expect(r).toEqual({
      status: 0,
      stderr: '',
      stdout: `updated peer plc\n${pad('registry')}${plcUrl}\n${pad('aggregate')}https://am.plc.example/\n`,
    });
    expectError(
      run('peer', 'update', 'plc'),
      'error: BADARGS (geni_code 1): nothing to update: give a new registry URL or aggregate URLs',
    );
  });

  it('revoke: forgets the peer, keeps the audit trail, warns of a root left in trusted_roots/', () => {
    // An operator once copied plc's root by hand: revoking the peer cannot undo that.
    writeFileSync(join(paths.trustedRoots(ple.dir), 'plc.gid'), third.gid.pem);
    const r = run('peer', 'revoke', 'plc');
    expect(r).toEqual({
      status: 0,
      stderr: `warning: trusted_roots/ still holds urn:publicid:IDN+plc+authority+sa (${third.gid.fingerprint256}): it stays trusted until that file is removed and the servers restarted\n`,
      stdout: `revoked peer plc: 1 root(s) no longer trusted\n${pad('removed root')}${third.gid.fingerprint256}\n`,
    });
    expect(run('peer', 'list').stderr).toBe('no peers\n');
    expectError(
      run('peer', 'revoke', 'plc'),
      "error: SEARCHFAILED (geni_code 12): no peer plc (see 'sfa peer list')",
    );
    const audit = run('peer', 'audit', 'plc').stdout.trimEnd().split('\n');
    const [a, b, c] = [plc.root, next, third].map((p) => p.gid.fingerprint256);
    const stamp = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;
    expect(audit.map((l) => l.replace(stamp, ''))).toEqual([
      `opal add plc old=- new=${a}  registry ${plcUrl}; aggregates ${AGG} https://plc2.example:12346/`,
      expect.stringMatching(
        new RegExp(
          `^opal rotate plc old=${a} new=${a},${b}  new root ${b}; previous roots trusted until \\S+$`,
        ),
      ),
      `opal rotate plc old=${a},${b} new=${c}  new root ${c}; previous roots dropped at once`,
      `opal update plc old=${c} new=${c}  registry ${plcUrl}; aggregates https://am.plc.example/`,
      `opal revoke plc old=${c} new=-`,
    ]);
  });
});
