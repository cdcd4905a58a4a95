/**
 * What `sfa serve` and `npm start` print once the authority listens: its URLs, and the exact
 * commands that make a newcomer a researcher of it and set up `sfi` against it.
 */
import { homedir, userInfo } from 'node:os';
import type { RunningAuthority } from '../server/authority.js';

/** A user name for the example commands: the login name, as an HRN leaf, else `alice`. */
export function exampleUserName(): string {
  let login: string;
  try {
    login = userInfo().username;
  } catch {
    login = ''; // no passwd entry for this uid (some containers)
  }
  const leaf = login.toLowerCase().replace(/[^a-z0-9]/g, '');
  return /^[a-z]/.test(leaf) ? leaf.slice(0, 30) : 'alice';
}

export function startBanner(
  running: Pick<RunningAuthority, 'authority' | 'urls'> & { store?: string },
  dir: string,
  leaf: string = exampleUserName(),
): string {
  const a = running.authority;
  const user = `${a}.${leaf}`;
  const sfi = `${homedir()}/.sfi`;
  return (
    `sfa-ts authority '${a}' (data in ${dir}${running.store ? `; records in ${running.store}` : ''})\n` +
    `  registry:       ${running.urls.registry}\n` +
    `  aggregate (v3): ${running.urls.aggregate}   (v2: ${running.urls.aggregateV2})\n` +
    `  slice manager:  ${running.urls.slicemgr}\n` +
    `  web view:       ${running.urls.web}   (operator pages: npx sfa web login --dir ${dir})\n\n` +
    `To become a researcher of '${a}' (once, in another terminal, from this checkout; after\n` +
    `'npm link' the command is just 'sfa'):\n` +
    `  mkdir -p ${sfi} && openssl genrsa -out ${sfi}/${user}.pkey 2048\n` +
    `  openssl rsa -in ${sfi}/${user}.pkey -pubout -out ${sfi}/${user}.pub\n` +
    `  npx sfa user add ${user} --email ${leaf}@example.org --key ${sfi}/${user}.pub --dir ${dir}\n` +
    `  npx sfa slice add ${a}.${leaf}slice --researcher ${user} --dir ${dir}\n\n` +
    `Then ${sfi}/sfi_config for sfi:\n` +
    `  [sfi]\n  auth = ${a}\n  user = ${user}\n` +
    `  registry = ${running.urls.registry}\n` +
    // sfi speaks TLS whatever the scheme, and https:// trips its URL handling.
    `  sm = ${running.urls.slicemgr.replace('https://', 'http://')}\n` +
    `and try: sfi.py version; sfi.py resources; see README.\n`
  );
}
