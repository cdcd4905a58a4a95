/**
 * A demonstration inventory: 36 nodes over 9 European sites, deterministic (no randomness), to
 * run the aggregate without real hardware. Three nodes are exclusive (reservable), three are
 * not booted, some carry tags, and two nodegroups overlap on node1.inria.fr (so that tag
 * precedence shows: its own `net_max_rate` wins over the `highbw` group's).
 */
import type { Inventory, InventoryNode } from './inventory.js';

interface DemoSite {
  loginBase: string;
  name: string;
  country: string;
  city: string;
  latitude: number;
  longitude: number;
  domain: string;
}

const SITES: readonly DemoSite[] = [
  {
    loginBase: 'inria',
    name: 'INRIA Sophia Antipolis',
    country: 'FR',
    city: 'Sophia Antipolis',
    latitude: 43.6158,
    longitude: 7.0682,
    domain: 'inria.fr',
  },
  {
    loginBase: 'upmc',
    name: 'UPMC LIP6',
    country: 'FR',
    city: 'Paris',
    latitude: 48.847,
    longitude: 2.3572,
    domain: 'upmc.fr',
  },
  {
    loginBase: 'uniroma1',
    name: 'Sapienza Università di Roma',
    country: 'IT',
    city: 'Rome',
    latitude: 41.9029,
    longitude: 12.5145,
    domain: 'uniroma1.it',
  },
  {
    loginBase: 'tum',
    name: 'Technische Universität München',
    country: 'DE',
    city: 'Munich',
    latitude: 48.1496,
    longitude: 11.5678,
    domain: 'tum.de',
  },
  {
    loginBase: 'ethz',
    name: 'ETH Zürich',
    country: 'CH',
    city: 'Zurich',
    latitude: 47.3764,
    longitude: 8.5481,
    domain: 'ethz.ch',
  },
  {
    loginBase: 'ucl',
    name: 'University College London',
    country: 'GB',
    city: 'London',
    latitude: 51.5246,
    longitude: -0.134,
    domain: 'ucl.ac.uk',
  },
  {
    loginBase: 'uc3m',
    name: 'Universidad Carlos III de Madrid',
    country: 'ES',
    city: 'Leganés',
    latitude: 40.3325,
    longitude: -3.7651,
    domain: 'uc3m.es',
  },
  {
    loginBase: 'uoa',
    name: 'National and Kapodistrian University of Athens',
    country: 'GR',
    city: 'Athens',
    latitude: 37.9681,
    longitude: 23.7791,
    domain: 'di.uoa.gr',
  },
  {
    loginBase: 'kth',
    name: 'KTH Royal Institute of Technology',
    country: 'SE',
    city: 'Stockholm',
    latitude: 59.3498,
    longitude: 18.0707,
    domain: 'kth.se',
  },
];

const NODES_PER_SITE = 4;
const EXCLUSIVE = new Set(['node4.inria.fr', 'node4.tum.de', 'node4.kth.se']);
const NOT_BOOTED = new Map<string, InventoryNode['bootState']>([
  ['node3.uniroma1.it', 'down'],
  ['node2.ucl.ac.uk', 'down'],
  ['node4.uc3m.es', 'failboot'],
]);

function demoNode(site: DemoSite, siteIndex: number, i: number): InventoryNode {
  const hostname = `node${i}.${site.domain}`;
  const exclusive = EXCLUSIVE.has(hostname);
  const bootState = NOT_BOOTED.get(hostname) ?? 'boot';
  const k = siteIndex * NODES_PER_SITE + i;
  // Deterministic but varied figures; nodes that are not booted fail most checks.
  const down = bootState === 'boot' ? (k * 7 + i * 13) % 40 : 600 + k;
  const tags: Record<string, string> = {
    arch: 'x86_64',
    fcdistro: i % 2 === 0 ? 'f27' : 'f22',
  };
  if (k % 5 === 0 || hostname === 'node1.inria.fr') tags['net_max_rate'] = '10000';
  if (site.loginBase === 'upmc' && i === 2) tags['deployment'] = 'beta';
  if (exclusive) tags['initscript'] = 'reservable-setup';
  return {
    hostname,
    site: site.loginBase,
    bootState,
    exclusive,
    maxSlivers: exclusive ? 4 : 20,
    cpuShares: exclusive ? 8 : 40,
    loadAverage: bootState === 'boot' ? ((k * 37) % 400) / 100 : 0,
    checksUp: 1000 - down,
    checksDown: down,
    hardwareType: 'plab-pc',
    tags,
  };
}

/** The demonstration inventory (see the module comment), ready for loadInventory. */
export function demoInventory(): Inventory {
  return {
    sites: SITES.map(({ domain: _domain, ...site }) => ({ ...site })),
    nodes: SITES.flatMap((site, s) =>
      Array.from({ length: NODES_PER_SITE }, (_, j) => demoNode(site, s, j + 1)),
    ),
    nodegroups: [
      {
        name: 'alpha',
        tags: { deployment: 'alpha', initscript: 'alpha-bootstrap' },
        members: ['node1.inria.fr', 'node1.upmc.fr', 'node1.tum.de'],
      },
      {
        name: 'highbw',
        tags: { net_max_rate: '100000' },
        members: ['node1.inria.fr', 'node1.ethz.ch', 'node2.ethz.ch', 'node1.kth.se'],
      },
    ],
  };
}
