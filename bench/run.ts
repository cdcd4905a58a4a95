/**
 * `npm run bench`: prints throughput figures for this machine.
 */
import { cpus } from 'node:os';
import { benchCredentials } from './credentials.js';

console.log(
  `sfa-ts benchmarks — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n`,
);
benchCredentials();
