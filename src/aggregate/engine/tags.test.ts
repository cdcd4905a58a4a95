import { describe, expect, it } from 'vitest';
import { BadArgs, InsufficientNodes, SearchFailed } from '../../faults.js';
import { alloc, describeEngine, fault, NOW, on, openEngine, SLICE_A } from './engine.fixture.js';
import { resolveAttributes } from './tags.js';

describe('resolveAttributes: nodegroup tags < node tags < sliver attributes', () => {
  it('lets each layer override the one below and says where each value came from', () => {
    const resolved = resolveAttributes(
      [
        { nodegroup: 'zeta', name: 'net_max_rate', value: '2' },
        { nodegroup: 'alpha', name: 'net_max_rate', value: '1' },
        { nodegroup: 'alpha', name: 'deployment', value: 'alpha' },
        { nodegroup: 'alpha', name: 'initscript', value: 'group-init' },
      ],
      [
        { name: 'deployment', value: 'beta' },
        { name: 'initscript', value: 'node-init' },
      ],
      [
        { name: 'initscript', value: 'mine' },
        { name: 'vsys', value: 'a' },
        { name: 'vsys', value: 'b' },
      ],
    );
    expect(resolved).toEqual([
      { name: 'deployment', value: 'beta', source: 'node' },
      { name: 'initscript', value: 'mine', source: 'sliver' },
      // Two groups: the one whose name sorts last wins.
      { name: 'net_max_rate', value: '2', source: 'nodegroup', nodegroup: 'zeta' },
      { name: 'vsys', value: 'b', source: 'sliver' },
    ]);
  });
});

describe('Security: a request cannot raise or lift the operator’s bandwidth cap', () => {
  it('may lower net_max_rate; a higher value, -1 or nonsense leaves the operator’s', () => {
    const node = [{ name: 'net_max_rate', value: '10000' }];
    const resolved = (value: string) =>
      resolveAttributes([], node, [{ name: 'net_max_rate', value }]).find(
        (a) => a.name === 'net_max_rate',
      );
    expect(resolved('8000')).toEqual({ name: 'net_max_rate', value: '8000', source: 'sliver' });
    for (const v of ['100000', '-1', '', 'fast', '10000']) {
      expect(resolved(v), v).toEqual({ name: 'net_max_rate', value: '10000', source: 'node' });
    }
    // Without an operator's cap, the request's value stands.
    expect(resolveAttributes([], [], [{ name: 'net_max_rate', value: '50000' }])).toEqual([
      { name: 'net_max_rate', value: '50000', source: 'sliver' },
    ]);
  });
});

describeEngine('Tags and nodegroups define the slivers', () => {
  it('resolves a sliver’s attributes from its node’s groups, its node and its request', () => {
    const engine = openEngine();
    engine.addNodegroup('fast');
    engine.setNodegroupTag('fast', 'net_max_rate', '100000');
    engine.setNodegroupTag('fast', 'deployment', 'alpha');
    engine.addNodegroupMember('fast', 's1.inria.fr');
    engine.setNodeTag('s1.inria.fr', 'deployment', 'beta');
    const [s] = alloc(engine, SLICE_A, [
      on('n1', 's1.inria.fr', {
        attributes: [{ name: 'initscript', value: 'mine' }],
        initscripts: ['setup'],
      }),
    ]).slivers;
    expect(s!.attributes).toEqual([
      { name: 'deployment', value: 'beta', source: 'node' },
      { name: 'initscript', value: 'mine', source: 'sliver' },
      { name: 'net_max_rate', value: '100000', source: 'nodegroup', nodegroup: 'fast' },
    ]);
    expect(s!.initscripts).toEqual(['setup']);
    // Tags are read when described: the operator's changes show.
    engine.removeNodeTag('s1.inria.fr', 'deployment');
    expect(
      engine.describe([s!.urn], NOW).slivers[0]!.attributes.find((a) => a.name === 'deployment'),
    ).toEqual({ name: 'deployment', value: 'alpha', source: 'nodegroup', nodegroup: 'fast' });
  });

  it('takes cpu_share from any layer', () => {
    const engine = openEngine();
    engine.setNodeTag('s2.inria.fr', 'cpu_share', '3');
    const [s] = alloc(engine, SLICE_A, [on('n1', 's2.inria.fr')]).slivers;
    expect(s!.cpuShare).toBe(3);
    fault(InsufficientNodes, 26, () =>
      alloc(engine, 'urn:publicid:IDN+ple:upmc+slice+b', [on('n1', 's2.inria.fr')]),
    );
  });

  it('manages nodegroups and refuses bad names and unknown targets', () => {
    const engine = openEngine();
    engine.addNodegroup('g1');
    engine.addNodegroupMember('g1', 'x1.inria.fr');
    engine.setNodegroupTag('g1', 'vsys', 'pl_netflow');
    expect(engine.listNodegroups()).toEqual([
      { name: 'g1', tags: [{ name: 'vsys', value: 'pl_netflow' }], members: ['x1.inria.fr'] },
    ]);
    fault(BadArgs, 1, () => engine.setNodeTag('s1.inria.fr', 'bad name', 'x'));
    fault(SearchFailed, 12, () => engine.setNodeTag('nope.inria.fr', 'a', 'x'));
    fault(SearchFailed, 12, () => engine.removeNodeTag('s1.inria.fr', 'absent'));
    fault(SearchFailed, 12, () => engine.setNodegroupTag('nope', 'a', 'x'));
    engine.removeNodegroupTag('g1', 'vsys');
    engine.removeNodegroupMember('g1', 'x1.inria.fr');
    engine.removeNodegroup('g1');
    expect(engine.listNodegroups()).toEqual([]);
  });
});
