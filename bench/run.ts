/**
 * `npm run bench`: prints throughput figures for this machine. `npm run bench -- aggregate`
 * (or credentials, rspec, slicemgr, node-api, nodemanager, network, web, store) runs only the parts
 * named.
 */
import { cpus } from 'node:os';
import { benchAggregate } from './aggregate.js';
import { benchCredentials } from './credentials.js';
import { benchNodeApi } from './node-api.js';
import { benchNetwork } from './network.js';
import { benchNodeManager } from './nodemanager.js';
import { benchRspec } from './rspec.js';
import { benchSliceManager } from './slicemgr.js';
import { benchStore } from './store.js';
import { benchWeb } from './web.js';

const PARTS: Record<string, () => void | Promise<void>> = {
  credentials: benchCredentials,
  rspec: benchRspec,
  aggregate: benchAggregate,
  slicemgr: benchSliceManager,
  'node-api': benchNodeApi,
  nodemanager: benchNodeManager,
  network: benchNetwork,
  web: benchWeb,
  store: benchStore,
};

const asked = process.argv.slice(2);
if (asked.includes('--help')) {
  console.log(`usage: npm run bench [-- ${Object.keys(PARTS).join('|')} ...]`);
  process.exit(0);
}
const unknown = asked.filter((a) => !Object.hasOwn(PARTS, a));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}: choose among ${Object.keys(PARTS).join(', ')}`,
  );
  process.exit(2);
}

console.log(
  `sfa-ts benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`,
);
const run = asked.length > 0 ? asked : Object.keys(PARTS);
for (const [i, name] of run.entries()) {
  if (i > 0) console.log();
  await PARTS[name]!();
}
