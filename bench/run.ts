/**
 * `npm run bench`: prints throughput figures for this machine.
 */
import { cpus } from 'node:os';
import { benchAggregate } from './aggregate.js';
import { benchCredentials } from './credentials.js';
import { benchRspec } from './rspec.js';
import { benchSliceManager } from './slicemgr.js';

console.log(
  `sfa-ts benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`,
);
benchCredentials();
console.log();
benchRspec();
console.log();
await benchAggregate();
console.log();
await benchSliceManager();
