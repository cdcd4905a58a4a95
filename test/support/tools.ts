/**
 * The programs the tests run besides Node, checked once before a run (test/global-setup.ts) so
 * that a machine without them stops with what to install rather than with bare assertion errors.
 * python3 is not among them: the one test that uses it is skipped without it.
 */
import { spawnSync } from 'node:child_process';

export interface Tool {
  command: string;
  /** Arguments that make it print its version and exit 0. */
  versionArgs: string[];
  /** The Debian packages that provide it. */
  debianPackages: string[];
  /** What the tests use it for. */
  usedFor: string;
}

export const TEST_TOOLS: readonly Tool[] = [
  {
    command: 'xmlsec1',
    versionArgs: ['--version'],
    // xmlsec1 loads its crypto back end at run time: without libxmlsec1-openssl it cannot verify.
    debianPackages: ['xmlsec1', 'libxmlsec1-openssl'],
    usedFor: 'verifying credential signatures, as the Python SFA does',
  },
  {
    command: 'openssl',
    versionArgs: ['version'],
    debianPackages: ['openssl'],
    usedFor: 'checking the GIDs sfa issues and making self-signed certificates as sfi does',
  },
];

/** Why `tool` cannot be run with `env` (its PATH), or undefined when it runs. */
function problem(tool: Tool, env: NodeJS.ProcessEnv): string | undefined {
  const r = spawnSync(tool.command, tool.versionArgs, { env, encoding: 'utf8', timeout: 10_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'not found on the PATH' : `cannot be run (${r.error.message})`;
  }
  if (r.status !== 0) {
    const said = `${r.stderr}${r.stdout}`.trim().split('\n')[0] ?? '';
    return `'${tool.command} ${tool.versionArgs.join(' ')}' exits ${r.status}${said ? `: ${said}` : ''}`;
  }
  return undefined;
}

/**
 * What to tell the person running the tests when a tool is missing, or undefined when every
 * tool runs. `env` is the environment the tests run with (its PATH is searched).
 */
export function missingToolsMessage(
  env: NodeJS.ProcessEnv = process.env,
  tools: readonly Tool[] = TEST_TOOLS,
): string | undefined {
  const missing = tools.flatMap((tool) => {
    const why = problem(tool, env);
    return why === undefined ? [] : [{ tool, why }];
  });
  if (missing.length === 0) return undefined;
  const packages = [...new Set(missing.flatMap((m) => m.tool.debianPackages))];
  return [
    'The tests need programs that cannot be run on this machine:',
    ...missing.map((m) => `  ${m.tool.command}: ${m.why} (the tests use it for ${m.tool.usedFor})`),
    'Install them, on Debian or Ubuntu with:',
    `  apt-get install ${packages.join(' ')}`,
    'then run the tests again.',
  ].join('\n');
}
