/**
 * `sfa peer add|list|rotate|revoke|update|audit`: the authorities this one federates with.
 * Safe while the servers run: they see every change on their next call, without a restart.
 * Scripts rely on the syntax and on what is printed; bad input changes nothing.
 */
import type { Command } from 'commander';
import { dataDir } from '../config.js';
import { AlreadyExists, BadArgs, CredentialSignerUntrusted } from '../faults.js';
import type { Gid } from '../credentials/gid.js';
import { formatRfc3339 } from '../credentials/time.js';
import { isHrnPrefix } from '../credentials/xrn.js';
import { fetchPeerRoots } from '../peers/bootstrap.js';
import { checkPeerHrn, checkPeerRoot, checkPeerUrl } from '../peers/check-peer.js';
import { parseDuration } from '../peers/duration.js';
import { parseFingerprint } from '../peers/fingerprint.js';
import { isRootTrusted, type Peer, type PeerRoot } from '../peers/peer-store.js';
import type { RegistryContext } from '../registry/context.js';
import { openRegistry } from '../registry/open-registry.js';
import { action, collect, readGid } from './io.js';

interface DirOption {
  dir?: string;
}

/** Who is recorded in the audit trail. */
function operator(): string {
  return process.env['USER'] || 'sfa';
}

async function withRegistry<T>(
  dir: string | undefined,
  fn: (ctx: RegistryContext) => T | Promise<T>,
): Promise<T> {
  const reg = openRegistry(dataDir(dir));
  try {
    return await fn(reg.ctx);
  } finally {
    reg.close();
  }
}

const out = (lines: string[]) => process.stdout.write(lines.join('\n') + '\n');

/** A label and its value, aligned as every `sfa peer` command prints them. */
const field = (label: string, value: string) => `  ${`${label}:`.padEnd(14)}${value}`;

function rootDescription(g: Gid): string[] {
  return [
    field('root', g.urn),
    field('sha256', g.fingerprint256),
    field('valid', `${formatRfc3339(g.notBefore)} to ${formatRfc3339(g.notAfter)}`),
  ];
}

function trustText(r: PeerRoot, now: Date): string {
  if (r.notAfterTrust === null) return 'trusted until revoked';
  const until = formatRfc3339(r.notAfterTrust);
  return isRootTrusted(r, now) ? `trusted until ${until}` : `trust ended ${until}`;
}

function describePeer(p: Peer, now: Date): string[] {
  return [
    p.hrn,
    field('registry', p.registryUrl),
    ...p.aggregateUrls.map((u) => field('aggregate', u)),
    ...p.roots.map((r) =>
      field(
        'root',
        `${r.fingerprint} (certificate expires ${formatRfc3339(r.gid.notAfter)}; ${trustText(r, now)})`,
      ),
    ),
    field('last contact', p.lastContact ? formatRfc3339(p.lastContact) : 'never'),
    field('health', p.health),
  ];
}

interface AddFlags extends DirOption {
  registry: string;
  aggregate: string[];
  root?: string;
  acceptFingerprint?: string;
}

/** The command to run once the fingerprint is checked, for the instructions. */
function acceptCommand(hrn: string, o: AddFlags, fingerprint: string): string {
  return [
    'sfa peer add',
    hrn,
    '--registry',
    o.registry,
    ...o.aggregate.flatMap((a) => ['--aggregate', a]),
    ...(o.dir ? ['--dir', o.dir] : []),
    '--accept-fingerprint',
    fingerprint,
  ].join(' ');
}

async function add(hrnArg: string, o: AddFlags): Promise<void> {
  await withRegistry(o.dir, async (ctx) => {
    const now = new Date();
    // Everything the operator typed is checked before anything is fetched or written.
    const hrn = checkPeerHrn(hrnArg, ctx.config.authority);
    const registryUrl = checkPeerUrl(o.registry, '--registry');
    const aggregateUrls = o.aggregate.map((u) => checkPeerUrl(u, '--aggregate'));
    const accepted =
      o.acceptFingerprint === undefined
        ? undefined
        : parseFingerprint(o.acceptFingerprint, '--accept-fingerprint');
    const known = ctx.peerStore.get(hrn);
    if (known) {
      throw new AlreadyExists(
        `peer ${known.hrn} already exists: 'sfa peer rotate' changes its root, 'sfa peer update' its URLs`,
      );
    }

    let root: Gid;
    if (o.root !== undefined) {
      root = readGid(o.root, '--root GID file').withParent(undefined);
      const warning = checkPeerRoot(root, hrn, now);
      if (warning) process.stderr.write(`warning: ${warning}\n`);
      if (accepted !== undefined && accepted !== root.fingerprint256) {
        throw new CredentialSignerUntrusted(
          `the root in ${o.root} has SHA-256 fingerprint ${root.fingerprint256}, not ${accepted} given with --accept-fingerprint: nothing was added`,
        );
      }
    } else {
      const fetched = await fetchPeerRoots(hrn, registryUrl, now, {
        identity: ctx.keys.get(ctx.config.authority),
        timeoutMs: ctx.forwarder.timeoutMs,
      });
      out([
        `peer ${hrn} (${registryUrl}) offers ${fetched.roots.length === 1 ? 'this root' : 'these roots'}:`,
        ...fetched.roots.flatMap(rootDescription),
      ]);
      for (const w of fetched.warnings) process.stderr.write(`warning: ${w}\n`);
      if (accepted === undefined) {
        process.stderr.write(
          `Compare the fingerprint with the one ${hrn}'s operator gives you over another channel, then run:\n` +
            `  ${acceptCommand(hrn, o, fetched.roots.length === 1 ? fetched.roots[0]!.fingerprint256 : 'FINGERPRINT')}\n`,
        );
        throw new BadArgs(
          `the root of peer ${hrn} is not trusted without --accept-fingerprint: nothing was added`,
        );
      }
      const match = fetched.roots.find((g) => g.fingerprint256 === accepted);
      if (!match) {
        throw new CredentialSignerUntrusted(
          `peer ${hrn} offers no root with SHA-256 fingerprint ${accepted} (it offers ${fetched.roots.map((g) => g.fingerprint256).join(', ')}): nothing was added`,
        );
      }
      root = match;
    }

    const peer = ctx.peerStore.add({ hrn, registryUrl, aggregateUrls, root }, now, operator());
    // The bootstrap was a contact: the peer answered just now.
    if (o.root === undefined) ctx.peerStore.recordContact(peer.hrn, now, 'ok', true);
    out([
      `added peer ${peer.hrn}`,
      field('registry', peer.registryUrl),
      ...peer.aggregateUrls.map((u) => field('aggregate', u)),
      ...rootDescription(root),
    ]);
  });
}

function list(o: DirOption): Promise<void> {
  return withRegistry(o.dir, (ctx) => {
    const now = new Date();
    const peers = ctx.peerStore.list();
    if (peers.length === 0) process.stderr.write('no peers\n');
    for (const p of peers) out(describePeer(p, now));
  });
}

function rotate(hrn: string, o: DirOption & { root: string; overlap?: string }): Promise<void> {
  return withRegistry(o.dir, (ctx) => {
    const now = new Date();
    const overlapMs = o.overlap === undefined ? undefined : parseDuration(o.overlap, '--overlap');
    const root = readGid(o.root, '--root GID file').withParent(undefined);
    const peer = ctx.peerStore.get(hrn);
    const warning = peer ? checkPeerRoot(root, peer.hrn, now) : undefined;
    const r = ctx.peerStore.rotate(hrn, root, overlapMs, now, operator());
    if (warning) process.stderr.write(`warning: ${warning}\n`);
    out([
      `rotated the root of peer ${r.peer.hrn}`,
      field('new root', `${root.fingerprint256} (trusted until revoked)`),
      ...r.retired.map((old) =>
        field(
          'old root',
          `${old.fingerprint} (${old.until ? `trusted until ${formatRfc3339(old.until)}` : 'no longer trusted'})`,
        ),
      ),
    ]);
  });
}

function revoke(hrn: string, o: DirOption): Promise<void> {
  return withRegistry(o.dir, (ctx) => {
    const now = new Date();
    const peer = ctx.peerStore.revoke(hrn, now, operator());
    const trusted = peer.roots.filter((r) => isRootTrusted(r, now));
    out([
      `revoked peer ${peer.hrn}: ${trusted.length} root(s) no longer trusted`,
      ...trusted.map((r) => field('removed root', r.fingerprint)),
    ]);
    // A root copied into trusted_roots/ by hand is trusted whatever the peers say.
    for (const g of ctx.trustSource.localRoots.filter(
      (g) => g.hrn && isHrnPrefix(peer.hrn, g.hrn),
    )) {
      process.stderr.write(
        `warning: trusted_roots/ still holds ${g.label} (${g.fingerprint256}): it stays trusted until that file is removed and the servers restarted\n`,
      );
    }
  });
}

function update(
  hrn: string,
  o: DirOption & { registry?: string; aggregate?: string[] },
): Promise<void> {
  return withRegistry(o.dir, (ctx) => {
    const peer = ctx.peerStore.update(
      hrn,
      { registryUrl: o.registry, aggregateUrls: o.aggregate },
      new Date(),
      operator(),
    );
    out([
      `updated peer ${peer.hrn}`,
      field('registry', peer.registryUrl),
      ...peer.aggregateUrls.map((u) => field('aggregate', u)),
    ]);
  });
}

function audit(hrn: string | undefined, o: DirOption): Promise<void> {
  return withRegistry(o.dir, (ctx) => {
    const entries = ctx.peerStore.audit(hrn);
    if (entries.length === 0) process.stderr.write('no audit entries\n');
    for (const e of entries) {
      const fps = (l: readonly string[]) => (l.length ? l.join(',') : '-');
      process.stdout.write(
        `${formatRfc3339(e.at)} ${e.who} ${e.action} ${e.peer} old=${fps(e.oldFingerprints)} new=${fps(e.newFingerprints)}${e.detail ? `  ${e.detail}` : ''}\n`,
      );
    }
  });
}

export function registerPeerCommands(program: Command): void {
  const peer = program
    .command('peer')
    .description('the authorities this one federates with: their registries, aggregates, roots');
  const dirOption = (c: Command) =>
    c.option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)');

  dirOption(
    peer
      .command('add')
      .description(
        'add a peer; without --root, fetch its root from its registry and trust it only with --accept-fingerprint',
      )
      .argument('<hrn>', "the peer's authority HRN, e.g. plc")
      .requiredOption('--registry <url>', "the peer's registry URL")
      .option(
        '--aggregate <url>',
        'an aggregate manager URL of the peer (repeatable; none for a peer with only a registry or clearinghouse)',
        collect,
        [],
      )
      .option('--root <gid-file>', "the peer's root GID, obtained out of band")
      .option(
        '--accept-fingerprint <sha256>',
        "the SHA-256 fingerprint of the peer's root, checked with its operator",
      ),
  ).action(action(add));

  dirOption(peer.command('list').description('list the peers, their roots and health')).action(
    action(list),
  );

  dirOption(
    peer
      .command('rotate')
      .description('trust a new root for a peer; the old one is dropped, or kept for --overlap')
      .argument('<hrn>', 'the peer HRN')
      .requiredOption('--root <gid-file>', "the peer's new root GID")
      .option('--overlap <duration>', 'keep trusting the old root this long too (30m, 12h, 7d)'),
  ).action(action(rotate));

  dirOption(
    peer
      .command('revoke')
      .description('stop trusting a peer and forget it (its audit trail is kept)')
      .argument('<hrn>', 'the peer HRN'),
  ).action(action(revoke));

  dirOption(
    peer
      .command('update')
      .description("change a peer's registry URL or its aggregate URLs")
      .argument('<hrn>', 'the peer HRN')
      .option('--registry <url>', 'the new registry URL')
      .option(
        '--aggregate <url>',
        'the aggregate URLs, replacing the old ones (repeatable)',
        collect,
      ),
  ).action(action(update));

  dirOption(
    peer
      .command('audit')
      .description('print the audit trail of peer changes')
      .argument('[hrn]', 'only this peer (revoked ones too)'),
  ).action(action(audit));
}
