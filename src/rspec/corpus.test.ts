/**
 * The real-world sweep: every file of test/vectors/rspec-corpus (587 RSpecs from GENI and
 * Fed4FIRE testbeds: requests, manifests, ads, and a stray Turtle file) goes to parseRequest.
 * Each must parse or be refused with BadArgs, never anything else; the counts by reason are
 * printed. Every request that parses then goes through our manifest writer and keeps every
 * client_id.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { BadArgs } from '../faults.js';
import { writeManifest } from './manifest.js';
import type { ManifestNode, RequestRspec } from './model.js';
import { RSPEC3_NS } from './namespaces.js';
import { parseRequest } from './request.js';
import { validateRspec } from './validate.js';
import { RSPEC_CORPUS as CORPUS } from '../../test/support/paths.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

/** A refusal message with its particulars blanked, to count refusals by kind. */
function reason(message: string): string {
  return message.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N');
}

/** What an aggregate would make of a parsed request: one sliver per node. */
function manifestNodes(request: RequestRspec): ManifestNode[] {
  return request.nodes.map((n, i) => ({
    clientId: n.clientId,
    sliverId: `urn:publicid:IDN+ple+sliver+${i + 1}`,
    componentId: n.componentId ?? `urn:publicid:IDN+ple:site+node+bound${i}`,
    componentManagerId: n.componentManagerId ?? 'urn:publicid:IDN+ple+authority+cm',
    componentName: n.componentName ?? `bound${i}`,
    exclusive: n.exclusive ?? false,
    sliverType: n.sliverType ?? 'plab-vserver',
    login: {
      authentication: 'ssh-keys',
      hostname: `bound${i}.example.org`,
      port: 22,
      username: 'ple_slice',
    },
    users: [],
    attributes: n.attributes,
    initscripts: n.initscripts,
    ports: [],
  }));
}

function clientIdsOf(manifest: string): string[] {
  const doc = new DOMParser().parseFromString(manifest, 'text/xml');
  return Array.from(doc.getElementsByTagNameNS(RSPEC3_NS, 'node')).map(
    (n) => n.getAttribute('client_id') ?? '',
  );
}

describe('the rspec corpus', () => {
  const files = filesUnder(CORPUS);
  const parsed = new Map<string, RequestRspec>();
  const refused = new Map<string, string[]>();
  const crashed: string[] = [];
  for (const file of files) {
    const name = relative(CORPUS, file);
    try {
      parsed.set(name, parseRequest(readFileSync(file, 'utf8')));
    } catch (e) {
      if (e instanceof BadArgs) {
        const key = reason(e.message);
        refused.set(key, [...(refused.get(key) ?? []), name]);
      } else {
        crashed.push(`${name}: ${String(e)}`);
      }
    }
  }

  it('parses or refuses with BadArgs every file, never crashes', () => {
    const lines = [...refused]
      .sort((x, y) => y[1].length - x[1].length)
      .map(([key, names]) => `  ${String(names.length).padStart(4)}  ${key}`);
    console.log(
      `rspec corpus: ${files.length} files, ${parsed.size} parsed as requests, ` +
        `${files.length - parsed.size - crashed.length} refused with BadArgs, ${crashed.length} crashed\n` +
        lines.join('\n'),
    );
    expect(crashed).toEqual([]);
    expect(files.length).toBeGreaterThanOrEqual(587);
    expect(parsed.size + [...refused.values()].flat().length).toBe(files.length);
  });

  it('refuses only what is not a GENI v3 / ProtoGENI v2 request, and says so', () => {
    // Every refusal is one of: an ad or manifest (type), another RSpec dialect (namespace), or
    // not XML. No real request from a real tool is refused for its content.
    for (const key of refused.keys()) {
      expect(key).toMatch(/must be type="…"|the root element is|not well-formed XML/);
    }
  });

  it('reads the nodes of real requests: bound, unbound, with extensions', () => {
    const all = [...parsed.values()];
    const nodes = all.flatMap((r) => r.nodes);
    expect(nodes.length).toBeGreaterThan(1000);
    expect(nodes.some((n) => n.componentId === undefined)).toBe(true);
    expect(nodes.some((n) => n.componentId !== undefined)).toBe(true);
    expect(nodes.some((n) => n.extensions.length > 0)).toBe(true);
    expect(all.some((r) => r.links > 0)).toBe(true);
    expect(all.some((r) => r.extensions.length > 0)).toBe(true);
  });

  it('round trip: every parsed request, written back as our manifest, keeps every client_id', () => {
    for (const [name, request] of parsed) {
      const manifest = writeManifest({
        nodes: manifestNodes(request),
        leases: [],
        generated: new Date('2026-11-25T12:00:00Z'),
        expires: new Date('2026-12-25T12:00:00Z'),
      });
      expect(clientIdsOf(manifest), name).toEqual(request.nodes.map((n) => n.clientId));
    }
  });

  it('round trip: the manifests of a sample of them are schema-valid', async () => {
    const sample = [...parsed].filter((_, i) => i % 40 === 0);
    for (const [name, request] of sample) {
      const manifest = writeManifest({
        nodes: manifestNodes(request),
        leases: [],
        generated: new Date('2026-11-25T12:00:00Z'),
        expires: new Date('2026-12-25T12:00:00Z'),
      });
      await expect(validateRspec(manifest, 'manifest'), name).resolves.toBeUndefined();
    }
  });
});
