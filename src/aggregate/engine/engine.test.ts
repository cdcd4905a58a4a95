import { expect, it, vi } from 'vitest';
import { BadArgs, OutOfRange, Refused, SearchFailed, Unsupported } from '../../faults.js';
import {
  alloc,
  allocProvision,
  at,
  CRED_EXPIRES,
  DAY,
  describeEngine,
  fault,
  freshLocation,
  HOUR,
  MINUTE,
  NODE,
  NOW,
  on,
  openEngine,
  SLICE_A,
  SLICE_B,
} from './engine.fixture.js';

describeEngine('AggregateEngine: allocate, provision, describe, status, renew, delete', () => {
  it('walks a sliver through its life', () => {
    const engine = openEngine();
    const allocated = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    expect(allocated.slice).toMatchObject({
      urn: SLICE_A,
      loginName: 'inria_alpha',
      created: NOW,
      expires: at(10 * MINUTE),
      shutdown: null,
      users: [],
    });
    const [sliver] = allocated.slivers;
    expect(sliver).toMatchObject({
      urn: 'urn:publicid:IDN+ple+sliver+1',
      id: 1,
      clientId: 'n1',
      sliceUrn: SLICE_A,
      loginName: 'inria_alpha',
      node: {
        hostname: 's1.inria.fr',
        urn: NODE('s1.inria.fr'),
        hrn: 'ple.inria.s1\\.inria\\.fr',
        site: 'inria',
        exclusive: false,
        hardwareType: 'plab-pc',
      },
      allocationState: 'geni_allocated',
      operationalState: 'geni_pending_allocation',
      created: NOW,
      // Allocations lapse after the policy's allocation lifetime unless provisioned.
      expires: at(10 * MINUTE),
      cpuShare: 1,
      ports: [],
      leases: [],
    });
    const urn = sliver!.urn;

    const provisioned = engine.provision([urn], {
      now: at(MINUTE),
      credentialExpires: CRED_EXPIRES,
      users: [{ urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: ['ssh-ed25519 AAAA alice'] }],
    });
    expect(provisioned.slivers[0]).toMatchObject({
      urn,
      allocationState: 'geni_provisioned',
      // A vserver is ready as soon as it is provisioned (provision.ts).
      operationalState: 'geni_ready',
      expires: at(MINUTE + 14 * DAY),
    });
    expect(provisioned.slice.users).toEqual([
      { urn: 'urn:publicid:IDN+ple:inria+user+alice', keys: ['ssh-ed25519 AAAA alice'] },
    ]);
    expect(provisioned.slice.expires).toEqual(at(MINUTE + 14 * DAY));

    const described = engine.describe([SLICE_A], at(2 * MINUTE));
    expect(described.slivers).toEqual(provisioned.slivers);
    expect(engine.status([urn], at(2 * MINUTE)).slivers).toEqual([
      {
        urn,
        clientId: 'n1',
        hostname: 's1.inria.fr',
        componentId: NODE('s1.inria.fr'),
        allocationState: 'geni_provisioned',
        operationalState: 'geni_ready',
        expires: at(MINUTE + 14 * DAY),
      },
    ]);

    const renewed = engine.renew([SLICE_A], at(20 * DAY), {
      now: at(HOUR),
      credentialExpires: CRED_EXPIRES,
    });
    expect(renewed.slivers.map((s) => [s.urn, s.expires, s.error])).toEqual([
      [urn, at(20 * DAY), undefined],
    ]);
    expect(renewed.slice.expires).toEqual(at(20 * DAY));

    const deleted = engine.delete([urn], at(2 * HOUR));
    expect(deleted).toEqual([
      expect.objectContaining({ urn, allocationState: 'geni_unallocated' }),
    ]);
    fault(SearchFailed, 12, () => engine.describe([urn], at(2 * HOUR)));
    fault(SearchFailed, 12, () => engine.status([urn], at(2 * HOUR)));
    fault(SearchFailed, 12, () => engine.delete([urn], at(2 * HOUR)));
    // The slice stays known, empty, until it expires.
    expect(engine.describe([SLICE_A], at(2 * HOUR)).slivers).toEqual([]);
    fault(SearchFailed, 12, () => engine.describe([SLICE_A], at(21 * DAY)));
  });

  it('is additive: a second Allocate adds slivers and keeps those it omits', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    const second = alloc(engine, SLICE_A, [on('n2', 's2.inria.fr')], { now: at(MINUTE) });
    expect(second.slivers.map((s) => s.clientId)).toEqual(['n2']);
    expect(engine.describe([SLICE_A], at(MINUTE)).slivers.map((s) => s.clientId)).toEqual([
      'n1',
      'n2',
    ]);
  });

  it('lets an allocation lapse when it is not provisioned in time', () => {
    const reports: unknown[] = [];
    const engine = openEngine({ onReap: (r) => reports.push(r) });
    const [sliver] = alloc(engine, SLICE_A, [on('n1', 'x1.inria.fr')]).slivers;
    const later = at(10 * MINUTE);
    fault(SearchFailed, 12, () =>
      engine.provision([sliver!.urn], { now: later, credentialExpires: CRED_EXPIRES }),
    );
    // The node went back to the pool: another slice gets it, reaping on the way what lies on
    // that node; the emptied slice A is not this call's to touch (it holds only slice B and its
    // nodes: several front-ends run such calls side by side), the reaper removes it.
    alloc(engine, SLICE_B, [on('m1', 'x1.inria.fr')], { now: later });
    expect(engine.reap(later).slices).toEqual([SLICE_A]);
    expect(reports).toEqual([
      {
        slivers: [
          {
            urn: sliver!.urn,
            sliceUrn: SLICE_A,
            clientId: 'n1',
            hostname: 'x1.inria.fr',
            allocationState: 'geni_allocated',
            expires: at(10 * MINUTE),
          },
        ],
        endedLeases: 0,
        slices: [],
      },
    ]);
  });

  it('never reuses a sliver URN, even across a delete, a reap and a restart', () => {
    const path = freshLocation();
    let engine = openEngine({ path });
    const first = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers[0]!;
    engine.delete([first.urn], NOW);
    const second = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers[0]!;
    expect(second.id).toBeGreaterThan(first.id);
    expect(engine.reap(at(HOUR)).slivers.map((s) => s.urn)).toEqual([second.urn]);
    engine.close();

    engine = openEngine({ path, inventory: null });
    const third = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')], { now: at(HOUR) }).slivers[0]!;
    expect(third.id).toBeGreaterThan(second.id);
    for (const old of [first.urn, second.urn]) {
      const e = fault(SearchFailed, 12, () => engine.status([old], at(HOUR)));
      expect(e.message).toContain(old);
    }
  });

  it('keeps slivers, leases, ports and users across a close and reopen', () => {
    const path = freshLocation();
    const engine = openEngine({ path });
    const described = allocProvision(engine, SLICE_A, [
      on('n1', 's1.inria.fr', { attributes: [{ name: 'ports', value: 'tcp:8080' }] }),
      on('n2', 'x1.inria.fr'),
    ]);
    engine.close();
    const reopened = openEngine({ path, inventory: null });
    expect(reopened.describe([SLICE_A], at(MINUTE))).toEqual(described);
    expect(described.slivers[0]!.ports).toEqual([{ proto: 'tcp', from: 8080, to: 8080 }]);
    expect(described.slivers[1]!.leases).toEqual([
      expect.objectContaining({ kind: 'hold', start: NOW, end: at(14 * DAY) }),
    ]);
  });
});

describeEngine('AggregateEngine: expiry limits', () => {
  it('never provisions beyond the slice credential', () => {
    const engine = openEngine();
    const [s] = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    const out = engine.provision([s!.urn], { now: NOW, credentialExpires: at(3 * DAY) });
    expect(out.slivers[0]!.expires).toEqual(at(3 * DAY));
  });

  it('refuses a provision end time past the credential or in the past', () => {
    const engine = openEngine();
    const [s] = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    const e = fault(OutOfRange, 19, () =>
      engine.provision([s!.urn], {
        now: NOW,
        credentialExpires: at(3 * DAY),
        endTime: at(4 * DAY),
      }),
    );
    expect(e.message).toMatch(/after the slice credential's expiry 2026-11-28T12:00:00Z/);
    fault(OutOfRange, 19, () =>
      engine.provision([s!.urn], { now: NOW, credentialExpires: at(3 * DAY), endTime: at(-1) }),
    );
    expect(engine.status([s!.urn], NOW).slivers[0]!.allocationState).toBe('geni_allocated');
  });

  it('refuses an Allocate whose expiry has passed', () => {
    const engine = openEngine();
    fault(OutOfRange, 19, () =>
      alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')], { expires: NOW }),
    );
  });

  it('renews within the credential and the policy maximum, trims with extendAlap', () => {
    const engine = openEngine();
    const [s] = allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    const urns = [s!.urn];
    const cred = at(90 * DAY);

    let e = fault(OutOfRange, 19, () =>
      engine.renew(urns, at(40 * DAY), { now: NOW, credentialExpires: CRED_EXPIRES }),
    );
    expect(e.message).toMatch(/after the slice credential's expiry 2026-12-25T12:00:00Z/);
    e = fault(OutOfRange, 19, () =>
      engine.renew(urns, at(61 * DAY), { now: NOW, credentialExpires: cred }),
    );
    expect(e.message).toMatch(/maximum lifetime of 60 days; ask for 2027-01-24T12:00:00Z/);
    fault(OutOfRange, 19, () =>
      engine.renew(urns, at(-DAY), { now: NOW, credentialExpires: cred }),
    );
    // Nothing changed.
    expect(engine.status(urns, NOW).slivers[0]!.expires).toEqual(at(14 * DAY));

    const alap = engine.renew(urns, at(61 * DAY), {
      now: NOW,
      credentialExpires: cred,
      extendAlap: true,
    });
    expect(alap.slivers[0]!.expires).toEqual(at(60 * DAY));
    const trimmedToCredential = engine.renew(urns, at(61 * DAY), {
      now: NOW,
      credentialExpires: at(45 * DAY),
      extendAlap: true,
    });
    expect(trimmedToCredential.slivers[0]!.expires).toEqual(at(45 * DAY));
  });

  it('refuses to renew an allocation; best effort renews the rest and reports it', () => {
    const engine = openEngine();
    const [p] = allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    const [a] = alloc(engine, SLICE_A, [on('n2', 's2.inria.fr')]).slivers;

    const e = fault(BadArgs, 1, () =>
      engine.renew([SLICE_A], at(20 * DAY), { now: NOW, credentialExpires: CRED_EXPIRES }),
    );
    expect(e.message).toContain(`${a!.urn} ('n2') is only allocated`);
    expect(engine.status([p!.urn], NOW).slivers[0]!.expires).toEqual(at(14 * DAY));

    const best = engine.renew([SLICE_A], at(20 * DAY), {
      now: NOW,
      credentialExpires: CRED_EXPIRES,
      bestEffort: true,
    });
    expect(best.slivers.map((s) => [s.clientId, s.expires, s.error !== undefined])).toEqual([
      ['n1', at(20 * DAY), false],
      ['n2', at(10 * MINUTE), true],
    ]);
  });
});

describeEngine('AggregateEngine: operational actions and shutdown', () => {
  it('starts, stops and restarts provisioned slivers', () => {
    const engine = openEngine();
    const urns = allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers.map(
      (s) => s.urn,
    );
    const state = (): string => engine.status(urns, NOW).slivers[0]!.operationalState;
    expect(engine.performAction(urns, 'geni_stop', { now: NOW })[0]!.operationalState).toBe(
      'geni_notready',
    );
    expect(state()).toBe('geni_notready');
    engine.performAction(urns, 'geni_start', { now: NOW });
    expect(state()).toBe('geni_ready');
    engine.performAction([SLICE_A], 'geni_restart', { now: NOW });
    expect(state()).toBe('geni_ready');
  });

  it('refuses an unknown or empty action', () => {
    const engine = openEngine();
    allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    const e = fault(Unsupported, 13, () =>
      engine.performAction([SLICE_A], 'geni_reboot', { now: NOW }),
    );
    expect(e.message).toMatch(/"geni_reboot" is not supported.*geni_start, geni_restart/);
    fault(BadArgs, 1, () => engine.performAction([SLICE_A], '', { now: NOW }));
  });

  it('changes nothing when one sliver is not provisioned', () => {
    const engine = openEngine();
    allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    const [a] = alloc(engine, SLICE_A, [on('n2', 's2.inria.fr')]).slivers;
    const e = fault(BadArgs, 1, () => engine.performAction([SLICE_A], 'geni_stop', { now: NOW }));
    expect(e.message).toContain(`${a!.urn} ('n2') is only allocated`);
    expect(engine.status([SLICE_A], NOW).slivers.map((s) => s.operationalState)).toEqual([
      'geni_ready',
      'geni_pending_allocation',
    ]);
  });

  it('replaces the slice users with geni_update_users', () => {
    const engine = openEngine();
    allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    fault(BadArgs, 1, () => engine.performAction([SLICE_A], 'geni_update_users', { now: NOW }));
    const bob = { urn: 'urn:publicid:IDN+ple:inria+user+bob', keys: ['ssh-rsa AAAA bob'] };
    engine.performAction([SLICE_A], 'geni_update_users', { now: NOW, users: [bob] });
    expect(engine.describe([SLICE_A], NOW).slice.users).toEqual([bob]);
  });

  it('shuts a slice down: slivers stop, nothing new is accepted, delete still works', () => {
    const engine = openEngine();
    const [p] = allocProvision(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    const out = engine.shutdown(SLICE_A, at(MINUTE), 'urn:publicid:IDN+ple:inria+user+alice');
    expect(out.slice.shutdown).toEqual(at(MINUTE));
    expect(out.slivers.map((s) => s.operationalState)).toEqual(['geni_notready']);

    const e = fault(Refused, 7, () => alloc(engine, SLICE_A, [on('n2', 's2.inria.fr')]));
    expect(e.message).toMatch(/shut down at 2026-11-25T12:01:00Z/);
    fault(Refused, 7, () => engine.performAction([SLICE_A], 'geni_start', { now: NOW }));
    fault(Refused, 7, () =>
      engine.renew([SLICE_A], at(20 * DAY), { now: NOW, credentialExpires: CRED_EXPIRES }),
    );
    // Shut down slices are kept for the operator, never reaped as empty.
    engine.delete([p!.urn], at(2 * MINUTE));
    expect(engine.reap(at(30 * DAY)).slices).toEqual([]);
    expect(engine.reopenSlice(SLICE_A, at(3 * MINUTE), 'operator root', 'checked')).toEqual(
      at(MINUTE),
    );
    expect(alloc(engine, SLICE_A, [on('n2', 's2.inria.fr')]).slivers).toHaveLength(1);
    // Both are on the slice's audit trail, with who and when.
    expect(engine.sliceAudit(SLICE_A)).toEqual([
      {
        at: at(MINUTE),
        sliceUrn: SLICE_A,
        action: 'shutdown',
        actor: 'urn:publicid:IDN+ple:inria+user+alice',
        note: null,
        client: null,
      },
      {
        at: at(3 * MINUTE),
        sliceUrn: SLICE_A,
        action: 'reopen',
        actor: 'operator root',
        note: 'checked',
        client: null,
      },
    ]);
  });

  it('refuses Shutdown of an unknown slice', () => {
    const engine = openEngine();
    fault(SearchFailed, 12, () => engine.shutdown(SLICE_A, NOW, 'urn:publicid:IDN+ple+user+x'));
  });
});

describeEngine('AggregateEngine: URN selection', () => {
  it('accepts slice and sliver URNs mixed, each sliver once', () => {
    const engine = openEngine();
    const slivers = alloc(engine, SLICE_A, [
      on('n1', 's1.inria.fr'),
      on('n2', 's2.inria.fr'),
    ]).slivers;
    const got = engine.status([slivers[1]!.urn, SLICE_A, slivers[1]!.urn], NOW);
    expect(got.slivers.map((s) => s.clientId)).toEqual(['n1', 'n2']);
  });

  it('compares the slice URN authority case-insensitively', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    expect(engine.status(['urn:publicid:IDN+PLE:INRIA+slice+alpha'], NOW).slivers).toHaveLength(1);
  });

  it('refuses URNs of two slices, other types, garbage and an empty list', () => {
    const engine = openEngine();
    const [a] = alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]).slivers;
    alloc(engine, SLICE_B, [on('n1', 's1.inria.fr')]);
    const e = fault(BadArgs, 1, () => engine.status([a!.urn, SLICE_B], NOW));
    expect(e.message).toContain('two slices');
    fault(BadArgs, 1, () => engine.status([NODE('s1.inria.fr')], NOW));
    fault(BadArgs, 1, () => engine.status(['not a urn'], NOW));
    fault(BadArgs, 1, () => engine.status([], NOW));
  });

  it('answers SearchFailed for slivers and slices it does not have', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    for (const urn of [
      'urn:publicid:IDN+ple+sliver+99',
      'urn:publicid:IDN+plc+sliver+1', // another aggregate's sliver 1
      'urn:publicid:IDN+ple+sliver+01',
      'urn:publicid:IDN+ple+sliver+abc',
      SLICE_B,
    ]) {
      fault(SearchFailed, 12, () => engine.status([urn], NOW));
    }
  });
});

describeEngine('AggregateEngine: reaper', () => {
  it('frees the resources and ports of lapsed slivers', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [
      on('n1', 's1.inria.fr', { attributes: [{ name: 'ports', value: 'tcp:80' }] }),
      on('n2', 'x1.inria.fr'),
    ]);
    const [p] = allocProvision(engine, SLICE_B, [on('m1', 's2.inria.fr')]).slivers;
    expect(engine.reap(at(9 * MINUTE)).slivers).toEqual([]);

    const reaped = engine.reap(at(10 * MINUTE));
    expect(reaped.slivers.map((s) => [s.clientId, s.allocationState])).toEqual([
      ['n1', 'geni_allocated'],
      ['n2', 'geni_allocated'],
    ]);
    expect(reaped.slices).toEqual([SLICE_A]);
    const nodes = engine.listNodes(at(10 * MINUTE));
    const x1 = nodes.find((n) => n.hostname === 'x1.inria.fr')!;
    expect([x1.available, x1.slivers]).toEqual([true, 0]);
    expect(engine.listLeases(at(10 * MINUTE))).toEqual([]);
    // The port is free again.
    alloc(
      engine,
      SLICE_B,
      [on('m2', 's1.inria.fr', { attributes: [{ name: 'ports', value: 'tcp:80' }] })],
      {
        now: at(10 * MINUTE),
      },
    );

    const expired = engine.reap(at(15 * DAY));
    expect(expired.slivers.map((s) => [s.urn, s.allocationState])).toEqual([
      [p!.urn, 'geni_provisioned'],
      ['urn:publicid:IDN+ple+sliver+4', 'geni_allocated'],
    ]);
    expect(expired.slices).toEqual([SLICE_B]);
  });

  it('reports nothing when nothing lapsed', () => {
    const onReap = vi.fn();
    const engine = openEngine({ onReap });
    alloc(engine, SLICE_A, [on('n1', 's1.inria.fr')]);
    expect(onReap).not.toHaveBeenCalled();
  });
});
