/**
 * The OCI bundle of one sliver: a pure function from what the node manager knows about a sliver
 * to the `config.json` that `runc` (or any OCI runtime) runs. Nothing here touches the disk.
 *
 * What a sliver gets (issue 10, part 3):
 * - its own PID, mount, UTS, IPC, user and network namespaces (the network namespace is new and
 *   has no interface but `lo` until the network part gives it a path to a prepared namespace);
 * - a user namespace mapping the container's 0..size-1 to the host's `hostId`..: the sliver's
 *   root is not the node's root, and each sliver has its own range;
 * - the base image as a read-only root, with the sliver's own writable home, var and tmp folders
 *   bind-mounted over it; no mount of the node's `/etc`, keys or `/sys` (the `/sys` and
 *   `/sys/fs/cgroup` mounts of `runc spec` cannot be made with a user namespace on a read-only
 *   root owned by the host's root, and a sliver has no use for the node's `/sys`);
 * - cgroup limits: CPU shares proportional to `cpu_share` (1024 per share), reserved cores
 *   (cpuset) from `cpu_cores`, a memory limit and a pids limit with defaults;
 * - an init that keeps the container alive and exits on SIGTERM, so `stop` is graceful.
 */

/** The container's view of the sliver's writable folders (host folders are bound over these). */
export const SLIVER_MOUNT_POINTS = Object.freeze({ home: '/root', var: '/var', tmp: '/tmp' });

/** CPU shares per unit of `cpu_share` (the kernel's default weight of one cgroup). */
export const SHARES_PER_CPU_SHARE = 1024;
/** The largest `cpu_share` accepted: cgroup v1 caps `cpu.shares` at 262144 = 256 × 1024. */
export const MAX_CPU_SHARE = 256;
/** Default memory limit of a sliver: 512 MiB. */
export const DEFAULT_MEMORY_BYTES = 512 * 1024 * 1024;
/** Smallest memory limit accepted (below it busybox itself does not fit): 8 MiB. */
export const MIN_MEMORY_BYTES = 8 * 1024 * 1024;
/** Default number of processes and threads a sliver may have. */
export const DEFAULT_PIDS_LIMIT = 512;
/** The size of a sliver's uid and gid range (container 0..65535). */
export const DEFAULT_ID_RANGE = 65536;

/**
 * The init of a sliver: a shell that sleeps for ever and exits 0 on SIGTERM (PID 1 of a PID
 * namespace ignores signals it has no handler for, so a bare `sleep` would only die of SIGKILL).
 */
export const DEFAULT_INIT: readonly string[] = Object.freeze([
  '/bin/sh',
  '-c',
  'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done',
]);

/** Capabilities of the sliver's root: Docker's default set, meaningful only in its user namespace. */
const CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

export interface SliverContainerSpec {
  /** The sliver's login name (`<site>_<slice>`): the container's hostname. */
  hostname: string;
  /** Absolute path of the base image's root folder (read-only in the container). */
  rootfs: string;
  /** Absolute host paths of the sliver's writable folders, owned by `idMap.hostId`. */
  writable: { home: string; var: string; tmp: string };
  /** Container uid/gid 0 is host `hostId`; `size` ids are mapped (default 65536). */
  idMap: { hostId: number; size?: number };
  /** The cgroup path, carrying the node's prefix: `/<node prefix>/<sliver>`. */
  cgroupsPath: string;
  /** The sliver's `cpu_share` (default 1): `cpu.shares` = 1024 × cpu_share. */
  cpuShare?: number;
  /** Reserved cores as a cpuset list (`"2"`, `"0-1"`, `"1,3"`), from `cpu_cores`; see pickCores. */
  cpus?: string;
  /** Memory limit in bytes (default 512 MiB). */
  memoryBytes?: number;
  /** Processes and threads (default 512). */
  pidsLimit?: number;
  /** The container's init (default DEFAULT_INIT). */
  args?: readonly string[];
  /** The sliver's vsys folder (root's, FIFOs inside), bound at `/vsys` (the image must have it). */
  vsys?: string;
  /** A network namespace to join (e.g. `/var/run/netns/<name>`); default a new empty one. */
  networkNamespacePath?: string;
}

/** A sliver entry the node cannot realize: the message says which value and why. */
export class BundleError extends Error {
  override readonly name = 'BundleError';
}

/** The subset of the OCI runtime spec this module writes. */
export interface OciConfig {
  ociVersion: string;
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<'bounding' | 'effective' | 'permitted' | 'ambient', string[]>;
    rlimits: { type: string; hard: number; soft: number }[];
    noNewPrivileges: boolean;
  };
  root: { path: string; readonly: boolean };
  hostname: string;
  mounts: { destination: string; type: string; source: string; options: string[] }[];
  linux: {
    uidMappings: { containerID: number; hostID: number; size: number }[];
    gidMappings: { containerID: number; hostID: number; size: number }[];
    resources: {
      devices: { allow: boolean; access: string }[];
      cpu: { shares: number; cpus?: string };
      memory: { limit: number };
      pids: { limit: number };
    };
    cgroupsPath: string;
    namespaces: { type: string; path?: string }[];
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}

const HOSTNAME = /^[a-z0-9]([a-z0-9_-]{0,61}[a-z0-9])?$/i;
const CGROUPS_PATH = /^(\/[A-Za-z0-9][A-Za-z0-9_.-]*){2,}$/;
const CPUSET = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

function absolute(what: string, path: string): string {
  if (!path.startsWith('/') || path.split('/').includes('..') || path.includes('\0')) {
    throw new BundleError(`${what} must be an absolute path without '..': ${JSON.stringify(path)}`);
  }
  return path;
}

function integer(what: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BundleError(`${what} must be an integer from ${min} to ${max}, not ${value}`);
  }
  return value;
}

/** `cpu.shares` for a `cpu_share` (fair share: proportional, 1024 per share). */
export function cpuSharesFor(cpuShare: number): number {
  if (!Number.isFinite(cpuShare) || cpuShare <= 0 || cpuShare > MAX_CPU_SHARE) {
    throw new BundleError(
      `cpu_share must be a number above 0 and at most ${MAX_CPU_SHARE}, not ${cpuShare}`,
    );
  }
  // The kernel's minimum is 2; fractional shares round to the nearest weight.
  return Math.max(2, Math.round(cpuShare * SHARES_PER_CPU_SHARE));
}

/**
 * The cores to reserve for a sliver asking for `count` (`cpu_cores`): the lowest online cores no
 * other sliver holds, as a cpuset list. Fails when there are not enough free cores; never reserves
 * every online core (the node manager and the other slivers need one).
 */
export function pickCores(
  count: number,
  online: readonly number[],
  taken: ReadonlySet<number>,
): string {
  integer('cpu_cores', count, 1, 1024);
  const free = [...online].filter((c) => !taken.has(c)).sort((a, b) => a - b);
  if (count >= online.length) {
    throw new BundleError(
      `cpu_cores ${count}: the node has ${online.length} cores and keeps one for itself`,
    );
  }
  if (free.length < count) {
    throw new BundleError(
      `cpu_cores ${count}: only ${free.length} cores are not reserved by other slivers`,
    );
  }
  return free.slice(0, count).join(',');
}

/** The OCI `config.json` of a sliver (`root.path` is the absolute base image folder, shared read-only). */
export function sliverConfig(spec: SliverContainerSpec): OciConfig {
  if (!HOSTNAME.test(spec.hostname)) {
    throw new BundleError(
      `the login name ${JSON.stringify(spec.hostname)} is not a valid hostname`,
    );
  }
  if (!CGROUPS_PATH.test(spec.cgroupsPath)) {
    throw new BundleError(
      `cgroupsPath must be /<node prefix>/<name> (letters, digits, '_', '.', '-'), not ${JSON.stringify(spec.cgroupsPath)}`,
    );
  }
  const rootfs = absolute('the base image folder', spec.rootfs);
  const size = integer('the id range size', spec.idMap.size ?? DEFAULT_ID_RANGE, 1, 1 << 24);
  // Host ids below 65536 are the node's own users: a sliver's range starts above them.
  const hostId = integer('the first host id', spec.idMap.hostId, 65536, 2 ** 32 - 1 - size);
  const shares = cpuSharesFor(spec.cpuShare ?? 1);
  const memory = integer(
    'the memory limit',
    spec.memoryBytes ?? DEFAULT_MEMORY_BYTES,
    MIN_MEMORY_BYTES,
    2 ** 50,
  );
  const pids = integer('the pids limit', spec.pidsLimit ?? DEFAULT_PIDS_LIMIT, 8, 4_194_304);
  if (spec.cpus !== undefined && !CPUSET.test(spec.cpus)) {
    throw new BundleError(
      `reserved cores must be a cpuset list like "0-1,3", not ${JSON.stringify(spec.cpus)}`,
    );
  }
  const args = [...(spec.args ?? DEFAULT_INIT)];
  if (args.length === 0) throw new BundleError('the container needs a process to run');
  const caps = [...CAPABILITIES];
  const bind = (destination: string, source: string) => ({
    destination,
    type: 'bind',
    source: absolute(`the writable folder for ${destination}`, source),
    options: ['rbind', 'rw', 'nosuid', 'nodev'],
  });
  const network =
    spec.networkNamespacePath === undefined
      ? { type: 'network' }
      : { type: 'network', path: absolute('the network namespace', spec.networkNamespacePath) };
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args,
      env: [
        'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'HOME=/root',
        'TERM=xterm',
      ],
      cwd: '/',
      capabilities: { bounding: caps, effective: caps, permitted: caps, ambient: [] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: rootfs, readonly: true },
    hostname: spec.hostname,
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: [] },
      {
        destination: '/dev',
        type: 'tmpfs',
        source: 'tmpfs',
        options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'],
      },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'],
      },
      {
        destination: '/dev/shm',
        type: 'tmpfs',
        source: 'shm',
        options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'],
      },
      {
        destination: '/dev/mqueue',
        type: 'mqueue',
        source: 'mqueue',
        options: ['nosuid', 'noexec', 'nodev'],
      },
      bind(SLIVER_MOUNT_POINTS.home, spec.writable.home),
      bind(SLIVER_MOUNT_POINTS.var, spec.writable.var),
      bind(SLIVER_MOUNT_POINTS.tmp, spec.writable.tmp),
      ...(spec.vsys === undefined ? [] : [bind('/vsys', spec.vsys)]),
    ],
    linux: {
      uidMappings: [{ containerID: 0, hostID: hostId, size }],
      gidMappings: [{ containerID: 0, hostID: hostId, size }],
      resources: {
        devices: [{ allow: false, access: 'rwm' }],
        cpu: spec.cpus === undefined ? { shares } : { shares, cpus: spec.cpus },
        memory: { limit: memory },
        pids: { limit: pids },
      },
      cgroupsPath: spec.cgroupsPath,
      namespaces: [
        { type: 'pid' },
        { type: 'ipc' },
        { type: 'uts' },
        { type: 'mount' },
        { type: 'user' },
        network,
      ],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}
