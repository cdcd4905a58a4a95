/**
 * Where the web view's files are: the browser side in the package's `web/static/`, and two
 * vendored files from npm packages (the world map and the TopoJSON decoder).
 */
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The package's root: two levels above this file, whether it runs as `src/web/static-files.ts`
 * (tsx, tests) or as `dist/web/static-files.js` (the build), as rspec/validate.ts finds schemas.
 */
const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const STATIC_DIR = join(PACKAGE_ROOT, 'web/static');

const require = createRequire(import.meta.url);
const packageDir = (name: string): string => dirname(require.resolve(`${name}/package.json`));

/** `/static/vendor/<name>` → the file served for it. */
export const VENDOR_FILES: Readonly<Record<string, string>> = {
  'countries-110m.json': join(packageDir('world-atlas'), 'countries-110m.json'),
  // The UMD build: as a classic script or as a module (`this` is undefined there, so it falls
  // back to `self`), it defines `globalThis.topojson`; it has no ES exports.
  'topojson-client.js': join(packageDir('topojson-client'), 'dist/topojson-client.min.js'),
};
