/**
 * Login into slivers with the stock OpenSSH client (issue 10 part 4), as root with real runc:
 * alice's sliver is provisioned with a key the test makes (ssh-keygen), a node manager pass runs
 * it, the node manager's login service listens on 127.0.0.1 (a free port), then `ssh` runs
 * commands (output, exit code), an interactive pty session, and is refused with another key,
 * another login name, a stopped or a deleted sliver. Containers, folders and the authority are
 * removed in afterAll.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeAgent } from '../../src/nodemanager/agent.js';
import { LoginService } from '../../src/nodemanager/login.js';
import { missingNodeRequirements } from '../../src/nodemanager/runtime/runc.js';
import type { XmlRpcStruct } from '../../src/xmlrpc/value.js';
import { aliceSession, geniCode, type AliceSession } from '../support/authority.js';
import { tempRoot } from '../support/tmp.js';
import { ROOT } from '../support/paths.js';
import { sfaAsync, waitFor, writeNodeDir, searchableAbove } from './support.js';

const root = tempRoot('nodemanager-login');
const missing =
  missingNodeRequirements() ??
  (existsSync('/usr/bin/ssh') && existsSync('/usr/bin/ssh-keygen') && existsSync('/usr/bin/script')
    ? undefined
    : 'ssh, ssh-keygen or script is missing: apt-get install -y openssh-client util-linux');
const SLICE = 'urn:publicid:IDN+ple:inria+slice+myslice';
const HOST = 'node1.inria.fr';
const LOGIN = 'inria_myslice';
const prefix = `sfa-l${process.pid}`;

let s: AliceSession | undefined;
let nodeDir: string;
let agent: NodeAgent | undefined;
let login: LoginService | undefined;
let sliceCred: XmlRpcStruct[];
let keyFile: string;
let otherKeyFile: string;
const logLines: string[] = [];
let restoreModes = (): void => {};
const children: ChildProcess[] = [];

function requireNode(): void {
  if (missing !== undefined) throw new Error(missing);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
}

/** The stock OpenSSH client, with nothing of the machine's own configuration or agent. */
function ssh(
  key: string,
  user: string,
  args: string[],
  input = '',
  port = login!.port,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      'ssh',
      [
        ...['-F', '/dev/null', '-p', String(port), '-i', key],
        ...['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null'],
        ...['-o', 'BatchMode=yes', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none'],
        ...['-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'],
        `${user}@127.0.0.1`,
        ...args,
      ],
      { encoding: 'utf8', timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = (err as { code?: unknown } | null)?.code;
        resolve({ status: err ? (typeof code === 'number' ? code : -1) : 0, stdout, stderr });
      },
    );
    child.stdin!.end(input);
  });
}

async function action(op: string): Promise<void> {
  const r = await s!.am('PerformOperationalAction', [SLICE], sliceCred, op, {});
  expect(geniCode(r), String(r['output'])).toBe(0);
  const p = await agent!.pass();
  expect(p.errors).toEqual([]);
}

beforeAll(async () => {
  requireNode();
  restoreModes = searchableAbove(root.path);
  s = await aliceSession();
  nodeDir = join(root.path, 'node1');
  await writeNodeDir(s, HOST, nodeDir);
  agent = new NodeAgent({ nodeDir, nodePrefix: prefix, uidBase: 600_000 });
  const keys = join(root.path, 'keys');
  mkdirSync(keys, { mode: 0o700 });
  keyFile = join(keys, 'alice');
  otherKeyFile = join(keys, 'other');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'alice', '-f', keyFile]);
  execFileSync('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', otherKeyFile]);
  sliceCred = await s.sliceCred('myslice');
  login = new LoginService({
    dir: join(nodeDir, 'login'),
    runtime: agent.runtime,
    lookup: agent.loginTarget,
    address: '127.0.0.1',
    port: 0,
    log: (line) => logLines.push(line),
  });
  await login.start();
}, 60_000);

afterAll(async () => {
  try {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await login?.stop();
    await agent?.cleanup();
  } finally {
    restoreModes();
    await s?.close();
  }
}, 60_000);

describe('ssh login into a sliver (the node manager serves it with the ssh2 library)', () => {
  it('has root, runc, busybox-static, ssh and script (else: what to install)', () => {
    expect(missing).toBeUndefined();
  });

  it('no sliver yet: the login name is refused', async () => {
    requireNode();
    const r = await ssh(keyFile, LOGIN, ['echo in']);
    expect(r.status).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  }, 30_000);

  it('a sliver started with a slice user key (alice’s ed25519 key)', async () => {
    requireNode();
    const users = [
      {
        urn: 'urn:publicid:IDN+ple:inria+user+alice',
        keys: [readFileSync(`${keyFile}.pub`, 'utf8').trim()],
      },
    ];
    const rspec =
      '<?xml version="1.0"?><rspec type="request" xmlns="http://www.geni.net/resources/rspec/3">' +
      `<node client_id="n1" component_id="urn:publicid:IDN+ple:inria+node+${HOST}" component_manager_id="urn:publicid:IDN+ple+authority+cm" exclusive="false"><sliver_type name="plab-vserver"/></node></rspec>`;
    const a = await s!.am('Allocate', SLICE, sliceCred, rspec, { geni_users: users });
    expect(geniCode(a), String(a['output'])).toBe(0);
    const p = await s!.am('Provision', [SLICE], sliceCred, {
      geni_rspec_version: { type: 'GENI', version: '3' },
      geni_users: users,
    });
    expect(geniCode(p), String(p['output'])).toBe(0);
    await action('geni_start');
    expect(agent!.loginTarget(LOGIN)).toMatchObject({ name: LOGIN, running: true });
  }, 60_000);

  it('runs a command in the sliver: hostname is the login, uid 0 inside, exit code kept', async () => {
    requireNode();
    const r = await ssh(keyFile, LOGIN, ['hostname; id -u; echo oops >&2; exit 3']);
    expect(r.stdout.split('\n')).toEqual([LOGIN, '0', '']);
    expect(r.stderr).toBe('oops\n');
    expect(r.status).toBe(3);
    expect(logLines).toContain(`login ${LOGIN} (ple.inria.myslice) from 127.0.0.1: exec: exit 3`);
  }, 30_000);

  it('the command sees the container, not the node: its own processes and its read-only /', async () => {
    requireNode();
    const r = await ssh(keyFile, LOGIN, [
      'ls /proc | grep -c "^[0-9]"; touch /x 2>/dev/null && echo rw || echo ro; echo hi > /root/f; cat /root/f',
    ]);
    expect(r.status).toBe(0);
    const [procs, rw, hi] = r.stdout.trim().split('\n');
    // The container's init, the shell and its pipeline: a handful, not the node's hundreds.
    expect(Number(procs)).toBeLessThan(10);
    expect(rw).toBe('ro');
    expect(hi).toBe('hi');
  }, 30_000);

  it('standard input reaches the command', async () => {
    requireNode();
    const r = await ssh(keyFile, LOGIN, ['wc -l'], 'a\nb\nc\n');
    expect(r.stdout.trim()).toBe('3');
    expect(r.status).toBe(0);
  }, 30_000);

  it('an interactive pty shell: a /dev/pts terminal of the client’s size, typed commands, exit code', async () => {
    requireNode();
    const r = await ssh(keyFile, LOGIN, ['-tt'], 'tty; stty size; echo $((6*7)); exit 7\n');
    expect(r.stdout).toMatch(/\/dev\/pts\/\d+\r\n/);
    // ssh -tt without a local terminal asks for 0×0; the service then gives 24×80.
    expect(r.stdout).toMatch(/(^|\n)24 80\r?\n/);
    expect(r.stdout).toMatch(/(^|\n)42\r?\n/);
    expect(r.status).toBe(7);
  }, 30_000);

  it('the terminal is of the client’s size, and follows its window changes', async () => {
    requireNode();
    // ssh2's own client: the stock one sends no size without a local terminal.
    const out = await new Promise<string>((resolve, reject) => {
      const c = new ssh2.Client();
      let text = '';
      c.on('error', reject);
      c.on('ready', () => {
        c.exec(
          'stty size; while [ "$(stty size)" = "33 101" ]; do sleep 0.1; done; stty size',
          { pty: { rows: 33, cols: 101, term: 'xterm' } },
          (err, channel) => {
            if (err) return reject(err);
            channel.on('data', (d: Buffer) => {
              text += d.toString();
              if (/33 101/.test(text) && !/resized/.test(text)) {
                text += '[resized]';
                channel.setWindow(40, 120, 0, 0);
              }
            });
            channel.on('close', () => {
              c.end();
              resolve(text);
            });
          },
        );
      });
      c.connect({
        host: '127.0.0.1',
        port: login!.port,
        username: LOGIN,
        privateKey: readFileSync(keyFile),
      });
    });
    expect(out).toMatch(/^33 101\r\n\[resized\]40 120\r\n$/);
  }, 30_000);

  it('a slice user’s RSA key registered as PEM (openssl rsa -pubout) logs in too', async () => {
    requireNode();
    // The same slice's sliver, now with the other key given as PEM to the aggregate.
    const pem = execFileSync('ssh-keygen', ['-e', '-m', 'PKCS8', '-f', `${otherKeyFile}.pub`], {
      encoding: 'utf8',
    });
    const target = agent!.loginTarget(LOGIN)!;
    const withPem = { ...target, keys: [...target.keys, pem] };
    const pemLogin = new LoginService({
      dir: join(nodeDir, 'login'),
      runtime: agent!.runtime,
      lookup: (name) => (name === LOGIN ? withPem : undefined),
      address: '127.0.0.1',
      port: 0,
    });
    await pemLogin.start();
    try {
      const r = await ssh(otherKeyFile, LOGIN, ['echo pem'], '', pemLogin.port);
      expect(r.stdout).toBe('pem\n');
      expect(r.status).toBe(0);
    } finally {
      await pemLogin.stop();
    }
  }, 30_000);

  it('Security: one address holds at most 8 connections that have not logged in; the 9th is closed', async () => {
    requireNode();
    const socks = Array.from({ length: 9 }, () =>
      connect({ host: '127.0.0.1', port: login!.port }),
    );
    try {
      const closedEarly = await Promise.all(
        socks.map(
          (sock) =>
            new Promise<boolean>((resolve) => {
              sock.on('error', () => {});
              sock.on('close', () => resolve(true));
              setTimeout(() => resolve(false), 2000);
            }),
        ),
      );
      expect(closedEarly.filter(Boolean)).toHaveLength(1);
      expect(logLines.some((l) => /8 connections from this address already/.test(l))).toBe(true);
    } finally {
      for (const sock of socks) sock.destroy();
    }
    // Once they are gone, logins work again.
    await new Promise((r) => setTimeout(r, 200));
    const r = await ssh(keyFile, LOGIN, ['echo back']);
    expect(r.stdout).toBe('back\n');
  }, 30_000);

  it('another key is refused', async () => {
    requireNode();
    const r = await ssh(otherKeyFile, LOGIN, ['echo in']);
    expect(r.status).toBe(255);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
    expect(logLines).toContain(`login refused: "${LOGIN}" from 127.0.0.1: not a key of this slice`);
  }, 30_000);

  it('another login name is refused (another slice, root, a system account)', async () => {
    requireNode();
    for (const user of ['inria_other', 'root', 'daemon']) {
      const r = await ssh(keyFile, user, ['echo in']);
      expect(r.status, user).toBe(255);
      expect(r.stdout, user).toBe('');
      expect(r.stderr, user).toMatch(/Permission denied \(publickey\)/);
    }
  }, 60_000);

  it('a stopped sliver: the key is right, the session says to start it', async () => {
    requireNode();
    await action('geni_stop');
    const r = await ssh(keyFile, LOGIN, ['echo in']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/sliver inria_myslice on this node is stopped; start it with/);
    await action('geni_start');
    const again = await ssh(keyFile, LOGIN, ['echo in']);
    expect(again.stdout).toBe('in\n');
  }, 60_000);

  it('`sfa nodemanager` serves the logins (one log line per session); a taken port is named', async () => {
    requireNode();
    const port = await freePort();
    const flags = ['--node-dir', nodeDir, '--prefix', prefix, '--uid-base', '600000'];
    const child = spawn(
      process.execPath,
      [
        ...['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'nodemanager', ...flags],
        ...['--login-address', '127.0.0.1', '--login-port', String(port)],
      ],
      {
        cwd: ROOT,
        env: { ...process.env, NODE_NO_WARNINGS: '1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    // Listening, and its first pass done: it knows the logins.
    await waitFor(
      'the login service and a first pass',
      async () => stderr.includes(`ssh logins on 127.0.0.1:${port}`) && stderr.includes(': pass ('),
      30_000,
    );
    const r = await ssh(keyFile, LOGIN, ['echo from-cli'], '', port);
    expect(r.stdout).toBe('from-cli\n');
    expect(r.status).toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(stderr).toContain(`login ${LOGIN} (ple.inria.myslice) from 127.0.0.1: exec: exit 0`);
    // Stopped: nothing listens any more.
    const after = await ssh(keyFile, LOGIN, ['echo in'], '', port);
    expect(after.status).toBe(255);
    expect(after.stdout).toBe('');

    const taken = await sfaAsync([
      ...['nodemanager', ...flags],
      ...['--login-address', '127.0.0.1', '--login-port', String(login!.port)],
    ]);
    expect(taken.status).toBe(1);
    expect(taken.stderr).toContain(`login: port ${login!.port} on 127.0.0.1 is taken`);
    expect(taken.stderr).not.toMatch(/\n\s+at /);
  }, 90_000);

  it('a deleted sliver: its login is refused at the next pass', async () => {
    requireNode();
    const d = await s!.am('Delete', [SLICE], sliceCred, {});
    expect(geniCode(d), String(d['output'])).toBe(0);
    const p = await agent!.pass();
    expect(p.errors).toEqual([]);
    const r = await ssh(keyFile, LOGIN, ['echo in']);
    expect(r.status).toBe(255);
    expect(r.stderr).toMatch(/Permission denied \(publickey\)/);
  }, 60_000);
});
