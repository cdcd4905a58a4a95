/**
 * `sfa nodemanager --node-dir NODEDIR [--once] [--cleanup]`: the node's agent (issue 10, part 3).
 * It runs on the node, as root, with the folder `sfa node credentials` wrote. One log line per
 * pass on stderr. SIGTERM and SIGINT stop it between passes; the containers keep running and a
 * restarted node manager adopts them. Unless `--no-login`, it also serves the slices' ssh logins
 * (login.ts) on `--login-port` (22 by default: the port the manifests give researchers).
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { NodeAgent } from '../nodemanager/agent.js';
import { LoginService } from '../nodemanager/login.js';
import { missingNodeRequirements } from '../nodemanager/runtime/runc.js';
import { action } from './io.js';

interface Flags {
  nodeDir: string;
  once?: boolean;
  cleanup?: boolean;
  imagesDir?: string;
  prefix?: string;
  uidBase?: string;
  login: boolean;
  network: boolean;
  vsysDir?: string;
  loginPort: string;
  loginAddress: string;
}

async function nodemanager(o: Flags): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const uidBase = o.uidBase === undefined ? undefined : Number(o.uidBase);
  if (uidBase !== undefined && (!Number.isSafeInteger(uidBase) || uidBase < 1)) {
    throw new Error(`--uid-base must be a positive integer, not ${o.uidBase}`);
  }
  const agent = new NodeAgent({
    nodeDir: o.nodeDir,
    ...(o.imagesDir === undefined ? {} : { imagesDir: o.imagesDir }),
    ...(o.prefix === undefined ? {} : { nodePrefix: o.prefix }),
    ...(uidBase === undefined ? {} : { uidBase }),
    ...(o.network ? {} : { network: false as const }),
    ...(o.vsysDir === undefined ? {} : { vsysDir: o.vsysDir }),
    log,
  });
  const missing = missingNodeRequirements();
  if (missing !== undefined) throw new Error(missing);
  if (o.cleanup) {
    await agent.cleanup();
    log(
      `nodemanager ${agent.node.config.hostname}: removed every container, cgroup and folder of ${agent.nodePrefix}`,
    );
    return;
  }
  if (o.once) {
    const r = await agent.pass();
    if (r.source === 'none') process.exitCode = 1;
    return;
  }
  const loginPort = Number(o.loginPort);
  if (!Number.isInteger(loginPort) || loginPort < 1 || loginPort > 65535) {
    throw new Error(`--login-port must be a port number (1-65535), not ${o.loginPort}`);
  }
  const login = o.login
    ? new LoginService({
        dir: join(o.nodeDir, 'login'),
        runtime: agent.runtime,
        lookup: agent.loginTarget,
        address: o.loginAddress,
        port: loginPort,
        log,
      })
    : undefined;
  await login?.start();
  if (login !== undefined) {
    log(`nodemanager ${agent.node.config.hostname}: ssh logins on ${o.loginAddress}:${login.port}`);
  }
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => (stop = resolve));
  const onSignal = (signal: string) => {
    log(`nodemanager ${agent.node.config.hostname}: ${signal}, stopping (containers keep running)`);
    stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  await agent.loop(stopped);
  agent.vsys.stop();
  await login?.stop();
  // A long poll may still be open: nothing more to wait for.
  process.exit(process.exitCode ?? 0);
}

export function registerNodemanagerCommand(program: Command): void {
  program
    .command('nodemanager')
    .description(
      "the node's agent: run the node's slivers as containers (runc, as root), as the aggregate's GetSlivers says, and report the node's status",
    )
    .requiredOption(
      '--node-dir <nodedir>',
      'the folder written by `sfa node credentials HOST --out NODEDIR` (state, containers and sliver data go in it too)',
    )
    .option('--once', 'do one pass and exit (cron-style, tests)')
    .option(
      '--cleanup',
      "remove every container, cgroup and folder of this node, and the node's state, then exit",
    )
    .option('--images-dir <dir>', 'base images, one folder per vref (default NODEDIR/images)')
    .option(
      '--prefix <prefix>',
      "prefix of this node's container ids and cgroups (default sfa-<hostname>)",
    )
    .option(
      '--uid-base <uid>',
      "host uid of the first sliver's root; sliver i gets base + 65536 × i (default: one of 62 slots of 2^26 uids above 2^26, chosen by a hash of the prefix, so nodes of one machine differ)",
    )
    .option(
      '--login-port <port>',
      "port of the slices' ssh logins (`ssh -p PORT <site>_<slice>@NODE`); 22 is the port the aggregate's manifests give",
      '22',
    )
    .option('--login-address <address>', 'address the ssh logins listen on', '0.0.0.0')
    .option(
      '--vsys-dir <dir>',
      "the operator's vsys scripts: a slice whose `vsys` tag names one calls it through /vsys/NAME.in and NAME.out (default /etc/sfa/vsys)",
    )
    .option(
      '--no-network',
      "give slivers no network but loopback (no bridge, NAT, port forwarding or rates; node.json's network says the range and NAT)",
    )
    .option('--no-login', 'serve no ssh logins (slices reach their slivers some other way)')
    .action(action(nodemanager));
}
