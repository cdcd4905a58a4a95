import { existsSync, readFileSync } from 'node:fs';
import { isStaticElf } from '../../src/nodemanager/runtime/base-image.js';
import { describe, expect, it } from 'vitest';
import {
  BundleError,
  DEFAULT_INIT,
  DEFAULT_MEMORY_BYTES,
  DEFAULT_PIDS_LIMIT,
  cpuSharesFor,
  pickCores,
  sliverConfig,
  type SliverContainerSpec,
} from '../../src/nodemanager/runtime/bundle.js';

const spec: SliverContainerSpec = {
  hostname: 'plc_alpha',
  rootfs: '/var/lib/sfa-node/images/busybox',
  writable: {
    home: '/n/slivers/plc_alpha/home',
    var: '/n/slivers/plc_alpha/var',
    tmp: '/n/slivers/plc_alpha/tmp',
  },
  idMap: { hostId: 200000 },
  cgroupsPath: '/sfa-n1/plc_alpha',
};

describe('sliverConfig', () => {
  const config = sliverConfig(spec);

  it('gives the sliver its own pid, mount, uts, ipc, user and network namespaces', () => {
    expect(config.linux.namespaces.map((n) => n.type).sort()).toEqual([
      'ipc',
      'mount',
      'network',
      'pid',
      'user',
      'uts',
    ]);
    expect(config.linux.namespaces.find((n) => n.type === 'network')?.path).toBeUndefined();
    const joined = sliverConfig({
      ...spec,
      networkNamespacePath: '/var/run/netns/sfa-n1-plc_alpha',
    });
    expect(joined.linux.namespaces.find((n) => n.type === 'network')?.path).toBe(
      '/var/run/netns/sfa-n1-plc_alpha',
    );
  });

  it('maps container 0 to the sliver host range, 65536 ids, for users and groups', () => {
    expect(config.linux.uidMappings).toEqual([{ containerID: 0, hostID: 200000, size: 65536 }]);
    expect(config.linux.gidMappings).toEqual([{ containerID: 0, hostID: 200000, size: 65536 }]);
    expect(() => sliverConfig({ ...spec, idMap: { hostId: 0 } })).toThrow(/first host id/);
    expect(() => sliverConfig({ ...spec, idMap: { hostId: 1000 } })).toThrow(BundleError);
  });

  it('has a read-only base image root, the login name as hostname, and the writable folders bound', () => {
    expect(config.root).toEqual({ path: spec.rootfs, readonly: true });
    expect(config.hostname).toBe('plc_alpha');
    const binds = config.mounts.filter((m) => m.type === 'bind');
    expect(binds.map((m) => [m.destination, m.source])).toEqual([
      ['/root', spec.writable.home],
      ['/var', spec.writable.var],
      ['/tmp', spec.writable.tmp],
    ]);
    for (const m of binds) expect(m.options).toContain('rw');
  });

  it('mounts nothing of the node: no /sys, no cgroup, no /etc, no other host folder', () => {
    const destinations = config.mounts.map((m) => m.destination);
    expect(destinations).not.toContain('/sys');
    expect(destinations).not.toContain('/sys/fs/cgroup');
    expect(destinations.filter((d) => d.startsWith('/etc'))).toEqual([]);
    const hostSources = config.mounts.filter((m) => m.type === 'bind').map((m) => m.source);
    expect(hostSources.every((s) => s.startsWith('/n/slivers/plc_alpha/'))).toBe(true);
  });

  it('sets fair-share cpu shares, memory and pids limits, with defaults', () => {
    expect(config.linux.resources.cpu).toEqual({ shares: 1024 });
    expect(config.linux.resources.memory.limit).toBe(DEFAULT_MEMORY_BYTES);
    expect(config.linux.resources.pids.limit).toBe(DEFAULT_PIDS_LIMIT);
    const three = sliverConfig({
      ...spec,
      cpuShare: 3,
      cpus: '1',
      memoryBytes: 64 << 20,
      pidsLimit: 64,
    });
    expect(three.linux.resources.cpu).toEqual({ shares: 3072, cpus: '1' });
    expect(three.linux.resources.memory.limit).toBe(64 << 20);
    expect(three.linux.resources.pids.limit).toBe(64);
    expect(config.linux.cgroupsPath).toBe('/sfa-n1/plc_alpha');
  });

  it('runs an init that keeps the container alive, as the sliver root, without new privileges', () => {
    expect(config.process.args).toEqual(DEFAULT_INIT);
    expect(config.process.user).toEqual({ uid: 0, gid: 0 });
    expect(config.process.terminal).toBe(false);
    expect(config.process.noNewPrivileges).toBe(true);
    expect(config.process.capabilities.bounding).not.toContain('CAP_SYS_ADMIN');
    expect(config.linux.resources.devices).toEqual([{ allow: false, access: 'rwm' }]);
  });

  it('refuses absurd or unsafe values, saying which', () => {
    expect(() => sliverConfig({ ...spec, cpuShare: 0 })).toThrow(/cpu_share/);
    expect(() => sliverConfig({ ...spec, cpuShare: 1e6 })).toThrow(/cpu_share/);
    expect(() => sliverConfig({ ...spec, memoryBytes: 1024 })).toThrow(/memory limit/);
    expect(() => sliverConfig({ ...spec, pidsLimit: -1 })).toThrow(/pids limit/);
    expect(() => sliverConfig({ ...spec, cpus: '0;rm' })).toThrow(/cpuset/);
    expect(() => sliverConfig({ ...spec, hostname: 'a b' })).toThrow(/hostname/);
    expect(() => sliverConfig({ ...spec, rootfs: 'relative/rootfs' })).toThrow(/absolute/);
    expect(() =>
      sliverConfig({ ...spec, writable: { ...spec.writable, home: '/n/../etc' } }),
    ).toThrow(/absolute/);
    expect(() => sliverConfig({ ...spec, cgroupsPath: 'plc_alpha' })).toThrow(/cgroupsPath/);
    expect(() => sliverConfig({ ...spec, args: [] })).toThrow(/process/);
  });

  it('is pure: the same spec gives the same config, and the spec is not changed', () => {
    const copy = structuredClone(spec);
    expect(sliverConfig(spec)).toEqual(sliverConfig(copy));
    expect(spec).toEqual(copy);
  });
});

describe('cpuSharesFor and pickCores', () => {
  it('makes shares proportional to cpu_share', () => {
    expect(cpuSharesFor(3) / cpuSharesFor(1)).toBe(3);
    expect(cpuSharesFor(0.5)).toBe(512);
    expect(cpuSharesFor(0.0001)).toBe(2);
  });

  it('reserves the lowest free cores and keeps one for the node', () => {
    expect(pickCores(1, [0, 1, 2, 3], new Set())).toBe('0');
    expect(pickCores(2, [0, 1, 2, 3], new Set([0]))).toBe('1,2');
    expect(() => pickCores(2, [0, 1], new Set())).toThrow(/keeps one/);
    expect(() => pickCores(2, [0, 1, 2, 3], new Set([0, 1, 2]))).toThrow(/only 1/);
    expect(() => pickCores(0, [0, 1], new Set())).toThrow(/cpu_cores/);
  });
});

describe('isStaticElf', () => {
  it('tells a static executable from a dynamic one and from non-ELF data', () => {
    // node itself is dynamically linked on Debian.
    expect(isStaticElf(readFileSync(process.execPath))).toBe(false);
    expect(isStaticElf(Buffer.from('#!/bin/sh\necho hi\n'))).toBe(false);
    if (existsSync('/bin/busybox')) expect(isStaticElf(readFileSync('/bin/busybox'))).toBe(true);
  });
});
