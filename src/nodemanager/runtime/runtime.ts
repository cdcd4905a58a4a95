/**
 * The container runtime as the node manager sees it: a small interface, so that the reconcile
 * loop does not know which runtime it drives. `RuncRuntime` (runc.ts) is the one implementation
 * today; libvirt-lxc or another OCI runtime could be a second one.
 *
 * Containers are named by the sliver's short name (its login name); an implementation adds the
 * node's prefix to every name it creates on the machine (container ids, cgroups), so that two
 * node managers on one machine never see each other's containers.
 */
import type { SliverContainerSpec } from './bundle.js';

/** What a runtime says of a container (`stopped`: its init has exited, or was never started). */
export type ContainerStatus = 'created' | 'running' | 'paused' | 'stopped';

export interface ContainerInfo {
  /** The sliver's name, without the node prefix. */
  name: string;
  /** The runtime's id of the container (with the node prefix). */
  id: string;
  status: ContainerStatus;
  /** The init's host pid while it runs (undefined when stopped). */
  pid: number | undefined;
  /** When the container was created (ISO 8601). */
  created: string;
}

/** What a sliver's container is made of; the runtime adds the cgroup path (with its prefix). */
export type ContainerSpec = Omit<SliverContainerSpec, 'cgroupsPath'>;

export interface ExecResult {
  /** The command's exit status (or 128 + signal number when a signal ended it). */
  code: number;
  stdout: string;
  stderr: string;
}

/** A command line that runs a process inside a container (for a login shell with a pty). */
export interface ExecCommand {
  file: string;
  args: string[];
}

export interface ContainerRuntime {
  /** Create the container (not started): its init is ready, waiting for `start`. */
  create(name: string, spec: ContainerSpec): Promise<ContainerInfo>;
  /** Start the init of a created container. */
  start(name: string): Promise<void>;
  /** Send a signal to the container's init (`KILL`, `TERM`, …). */
  kill(name: string, signal?: string): Promise<void>;
  /** Stop gracefully: TERM, then KILL after `timeoutMs`; resolves once it is stopped. */
  stop(name: string, timeoutMs?: number): Promise<void>;
  /** Remove the container, running or not (its writable folders stay). False if there was none. */
  delete(name: string): Promise<boolean>;
  /** The containers of this node. */
  list(): Promise<ContainerInfo[]>;
  /** One container of this node, or undefined. */
  state(name: string): Promise<ContainerInfo | undefined>;
  /** Run a command inside a running container and wait for it (bounded output and time). */
  exec(
    name: string,
    args: readonly string[],
    options?: { timeoutMs?: number },
  ): Promise<ExecResult>;
  /** The command line that runs `args` inside the container, for the caller to spawn itself. */
  execCommand(name: string, args: readonly string[], options?: { tty?: boolean }): ExecCommand;
  /** Remove every container and cgroup of this node, and the runtime's own folders. */
  cleanup(): Promise<void>;
}
