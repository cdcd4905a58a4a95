/**
 * The operator commands, run as processes on a real data folder: exact syntax, what they print,
 * and that bad input changes nothing.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { sfa } from '../support/cli.js';
import { newUser } from '../support/authority.js';
import { tempRoot } from '../support/tmp.js';

const tmp = tempRoot('registry-cli');
let dir: string;
const run = (...args: string[]) => sfa([...args, '--dir', dir]);

beforeAll(() => {
  dir = join(tmp.dir('admin'), 'data');
});

describe('sfa init', () => {
  it('creates the authority once, with a private key only the service can read', () => {
    const r = run('init', '--authority', 'ple');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`created ${paths.key(dir, 'ple')}`);
    expect(statSync(paths.key(dir, 'ple')).mode & 0o777).toBe(0o600);
    const key = readFileSync(paths.key(dir, 'ple'), 'utf8');
    const again = run('init');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain("authority 'ple' already set up");
    expect(readFileSync(paths.key(dir, 'ple'), 'utf8')).toBe(key);
    const other = run('init', '--authority', 'plc');
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("already holds authority 'ple', not 'plc'");
  });
});

describe('record commands', () => {
  it('adds an authority, a PI user with an OpenSSH key, a slice and a node', () => {
    const alice = newUser('ple.inria.alice');
    const keyFile = join(dir, '..', 'alice.pub');
    writeFileSync(keyFile, alice.sshKey + '\n');
    expect(run('authority', 'add', 'ple.inria').stdout).toContain('added ple.inria (authority)');
    const u = run(
      'user',
      'add',
      'ple.inria.alice',
      '--email',
      'alice@inria.fr',
      '--key',
      keyFile,
      '--pi-of',
      'ple.inria',
    );
    expect(u.status).toBe(0);
    expect(u.stdout).toContain(
      'added ple.inria.alice (user)  email=alice@inria.fr  PI of ple.inria  1 key(s)',
    );
    const s = run('slice', 'add', 'ple.inria.myslice', '--researcher', 'ple.inria.alice');
    expect(s.stdout).toContain('researchers=ple.inria.alice');
    const n = run('node', 'add', 'node1.inria.fr', '--site', 'ple.inria');
    expect(n.status).toBe(0);
    expect(n.stdout).toContain('urn:publicid:IDN+ple:inria+node+node1.inria.fr');
    expect(run('user', 'list').stdout).toContain('ple.inria.alice (user)');
    const show = run('slice', 'show', 'urn:publicid:IDN+ple:inria+slice+myslice');
    expect(show.stdout).toContain('urn:          urn:publicid:IDN+ple:inria+slice+myslice');
  });

  it('manages the aggregate inventory: nodes from sfa node add, tags, status, nodegroups, a file', () => {
    const inv = run('node', 'inventory');
    expect(inv.stdout).toMatch(/node1\.inria\.fr {2}site=inria boot/);
    expect(run('node', 'tag', 'node1.inria.fr', 'net_max_rate', '10000').stdout).toContain(
      'tagged node1.inria.fr: net_max_rate=10000',
    );
    expect(run('node', 'status', 'node1.inria.fr', '--boot-state', 'down').stdout).toContain(
      'node1.inria.fr: down',
    );
    expect(run('node', 'inventory', '--available').stdout).not.toContain('node1.inria.fr');
    expect(run('nodegroup', 'add', 'beta').status).toBe(0);
    expect(run('nodegroup', 'tag', 'beta', 'deployment', 'beta').status).toBe(0);
    expect(run('nodegroup', 'member', 'beta', 'node1.inria.fr').status).toBe(0);
    expect(run('nodegroup', 'list').stdout).toContain(
      'beta  tags=deployment=beta  members=node1.inria.fr\n',
    );
    const file = join(dir, '..', 'inventory.json');
    writeFileSync(
      file,
      JSON.stringify({
        sites: [{ loginBase: 'lip6', name: 'LIP6', country: 'FR' }],
        nodes: [{ hostname: 'node1.lip6.fr', site: 'lip6' }],
      }),
    );
    expect(run('node', 'load', file).stdout).toContain('loaded 1 sites, 1 nodes, 0 nodegroups');
    const bad = join(dir, '..', 'bad.json');
    writeFileSync(bad, JSON.stringify({ nodes: [{ hostname: 'node2.lip6.fr', site: 'nowhere' }] }));
    const refused = run('node', 'load', bad);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('nowhere');
    expect(run('node', 'inventory').stdout).not.toContain('node2.lip6.fr');
  });

  it('says what is wrong and changes nothing on bad input', () => {
    const before = run('user', 'list').stdout;
    const unknownResearcher = run(
      'slice',
      'add',
      'ple.inria.other',
      '--researcher',
      'ple.inria.nobody',
    );
    expect(unknownResearcher.status).toBe(1);
    expect(unknownResearcher.stderr).toContain('--researcher: no user ple.inria.nobody');
    expect(run('slice', 'show', 'ple.inria.other').status).toBe(1);

    const badName = run(
      'slice',
      'add',
      'ple.inria.this_name_is_not_valid',
      '--researcher',
      'ple.inria.alice',
    );
    expect(badName.status).toBe(1);
    expect(badName.stderr).toContain('BADARGS');

    const missingKey = run(
      'user',
      'add',
      'ple.inria.bob',
      '--email',
      'bob@inria.fr',
      '--key',
      '/nonexistent.pub',
    );
    expect(missingKey.status).toBe(1);
    expect(missingKey.stderr).toContain("cannot read --key '/nonexistent.pub': no such file");

    const ed = join(dir, '..', 'ed.pub');
    writeFileSync(
      ed,
      'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHh0aXMgaXMgbm90IGEgcmVhbCBrZXkgYXQgYWxsIQ== bob\n',
    );
    const nonRsa = run('user', 'add', 'ple.inria.bob', '--email', 'bob@inria.fr', '--key', ed);
    expect(nonRsa.status).toBe(1);
    expect(nonRsa.stderr).toContain('RSA');

    const dup = run('authority', 'add', 'ple.inria');
    expect(dup.status).toBe(1);
    expect(dup.stderr).toContain('ALREADYEXISTS (geni_code 17)');

    const noParent = run('user', 'add', 'ple.lab.x', '--email', 'x@lab.org', '--key', ed);
    expect(noParent.status).toBe(1);
    expect(run('user', 'list').stdout).toBe(before);
  });

  it('removes records, but not an authority that still holds some, nor the root', () => {
    const held = run('authority', 'remove', 'ple.inria');
    expect(held.status).toBe(1);
    expect(held.stderr).toContain('still holds');
    expect(run('authority', 'remove', 'ple').stderr).toContain('root authority');
    expect(run('node', 'remove', 'ple.inria.node1\\.inria\\.fr').stdout).toContain('removed');
    expect(run('slice', 'remove', 'ple.inria.myslice').status).toBe(0);
    expect(run('slice', 'remove', 'ple.inria.myslice').stderr).toContain(
      'no slice ple.inria.myslice',
    );
  });

  it('uses $SFA_DIR when --dir is not given, and says how to start when there is no authority', () => {
    const r = sfa(['user', 'list'], { env: { SFA_DIR: dir } });
    expect(r.stdout).toContain('ple.inria.alice');
    const empty = sfa(['user', 'list'], { env: { SFA_DIR: join(dir, '..', 'none') } });
    expect(empty.status).toBe(1);
    expect(empty.stderr).toContain("run 'sfa init --dir");
  });
});
