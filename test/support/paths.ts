import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout. Everything the tests read is inside it. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/**
 * The Python SFA 4.0.3 reference vectors: GIDs, test keys and credentials of `ple`, `ple.inria`,
 * alice, bob and `ple.inria.myslice` (certs/README.md).
 */
export const SFA_REFERENCE = resolve(ROOT, 'certs/sfa-reference');
/** The XSDs the package ships: GENI RSpec v3, SFA's extensions, ours, the credential bundle. */
export const SCHEMAS = resolve(ROOT, 'schemas');
/** Real RSpecs published by GENI and Fed4FIRE testbeds (test/vectors/README.md). */
export const RSPEC_CORPUS = resolve(ROOT, 'test/vectors/rspec-corpus');
/** The GENI AM API acceptance tests' sample request RSpecs and untrusted user credential. */
export const GENI_ACCEPTANCE = resolve(ROOT, 'test/vectors/geni-acceptance');
export const FIXTURES = resolve(ROOT, 'test/fixtures');

/**
 * The fixed clock for everything with an expiry. The reference vectors were made on
 * 2026-11-25 and expire 2026-12-26T09:02:59Z; tests never read the wall clock.
 */
export const NOW = new Date('2026-11-25T12:00:00Z');
