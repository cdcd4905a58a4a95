import { writeFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { BadArgs, Refused, SearchFailed } from '../../faults.js';
import { demoInventory } from './demo-inventory.js';
import { AggregateEngine } from './engine.js';
import {
  alloc,
  allocProvision,
  at,
  DAY,
  describeEngine,
  fault,
  freshLocation,
  freshPath,
  NODE,
  NOW,
  on,
  openEngine,
  SLICE_A,
  SLICE_B,
  smallInventory,
} from './engine.fixture.js';
import { readInventoryFile, reliability } from './inventory.js';

describeEngine('loadInventory', () => {
  it('loads sites and nodes with their names, and is idempotent', () => {
    const engine = openEngine({ inventory: null });
    expect(engine.loadInventory(smallInventory())).toEqual({ sites: 2, nodes: 6, nodegroups: 0 });
    const first = engine.listNodes(NOW);
    engine.loadInventory(smallInventory());
    expect(engine.listNodes(NOW)).toEqual(first);
    expect(first.find((n) => n.hostname === 's1.inria.fr')).toEqual({
      hostname: 's1.inria.fr',
      urn: 'urn:publicid:IDN+ple:inria+node+s1.inria.fr',
      hrn: 'ple.inria.s1\\.inria\\.fr',
      site: {
        loginBase: 'inria',
        name: 'INRIA',
        hrn: 'ple.inria',
        country: 'FR',
        city: 'Sophia Antipolis',
        latitude: 43.6158,
        longitude: 7.0682,
      },
      bootState: 'boot',
      available: true,
      exclusive: false,
      hardwareType: 'plab-pc',
      slivers: 0,
      maxSlivers: 2,
      cpuShares: 4,
      cpuSharesUsed: 0,
      loadAverage: 0.1,
      reliability: null,
      tags: [],
      nodegroups: [],
    });
    expect(engine.listSites().map((s) => s.loginBase)).toEqual(['inria', 'upmc']);
  });

  it('uses the policy authority in node URNs', () => {
    const engine = openEngine({ authority: 'onelab.ple' });
    expect(engine.listNodes(NOW)[0]!.urn).toBe('urn:publicid:IDN+onelab:ple:upmc+node+d1.upmc.fr');
    expect(engine.sliverUrn(7)).toBe('urn:publicid:IDN+onelab:ple+sliver+7');
  });

  it.each([
    [
      { nodes: [{ hostname: 'n.example.org', site: 'nowhere' }] },
      'node n.example.org: no site "nowhere"',
    ],
    [{ nodes: [{ hostname: 'not a host', site: 'inria' }] }, 'is not a fully qualified host name'],
    [
      { nodes: [{ hostname: 'n.inria.fr', site: 'inria', bootState: 'up' }] },
      'node n.inria.fr: bootState must be one of',
    ],
    [
      { nodes: [{ hostname: 'n.inria.fr', site: 'inria', maxSlivers: -1 }] },
      'node n.inria.fr: maxSlivers must be a whole number',
    ],
    [
      { nodes: [{ hostname: 'n.inria.fr', site: 'inria', exlusive: true }] },
      'node n.inria.fr: unknown field "exlusive"',
    ],
    [
      { nodes: [{ hostname: 'n.inria.fr', site: 'inria', tags: { 'a b': '1' } }] },
      'node n.inria.fr: tag: the name "a b" is not valid',
    ],
    [{ sites: [{ loginBase: 'In-Ria', name: 'x' }] }, 'site In-Ria: the login base must be'],
    [
      { sites: [{ loginBase: 'x', name: 'x', latitude: 91 }] },
      'site x: latitude must be between -90 and 90',
    ],
    [
      { nodegroups: [{ name: 'g', members: ['ghost.inria.fr'] }] },
      'nodegroup g: member ghost.inria.fr is not a node',
    ],
    [
      {
        nodes: [
          { hostname: 'a.inria.fr', site: 'inria' },
          { hostname: 'A.inria.fr', site: 'inria' },
        ],
      },
      'node a.inria.fr is listed twice',
    ],
    [[], 'the inventory must be an object'],
  ])('refuses a bad entry, naming it, and changes nothing (%#)', (bad, message) => {
    const engine = openEngine();
    const before = engine.listNodes(NOW);
    // A good site first: it must not be written either.
    const withGood = Array.isArray(bad)
      ? bad
      : { sites: [{ loginBase: 'newsite', name: 'New' }], ...bad };
    const e = fault(BadArgs, 1, () => engine.loadInventory(withGood));
    expect(e.message).toContain(message);
    expect(engine.listNodes(NOW)).toEqual(before);
    expect(engine.listSites().map((s) => s.loginBase)).toEqual(['inria', 'upmc']);
  });

  it('replaces tags and members given, keeps those not mentioned', () => {
    const engine = openEngine();
    engine.loadInventory({
      nodes: [{ hostname: 's1.inria.fr', site: 'inria', tags: { arch: 'x86_64', a: '1' } }],
      nodegroups: [{ name: 'g', tags: { t: '1' }, members: ['s1.inria.fr', 'x1.inria.fr'] }],
    });
    engine.loadInventory({
      nodes: [{ hostname: 's1.inria.fr', site: 'inria', tags: { arch: 'aarch64' } }],
      nodegroups: [{ name: 'g', members: ['x1.inria.fr'] }],
    });
    const s1 = engine.listNodes(NOW).find((n) => n.hostname === 's1.inria.fr')!;
    expect(s1.tags).toEqual([{ name: 'arch', value: 'aarch64' }]);
    // Capacity set by the first load is kept when a later load does not mention it.
    expect(s1.maxSlivers).toBe(2);
    expect(engine.listNodegroups()).toEqual([
      { name: 'g', tags: [{ name: 't', value: '1' }], members: ['x1.inria.fr'] },
    ]);
  });

  it('reads an inventory file and refuses one that is not JSON', () => {
    const path = `${freshPath()}.json`;
    writeFileSync(path, JSON.stringify(smallInventory()));
    const engine = openEngine({ inventory: null });
    engine.loadInventory(readInventoryFile(path));
    expect(engine.listNodes(NOW)).toHaveLength(6);
    writeFileSync(path, '{"sites": [');
    fault(BadArgs, 1, () => readInventoryFile(path));
  });
});

describeEngine('listNodes', () => {
  it('computes availability, load and reliability', () => {
    const engine = openEngine();
    engine.setNodeStatus('s3.upmc.fr', { check: 'up' });
    engine.setNodeStatus('s3.upmc.fr', { check: 'up' });
    engine.setNodeStatus('s3.upmc.fr', { check: 'up', loadAverage: 1.5 });
    engine.setNodeStatus('s3.upmc.fr', { check: 'down' });
    allocProvision(engine, SLICE_A, [
      on('a', 's1.inria.fr', { attributes: [{ name: 'cpu_share', value: '2' }] }),
      on('b', 'x1.inria.fr'),
    ]);
    alloc(engine, SLICE_B, [on('c', 's1.inria.fr')]);
    const nodes = new Map(engine.listNodes(NOW).map((n) => [n.hostname, n]));
    expect(nodes.get('s1.inria.fr')).toMatchObject({
      available: false,
      slivers: 2,
      cpuSharesUsed: 3,
    });
    expect(nodes.get('x1.inria.fr')).toMatchObject({ available: false, slivers: 1 });
    expect(nodes.get('x2.upmc.fr')).toMatchObject({ available: true, slivers: 0 });
    expect(nodes.get('d1.upmc.fr')).toMatchObject({ available: false, bootState: 'down' });
    expect(nodes.get('s3.upmc.fr')).toMatchObject({ reliability: 75, loadAverage: 1.5 });
    expect(engine.listNodes(NOW, { availableOnly: true }).map((n) => n.hostname)).toEqual([
      's2.inria.fr',
      's3.upmc.fr',
      'x2.upmc.fr',
    ]);
    // After the slivers expire, everything is back.
    expect(engine.listNodes(at(15 * DAY), { availableOnly: true })).toHaveLength(5);
    expect(reliability(0, 0)).toBeNull();
    expect(reliability(2, 1)).toBe(66.7);
  });

  it('marks a node taken down by monitoring as unavailable and refuses it', () => {
    const engine = openEngine();
    engine.setNodeStatus('s1.inria.fr', { bootState: 'down' });
    expect(engine.listNodes(NOW).find((n) => n.hostname === 's1.inria.fr')!.available).toBe(false);
    fault(BadArgs, 1, () => engine.setNodeStatus('s1.inria.fr', { loadAverage: -1 }));
  });
});

describeEngine('addNode and removeNode', () => {
  it('adds a node to an existing site and removes it', () => {
    const engine = openEngine();
    const node = engine.addNode({ hostname: 'New.Inria.fr', site: 'inria', exclusive: true });
    expect([node.hostname, node.urn, node.exclusive]).toEqual([
      'new.inria.fr',
      NODE('new.inria.fr'),
      true,
    ]);
    engine.removeNode('new.inria.fr', NOW);
    fault(SearchFailed, 12, () => engine.removeNode('new.inria.fr', NOW));
  });

  it('refuses to remove a node with live slivers, naming their slices', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]);
    const e = fault(Refused, 7, () => engine.removeNode('s1.inria.fr', NOW));
    expect(e.message).toContain(`node s1.inria.fr has slivers of ${SLICE_A}`);
    // Once the allocation lapsed, the node can go.
    engine.removeNode('s1.inria.fr', at(DAY));
  });

  it('refuses to move a node with slivers to another site', () => {
    const engine = openEngine();
    alloc(engine, SLICE_A, [on('a', 's1.inria.fr')]);
    fault(BadArgs, 1, () =>
      engine.loadInventory({ nodes: [{ hostname: 's1.inria.fr', site: 'upmc' }] }),
    );
  });
});

describeEngine('demoInventory', () => {
  it('loads a few dozen nodes over several sites, with exclusive and down ones', () => {
    const engine = openEngine({ inventory: demoInventory() });
    const nodes = engine.listNodes(NOW);
    expect(nodes).toHaveLength(36);
    expect(new Set(nodes.map((n) => n.site.loginBase)).size).toBe(9);
    expect(nodes.filter((n) => n.exclusive).map((n) => n.hostname)).toEqual([
      'node4.inria.fr',
      'node4.kth.se',
      'node4.tum.de',
    ]);
    expect(nodes.filter((n) => n.bootState !== 'boot')).toHaveLength(3);
    expect(nodes.every((n) => n.reliability !== null)).toBe(true);
    expect(engine.listNodegroups().map((g) => g.name)).toEqual(['alpha', 'highbw']);
    // node1.inria.fr is in both groups and has its own net_max_rate: the node tag wins.
    const [s] = alloc(engine, SLICE_A, [{ clientId: 'n', hostname: 'node1.inria.fr' }]).slivers;
    expect(s!.attributes.filter((a) => ['net_max_rate', 'deployment'].includes(a.name))).toEqual([
      { name: 'deployment', value: 'alpha', source: 'nodegroup', nodegroup: 'alpha' },
      { name: 'net_max_rate', value: '10000', source: 'node' },
    ]);
    expect(engine.loadInventory(demoInventory())).toEqual({ sites: 9, nodes: 36, nodegroups: 2 });
  });
});

describeEngine('the advertisement snapshot', () => {
  it('follows inventory changes made through another connection (another process)', () => {
    // A file in the fixture's folder (removed after the file's tests), or a fresh database.
    const file = freshLocation();
    const server = AggregateEngine.open(file);
    const operator = AggregateEngine.open(file);
    try {
      server.loadInventory(demoInventory());
      const before = server.listNodes(new Date('2026-11-25T12:00:00Z'));
      const node = before[0]!;
      expect(node.tags.some((t) => t.name === 'snapshot')).toBe(false);
      operator.setNodeTag(node.hostname, 'snapshot', 'seen');
      operator.setNodeStatus(node.hostname, { bootState: 'down' });
      const after = server
        .listNodes(new Date('2026-11-25T12:00:00Z'))
        .find((n) => n.hostname === node.hostname)!;
      expect(after.tags).toContainEqual({ name: 'snapshot', value: 'seen' });
      expect(after.bootState).toBe('down');
      expect(after.available).toBe(false);
    } finally {
      server.close();
      operator.close();
    }
  });
});
