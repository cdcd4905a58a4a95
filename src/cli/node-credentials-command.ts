/**
 * `sfa node credentials HOST --out NODEDIR`, on the authority: what a node needs to run its node
 * manager. NODEDIR gets the node's private key (`node.pkey`, 0600) and GID (`node.gid`, with its
 * chain), the authority's root certificate (`root.gid`, to check the aggregate's), and
 * `node.json` (the node's names and the URL of the aggregate's node API). Copy the folder to the
 * node; the authority keeps no copy of the key.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { dataDir, loadConfig, storeLocation } from '../config.js';
import { BadArgs, SearchFailed } from '../faults.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import { nodeHrn } from '../aggregate/engine/urns.js';
import { formatRfc3339 } from '../credentials/time.js';
import { issueNodeIdentity } from '../registry/node-identity.js';
import { openRegistry } from '../registry/open-registry.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { fileState } from '../store/file-state.js';
import { action } from './io.js';

/** The file a node manager reads to find its aggregate. */
export interface NodeConfig {
  hostname: string;
  hrn: string;
  urn: string;
  /** The aggregate's node API (`https://HOST:12346/node`). */
  aggregate: string;
}

interface Flags {
  out: string;
  dir?: string;
  aggregateUrl?: string;
}

/** The node's HRN, from the aggregate's inventory (its site is there). */
function nodeOf(dir: string, authority: string, hostname: string): string {
  const engine = AggregateEngine.open(storeLocation(dir, loadConfig(dir), 'aggregate'), {
    authority,
  });
  try {
    const node = engine.listNodes(new Date()).find((n) => n.hostname === hostname.toLowerCase());
    if (!node) {
      throw new SearchFailed(
        `no node ${hostname} in the aggregate's inventory: add it first (sfa node add ${hostname} --site <authority>)`,
      );
    }
    return nodeHrn(authority, node.site.loginBase, node.hostname);
  } finally {
    engine.close();
  }
}

async function credentials(hostname: string, o: Flags): Promise<void> {
  const dir = dataDir(o.dir);
  const config = loadConfig(dir);
  const out = o.out;
  const keyFile = join(out, 'node.pkey');
  // Never over a key a node may be using: the operator moves it away knowingly.
  if (fileState(keyFile) !== 'missing') {
    throw new BadArgs(
      `${keyFile} exists: a node's key is never overwritten; use another --out, or remove it first`,
    );
  }
  const hrn = nodeOf(dir, config.authority, hostname);
  const reg = openRegistry(dir);
  try {
    const now = new Date();
    const { keyPem, gid } = await issueNodeIdentity(reg.ctx, hrn, now);
    const root = reg.ctx.keys.get(config.authority).gid;
    const aggregate = o.aggregateUrl ?? `https://${config.hostname}:${config.ports.aggregate}/node`;
    const nodeConfig: NodeConfig = {
      hostname: hostname.toLowerCase(),
      hrn,
      urn: gid.urn,
      aggregate,
    };
    mkdirSync(out, { recursive: true, mode: 0o700 });
    writeFileAtomic(keyFile, keyPem, { mode: 0o600, exclusive: true });
    writeFileAtomic(join(out, 'node.gid'), gid.pem, { mode: 0o644 });
    writeFileAtomic(join(out, 'root.gid'), root.pem, { mode: 0o644 });
    writeFileAtomic(join(out, 'node.json'), `${JSON.stringify(nodeConfig, null, 2)}\n`, {
      mode: 0o644,
    });
    process.stdout.write(
      `wrote ${out}: node.pkey, node.gid (${gid.urn}, valid until ${formatRfc3339(gid.notAfter)}), root.gid, node.json\n` +
        `  the node's aggregate: ${aggregate}\n` +
        `  copy the folder to the node (the key stays secret); the node's earlier GID, if any, is replaced\n`,
    );
  } finally {
    reg.close();
  }
}

export function registerNodeCredentialsCommand(node: Command): void {
  node
    .command('credentials')
    .description("write a node's key, GID, the root certificate and its aggregate URL to a folder")
    .argument('<hostname>', 'the node, as in the inventory (node1.inria.fr)')
    .requiredOption(
      '--out <nodedir>',
      'the folder to write (created; its key is never overwritten)',
    )
    .option(
      '--aggregate-url <url>',
      "the node API's URL (default https://HOSTNAME:PORT/node from sfa.json)",
    )
    .option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)')
    .action(action(credentials));
}
