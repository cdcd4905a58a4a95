import { expect, it } from 'vitest';
import {
  AlreadyExists,
  BadArgs,
  InsufficientNodes,
  OutOfRange,
  Refused,
  SearchFailed,
} from '../../faults.js';
import {
  alloc,
  allocProvision,
  at,
  CRED_EXPIRES,
  DAY,
  describeEngine,
  fault,
  HOUR,
  MINUTE,
  NODE,
  NOW,
  on,
  openEngine,
  SLICE_A,
  SLICE_B,
  SLICE_C,
} from './engine.fixture.js';
import type { AggregateEngine } from './engine.js';

const cpu = (share: number) => ({ attributes: [{ name: 'cpu_share', value: String(share) }] });
const ports = (value: string) => ({ attributes: [{ name: 'ports', value }] });
const sliversOn = (engine: AggregateEngine, hostname: string, now = NOW): number =>
  engine.listNodes(now).find((n) => n.hostname === hostname)!.slivers;

describeEngine('Allocate is all or nothing', () => {
  it('allocates nothing, not even the slice, when one node is refused', () => {
    const engine = openEngine();
    const e = fault(InsufficientNodes, 26, () =>
      alloc(engine, SLICE_A, [on('ok', 's1.inria.fr'), on('bad', 'd1.upmc.fr')]),
    );
    expect(e.message).toBe(
      "node d1.upmc.fr is not available: its boot state is 'down' (only booted nodes take slivers); choose another node",
    );
    expect(sliversOn(engine, 's1.inria.fr')).toBe(0);
    fault(SearchFailed, 12, () => engine.status([SLICE_A], NOW));
  });

  it('lists every refused node in one fault, with the first one’s class', () => {
    const engine = openEngine();
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')]);
    const e = fault(InsufficientNodes, 26, () =>
      alloc(engine, SLICE_A, [
        on('n1', 'd1.upmc.fr'),
        on('n2', 'x1.inria.fr'),
        on('n3', 's2.inria.fr'),
      ]),
    );
    expect(e.message).toMatch(
      /^2 problems, nothing was changed: node d1\.upmc\.fr .*; node x1\.inria\.fr is held exclusively by slice urn:publicid:IDN\+ple:upmc\+slice\+beta until 2026-12-09T12:00:00Z/,
    );
    expect(sliversOn(engine, 's2.inria.fr')).toBe(0);
  });

  it('refuses an unknown node with SearchFailed, and a request for nothing with BadArgs', () => {
    const engine = openEngine();
    const e = fault(SearchFailed, 12, () => alloc(engine, SLICE_A, [on('n1', 'nope.inria.fr')]));
    expect(e.message).toContain("node 'n1': no node urn:publicid:IDN+ple:inria+node+nope.inria.fr");
    fault(BadArgs, 1, () => alloc(engine, SLICE_A, []));
    fault(BadArgs, 1, () =>
      alloc(engine, SLICE_A, [on('n1', 's1.inria.fr'), on('n1', 's2.inria.fr')]),
    );
    fault(BadArgs, 1, () =>
      alloc(engine, SLICE_A, [
        { clientId: 'n1', componentId: NODE('s1.inria.fr'), hostname: 's2.inria.fr' },
      ]),
    );
  });
});

describeEngine('Allocate: capacity', () => {
  it('refuses a full node with InsufficientNodes naming it', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]);
    alloc(engine, SLICE_B, [on('b', 's1.inria.fr')]);
    const e = fault(InsufficientNodes, 26, () => alloc(engine, SLICE_C, [on('c', 's1.inria.fr')]));
    expect(e.message).toBe(
      'node s1.inria.fr is full: it hosts 2 slivers, its maximum; choose another node',
    );
  });

  it('counts CPU shares from the cpu_share attribute (default 1)', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 's2.inria.fr', cpu(2))]);
    const e = fault(InsufficientNodes, 26, () =>
      alloc(engine, SLICE_B, [on('b', 's2.inria.fr', cpu(2))]),
    );
    expect(e.message).toBe(
      "node s2.inria.fr has 1 of 3 CPU shares free and 'b' asks for 2 (attribute cpu_share); ask for fewer or choose another node",
    );
    alloc(engine, SLICE_B, [on('b', 's2.inria.fr')]);
    fault(BadArgs, 1, () => alloc(engine, SLICE_C, [on('c', 's3.upmc.fr', cpu(0))]));
  });

  it('gives the capacity back on delete', () => {
    const engine = openEngine();
    const [a] = alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]).slivers;
    alloc(engine, SLICE_B, [on('b', 's1.inria.fr')]);
    engine.delete([a!.urn], NOW);
    expect(alloc(engine, SLICE_C, [on('c', 's1.inria.fr')]).slivers).toHaveLength(1);
  });
});

describeEngine('Allocate: one sliver per slice per node', () => {
  it('refuses a second sliver of the slice on a node with AlreadyExists', () => {
    const engine = openEngine();
    const [a] = alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]).slivers;
    const e = fault(AlreadyExists, 17, () => alloc(engine, SLICE_A, [on('b', 's1.inria.fr')]));
    expect(e.message).toBe(
      `slice ${SLICE_A} already has sliver ${a!.urn} (client_id 'a') on node s1.inria.fr: one sliver per slice per node; use that sliver or delete it first`,
    );
  });

  it('refuses a client id the slice already uses', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]);
    const e = fault(AlreadyExists, 17, () => alloc(engine, SLICE_A, [on('a', 's2.inria.fr')]));
    expect(e.message).toContain("already has a sliver named 'a' (on s1.inria.fr)");
  });
});

describeEngine('Allocate: exclusive nodes', () => {
  it('gives an exclusive node to one slice at a time', () => {
    const engine = openEngine();
    const [a] = alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')]).slivers;
    expect(a!.leases).toEqual([
      expect.objectContaining({ kind: 'hold', sliceUrn: SLICE_A, start: NOW, end: at(14 * DAY) }),
    ]);
    const e = fault(Refused, 7, () => alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')]));
    expect(e.message).toBe(
      `node x1.inria.fr is held exclusively by slice ${SLICE_A} until 2026-12-09T12:00:00Z; ask for a lease (a time slot) outside that time, or a shorter lifetime, or choose another node`,
    );
    engine.delete([a!.urn], NOW);
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')]);
  });

  it('refuses exclusive="true" on a shared node', () => {
    const engine = openEngine();
    const e = fault(Refused, 7, () =>
      alloc(engine, SLICE_A, [on('a', 's1.inria.fr', { exclusive: true })]),
    );
    expect(e.message).toContain('node s1.inria.fr is shared');
    // exclusive="false" on an exclusive node is no error: it is exclusive anyway.
    expect(
      alloc(engine, SLICE_A, [on('a', 'x1.inria.fr', { exclusive: false })]).slivers[0]!.exclusive,
    ).toBe(true);
  });

  it('refuses to provision or renew into another slice’s lease', () => {
    const engine = openEngine();
    // A holds x1 for the default lifetime once provisioned with defaults.
    const [a] = alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], { expires: at(2 * DAY) }).slivers;
    expect(a!.leases[0]!.end).toEqual(at(2 * DAY));
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')], {
      leases: [{ componentId: NODE('x1.inria.fr'), start: at(3 * DAY), end: at(3 * DAY + HOUR) }],
    });
    const e = fault(Refused, 7, () =>
      engine.provision([a!.urn], { now: NOW, credentialExpires: CRED_EXPIRES }),
    );
    expect(e.message).toContain(`is reserved by slice ${SLICE_B} from 2026-11-28T12:00:00Z`);
    engine.provision([a!.urn], { now: NOW, credentialExpires: CRED_EXPIRES, endTime: at(2 * DAY) });
    fault(Refused, 7, () =>
      engine.renew([a!.urn], at(4 * DAY), { now: NOW, credentialExpires: CRED_EXPIRES }),
    );
    expect(engine.status([a!.urn], NOW).slivers[0]!.expires).toEqual(at(2 * DAY));
  });
});

describeEngine('Allocate: leases', () => {
  const x1 = NODE('x1.inria.fr');

  it('rounds slots outwards to the granularity and refuses overlapping slots', () => {
    const engine = openEngine();
    const a = alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
      leases: [{ componentId: x1, start: at(HOUR + 10 * MINUTE), end: at(2 * HOUR + MINUTE) }],
    });
    expect(a.slivers[0]!.leases).toEqual([
      {
        sliceUrn: SLICE_A,
        hostname: 'x1.inria.fr',
        componentId: x1,
        sliverUrn: a.slivers[0]!.urn,
        kind: 'reservation',
        start: at(HOUR),
        end: at(3 * HOUR),
      },
    ]);
    const e = fault(Refused, 7, () =>
      alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')], {
        leases: [{ componentId: x1, start: at(2 * HOUR), end: at(4 * HOUR) }],
      }),
    );
    expect(e.message).toBe(
      `node x1.inria.fr is reserved by slice ${SLICE_A} from 2026-11-25T13:00:00Z to 2026-11-25T15:00:00Z; ask for a slot outside that time, or choose another node`,
    );
    // The next slot is free; slots are half-open.
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')], {
      leases: [{ componentId: x1, start: at(3 * HOUR), end: at(4 * HOUR) }],
    });
    // Without a slot, a sliver would hold the node for its whole life, through A's slot.
    fault(Refused, 7, () => alloc(engine, SLICE_C, [on('c', 'x1.inria.fr')]));
    expect(engine.listLeases(NOW).map((l) => [l.sliceUrn, l.start, l.end])).toEqual([
      [SLICE_A, at(HOUR), at(3 * HOUR)],
      [SLICE_B, at(3 * HOUR), at(4 * HOUR)],
    ]);
  });

  it('adds slots to a sliver the slice has, merging its own slots', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
      leases: [{ clientId: 'a', start: at(HOUR), end: at(2 * HOUR) }],
    });
    const more = engine.allocate(
      SLICE_A,
      {
        nodes: [],
        leases: [
          { hostname: 'x1.inria.fr', start: at(2 * HOUR), end: at(3 * HOUR) },
          { hostname: 'x1.inria.fr', start: at(5 * HOUR), end: at(6 * HOUR) },
        ],
      },
      { now: at(MINUTE), expires: CRED_EXPIRES },
    );
    expect(more.slivers[0]!.leases.map((l) => [l.start, l.end])).toEqual([
      [at(HOUR), at(3 * HOUR)],
      [at(5 * HOUR), at(6 * HOUR)],
    ]);
  });

  it('refuses slots on shared nodes, in the past, beyond the horizon, or without a sliver', () => {
    const engine = openEngine();
    let e = fault(BadArgs, 1, () =>
      alloc(engine, SLICE_A, [on('a', 's1.inria.fr')], {
        leases: [{ clientId: 'a', start: at(HOUR), end: at(2 * HOUR) }],
      }),
    );
    expect(e.message).toContain(
      'node s1.inria.fr is shared; leases (time slots) apply only to exclusive nodes',
    );
    fault(OutOfRange, 19, () =>
      alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
        leases: [{ clientId: 'a', start: at(-3 * HOUR), end: at(-HOUR) }],
      }),
    );
    fault(OutOfRange, 19, () =>
      alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
        leases: [{ clientId: 'a', start: at(61 * DAY), end: at(62 * DAY) }],
      }),
    );
    e = fault(BadArgs, 1, () =>
      alloc(engine, SLICE_A, [on('a', 's1.inria.fr')], {
        leases: [{ componentId: x1, start: at(HOUR), end: at(2 * HOUR) }],
      }),
    );
    expect(e.message).toContain('has no sliver on x1.inria.fr and the request adds none');
    fault(BadArgs, 1, () =>
      alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
        leases: [{ clientId: 'a', start: at(2 * HOUR), end: at(HOUR) }],
      }),
    );
  });

  it('shows an exclusive node as unavailable only while a lease covers now', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 'x1.inria.fr')], {
      leases: [{ clientId: 'a', start: at(HOUR), end: at(2 * HOUR) }],
    });
    const x1Available = (now: Date): boolean =>
      engine.listNodes(now).find((n) => n.hostname === 'x1.inria.fr')!.available;
    expect(x1Available(NOW)).toBe(true);
    // (The allocation itself lapses at NOW + 10 minutes; provision it to keep the slot.)
    engine.provision([SLICE_A], { now: NOW, credentialExpires: CRED_EXPIRES });
    expect(x1Available(at(HOUR))).toBe(false);
    expect(x1Available(at(2 * HOUR))).toBe(true);
  });
});

describeEngine('Allocate: unbound nodes', () => {
  it('places unbound slivers on the least loaded shared nodes', () => {
    const engine = openEngine();
    alloc(engine, SLICE_B, [on('b', 's2.inria.fr')]);
    const out = alloc(engine, SLICE_A, [
      { clientId: 'u1' },
      { clientId: 'u2' },
      { clientId: 'u3' },
    ]);
    // s1 (empty, load 0.1), then s3 (empty, load 2.5) before s2 (1 of 3) and s1 again (1 of 2).
    expect(out.slivers.map((s) => [s.clientId, s.node.hostname])).toEqual([
      ['u1', 's1.inria.fr'],
      ['u2', 's3.upmc.fr'],
      ['u3', 's2.inria.fr'],
    ]);
  });

  it('places an unbound exclusive request on a free exclusive node', () => {
    const engine = openEngine();
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')]);
    const out = alloc(engine, SLICE_A, [{ clientId: 'u', exclusive: true }]);
    expect(out.slivers[0]!.node.hostname).toBe('x2.upmc.fr');
    const e = fault(InsufficientNodes, 26, () =>
      alloc(engine, SLICE_C, [{ clientId: 'u', exclusive: true }]),
    );
    expect(e.message).toContain("no exclusive node can take unbound node 'u' now");
  });

  it('fails the whole request when unbound nodes do not fit', () => {
    const engine = openEngine();
    const e = fault(InsufficientNodes, 26, () =>
      alloc(
        engine,
        SLICE_A,
        [1, 2, 3, 4].map((i) => ({ clientId: `u${i}` })),
      ),
    );
    expect(e.message).toContain("no shared node can take unbound node 'u4'");
    expect(engine.listNodes(NOW).every((n) => n.slivers === 0)).toBe(true);
  });
});

describeEngine('Allocate: ports', () => {
  it('grants ports to one slice per node and protocol', () => {
    const engine = openEngine();
    const a = alloc(engine, SLICE_A, [on('a', 's1.inria.fr', ports('tcp:8080, udp:5000-5010'))]);
    expect(a.slivers[0]!.ports).toEqual([
      { proto: 'tcp', from: 8080, to: 8080 },
      { proto: 'udp', from: 5000, to: 5010 },
    ]);
    const e = fault(Refused, 7, () =>
      alloc(engine, SLICE_B, [on('b', 's1.inria.fr', ports('tcp:8000-8080'))]),
    );
    expect(e.message).toBe(
      `port tcp:8000-8080 on node s1.inria.fr is held by slice ${SLICE_A} (tcp:8080); choose other ports or another node`,
    );
    // Another protocol, or another node: no conflict.
    alloc(engine, SLICE_B, [
      on('b', 's1.inria.fr', ports('udp:8080,tcp:5000')),
      on('b2', 's2.inria.fr', ports('tcp:8080')),
    ]);
    engine.delete([SLICE_A], NOW);
    alloc(engine, SLICE_C, [on('c', 's1.inria.fr', ports('tcp:8080'))]);
  });

  it('merges ranges and refuses malformed ones, naming the entry', () => {
    const engine = openEngine();
    const out = alloc(engine, SLICE_A, [
      on('a', 's3.upmc.fr', {
        attributes: [
          { name: 'ports', value: 'tcp:10-20' },
          { name: 'ports', value: 'tcp:21,tcp:15-30' },
        ],
      }),
    ]);
    expect(out.slivers[0]!.ports).toEqual([{ proto: 'tcp', from: 10, to: 30 }]);
    for (const bad of ['tcp:0', 'sctp:80', 'tcp:90-80', 'tcp:65536', 'tcp:', '80']) {
      const e = fault(BadArgs, 1, () =>
        alloc(engine, SLICE_B, [on('b', 's1.inria.fr', ports(bad))]),
      );
      expect(e.message).toContain(`node 'b': ports entry '${bad}' is not valid`);
    }
  });

  it('frees ports when the sliver expires', () => {
    const engine = openEngine();
    allocProvision(engine, SLICE_A, [on('a', 's1.inria.fr', ports('tcp:22000'))]);
    fault(Refused, 7, () =>
      alloc(engine, SLICE_B, [on('b', 's1.inria.fr', ports('tcp:22000'))], { now: at(DAY) }),
    );
    alloc(engine, SLICE_B, [on('b', 's1.inria.fr', ports('tcp:22000'))], { now: at(14 * DAY) });
  });
});

describeEngine('Allocate: leases on unbound nodes', () => {
  it('places an unbound exclusive node where its slot is free', () => {
    const engine = openEngine();
    alloc(engine, SLICE_B, [on('b', 'x1.inria.fr')], {
      leases: [{ clientId: 'b', start: at(HOUR), end: at(2 * HOUR) }],
    });
    const out = alloc(engine, SLICE_A, [{ clientId: 'u', exclusive: true }], {
      leases: [{ clientId: 'u', start: at(HOUR), end: at(2 * HOUR) }],
    });
    expect(out.slivers[0]!.node.hostname).toBe('x2.upmc.fr');
    expect(out.slivers[0]!.leases.map((l) => [l.kind, l.start, l.end])).toEqual([
      ['reservation', at(HOUR), at(2 * HOUR)],
    ]);
    fault(BadArgs, 1, () =>
      alloc(engine, SLICE_C, [{ clientId: 'u', exclusive: true }], {
        leases: [{ clientId: 'u', hostname: 'x1.inria.fr', start: at(HOUR), end: at(2 * HOUR) }],
      }),
    );
  });

  it('stores the users given to Allocate', () => {
    const engine = openEngine();
    const users = [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: ['k'], email: 'a@b.c' }];
    const out = engine.allocate(
      SLICE_A,
      { nodes: [on('n', 's1.inria.fr')] },
      {
        now: NOW,
        expires: CRED_EXPIRES,
        users,
      },
    );
    expect(out.slice.users).toEqual(users);
    fault(BadArgs, 1, () =>
      engine.allocate(
        SLICE_A,
        { nodes: [on('m', 's2.inria.fr')] },
        {
          now: NOW,
          expires: CRED_EXPIRES,
          users: [{ urn: 'x', keys: [1 as never] }],
        },
      ),
    );
  });
});
