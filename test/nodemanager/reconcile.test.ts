/**
 * The node manager's planner (pure, fixed clock): what to create, start, stop and delete from a
 * GetSlivers answer and the runtime's containers.
 */
import { describe, expect, it } from 'vitest';
import {
  AnswerError,
  parseAnswer,
  plan,
  type SliverEntry,
  type SliversAnswer,
} from '../../src/nodemanager/reconcile.js';
import type { ContainerInfo } from '../../src/nodemanager/runtime/runtime.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const LATER = '2026-12-25T12:00:00Z';

function sliver(login: string, extra: Partial<SliverEntry> = {}): SliverEntry {
  return {
    sliverUrn: `urn:publicid:IDN+ple:inria+sliver+${login}`,
    sliceUrn: `urn:publicid:IDN+ple:inria+slice+${login}`,
    sliceHrn: `ple.inria.${login}`,
    loginName: login,
    keys: [],
    attributes: [],
    initscripts: [],
    cpuShare: 1,
    desiredState: 'started',
    expires: LATER,
    ports: [],
    ...extra,
  };
}

function answer(slivers: SliverEntry[], extra: Partial<SliversAnswer> = {}): SliversAnswer {
  return {
    node: { hostname: 'node1.inria.fr', urn: 'urn:x', exclusive: false },
    generation: 1,
    now: NOW.toISOString(),
    slivers,
    leases: [],
    ...extra,
  };
}

function container(name: string, status: ContainerInfo['status']): ContainerInfo {
  return {
    name,
    id: `sfa-n-${name}`,
    status,
    pid: status === 'running' ? 42 : undefined,
    created: NOW.toISOString(),
  };
}

const kinds = (p: ReturnType<typeof plan>) => p.actions.map((a) => `${a.kind} ${a.name}`);

describe('plan', () => {
  it('creates and starts a new started sliver; only creates nothing for a stopped one', () => {
    const p = plan({
      answer: answer([sliver('a'), sliver('b', { desiredState: 'stopped' })]),
      containers: [],
      dataNames: [],
      now: NOW,
    });
    expect(p.actions).toEqual([{ kind: 'create', name: 'a', sliver: sliver('a'), start: true }]);
    expect(p.slivers.map((s) => [s.name, s.run])).toEqual([
      ['a', true],
      ['b', false],
    ]);
  });

  it('adopts a running container that should run (nothing to do), and a second plan is empty', () => {
    const p = plan({
      answer: answer([sliver('a')]),
      containers: [container('a', 'running')],
      dataNames: ['a'],
      now: NOW,
    });
    expect(p.actions).toEqual([]);
    expect(p.failed).toEqual([]);
  });

  it('stops a running sliver whose desired state is stopped; starts a created one', () => {
    const p = plan({
      answer: answer([sliver('a', { desiredState: 'stopped' }), sliver('b')]),
      containers: [container('a', 'running'), container('b', 'created')],
      dataNames: ['a', 'b'],
      now: NOW,
    });
    expect(kinds(p)).toEqual(['stop a', 'start b']);
  });

  it('makes a dead container again (keeping its data) when it should run', () => {
    const p = plan({
      answer: answer([sliver('a')]),
      containers: [container('a', 'stopped')],
      dataNames: ['a'],
      now: NOW,
    });
    expect(kinds(p)).toEqual(['recreate a']);
  });

  it('deletes deleted and expired slivers with their data, first', () => {
    const p = plan({
      answer: answer([sliver('new'), sliver('old', { expires: '2026-11-25T11:59:59Z' })]),
      containers: [container('old', 'running'), container('gone', 'stopped')],
      dataNames: ['old', 'gone', 'orphan'],
      now: NOW,
    });
    expect(kinds(p)).toEqual(['delete gone', 'delete old', 'delete orphan', 'create new']);
    expect(p.actions[1]).toMatchObject({ reason: 'expired at 2026-11-25T11:59:59Z' });
    expect(p.actions[0]).toMatchObject({ reason: 'no longer provisioned on this node' });
  });

  it('starts afresh when a name now belongs to another sliver', () => {
    const p = plan({
      answer: answer([sliver('a')]),
      containers: [container('a', 'running')],
      dataNames: ['a'],
      owners: { a: 'urn:publicid:IDN+ple:inria+sliver+older' },
      now: NOW,
    });
    expect(kinds(p)).toEqual(['delete a', 'create a']);
  });

  it('on an exclusive node with leases, runs only the sliver whose lease is current', () => {
    const a = sliver('a');
    const b = sliver('b');
    const leases = [
      {
        sliceUrn: a.sliceUrn,
        sliverUrn: a.sliverUrn,
        start: '2026-11-25T11:00:00Z',
        end: '2026-11-25T13:00:00Z',
      },
      {
        sliceUrn: b.sliceUrn,
        sliverUrn: b.sliverUrn,
        start: '2026-11-25T13:00:00Z',
        end: '2026-11-25T14:00:00Z',
      },
    ];
    const node = { hostname: 'node4.inria.fr', urn: 'urn:x', exclusive: true };
    const p = plan({
      answer: answer([a, b], { node, leases }),
      containers: [container('b', 'running')],
      dataNames: ['b'],
      now: NOW,
    });
    expect(kinds(p)).toEqual(['create a', 'stop b']);
    // At 13:30 it is b's turn.
    const later = plan({
      answer: answer([a, b], { node, leases }),
      containers: [container('a', 'running'), container('b', 'stopped')],
      dataNames: ['a', 'b'],
      now: new Date('2026-11-25T13:30:00Z'),
    });
    expect(kinds(later)).toEqual(['stop a', 'recreate b']);
    // Without leases, an exclusive node runs what is started.
    const none = plan({ answer: answer([a], { node }), containers: [], dataNames: [], now: NOW });
    expect(kinds(none)).toEqual(['create a']);
  });

  it('fails a bad entry alone, with the reason, and keeps its container and data', () => {
    const p = plan({
      answer: answer([
        sliver('ok'),
        sliver('greedy', { cpuShare: 1e9 }),
        sliver('odd', { vref: 'debian99' }),
        sliver('bad name!'),
      ]),
      containers: [container('greedy', 'running')],
      dataNames: ['greedy'],
      now: NOW,
      check: (s) => (s.vref === 'debian99' ? 'unknown vref "debian99"' : undefined),
    });
    expect(kinds(p)).toEqual(['create ok']);
    expect(p.failed).toEqual([
      {
        sliverUrn: sliver('greedy').sliverUrn,
        name: 'greedy',
        error: 'cpu_share must be a number above 0 and at most 256, not 1000000000',
      },
      { sliverUrn: sliver('odd').sliverUrn, name: 'odd', error: 'unknown vref "debian99"' },
      {
        sliverUrn: sliver('bad name!').sliverUrn,
        name: 'bad name!',
        error: 'login name "bad name!" cannot name a container',
      },
    ]);
  });
});

describe('parseAnswer', () => {
  it('reads a GetSlivers answer', () => {
    const a = parseAnswer({
      node: { hostname: 'node1.inria.fr', urn: 'urn:n', hrn: 'h', site: 'inria', exclusive: false },
      generation: 7,
      now: '2026-11-25T12:00:00Z',
      slivers: [
        {
          sliver_urn: 'urn:s',
          client_id: 'web',
          slice_urn: 'urn:slice',
          slice_hrn: 'ple.inria.myslice',
          login_name: 'inria_myslice',
          users: [],
          keys: ['ssh-rsa AAA'],
          attributes: [{ name: 'cpu_share', value: '3', source: 'sliver' }],
          initscripts: [],
          vref: 'busybox',
          cpu_share: 3,
          ports: [],
          desired_state: 'stopped',
          expires: LATER,
        },
      ],
      leases: [],
    });
    expect(a.generation).toBe(7);
    expect(a.slivers[0]).toMatchObject({
      sliverUrn: 'urn:s',
      loginName: 'inria_myslice',
      vref: 'busybox',
      cpuShare: 3,
      desiredState: 'stopped',
      keys: ['ssh-rsa AAA'],
    });
  });

  it('refuses what is not an answer, naming the field', () => {
    expect(() => parseAnswer('x')).toThrow(AnswerError);
    expect(() => parseAnswer({ node: {}, generation: 1, now: 'soon' })).toThrow(/answer.now/);
    expect(() =>
      parseAnswer({ node: {}, generation: 1, now: '2026-11-25T12:00:00Z', slivers: [{}] }),
    ).toThrow(/answer.slivers\[0\].sliver_urn/);
  });
});
