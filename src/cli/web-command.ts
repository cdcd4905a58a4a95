/**
 * `sfa web login`: a one-time link to the web view's operator pages (slices, peers), made on the
 * authority's machine by someone who can read its data folder.
 */
import type { Command } from 'commander';
import { dataDir } from '../config.js';
import { BadArgs } from '../faults.js';
import { formatRfc3339 } from '../credentials/time.js';
import { createLoginToken, DEFAULT_TOKEN_TTL_MINUTES } from '../web/login-tokens.js';
import { action } from './io.js';

export function registerWebCommand(program: Command): void {
  const web = program.command('web').description('the web view (served by sfa serve)');
  web
    .command('login')
    .description(
      "print a one-time link that opens the web view's operator pages (slices, peers) for 12 hours",
    )
    .option('--dir <dir>', 'data folder (default: $SFA_DIR, else ~/.sfa)')
    .option(
      '--ttl-minutes <n>',
      `how long the link can be used (default ${DEFAULT_TOKEN_TTL_MINUTES})`,
    )
    .action(
      action((o: { dir?: string; ttlMinutes?: string }) => {
        const ttl = o.ttlMinutes === undefined ? undefined : Number(o.ttlMinutes);
        if (ttl !== undefined && !Number.isInteger(ttl))
          throw new BadArgs(
            `--ttl-minutes must be a whole number of minutes, not '${o.ttlMinutes}'`,
          );
        const login = createLoginToken(dataDir(o.dir), {
          now: new Date(),
          ...(ttl === undefined ? {} : { ttlMinutes: ttl }),
        });
        process.stdout.write(
          `${login.url}\n` +
            `open it once, before ${formatRfc3339(login.expires)}; it works only once\n`,
        );
      }),
    );
}
