/**
 * Per-sliver counters for ReportNodeStatus, read from the cgroup v1 folders of the container's
 * init (found as the runtime finds them: `/proc/<pid>/cgroup`, see cgroupDir):
 * - `cpu_seconds`: `cpuacct.usage` (nanoseconds of CPU used by the sliver since its container
 *   started) in seconds;
 * - `memory_bytes`: `memory.usage_in_bytes` (the sliver's memory now, page cache included).
 * `bytes_in` / `bytes_out` are not reported: a sliver has no network interface but `lo` yet.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cgroupDir } from './runtime/runc.js';

export interface SliverCounters {
  cpuSeconds?: number;
  memoryBytes?: number;
}

/** A cgroup file's single non-negative integer, or undefined. */
export function parseCounter(text: string): number | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function read(pid: number, controller: string, file: string): number | undefined {
  try {
    return parseCounter(readFileSync(join(cgroupDir(pid, controller), file), 'utf8'));
  } catch {
    // The container stopped meanwhile, or the controller is not mounted: no figure.
    return undefined;
  }
}

/** The counters of the container whose init is `pid`; fields it cannot read are left out. */
export function readCounters(pid: number): SliverCounters {
  const ns = read(pid, 'cpuacct', 'cpuacct.usage');
  const mem = read(pid, 'memory', 'memory.usage_in_bytes');
  return {
    ...(ns === undefined ? {} : { cpuSeconds: ns / 1e9 }),
    ...(mem === undefined ? {} : { memoryBytes: mem }),
  };
}
