/**
 * Pure parts of the sliver's realization: attributes → resource limits → container spec, the
 * initscript's record and report text, and the cgroup counters' parsing. No disk, no runc.
 */
import { describe, expect, it } from 'vitest';
import { parseCounter } from '../../src/nodemanager/counters.js';
import { initscriptCode, initscriptError, tailOf } from '../../src/nodemanager/initscript.js';
import { plan, type SliverEntry } from '../../src/nodemanager/reconcile.js';
import { BundleError, sliverConfig } from '../../src/nodemanager/runtime/bundle.js';
import {
  parseCpuList,
  parseMemory,
  sliverContainerSpec,
  sliverLimits,
} from '../../src/nodemanager/sliver-spec.js';

const MiB = 1024 ** 2;
const attrs = (o: Record<string, string>) =>
  Object.entries(o).map(([name, value]) => ({ name, value, source: 'sliver' }));

function sliver(login: string, a: Record<string, string> = {}): SliverEntry {
  return {
    sliverUrn: `urn:publicid:IDN+ple:inria+sliver+${login}`,
    sliceUrn: `urn:publicid:IDN+ple:inria+slice+${login}`,
    sliceHrn: `ple.inria.${login}`,
    loginName: login,
    keys: [],
    attributes: attrs(a),
    initscripts: [],
    cpuShare: 2,
    desiredState: 'started',
    expires: '2026-12-25T12:00:00Z',
    ports: [],
  };
}

const placement = {
  rootfs: '/images/busybox',
  writable: { home: '/n/s/home', var: '/n/s/var', tmp: '/n/s/tmp' },
  hostId: 200_000,
};

describe('sliverLimits: attributes → limits', () => {
  it('no attributes: nothing asked (the runtime defaults apply)', () => {
    expect(sliverLimits([])).toEqual({});
    expect(sliverLimits(attrs({ net_max_rate: '10000', vref: 'x' }))).toEqual({});
  });

  it('reads cpu_cores, memory_max and pids_max', () => {
    expect(sliverLimits(attrs({ cpu_cores: '1', memory_max: '256', pids_max: '100' }))).toEqual({
      cpuCores: 1,
      memoryBytes: 256 * MiB,
      pidsLimit: 100,
    });
  });

  it("cpu_cores 0 reserves nothing; PlanetLab's best-effort '1b' is one core", () => {
    expect(sliverLimits(attrs({ cpu_cores: '0' }))).toEqual({});
    expect(sliverLimits(attrs({ cpu_cores: '1b' }))).toEqual({ cpuCores: 1 });
  });

  it('memory_max: MiB when bare, or a binary unit', () => {
    expect(parseMemory('512')).toBe(512 * MiB);
    expect(parseMemory('64M')).toBe(64 * MiB);
    expect(parseMemory('64MB')).toBe(64 * MiB);
    expect(parseMemory('64MiB')).toBe(64 * MiB);
    expect(parseMemory('1g')).toBe(1024 * MiB);
    expect(parseMemory('1.5G')).toBe(1536 * MiB);
    expect(parseMemory('16384K')).toBe(16 * MiB);
  });

  it('the last of repeated attributes wins', () => {
    const a = [...attrs({ pids_max: '50' }), ...attrs({ pids_max: '60' })];
    expect(sliverLimits(a)).toEqual({ pidsLimit: 60 });
  });

  it('absurd values are refused with the attribute named', () => {
    const bad: [Record<string, string>, string][] = [
      [{ memory_max: '1' }, 'memory_max "1" is out of range: at least 8 MiB and at most 1024 TiB'],
      [{ memory_max: 'lots' }, 'memory_max must be a size in MiB'],
      [{ memory_max: '-5' }, 'memory_max must be a size in MiB'],
      [{ memory_max: '99999999999G' }, 'memory_max "99999999999G" is out of range'],
      [{ pids_max: '0' }, 'pids_max must be an integer from 8 to 4194304, not "0"'],
      [{ pids_max: '1e9' }, 'pids_max must be an integer from 8 to 4194304, not "1e9"'],
      [{ cpu_cores: '-1' }, 'cpu_cores must be an integer from 0 to 1024, not "-1"'],
      [{ cpu_cores: '2000' }, 'cpu_cores must be an integer from 0 to 1024, not "2000"'],
      [{ cpu_cores: 'all' }, 'cpu_cores must be an integer'],
    ];
    for (const [a, message] of bad) {
      expect(() => sliverLimits(attrs(a)), JSON.stringify(a)).toThrow(BundleError);
      expect(() => sliverLimits(attrs(a)), JSON.stringify(a)).toThrow(message);
    }
  });
});

describe('sliverContainerSpec: sliver → ContainerSpec → OCI config', () => {
  it('without limits: hostname, cpu_share, and the runtime defaults in config.json', () => {
    const spec = sliverContainerSpec(sliver('inria_a'), placement);
    expect(spec).toEqual({
      hostname: 'inria_a',
      rootfs: '/images/busybox',
      writable: placement.writable,
      idMap: { hostId: 200_000 },
      cpuShare: 2,
    });
    const res = sliverConfig({ ...spec, cgroupsPath: '/sfa-n/inria_a' }).linux.resources;
    expect(res.cpu).toEqual({ shares: 2048 });
    expect(res.memory).toEqual({ limit: 512 * MiB });
    expect(res.pids).toEqual({ limit: 512 });
  });

  it('with limits: cpuset from the picked cores, memory and pids', () => {
    const s = sliver('inria_b', { cpu_cores: '1', memory_max: '64M', pids_max: '100' });
    const spec = sliverContainerSpec(s, { ...placement, cpus: '1' });
    expect(spec).toMatchObject({ cpus: '1', memoryBytes: 64 * MiB, pidsLimit: 100 });
    const res = sliverConfig({ ...spec, cgroupsPath: '/sfa-n/inria_b' }).linux.resources;
    expect(res.cpu).toEqual({ shares: 2048, cpus: '1' });
    expect(res.memory).toEqual({ limit: 64 * MiB });
    expect(res.pids).toEqual({ limit: 100 });
  });

  it('cores asked but none picked is an error, not an unpinned sliver', () => {
    expect(() => sliverContainerSpec(sliver('x', { cpu_cores: '1' }), placement)).toThrow(
      'cpu_cores 1: no cores were picked',
    );
  });

  it('parses the online cpu list', () => {
    expect(parseCpuList('0-1\n')).toEqual([0, 1]);
    expect(parseCpuList('0-2,5,7-8')).toEqual([0, 1, 2, 5, 7, 8]);
    expect(() => parseCpuList('x')).toThrow(BundleError);
  });
});

describe('plan: an absurd limit fails that sliver alone', () => {
  it('reports the reason and still creates the others', () => {
    const p = plan({
      answer: {
        node: { hostname: 'node1.inria.fr', urn: 'urn:x', exclusive: false },
        generation: 1,
        now: '2026-11-25T12:00:00Z',
        slivers: [sliver('good'), sliver('bad', { memory_max: '1K' })],
        leases: [],
      },
      containers: [],
      dataNames: [],
      now: new Date('2026-11-25T12:00:00Z'),
    });
    expect(p.actions.map((a) => `${a.kind} ${a.name}`)).toEqual(['create good']);
    expect(p.failed).toEqual([
      {
        sliverUrn: 'urn:publicid:IDN+ple:inria+sliver+bad',
        name: 'bad',
        error: 'memory_max "1K" is out of range: at least 8 MiB and at most 1024 TiB',
      },
    ]);
  });
});

describe('initscript records', () => {
  it('takes the code, not the name; empty code is none', () => {
    expect(initscriptCode(attrs({ initscript: 'alpha-bootstrap' }))).toBeUndefined();
    expect(initscriptCode(attrs({ initscript: 'a', initscript_code: 'echo hi' }))).toBe('echo hi');
    expect(initscriptCode(attrs({ initscript_code: '  \n' }))).toBeUndefined();
  });

  it('keeps the last lines of the output, bounded', () => {
    const out = Array.from({ length: 50 }, (_, i) => `line ${i}`).join('\n');
    expect(tailOf(`${out}\n\n`).split('\n')).toEqual(
      Array.from({ length: 20 }, (_, i) => `line ${i + 30}`),
    );
    expect(tailOf('x'.repeat(5000))).toHaveLength(2000);
  });

  it('says why it failed, or nothing when it succeeded', () => {
    const base = { sha256: 'h', started: '2026-11-25T12:00:00.000Z' };
    const done = { ...base, finished: '2026-11-25T12:00:01.000Z' };
    expect(initscriptError(undefined)).toBeUndefined();
    expect(initscriptError({ ...done, exit: 0, tail: 'ok' })).toBeUndefined();
    expect(initscriptError({ ...done, exit: 3, tail: 'no such thing' })).toBe(
      'initscript exited with status 3: no such thing',
    );
    expect(initscriptError({ ...done, error: 'exec in x timed out: /bin/sh' })).toBe(
      'initscript: exec in x timed out: /bin/sh',
    );
    expect(initscriptError(base)).toBe(
      'initscript: interrupted (the node manager stopped during it)',
    );
  });
});

describe('cgroup counters', () => {
  it('reads one non-negative integer, else nothing', () => {
    expect(parseCounter('123456789\n')).toBe(123456789);
    expect(parseCounter('0')).toBe(0);
    expect(parseCounter('')).toBeUndefined();
    expect(parseCounter('max')).toBeUndefined();
    expect(parseCounter('-1')).toBeUndefined();
  });
});
