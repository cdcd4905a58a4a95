/**
 * The aggregate's inventory, for operators: nodes, their tags and status, and nodegroups
 * (`sfa node load|inventory|tag|untag|status`, `sfa nodegroup …`). Safe while the server runs:
 * every change is one SQLite transaction; the server's cached advertisement follows within its
 * time to live.
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { dataDir, loadConfig, storeLocation } from '../config.js';
import { BadArgs } from '../faults.js';
import { formatRfc3339 } from '../credentials/time.js';
import { isUrn, Xrn } from '../credentials/xrn.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import { readInventoryFile, type NodeTraffic } from '../aggregate/engine/inventory.js';
import { action, readText } from './io.js';
import { registerNodeCredentialsCommand } from './node-credentials-command.js';

interface DirOption {
  dir?: string;
}

function withEngine<T>(dir: string | undefined, fn: (engine: AggregateEngine) => T): T {
  const d = dataDir(dir);
  const config = loadConfig(d);
  const engine = AggregateEngine.open(storeLocation(d, config, 'aggregate'), {
    authority: config.authority,
  });
  try {
    return fn(engine);
  } finally {
    engine.close();
  }
}

/**
 * A managed node's traffic (its slivers' last reported counters, summed) as ` bytes_in=…`
 * fields, only those reported; nothing for a node without (unmanaged ones, as before).
 */
function trafficFields(t: NodeTraffic | undefined): string {
  if (!t) return '';
  const fields: [string, number | undefined][] = [
    ['bytes_in', t.bytesIn],
    ['bytes_out', t.bytesOut],
    ['packets_in', t.packetsIn],
    ['packets_out', t.packetsOut],
  ];
  return fields.map(([k, v]) => (v === undefined ? '' : ` ${k}=${v}`)).join('');
}

const dirOption = (c: Command) =>
  c.option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)');

export function registerInventoryCommands(program: Command): void {
  const node = program.commands.find((c) => c.name() === 'node') ?? program.command('node');
  registerNodeCredentialsCommand(node);
  registerSliceAggregateCommands(
    program.commands.find((c) => c.name() === 'slice') ?? program.command('slice'),
  );

  dirOption(
    node
      .command('load')
      .description('load (add or update) sites, nodes and nodegroups from a JSON inventory file')
      .argument('<file>', 'inventory JSON'),
  ).action(
    action((file: string, o: DirOption) => {
      readText(file, 'inventory file'); // a clear message for a missing file
      const summary = withEngine(o.dir, (e) => e.loadInventory(readInventoryFile(file)));
      process.stdout.write(
        `loaded ${summary.sites} sites, ${summary.nodes} nodes, ${summary.nodegroups} nodegroups from ${file}\n`,
      );
    }),
  );

  dirOption(
    node
      .command('inventory')
      .description(
        "list the aggregate's nodes: site, state, slivers, load, traffic (managed nodes), tags",
      )
      .option('--available', 'only nodes that can take a sliver now'),
  ).action(
    action((o: DirOption & { available?: boolean }) =>
      withEngine(o.dir, (e) => {
        const nodes = e.listNodes(new Date(), { availableOnly: o.available === true });
        for (const n of nodes) {
          const tags = n.tags.map((t) => `${t.name}=${t.value}`).join(',');
          process.stdout.write(
            `${n.hostname}  site=${n.site.loginBase} ${n.bootState}${n.exclusive ? ' exclusive' : ''} ${n.available ? 'available' : 'unavailable'}` +
              `  slivers=${n.slivers}/${n.maxSlivers} load=${n.loadAverage}${trafficFields(n.traffic)}${tags ? `  ${tags}` : ''}\n`,
          );
        }
        if (nodes.length === 0) process.stderr.write('no nodes in the inventory\n');
      }),
    ),
  );

  dirOption(
    node
      .command('tag')
      .description('set a tag on a node (e.g. net_max_rate 10000)')
      .argument('<hostname>')
      .argument('<name>')
      .argument('<value>'),
  ).action(
    action((host: string, name: string, value: string, o: DirOption) => {
      withEngine(o.dir, (e) => e.setNodeTag(host, name, value));
      process.stdout.write(`tagged ${host}: ${name}=${value}\n`);
    }),
  );

  dirOption(
    node
      .command('untag')
      .description('remove a tag from a node')
      .argument('<hostname>')
      .argument('<name>'),
  ).action(
    action((host: string, name: string, o: DirOption) => {
      withEngine(o.dir, (e) => e.removeNodeTag(host, name));
      process.stdout.write(`removed tag ${name} from ${host}\n`);
    }),
  );

  dirOption(
    node
      .command('status')
      .description("record a node's state: boot state, load average, a status check")
      .argument('<hostname>')
      .option('--boot-state <state>', 'boot, safeboot, reinstall, disabled or down')
      .option('--load <n>', 'load average')
      .option('--check <result>', 'a status check result: up or down'),
  ).action(
    action((host: string, o: DirOption & { bootState?: string; load?: string; check?: string }) => {
      const load = o.load === undefined ? undefined : Number(o.load);
      if (load !== undefined && !(load >= 0))
        throw new BadArgs(`--load must be a non-negative number, not '${o.load}'`);
      if (o.check !== undefined && o.check !== 'up' && o.check !== 'down')
        throw new BadArgs("--check must be 'up' or 'down'");
      const row = withEngine(o.dir, (e) =>
        e.setNodeStatus(host, {
          ...(o.bootState ? { bootState: o.bootState as never } : {}),
          ...(load !== undefined ? { loadAverage: load } : {}),
          ...(o.check ? { check: o.check as 'up' | 'down' } : {}),
          at: new Date(),
        }),
      );
      process.stdout.write(`${row.hostname}: ${row.bootState}, load ${row.loadAverage}\n`);
    }),
  );

  const group = program
    .command('nodegroup')
    .description('nodegroups: tags shared by a set of nodes');
  dirOption(
    group.command('list').description('list nodegroups with their tags and members'),
  ).action(
    action((o: DirOption) =>
      withEngine(o.dir, (e) => {
        for (const g of e.listNodegroups()) {
          const tags = g.tags.map((t) => `${t.name}=${t.value}`).join(',');
          process.stdout.write(
            `${g.name}  tags=${tags || '-'}  members=${g.members.join(',') || '-'}\n`,
          );
        }
      }),
    ),
  );
  dirOption(group.command('add').argument('<name>').description('add a nodegroup')).action(
    action((name: string, o: DirOption) => {
      withEngine(o.dir, (e) => e.addNodegroup(name));
      process.stdout.write(`added nodegroup ${name}\n`);
    }),
  );
  dirOption(group.command('remove').argument('<name>').description('remove a nodegroup')).action(
    action((name: string, o: DirOption) => {
      withEngine(o.dir, (e) => e.removeNodegroup(name));
      process.stdout.write(`removed nodegroup ${name}\n`);
    }),
  );
  dirOption(
    group
      .command('tag')
      .argument('<group>')
      .argument('<name>')
      .argument('<value>')
      .description('set a tag on a nodegroup'),
  ).action(
    action((g: string, name: string, value: string, o: DirOption) => {
      withEngine(o.dir, (e) => e.setNodegroupTag(g, name, value));
      process.stdout.write(`tagged nodegroup ${g}: ${name}=${value}\n`);
    }),
  );
  dirOption(
    group
      .command('member')
      .argument('<group>')
      .argument('<hostname>')
      .option('--remove', 'take the node out')
      .description('add a node to a nodegroup'),
  ).action(
    action((g: string, host: string, o: DirOption & { remove?: boolean }) => {
      withEngine(o.dir, (e) =>
        o.remove ? e.removeNodegroupMember(g, host) : e.addNodegroupMember(g, host),
      );
      process.stdout.write(
        `${o.remove ? 'removed' : 'added'} ${host} ${o.remove ? 'from' : 'to'} nodegroup ${g}\n`,
      );
    }),
  );
}

/** Who runs an operator command, for the audit trail. */
function operator(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = `uid ${process.getuid?.() ?? '?'}`;
  }
  return `operator ${user}`;
}

/** The aggregate's side of a slice: `sfa slice reopen`, `sfa slice history`. */
function registerSliceAggregateCommands(slice: Command): void {
  dirOption(
    slice
      .command('reopen')
      .description(
        'let a slice that was shut down (GENI Shutdown) allocate, provision, renew and start again',
      )
      .argument('<slice>', 'slice HRN (ple.inria.myslice) or URN')
      .option('--note <text>', 'why, for the audit trail'),
  ).action(
    action((name: string, o: DirOption & { note?: string }) =>
      withEngine(o.dir, (e) => {
        const urn = sliceUrnOf(name);
        const since = e.reopenSlice(urn, new Date(), operator(), o.note ?? null);
        process.stdout.write(
          `reopened ${urn} (shut down since ${formatRfc3339(since)}); recorded as ${operator()}\n` +
            'its slivers stay stopped until the researcher starts them (sfi action … geni_start)\n',
        );
      }),
    ),
  );

  dirOption(
    slice
      .command('history')
      .description(
        "a slice's history at this aggregate: the AM calls that changed it (by whom, with which client), shutdowns and reopenings",
      )
      .argument('<slice>', 'slice HRN or URN'),
  ).action(
    action((name: string, o: DirOption) =>
      withEngine(o.dir, (e) => {
        const urn = sliceUrnOf(name);
        const rows = e.sliceAudit(urn);
        for (const r of rows) {
          process.stdout.write(
            `${formatRfc3339(r.at)}  ${r.action}  by ${r.actor}${r.client ? `  with ${r.client}` : ''}${r.note ? `  (${r.note})` : ''}\n`,
          );
        }
        if (rows.length === 0) process.stderr.write(`nothing recorded for ${urn}\n`);
      }),
    ),
  );
}

/** A slice named by HRN or URN, as its URN. */
function sliceUrnOf(name: string): string {
  const xrn = isUrn(name) ? Xrn.fromUrn(name) : Xrn.fromHrn(name, 'slice');
  if (xrn.type !== 'slice') throw new BadArgs(`${name} is not a slice (it is a ${xrn.type})`);
  return xrn.urn;
}
