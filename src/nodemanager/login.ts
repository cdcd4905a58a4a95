/**
 * Login into slivers (issue 10, part 4): `ssh -p PORT -i KEY <site>_<slice>@NODE` opens a shell
 * or runs a command inside that slice's container.
 *
 * Why an SSH server inside the node manager (the `ssh2` library) rather than the node's OpenSSH
 * sshd: sshd needs a passwd entry for each login name, and entering a container (`runc exec`)
 * needs root, so sshd would need one uid-0 alias account per slice in the node's `/etc/passwd`
 * (or a sudo rule per slice), kept in step with GetSlivers by editing system files. Here the node
 * manager already holds the authoritative list (login names and the slice users' keys, from its
 * last GetSlivers answer): it authenticates against that list in memory, and a login exists
 * exactly while its sliver does, with no account on the node at all. The crypto is the
 * library's (maintained, pure JavaScript on Node's crypto); entering the container is runc's
 * (`runc exec`), and the terminal is util-linux's `script` (runc needs a real terminal for
 * `--tty`), so nothing here is a home-made terminal or sandbox.
 *
 * Only public-key authentication; one log line per session (who, from where, what, exit code)
 * and one per refused connection. Bounded: connections, channels per connection, auth attempts
 * and the time to authenticate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { execFile, execFileSync } from 'node:child_process';
import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { join } from 'node:path';
import ssh2 from 'ssh2';
import type {
  AuthContext,
  Connection,
  ParsedKey,
  PseudoTtyInfo,
  ServerChannel,
  Session,
} from 'ssh2';
import { publicKeyToOpenSsh } from '../credentials/keys.js';
import type { ContainerRuntime } from './runtime/runtime.js';

const { Server, utils } = ssh2;

/** What the login service needs to know of one login name (the node manager keeps it). */
export interface LoginTarget {
  /** The container's name (the sliver's login name). */
  name: string;
  sliceHrn: string;
  /** The slice users' public keys (OpenSSH one-line form), from GetSlivers. */
  keys: readonly string[];
  /** Whether its container runs now. */
  running: boolean;
}

export interface LoginOptions {
  /** The folder of the service's host key (made with ssh-keygen on first use). */
  dir: string;
  runtime: ContainerRuntime;
  /** The login names that exist now, as the node manager's last pass left them. */
  lookup: (login: string) => LoginTarget | undefined;
  /** Where to listen (default 0.0.0.0:22, the port the aggregate's manifest gives). */
  address?: string;
  port?: number;
  log?: (line: string) => void;
}

/** Most connections at once; most sessions per connection; failed keys before the end. */
const MAX_CONNECTIONS = 64;
/** Connections from one address at once, and connections not yet authenticated. */
const MAX_PER_ADDRESS = 8;
const MAX_UNAUTHENTICATED = 32;
const MAX_CHANNELS = 10;
const MAX_AUTH_FAILURES = 10;
/** Time from TCP connect to authenticated. */
const AUTH_TIMEOUT_MS = 20_000;
/** After the client left: HUP, then KILL if the command is still there. */
const KILL_AFTER_MS = 2_000;
/** A sliver's default shell (busybox has it; full images too). */
const SHELL = '/bin/sh';

/** Make (once) and read the service's host key: ed25519, by OpenSSH's own ssh-keygen. */
export function loginHostKey(dir: string): string {
  const file = join(dir, 'ssh_host_ed25519_key');
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    execFileSync(
      'ssh-keygen',
      ['-q', '-t', 'ed25519', '-N', '', '-C', 'sfa-nodemanager', '-f', file],
      {
        stdio: 'ignore',
      },
    );
  }
  return readFileSync(file, 'utf8');
}

/** A key of `keys` equal to what the client offered, or undefined. */
function matchingKey(
  keys: readonly string[],
  offered: { algo: string; data: Buffer },
): ParsedKey | undefined {
  for (const given of keys) {
    // A key registered as PEM (as `openssl rsa -pubout` writes it) is the same RSA key.
    const line = /^-----BEGIN/.test(given.trim()) ? pemToOpenSsh(given) : given;
    if (line === undefined) continue;
    const parsed = utils.parseKey(line);
    if (parsed instanceof Error) continue;
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key === undefined) continue;
    const data = key.getPublicSSH();
    // rsa-sha2-256/512 signatures come with an ssh-rsa key.
    const sameType =
      key.type === offered.algo || (key.type === 'ssh-rsa' && /^rsa-sha2-/.test(offered.algo));
    if (sameType && data.length === offered.data.length && timingSafeEqual(data, offered.data)) {
      return key;
    }
  }
  return undefined;
}

/** The OpenSSH line of an RSA public key in PEM, or undefined if it is not one. */
function pemToOpenSsh(pem: string): string | undefined {
  try {
    return publicKeyToOpenSsh(createPublicKey(pem));
  } catch {
    return undefined;
  }
}

/** One shell word, quoted for `sh -c`. */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Terminal sizes are small positive integers; anything else becomes a sane default. */
function size(n: number, fallback: number): number {
  return Number.isInteger(n) && n > 0 && n <= 10_000 ? n : fallback;
}

/**
 * The process of one session. With a pty: runc's `--tty` wants a terminal of its own, which
 * `script` gives it (set raw, no echo, and to the client's size; runc copies that size to the
 * container's terminal and follows its changes).
 */
function sessionProcess(
  runtime: ContainerRuntime,
  name: string,
  command: string | undefined,
  pty: PseudoTtyInfo | undefined,
): ChildProcess {
  const args = command === undefined ? [SHELL, '-l'] : [SHELL, '-c', command];
  if (pty === undefined) {
    const { file, args: argv } = runtime.execCommand(name, args);
    return spawn(file, argv, { stdio: 'pipe' });
  }
  const term = /^[A-Za-z0-9._+-]{1,64}$/.test(pty.term) ? pty.term : 'vt100';
  const { file, args: argv } = runtime.execCommand(name, args, { tty: true });
  // runc passes --env to the process; TERM first, so the command's own words stay last.
  const i = argv.indexOf('--tty');
  argv.splice(i + 1, 0, '--env', `TERM=${term}`);
  const inner = [file, ...argv].map(shellQuote).join(' ');
  const setup = `stty rows ${size(pty.rows, 24)} cols ${size(pty.cols, 80)} raw -echo`;
  return spawn(
    'script',
    ['-q', '-f', '-e', '-E', 'never', '-c', `${setup}; exec ${inner}`, '/dev/null'],
    {
      stdio: 'pipe',
      env: { PATH: process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin', SHELL: '/bin/sh' },
    },
  );
}

/**
 * Resize the terminal `script` made for runc (runc follows with SIGWINCH). Asynchronous, one
 * `stty` at a time per session: a flood of window changes costs one process, not the event loop.
 */
function resizer(proc: ChildProcess): (rows: number, cols: number) => void {
  let busy = false;
  let next: [number, number] | undefined;
  const go = () => {
    if (busy || next === undefined) return;
    const [rows, cols] = next;
    next = undefined;
    let tty: string;
    try {
      const pid = proc.pid!;
      const child = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
      tty = child ? readlinkSync(`/proc/${child}/fd/0`) : '';
    } catch {
      return; // The session is ending: nothing to resize.
    }
    if (!/^\/dev\/pts\/\d+$/.test(tty)) return;
    busy = true;
    execFile(
      'stty',
      ['-F', tty, 'rows', String(size(rows, 24)), 'cols', String(size(cols, 80))],
      { timeout: 2000 },
      () => {
        busy = false;
        go();
      },
    );
  };
  return (rows, cols) => {
    next = [rows, cols];
    go();
  };
}

function onPath(cmd: string): boolean {
  return (process.env['PATH'] ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .some((d) => d !== '' && existsSync(join(d, cmd)));
}

const SIGNALS: Record<string, number> = { HUP: 1, INT: 2, QUIT: 3, KILL: 9, TERM: 15 };

export class LoginService {
  private readonly options: LoginOptions;
  private readonly log: (line: string) => void;
  private server: NetServer | undefined;
  private readonly connections = new Set<Connection>();
  private readonly processes = new Set<ChildProcess>();
  private readonly sockets = new Set<Socket>();
  /** Connections not yet logged in, by `ip:port`. */
  private readonly pending = new Map<string, Socket>();
  private readonly perAddress = new Map<string, number>();
  /** The port it listens on, once started. */
  port = 0;

  constructor(options: LoginOptions) {
    this.options = options;
    this.log = options.log ?? (() => {});
  }

  /** Listen; fails with a message naming the port when it is taken. */
  async start(): Promise<void> {
    const missing = ['ssh-keygen', 'script'].filter((cmd) => !onPath(cmd));
    if (missing.length > 0) {
      throw new Error(
        `login: ${missing.join(' and ')} missing: apt-get install -y openssh-client util-linux, or give --no-login`,
      );
    }
    const hostKey = loginHostKey(this.options.dir);
    const ssh = new Server({ hostKeys: [hostKey], ident: 'sfa-nodemanager' }, (client, info) =>
      this.connection(client, info.ip, `${info.ip}:${info.port}`),
    );
    // Our own listener: the limits hold from the TCP connection on, before any SSH byte.
    const server = createServer((socket) => this.gate(socket, ssh));
    this.server = server;
    const address = this.options.address ?? '0.0.0.0';
    const port = this.options.port ?? 22;
    await new Promise<void>((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException) => {
        reject(
          new Error(
            e.code === 'EADDRINUSE'
              ? `login: port ${port} on ${address} is taken (the node's own sshd?): move it, or give --login-port (and the aggregate's manifest will say so), or --no-login`
              : `login: cannot listen on ${address}:${port}: ${e.message}`,
          ),
        );
      };
      server.once('error', onError);
      server.listen(port, address, () => {
        server.off('error', onError);
        server.on('error', (e: Error) => this.log(`login: ${e.message}`));
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
  }

  /** Stop listening, end every session (their commands are hung up). */
  async stop(): Promise<void> {
    for (const p of this.processes) p.kill('SIGHUP');
    for (const c of this.connections) c.end();
    for (const socket of this.sockets) socket.destroy();
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * A new TCP connection: refused when there are too many (in all, from its address, not yet
   * logged in), closed if it has not logged in within AUTH_TIMEOUT_MS; else handed to ssh2.
   */
  private gate(socket: Socket, ssh: InstanceType<typeof Server>): void {
    const ip = socket.remoteAddress ?? '';
    const key = `${ip}:${socket.remotePort}`;
    const fromIp = this.perAddress.get(ip) ?? 0;
    const refused =
      this.sockets.size >= MAX_CONNECTIONS
        ? `${MAX_CONNECTIONS} connections already`
        : fromIp >= MAX_PER_ADDRESS
          ? `${MAX_PER_ADDRESS} connections from this address already`
          : this.pending.size >= MAX_UNAUTHENTICATED
            ? `${MAX_UNAUTHENTICATED} connections still logging in`
            : undefined;
    if (refused !== undefined) {
      this.log(`login: refused a connection from ${ip}: ${refused}`);
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.pending.set(key, socket);
    this.perAddress.set(ip, fromIp + 1);
    socket.setTimeout(AUTH_TIMEOUT_MS, () => {
      if (this.pending.get(key) === socket) socket.destroy();
    });
    socket.on('error', () => {});
    socket.once('close', () => {
      this.sockets.delete(socket);
      if (this.pending.get(key) === socket) this.pending.delete(key);
      const left = (this.perAddress.get(ip) ?? 1) - 1;
      if (left > 0) this.perAddress.set(ip, left);
      else this.perAddress.delete(ip);
    });
    ssh.injectSocket(socket);
  }

  private connection(client: Connection, ip: string, key: string): void {
    this.connections.add(client);
    let user: string | undefined;
    let authenticated = false;
    let failures = 0;
    let why = 'no authentication';
    client.on('error', () => {
      // A client that drops the connection: its sessions end with it (logged there).
    });
    client.on('close', () => {
      this.connections.delete(client);
      if (!authenticated) {
        this.log(
          `login refused: ${user === undefined ? '' : `${JSON.stringify(user)} `}from ${ip}: ${why}`,
        );
      }
    });
    client.on('authentication', (ctx: AuthContext) => {
      user = ctx.username;
      if (ctx.method !== 'publickey') return ctx.reject(['publickey']);
      const target = this.options.lookup(ctx.username);
      const key = target === undefined ? undefined : matchingKey(target.keys, ctx.key);
      if (key === undefined) {
        why = target === undefined ? 'no such login on this node' : 'not a key of this slice';
        // Every refused key counts (as OpenSSH's MaxAuthTries): no unbounded probing of keys.
        if (++failures >= MAX_AUTH_FAILURES) client.end();
        return ctx.reject(['publickey']);
      }
      // Without a signature the client only asks whether the key would do.
      if (ctx.signature === undefined) return ctx.accept();
      if (ctx.blob === undefined || key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) !== true) {
        why = 'bad signature';
        if (++failures >= MAX_AUTH_FAILURES) client.end();
        return ctx.reject(['publickey']);
      }
      ctx.accept();
    });
    client.on('ready', () => {
      authenticated = true;
      // Logged in: no more login deadline for its connection.
      const socket = this.pending.get(key);
      this.pending.delete(key);
      socket?.setTimeout(0);
      let channels = 0;
      client.on('session', (accept, reject) => {
        if (++channels > MAX_CHANNELS) return reject();
        this.session(accept(), user ?? '', ip);
      });
    });
  }

  private session(session: Session, login: string, ip: string): void {
    let pty: PseudoTtyInfo | undefined;
    let proc: ChildProcess | undefined;
    let resize: ((rows: number, cols: number) => void) | undefined;
    let started = false;
    session.on('pty', (accept, _reject, info) => {
      pty = info;
      accept?.();
    });
    session.on('window-change', (accept, _reject, info) => {
      resize?.(info.rows, info.cols);
      accept?.();
    });
    session.on('env', (accept) => accept?.());
    session.on('signal', (accept, _reject, info) => {
      const n = SIGNALS[info.name];
      if (proc !== undefined && n !== undefined) proc.kill(n);
      accept?.();
    });
    // One command per session, as sshd: a second exec or shell is refused, never run unread.
    const run = (
      accept: () => ServerChannel | undefined,
      reject: (() => unknown) | undefined,
      command: string | undefined,
    ) => {
      if (started) return void reject?.();
      started = true;
      const channel = accept();
      if (channel === undefined) return;
      proc = this.run(channel, login, ip, command, pty);
      if (proc !== undefined && pty !== undefined) resize = resizer(proc);
    };
    session.on('exec', (accept, reject, info) => run(accept, reject, info.command));
    session.on('shell', (accept, reject) => run(accept, reject, undefined));
    session.on('subsystem', (_accept, reject) => reject());
  }

  private run(
    channel: ServerChannel,
    login: string,
    ip: string,
    command: string | undefined,
    pty: PseudoTtyInfo | undefined,
  ): ChildProcess | undefined {
    const what = `${command === undefined ? 'shell' : 'exec'}${pty === undefined ? '' : ' (pty)'}`;
    const target = this.options.lookup(login);
    if (target === undefined || !target.running) {
      const state = target === undefined ? 'gone (deleted or expired)' : 'stopped';
      const todo =
        target === undefined
          ? 'allocate and provision it again (sfi allocate, sfi provision)'
          : 'start it with PerformOperationalAction geni_start (sfi start, omni performoperationalaction)';
      channel.stderr.write(`sfa: the sliver ${login} on this node is ${state}; ${todo}\r\n`);
      channel.exit(1);
      channel.end();
      this.log(`login ${login} from ${ip}: ${what}: sliver ${state}`);
      return undefined;
    }
    const proc = sessionProcess(this.options.runtime, target.name, command, pty);
    this.processes.add(proc);
    channel.pipe(proc.stdin!);
    proc.stdout!.pipe(channel, { end: false });
    proc.stderr!.pipe(pty === undefined ? channel.stderr : channel, { end: false });
    proc.stdin!.on('error', () => {
      // The command exited before reading all its input.
    });
    let done = false;
    channel.on('close', () => {
      if (done) return;
      proc.kill('SIGHUP');
      setTimeout(() => proc.kill('SIGKILL'), KILL_AFTER_MS).unref();
    });
    proc.on('error', (e) => {
      this.log(`login ${login} from ${ip}: ${what}: ${e.message}`);
    });
    proc.on('close', (code, signal) => {
      done = true;
      this.processes.delete(proc);
      const status =
        code ?? 128 + (signal === null ? 0 : (SIGNALS[signal.replace(/^SIG/, '')] ?? 0));
      this.log(`login ${login} (${target.sliceHrn}) from ${ip}: ${what}: exit ${status}`);
      try {
        channel.exit(status);
        channel.end();
      } catch {
        // The client already left.
      }
    });
    return proc;
  }
}
