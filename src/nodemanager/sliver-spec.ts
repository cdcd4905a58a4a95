/**
 * A sliver's resource limits from its resolved attributes (GetSlivers' `attributes`, already
 * resolved nodegroup < node < request on the aggregate). Pure: no disk, no runtime.
 *
 * Attributes read (absent: the runtime's default; any other value fails that sliver alone):
 * - `cpu_cores`: cores reserved for the sliver (its cpuset), an integer; `0` reserves none.
 *   PlanetLab's best-effort mark (`"1b"`) is accepted and reserves the same number of cores.
 * - `memory_max`: the memory limit, in MiB when a bare number (`"512"`), or with a binary unit
 *   `K`, `M`, `G`, `T` (optionally followed by `B` or `iB`: `"64M"`, `"1GiB"`, `"1.5G"`).
 *   At least 8 MiB.
 * - `pids_max`: the most processes and threads, an integer from 8 to 4194304.
 * `cpu_share` is given by GetSlivers as its own field and handled with it.
 */
import type { SliverEntry } from './reconcile.js';
import { BundleError, MIN_MEMORY_BYTES } from './runtime/bundle.js';
import type { ContainerSpec } from './runtime/runtime.js';

/** The largest memory limit accepted (the bundle's own bound): 2^50 bytes. */
export const MAX_MEMORY_BYTES = 2 ** 50;
/** The most pids (the kernel's `pid_max` limit). */
export const MAX_PIDS = 4_194_304;
export const MIN_PIDS = 8;
/** The most cores a sliver may ask for (the node's count is checked when cores are picked). */
export const MAX_CPU_CORES = 1024;

/** What the attributes ask of the container; undefined fields take the runtime's defaults. */
export interface SliverLimits {
  /** Cores to reserve (0 or undefined: none). */
  cpuCores?: number;
  memoryBytes?: number;
  pidsLimit?: number;
}

type Attribute = { readonly name: string; readonly value: string };

const UNITS: Readonly<Record<string, number>> = {
  '': 1024 ** 2, // A bare number is MiB.
  K: 1024,
  M: 1024 ** 2,
  G: 1024 ** 3,
  T: 1024 ** 4,
};

/** The last value of attribute `name` (the aggregate resolved precedence; a repeat is its own). */
function attr(attributes: readonly Attribute[], name: string): string | undefined {
  let v: string | undefined;
  for (const a of attributes) if (a.name === name) v = a.value;
  return v?.trim();
}

/** `memory_max` as bytes (see the module comment). */
export function parseMemory(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([KMGT]?)(?:i?B)?$/i.exec(value.trim());
  const unit = m === null ? undefined : UNITS[(m[2] ?? '').toUpperCase()];
  if (m === null || unit === undefined) {
    throw new BundleError(
      `memory_max must be a size in MiB ("512") or with a unit K, M, G or T ("64M", "1G"), not ${JSON.stringify(value)}`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (!Number.isFinite(bytes) || bytes < MIN_MEMORY_BYTES || bytes > MAX_MEMORY_BYTES) {
    throw new BundleError(
      `memory_max ${JSON.stringify(value)} is out of range: at least ${MIN_MEMORY_BYTES / 1024 ** 2} MiB and at most ${MAX_MEMORY_BYTES / 1024 ** 4} TiB`,
    );
  }
  return bytes;
}

function parseCount(name: string, value: string, min: number, max: number, suffix = ''): number {
  const m = new RegExp(`^(\\d{1,8})${suffix}$`).exec(value);
  const n = m === null ? NaN : Number(m[1]);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new BundleError(
      `${name} must be an integer from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * The limits the attributes ask for; BundleError naming the attribute and the accepted form
 * when a value is not acceptable.
 */
export function sliverLimits(attributes: readonly Attribute[]): SliverLimits {
  const out: SliverLimits = {};
  const cores = attr(attributes, 'cpu_cores');
  if (cores !== undefined && cores !== '') {
    // PlanetLab's "Nb" (best effort) is N cores here: other slivers are not kept off them anyway.
    const n = parseCount('cpu_cores', cores, 0, MAX_CPU_CORES, 'b?');
    if (n > 0) out.cpuCores = n;
  }
  const memory = attr(attributes, 'memory_max');
  if (memory !== undefined && memory !== '') out.memoryBytes = parseMemory(memory);
  const pids = attr(attributes, 'pids_max');
  if (pids !== undefined && pids !== '')
    out.pidsLimit = parseCount('pids_max', pids, MIN_PIDS, MAX_PIDS);
  return out;
}

/** Why the attributes' limits cannot be applied, or undefined (for the planner's check). */
export function limitsProblem(attributes: readonly Attribute[]): string | undefined {
  try {
    sliverLimits(attributes);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** Where the sliver's container comes from on this node (the agent's part of the spec). */
export interface SliverPlacement {
  rootfs: string;
  writable: { home: string; var: string; tmp: string };
  hostId: number;
  /** The cpuset picked for `limits.cpuCores` (see pickCores), when it asks for cores. */
  cpus?: string;
}

/**
 * The container spec of a sliver: its login name as hostname, `cpu_share`, and the limits its
 * attributes ask for (absent ones left to the runtime's defaults).
 */
export function sliverContainerSpec(s: SliverEntry, at: SliverPlacement): ContainerSpec {
  const limits = sliverLimits(s.attributes);
  const cpus = limits.cpuCores === undefined ? undefined : at.cpus;
  if (limits.cpuCores !== undefined && cpus === undefined) {
    throw new BundleError(`cpu_cores ${limits.cpuCores}: no cores were picked`);
  }
  return {
    hostname: s.loginName,
    rootfs: at.rootfs,
    writable: at.writable,
    idMap: { hostId: at.hostId },
    cpuShare: s.cpuShare,
    ...(cpus === undefined ? {} : { cpus }),
    ...(limits.memoryBytes === undefined ? {} : { memoryBytes: limits.memoryBytes }),
    ...(limits.pidsLimit === undefined ? {} : { pidsLimit: limits.pidsLimit }),
  };
}

/** The online cores of this machine from `/sys/devices/system/cpu/online` text (`"0-3,6"`). */
export function parseCpuList(text: string): number[] {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (m === null) throw new BundleError(`not a cpu list: ${JSON.stringify(text)}`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}
