/**
 * `sfa init`: create an authority's data folder: its root key and self-signed GID, the trusted
 * roots, the configuration and the database. Idempotent: what exists is kept, a key is never
 * overwritten.
 */
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { DEFAULT_PORTS, loadConfig, paths, type SfaConfig } from '../config.js';
import { BadArgs } from '../faults.js';
import { Xrn } from '../credentials/xrn.js';
import { RegistryStore } from '../store/registry-store.js';
import { AuthorityKeystore } from './keystore.js';
import { AggregateEngine } from '../aggregate/engine/engine.js';
import { demoInventory } from '../aggregate/engine/demo-inventory.js';
import { join } from 'node:path';

export interface InitOptions {
  dir: string;
  authority?: string;
  hostname?: string;
  now: Date;
  /** Seed the aggregate with the demo inventory when it is created (default true). */
  demoInventory?: boolean;
}

export interface InitResult {
  config: SfaConfig;
  /** What this run created (empty when everything was already there). */
  created: string[];
}

export function initAuthority(opts: InitOptions): InitResult {
  const { dir, now } = opts;
  const created: string[] = [];
  mkdirSync(dir, { recursive: true, mode: 0o700 });

  let config: SfaConfig;
  if (existsSync(paths.config(dir))) {
    config = loadConfig(dir);
    if (opts.authority && opts.authority !== config.authority) {
      throw new BadArgs(
        `${dir} already holds authority '${config.authority}', not '${opts.authority}': use another --dir`,
      );
    }
  } else {
    const authority = opts.authority ?? 'ple';
    const xrn = Xrn.fromHrn(authority, 'authority'); // refuses a malformed HRN before anything is written
    config = {
      authority: xrn.hrn,
      hostname: opts.hostname ?? 'localhost',
      listen: '0.0.0.0',
      ports: { ...DEFAULT_PORTS },
    };
    writeFileSync(paths.config(dir), JSON.stringify(config, null, 2) + '\n', { mode: 0o644 });
    created.push(paths.config(dir));
  }

  const keystore = new AuthorityKeystore(dir);
  if (!keystore.has(config.authority)) {
    keystore.create(config.authority, now);
    created.push(paths.key(dir, config.authority), paths.gid(dir, config.authority));
  }
  const root = keystore.get(config.authority);

  mkdirSync(paths.trustedRoots(dir), { recursive: true, mode: 0o755 });
  const trusted = join(paths.trustedRoots(dir), `${config.authority}.gid`);
  if (!existsSync(trusted)) {
    copyFileSync(paths.gid(dir, config.authority), trusted);
    created.push(trusted);
  }

  const store = RegistryStore.open(paths.database(dir));
  try {
    if (!store.get(config.authority, 'authority')) {
      store.insert(
        {
          hrn: config.authority,
          type: 'authority',
          gid: root.gid.pem,
          authority: null,
          peerAuthority: null,
          pointer: -1,
          email: null,
          name: config.authority,
          expires: null,
        },
        now,
      );
      created.push(`${paths.database(dir)} (authority record ${config.authority})`);
    }
  } finally {
    store.close();
  }
  const aggregateDb = paths.aggregateDatabase(dir);
  if (!existsSync(aggregateDb)) {
    const engine = AggregateEngine.open(aggregateDb, { authority: config.authority });
    try {
      if (opts.demoInventory !== false) {
        const summary = engine.loadInventory(demoInventory());
        created.push(
          `${aggregateDb} (demo inventory: ${summary.nodes} nodes over ${summary.sites} sites)`,
        );
      } else {
        created.push(aggregateDb);
      }
    } finally {
      engine.close();
    }
  }
  return { config, created };
}
