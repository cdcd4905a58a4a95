/**
 * A node's folder (NODEDIR), as `sfa node credentials HOST --out NODEDIR` writes it: `node.json`
 * (hostname, HRN, URN, the aggregate's node API URL), `node.pkey` (the node's key), `node.gid`
 * (its GID with its chain) and `root.gid` (the authority's root, to check the aggregate's
 * certificate). Every failure names the file and what to do.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Gid } from '../credentials/gid.js';
import { loadPrivateKey } from '../credentials/keys.js';
import { readFailure } from '../text.js';
import { parseSubnet, type NetworkConfig } from './network.js';

/** `node.json`. */
export interface NodeJson {
  hostname: string;
  hrn: string;
  urn: string;
  /** The aggregate's node API (`https://HOST:12346/node`). */
  aggregate: string;
  /** The slivers' network (network.ts); defaults when absent. */
  network?: NetworkConfig;
}

export interface NodeDir {
  dir: string;
  config: NodeJson;
  /** PEM of the node's private key. */
  keyPem: string;
  /** PEM of the node's GID (with its chain): its TLS client certificate. */
  gidPem: string;
  gid: Gid;
  /** The authority's root certificate. */
  root: Gid;
}

/** A node folder that cannot be used; the message names the file. */
export class NodeConfigError extends Error {
  override readonly name = 'NodeConfigError';
}

const HINT = 'write the folder on the authority with `sfa node credentials HOST --out NODEDIR`';

function read(dir: string, file: string): string {
  const path = join(dir, file);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new NodeConfigError(`cannot read ${path}: ${readFailure(e)}; ${HINT}`);
  }
}

function readGidFile(dir: string, file: string): { pem: string; gid: Gid } {
  const pem = read(dir, file);
  try {
    return { pem, gid: Gid.fromPem(pem) };
  } catch (e) {
    throw new NodeConfigError(
      `${join(dir, file)} is not a GID certificate: ${(e as Error).message}; ${HINT}`,
    );
  }
}

/** Read and check NODEDIR. */
export function readNodeDir(dir: string): NodeDir {
  const jsonPath = join(dir, 'node.json');
  let raw: unknown;
  try {
    raw = JSON.parse(read(dir, 'node.json'));
  } catch (e) {
    if (e instanceof NodeConfigError) throw e;
    throw new NodeConfigError(`${jsonPath} is not JSON: ${(e as Error).message}; ${HINT}`);
  }
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  for (const key of ['hostname', 'hrn', 'urn', 'aggregate']) {
    if (typeof o[key] !== 'string' || o[key] === '')
      throw new NodeConfigError(`${jsonPath} has no "${key}" string; ${HINT}`);
  }
  const config = o as unknown as NodeJson;
  try {
    new URL(
      /^[a-z]+:\/\//i.test(config.aggregate) ? config.aggregate : `https://${config.aggregate}`,
    );
  } catch {
    throw new NodeConfigError(`${jsonPath}: "aggregate" is not a URL: ${config.aggregate}`);
  }
  const net = o['network'];
  if (net !== undefined) {
    const n = (typeof net === 'object' && net !== null ? net : null) as Record<
      string,
      unknown
    > | null;
    if (n === null) throw new NodeConfigError(`${jsonPath}: "network" must be an object`);
    if (n['subnet'] !== undefined) {
      if (typeof n['subnet'] !== 'string')
        throw new NodeConfigError(
          `${jsonPath}: "network.subnet" must be a string like 10.77.0.0/16`,
        );
      try {
        parseSubnet(n['subnet']);
      } catch (e) {
        throw new NodeConfigError(`${jsonPath}: ${(e as Error).message}`);
      }
    }
    if (n['nat'] !== undefined && typeof n['nat'] !== 'boolean')
      throw new NodeConfigError(`${jsonPath}: "network.nat" must be true or false`);
  }
  const keyPem = read(dir, 'node.pkey');
  try {
    loadPrivateKey(keyPem);
  } catch (e) {
    throw new NodeConfigError(
      `${join(dir, 'node.pkey')} is not a PEM private key: ${(e as Error).message}; ${HINT}`,
    );
  }
  const node = readGidFile(dir, 'node.gid');
  if (node.gid.urn !== config.urn) {
    throw new NodeConfigError(
      `${join(dir, 'node.gid')} is the GID of ${node.gid.urn || 'no URN'}, but ${jsonPath} says ${config.urn}; ${HINT}`,
    );
  }
  const root = readGidFile(dir, 'root.gid');
  return { dir, config, keyPem, gidPem: node.pem, gid: node.gid, root: root.gid };
}
