/**
 * The aggregate benchmark's testbed: an authority folder made by `initAuthority`, 10,000 nodes
 * over 100 sites, and one researcher with one slice per concurrent client, all made by the same
 * code as the operator commands.
 */
import { createPrivateKey, createPublicKey, generateKeyPair } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { paths } from '../src/config.js';
import { AggregateEngine, type Inventory } from '../src/aggregate/engine/engine.js';
import { nodeUrn } from '../src/aggregate/engine/urns.js';
import { initAuthority } from '../src/authority/init-authority.js';
import { publicKeyToOpenSsh } from '../src/credentials/keys.js';
import { openRegistry } from '../src/registry/open-registry.js';
import { createRecord } from '../src/registry/register.js';
import type { TestUser } from '../test/support/authority.js';

export const AUTHORITY = 'ple';
export const CM_URN = 'urn:publicid:IDN+ple+authority+cm';
export const SITES = 100;
export const NODES_PER_SITE = 100;
/** The sub-authority the researchers and their slices belong to. */
const LAB = 'ple.bench';

/** One node of the inventory, by site number and node number within the site. */
export interface BenchNode {
  site: string;
  hostname: string;
  urn: string;
  exclusive: boolean;
  booted: boolean;
}

const siteName = (s: number): string => `site${s}`;

/** Every tenth node is exclusive (reservable); the last node of each site is down. */
export function benchNode(s: number, j: number): BenchNode {
  const site = siteName(s);
  const hostname = `n${j}.${site}.bench.example.org`;
  return {
    site,
    hostname,
    urn: nodeUrn(AUTHORITY, site, hostname),
    exclusive: j % 10 === 0,
    booted: j !== NODES_PER_SITE - 1,
  };
}

/** The inventory: deterministic, with the fields and tags a PlanetLab node carries. */
export function benchInventory(): Inventory {
  const nodes: NonNullable<Inventory['nodes']> = [];
  for (let s = 0; s < SITES; s++) {
    for (let j = 0; j < NODES_PER_SITE; j++) {
      const n = benchNode(s, j);
      const k = s * NODES_PER_SITE + j;
      nodes.push({
        hostname: n.hostname,
        site: n.site,
        bootState: n.booted ? 'boot' : 'down',
        exclusive: n.exclusive,
        maxSlivers: n.exclusive ? 4 : 40,
        cpuShares: n.exclusive ? 8 : 80,
        loadAverage: ((k * 37) % 400) / 100,
        checksUp: 1000 - (k % 40),
        checksDown: k % 40,
        hardwareType: 'plab-pc',
        tags: {
          arch: 'x86_64',
          fcdistro: j % 2 === 0 ? 'f27' : 'f22',
          ...(n.exclusive ? { initscript: 'reservable-setup' } : {}),
        },
      });
    }
  }
  return {
    sites: Array.from({ length: SITES }, (_, s) => ({
      loginBase: siteName(s),
      name: `Benchmark site ${s}`,
      country: ['FR', 'DE', 'IT', 'ES', 'GB'][s % 5]!,
      city: `City ${s}`,
      latitude: 40 + (s % 20) / 2,
      longitude: -5 + (s % 30),
    })),
    nodes,
    nodegroups: [
      {
        name: 'alpha',
        tags: { deployment: 'alpha' },
        members: Array.from({ length: SITES }, (_, s) => benchNode(s, 1).hostname),
      },
    ],
  };
}

const generateRsa = promisify(generateKeyPair);

/** A researcher with an RSA key, as `newUser` in the tests, made on the thread pool. */
export async function newResearcher(hrn: string): Promise<TestUser> {
  const { privateKey } = await generateRsa('rsa', {
    modulusLength: 2048,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const key = createPrivateKey(privateKey);
  return { hrn, keyPem: privateKey, key, sshKey: publicKeyToOpenSsh(createPublicKey(key), hrn) };
}

export interface BenchClient {
  user: TestUser;
  sliceHrn: string;
  sliceUrn: string;
}

export interface BenchAuthority {
  dir: string;
  clients: BenchClient[];
  nodes: number;
  sites: number;
}

/** The sub-authority the researchers belong to; the first researcher is its PI. */
export const BENCH_LAB = LAB;

/**
 * Make the data folder: the authority, the inventory, and `clients` researchers of
 * `ple.bench`, each the researcher of its own slice `ple.bench.s<i>`.
 */
export async function makeBenchAuthority(clients: number): Promise<BenchAuthority> {
  const dir = mkdtempSync(join(tmpdir(), 'sfa-bench-am-'));
  const now = new Date();
  await initAuthority({
    dir,
    authority: AUTHORITY,
    hostname: 'localhost',
    now,
    demoInventory: false,
  });

  const engine = AggregateEngine.open(paths.aggregateDatabase(dir), { authority: AUTHORITY });
  let summary;
  try {
    summary = engine.loadInventory(benchInventory());
  } finally {
    engine.close();
  }

  const users = await Promise.all(
    Array.from({ length: clients }, (_, i) => newResearcher(`${LAB}.u${i}`)),
  );
  const reg = openRegistry(dir);
  try {
    const { ctx } = reg;
    await createRecord(ctx, { hrn: LAB, type: 'authority', name: 'Benchmark lab' }, now);
    for (const u of users) {
      await createRecord(
        ctx,
        {
          hrn: u.hrn,
          type: 'user',
          email: `${u.hrn.split('.').pop()}@bench.example.org`,
          keys: [u.sshKey],
        },
        now,
      );
    }
    for (const [i, u] of users.entries()) {
      await createRecord(ctx, { hrn: `${LAB}.s${i}`, type: 'slice', researchers: [u.hrn] }, now);
    }
    // The first researcher is also the lab's PI: the heavy-call round registers slices.
    const lab = ctx.store.get(LAB, 'authority')!;
    ctx.store.setPis(lab.id, [ctx.store.get(users[0]!.hrn, 'user')!.id]);
  } finally {
    reg.close();
  }
  return {
    dir,
    clients: users.map((user, i) => ({
      user,
      sliceHrn: `${LAB}.s${i}`,
      sliceUrn: `urn:publicid:IDN+ple:bench+slice+s${i}`,
    })),
    nodes: summary.nodes,
    sites: summary.sites,
  };
}
