import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project checkout. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** `../shared`, beside the checkout: read-only schemas and vectors. */
export const SHARED = resolve(ROOT, '../shared');
export const SFA_REFERENCE = resolve(SHARED, 'vectors/sfa-reference');
export const SCHEMAS = resolve(SHARED, 'schemas');
export const FIXTURES = resolve(ROOT, 'test/fixtures');

/**
 * The fixed clock for everything with an expiry. The reference vectors were made on
 * 2026-11-25 and expire 2026-12-26T09:02:59Z; tests never read the wall clock.
 */
export const NOW = new Date('2026-11-25T12:00:00Z');
