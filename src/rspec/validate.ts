/**
 * XSD validation of RSpecs with libxml2 (xmllint compiled to WebAssembly): the GENI v3 schema
 * of the kind, SFA's planetlab.xsd, the GENI opstate schema (ads) and our sfa-ts.xsd, together.
 *
 * xmllint takes one schema, so a small wrapper schema imports each namespace's. The GENI schemas
 * admit extension elements with processContents="lax": an element of a namespace we have a
 * schema for is checked against it, any other is skipped (the GENI login-user extension, whose
 * schema is not among ours, and every other testbed's extensions). Because lax also skips an
 * element that its namespace's schema does not declare, a misspelt extension element would pass
 * the XSD; we check separately that every element of the planetlab and sfa-ts namespaces is one
 * their schemas declare.
 *
 * SFA writes the PlanetLab extension in `.../resources/sfa/ext/planetlab/1`, but the published
 * planetlab.xsd declares `.../resources/ext/planetlab/1`. We keep SFA's URI on the wire and map
 * it, in a copy of the document, to the XSD's before validating.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';
import { BadArgs } from '../faults.js';
import { OPSTATE_NS, PLANETLAB_NS, PLANETLAB_XSD_NS, RSPEC3_NS, SFATS_NS } from './namespaces.js';

export type RspecKind = 'ad' | 'request' | 'manifest';

/**
 * The package's root: two levels above this file, whether it runs as `src/rspec/validate.ts`
 * (tsx, tests) or as `dist/rspec/validate.js` (the build, an installed copy). The schemas ship
 * in the package, so an installed copy validates without anything beside it.
 */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * Where the GENI v3 and SFA schemas are read from unless told otherwise: the package's
 * `schemas/` (`rspec3/{advertisement,request,manifest}/`, `sfa-ext/planetlab.xsd`).
 */
export const DEFAULT_RSPEC_SCHEMA_DIR = resolve(PACKAGE_ROOT, 'schemas');
/** Our extension schema, shipped with the code. */
export const SFATS_SCHEMA_FILE = resolve(PACKAGE_ROOT, 'schemas/sfa-ts/sfa-ts.xsd');

const KIND_DIR: Record<RspecKind, { dir: string; main: string }> = {
  ad: { dir: 'rspec3/advertisement', main: 'ad.xsd' },
  request: { dir: 'rspec3/request', main: 'request.xsd' },
  manifest: { dir: 'rspec3/manifest', main: 'manifest.xsd' },
};

interface SchemaSet {
  wrapper: XMLFileInfo;
  preload: XMLFileInfo[];
  /** The element names each checked extension namespace declares. */
  declared: Map<string, Set<string>>;
}

const cache = new Map<string, SchemaSet>();

/** Every element name an extension schema declares (top-level or local, as lease's node). */
function declaredElementNames(xsd: string): Set<string> {
  return new Set([...xsd.matchAll(/<xs:element\s+name="([^"]+)"/g)].map((m) => m[1] ?? ''));
}

function schemaSet(kind: RspecKind, schemaDir: string): SchemaSet {
  const key = `${kind}\0${schemaDir}`;
  let set = cache.get(key);
  if (set) return set;
  const { dir, main } = KIND_DIR[kind];
  const geniDir = join(schemaDir, dir);
  const preload: XMLFileInfo[] = readdirSync(geniDir)
    .filter((f) => f.endsWith('.xsd'))
    .map((f) => ({ fileName: f, contents: readFileSync(join(geniDir, f), 'utf8') }));
  const planetlab = readFileSync(join(schemaDir, 'sfa-ext/planetlab.xsd'), 'utf8');
  const ours = readFileSync(SFATS_SCHEMA_FILE, 'utf8');
  preload.push({ fileName: 'sfa-planetlab.xsd', contents: planetlab });
  preload.push({ fileName: 'sfa-ts.xsd', contents: ours });
  const imports = [
    [RSPEC3_NS, main],
    [PLANETLAB_XSD_NS, 'sfa-planetlab.xsd'],
    [SFATS_NS, 'sfa-ts.xsd'],
  ];
  if (kind === 'ad') {
    // ad-opstate.xsd sits with the advertisement schemas.
    imports.push([OPSTATE_NS, 'ad-opstate.xsd']);
  }
  const wrapper: XMLFileInfo = {
    fileName: 'rspec-validation.xsd',
    contents:
      '<?xml version="1.0" encoding="UTF-8"?>\n' +
      '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n' +
      imports
        .map(([ns, file]) => `  <xs:import namespace="${ns}" schemaLocation="${file}"/>\n`)
        .join('') +
      '</xs:schema>\n',
  };
  const declared = new Map<string, Set<string>>([
    [PLANETLAB_XSD_NS, declaredElementNames(planetlab)],
    [SFATS_NS, declaredElementNames(ours)],
  ]);
  set = { wrapper, preload, declared };
  cache.set(key, set);
  return set;
}

/** SFA's planetlab namespace declarations rewritten to the one planetlab.xsd declares. */
function mapPlanetlabNamespace(xml: string): string {
  return xml.replace(
    /(xmlns(?::[\w.-]+)?\s*=\s*)(["'])http:\/\/www\.planet-lab\.org\/resources\/sfa\/ext\/planetlab\/1\2/g,
    `$1$2${PLANETLAB_XSD_NS}$2`,
  );
}

/**
 * Elements of our checked extension namespaces that their schema does not declare (which lax
 * wildcards would let through). Found with a scan of the namespace declarations and tags: the
 * documents are ours or already schema-valid, so no DOM is needed.
 */
function undeclaredExtensionElements(xml: string, declared: Map<string, Set<string>>): string[] {
  const prefixes = new Map<string, string>();
  for (const m of xml.matchAll(/xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']/g)) {
    const [, prefix, uri] = m;
    const ns = uri === PLANETLAB_NS ? PLANETLAB_XSD_NS : uri;
    if (prefix && ns && declared.has(ns)) prefixes.set(prefix, ns);
  }
  const bad: string[] = [];
  for (const m of xml.matchAll(/<([\w.-]+):([\w.-]+)/g)) {
    const [, prefix, local] = m;
    const ns = prefix === undefined ? undefined : prefixes.get(prefix);
    if (ns && local && !declared.get(ns)?.has(local)) {
      bad.push(`${prefix}:${local}`);
    }
  }
  return bad;
}

/**
 * Validate `xml` as an RSpec of `kind` against the GENI v3 schemas in `schemaDir` (laid out as
 * the package's `schemas/`: `rspec3/{advertisement,request,manifest}/`, `sfa-ext/planetlab.xsd`)
 * plus our own schema. Resolves when valid; rejects with BadArgs quoting the first errors.
 */
export async function validateRspec(
  xml: string,
  kind: RspecKind,
  schemaDir: string = DEFAULT_RSPEC_SCHEMA_DIR,
): Promise<void> {
  // As for every inbound document: no DTD, so nothing for libxml2 to expand or fetch.
  if (/<!DOCTYPE/i.test(xml) || /<!ENTITY/i.test(xml)) {
    throw new BadArgs(
      `${kind} RSpec contains a DOCTYPE or ENTITY declaration, which is not accepted`,
    );
  }
  const set = schemaSet(kind, schemaDir);
  const result = await validateXML({
    xml: { fileName: 'rspec.xml', contents: mapPlanetlabNamespace(xml) },
    schema: set.wrapper,
    preload: set.preload,
    // A 10,000-node ad is several megabytes; libxml2's tree of it needs more than the default.
    maxMemoryPages: 16 * 1024,
  });
  if (!result.valid) {
    const first = result.errors.slice(0, 3).map((e) => e.message.trim());
    throw new BadArgs(
      `${kind} RSpec does not match the GENI v3 ${kind} schema: ${first.join('; ')}`,
    );
  }
  const undeclared = undeclaredExtensionElements(xml, set.declared);
  if (undeclared.length > 0) {
    throw new BadArgs(
      `${kind} RSpec uses extension elements their schema does not declare: ` +
        [...new Set(undeclared)].slice(0, 5).join(', '),
    );
  }
}
