/**
 * Operator commands on the registry's store, safe while the server runs (SQLite WAL, writes in
 * BEGIN IMMEDIATE transactions): `sfa authority|user|slice|node add|list|show|remove`.
 */
import type { Command } from 'commander';
import { dataDir, storeLocation } from '../config.js';
import { BadArgs, SearchFailed } from '../faults.js';
import { Gid } from '../credentials/gid.js';
import { escapeHrnComponent, hrnLeaf, isUrn, Xrn } from '../credentials/xrn.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import type { RegistryContext } from '../registry/context.js';
import { openRegistry } from '../registry/open-registry.js';
import { createRecord } from '../registry/register.js';
import { userIds } from '../registry/members.js';
import type { RecordInput, RegistrableType } from '../registry/records.js';
import type { RecordRow } from '../store/registry-store.js';
import { formatRfc3339 } from '../credentials/time.js';
import { action, collect, readText } from './io.js';

/** Run `fn` on the registry of data folder `dir`, closing it when `fn` (or its promise) ends. */
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

function hrnOf(text: string, type: string): string {
  return isUrn(text) ? Xrn.fromUrn(text).hrn : Xrn.fromHrn(text, type).hrn;
}

function describe(ctx: RegistryContext, r: RecordRow): string {
  const extra: string[] = [];
  if (r.type === 'user') {
    if (r.email) extra.push(`email=${r.email}`);
    const pi = ctx.store.piAuthoritiesOf(r.id).map((a) => a.hrn);
    if (pi.length) extra.push(`PI of ${pi.join(',')}`);
    extra.push(`${ctx.store.keys(r.id).length} key(s)`);
  } else if (r.type === 'slice') {
    extra.push(
      `researchers=${
        ctx.store
          .researchers(r.id)
          .map((u) => u.hrn)
          .join(',') || '-'
      }`,
    );
  } else if (r.type === 'authority') {
    const pis = ctx.store.pis(r.id).map((u) => u.hrn);
    if (pis.length) extra.push(`PIs=${pis.join(',')}`);
  }
  return `${r.hrn} (${r.type})${extra.length ? '  ' + extra.join('  ') : ''}`;
}

function show(ctx: RegistryContext, r: RecordRow): string {
  const gid = Gid.fromPem(r.gid);
  return [
    describe(ctx, r),
    `  urn:          ${Xrn.fromHrn(r.hrn, r.type).urn}`,
    `  authority:    ${r.authority ?? '-'}`,
    `  created:      ${formatRfc3339(r.dateCreated)}   updated: ${formatRfc3339(r.lastUpdated)}`,
    `  gid:          uuid ${gid.uuid ?? '-'}, valid until ${formatRfc3339(gid.notAfter)}, issued by ${gid.parent?.urn ?? gid.issuerDN}`,
    ...(r.type === 'user'
      ? ctx.store.keys(r.id).map((k) => `  key:          ${k.slice(0, 60)}…`)
      : []),
  ].join('\n');
}

interface DirOption {
  dir?: string;
}

/** add/list/show/remove for one record type; `add` is given by the caller. */
function recordCommands(
  program: Command,
  type: RegistrableType,
  describeAdd: (cmd: Command) => Command,
  toInput: (
    hrn: string,
    o: Record<string, unknown>,
    ctx: RegistryContext,
  ) => { input: RecordInput; after?: () => void },
): void {
  const group = program
    .command(type)
    .description(
      type === 'node'
        ? "node records in the registry, and the aggregate's inventory (load, inventory, tag, status)"
        : `manage ${type} records in the registry store`,
    );
  const dirOption = (c: Command) =>
    c.option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)');

  describeAdd(
    dirOption(group.command('add').description(`add a ${type}`).argument('<hrn>', `${type} HRN`)),
  ).action(
    action((hrn: string, o: Record<string, unknown> & DirOption) =>
      withRegistry(o.dir, async (ctx) => {
        const now = new Date();
        const name = hrnOf(hrn, type);
        const { input, after } = toInput(name, o, ctx);
        // `after` runs in the record's own insert transaction: the record and its extras, or
        // neither.
        await createRecord(ctx, input, now, after);
        const row = ctx.store.get(input.hrn, type)!;
        process.stdout.write(`added ${describe(ctx, row)}\n  ${Xrn.fromHrn(row.hrn, type).urn}\n`);
      }),
    ),
  );

  dirOption(
    group
      .command('list')
      .description(`list ${type} records`)
      .option('--under <hrn>', 'only below this authority'),
  ).action(
    action((o: DirOption & { under?: string }) =>
      withRegistry(o.dir, (ctx) => {
        const rows = (
          o.under ? ctx.store.descendants(hrnOf(o.under, 'authority')) : ctx.store.all()
        ).filter((r) => r.type === type);
        for (const r of rows) process.stdout.write(describe(ctx, r) + '\n');
        if (rows.length === 0) process.stderr.write(`no ${type} records\n`);
      }),
    ),
  );

  dirOption(
    group
      .command('show')
      .description(`show a ${type} record`)
      .argument('<hrn>', `${type} HRN or URN`),
  ).action(
    action((hrn: string, o: DirOption) =>
      withRegistry(o.dir, (ctx) => {
        const row = ctx.store.get(hrnOf(hrn, type), type);
        if (!row) throw new SearchFailed(`no ${type} ${hrn} in the registry`);
        process.stdout.write(show(ctx, row) + '\n');
      }),
    ),
  );

  dirOption(
    group
      .command('remove')
      .description(`remove a ${type} record`)
      .argument('<hrn>', `${type} HRN or URN`),
  ).action(
    action((hrn: string, o: DirOption) =>
      withRegistry(o.dir, (ctx) => {
        const row = ctx.store.get(hrnOf(hrn, type), type);
        if (!row) throw new SearchFailed(`no ${type} ${hrn} in the registry`);
        if (type === 'authority') {
          if (row.authority === null)
            throw new BadArgs(`${row.hrn} is the root authority: it cannot be removed`);
          const below = ctx.store.descendants(row.hrn).length;
          if (below > 0)
            throw new BadArgs(
              `authority ${row.hrn} still holds ${below} records: remove them first`,
            );
        }
        ctx.store.remove(row.id);
        process.stdout.write(`removed ${row.hrn} (${type})\n`);
      }),
    ),
  );
}

function addToInventory(
  dir: string,
  ctx: RegistryContext,
  hostname: string,
  siteHrn: string,
): void {
  const loginBase = hrnLeaf(siteHrn).toLowerCase();
  const engine = AggregateEngine.open(storeLocation(dir, ctx.config, 'aggregate'), {
    authority: ctx.config.authority,
  });
  try {
    const known = engine.listSites().some((s) => s.loginBase === loginBase);
    engine.loadInventory({
      ...(known ? {} : { sites: [{ loginBase, name: siteHrn }] }),
      nodes: [{ hostname, site: loginBase }],
    });
  } finally {
    engine.close();
  }
}

export function registerRegistryCommands(program: Command): void {
  recordCommands(
    program,
    'authority',
    (c) => c.option('--name <name>', 'display name'),
    (hrn, o) => ({
      input: { hrn, type: 'authority', name: (o['name'] as string | undefined) ?? hrn },
    }),
  );

  recordCommands(
    program,
    'user',
    (c) =>
      c
        .requiredOption('--email <email>', 'e-mail address')
        .requiredOption('--key <pubkey-file>', 'public key: OpenSSH ssh-rsa line or PEM')
        .option(
          '--pi-of <authority>',
          'make the user a PI of this authority (repeatable)',
          collect,
        ),
    (hrn, o, ctx) => {
      const key = readText(o['key'] as string, '--key').trim();
      const piOf = ((o['piOf'] as string[] | undefined) ?? []).map((a) => {
        const row = ctx.store.get(hrnOf(a, 'authority'), 'authority');
        if (!row) throw new SearchFailed(`--pi-of: no authority ${a} in the registry`);
        return row;
      });
      return {
        input: { hrn, type: 'user', email: o['email'] as string, keys: [key] },
        after: () => {
          const user = ctx.store.get(hrn, 'user')!;
          for (const a of piOf) {
            const pis = ctx.store.pis(a.id).map((u) => u.id);
            ctx.store.setPis(a.id, [...new Set([...pis, user.id])]);
          }
        },
      };
    },
  );

  recordCommands(
    program,
    'slice',
    (c) =>
      c.requiredOption('--researcher <user>', 'a researcher of the slice (repeatable)', collect),
    (hrn, o, ctx) => {
      const researchers = (o['researcher'] as string[]).map((u) => hrnOf(u, 'user'));
      userIds(ctx, researchers, '--researcher'); // names any unknown user before anything changes
      return { input: { hrn, type: 'slice', researchers } };
    },
  );

  recordCommands(
    program,
    'node',
    (c) =>
      c.option(
        '--site <authority>',
        'the site authority; the HRN is then the host name, e.g. node1.inria.fr',
      ),
    (hrn, o, ctx) => {
      const site = o['site'] as string | undefined;
      if (!site) return { input: { hrn, type: 'node' } };
      const siteHrn = hrnOf(site, 'authority');
      return {
        input: { hrn: `${siteHrn}.${escapeHrnComponent(hrn)}`, type: 'node' },
        // The aggregate serves the node too: its site is the authority's last component.
        after: () => addToInventory(dataDir(o['dir'] as string | undefined), ctx, hrn, siteHrn),
      };
    },
  );
}
