/**
 * `sfa init`, `sfa serve` and `sfa start` (init on first run, then serve: what `npm start` runs).
 */
import type { Command } from 'commander';
import { checkStoreUrl, dataDir, type Ports } from '../config.js';
import { BadArgs } from '../faults.js';
import { initAuthority, type InitResult } from '../authority/init-authority.js';
import { startAuthority } from '../server/authority.js';
import { stderrLogger } from '../server/log.js';
import { startBanner } from './banner.js';
import { action } from './io.js';

interface ServeFlags {
  dir?: string;
  listen?: string;
  registryPort?: string;
  aggregatePort?: string;
  slicemgrPort?: string;
  webPort?: string;
  store?: string;
  reapInterval?: string;
}

function portsFrom(o: ServeFlags): Partial<Ports> {
  const out: Partial<Ports> = {};
  const read = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535)
      throw new BadArgs(`${flag} must be a port number, not '${v}'`);
    return n;
  };
  const r = read(o.registryPort, '--registry-port');
  const a = read(o.aggregatePort, '--aggregate-port');
  const s = read(o.slicemgrPort, '--slicemgr-port');
  const w = read(o.webPort, '--web-port');
  if (r !== undefined) out.registry = r;
  if (a !== undefined) out.aggregate = a;
  if (s !== undefined) out.slicemgr = s;
  if (w !== undefined) out.web = w;
  return out;
}

/** `--reap-interval`: whole seconds, 1 to a day. */
function seconds(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 86_400) {
    throw new BadArgs(`--reap-interval must be a number of seconds from 1 to 86400, not '${v}'`);
  }
  return n * 1000;
}

function serveOptions(c: Command): Command {
  return c
    .option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)')
    .option('--listen <address>', 'address to bind (default from sfa.json: 0.0.0.0)')
    .option('--registry-port <port>', 'registry port (default 12345)')
    .option('--aggregate-port <port>', 'aggregate manager port (default 12346)')
    .option('--slicemgr-port <port>', 'slice manager port (default 12347)')
    .option('--web-port <port>', 'web view port, plain HTTP (default 12380)')
    .option('--reap-interval <seconds>', 'how often lapsed slivers are removed (default 30)')
    .option(
      '--store <url>',
      "the PostgreSQL database to serve from (postgres://USER@HOST:PORT/DB; default: sfa.json's store, else the SQLite files)",
    );
}

async function serve(o: ServeFlags): Promise<void> {
  const running = await startAuthority({
    dir: o.dir,
    listen: o.listen,
    ports: portsFrom(o),
    log: stderrLogger,
    ...(o.store !== undefined ? { store: checkStoreUrl(o.store, '--store') } : {}),
    ...(o.reapInterval !== undefined ? { reapIntervalMs: seconds(o.reapInterval) } : {}),
  });
  const dir = dataDir(o.dir);
  process.stdout.write(startBanner(running, dir));
  const stop = () => {
    process.stderr.write('stopping\n');
    void running.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/**
 * What an init did, one line per file: kept before created, so that "kept keys/ple.pkey" comes
 * before the GID made on it and nobody reads that a key was replaced when it was not.
 */
function report(r: InitResult): void {
  for (const n of r.notes) process.stdout.write(`note: ${n}\n`);
  for (const k of r.kept) process.stdout.write(`kept ${k}\n`);
  for (const c of r.created) process.stdout.write(`created ${c}\n`);
  for (const u of r.updated) process.stdout.write(`updated ${u}\n`);
}

export function registerServerCommands(program: Command): void {
  program
    .command('init')
    .description('create an authority: root key, self-signed GID, trusted roots, config, database')
    .option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)')
    .option('--authority <hrn>', 'HRN of the root authority (default: ple)')
    .option('--hostname <host>', 'the name clients use to reach this host (default: localhost)')
    .option(
      '--store <url>',
      'keep the data in this PostgreSQL database (postgres://USER@HOST:PORT/DB; default: SQLite files in the data folder)',
    )
    .action(
      action(async (o: { dir?: string; authority?: string; hostname?: string; store?: string }) => {
        const dir = dataDir(o.dir);
        const r = await initAuthority({
          dir,
          authority: o.authority,
          hostname: o.hostname,
          now: new Date(),
          ...(o.store !== undefined ? { store: o.store } : {}),
        });
        report(r);
        if (r.created.length === 0 && r.updated.length === 0)
          process.stdout.write(
            `authority '${r.config.authority}' already set up in ${dir}: nothing to do\n`,
          );
      }),
    );

  serveOptions(
    program
      .command('serve')
      .description('serve the registry, aggregate and slice managers, and the web view'),
  ).action(action(serve));

  serveOptions(
    program.command('start').description('init on first run, then serve (what npm start runs)'),
  )
    .option('--authority <hrn>', 'HRN of the root authority on first run (default: ple)')
    .option('--hostname <host>', 'host name for a new authority (default: localhost)')
    .action(
      action(async (o: ServeFlags & { authority?: string; hostname?: string }) => {
        const dir = dataDir(o.dir);
        report(
          await initAuthority({
            dir,
            authority: o.authority,
            hostname: o.hostname,
            now: new Date(),
            ...(o.store !== undefined ? { store: o.store } : {}),
          }),
        );
        await serve(o);
      }),
    );
}
