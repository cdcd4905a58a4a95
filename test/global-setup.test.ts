/**
 * The run's preconditions and its clean-up check (test/global-setup.ts): what a machine without
 * xmlsec1 or openssl is told, and what counts as left behind.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leftovers } from './global-setup.js';
import { missingToolsMessage, TEST_TOOLS } from './support/tools.js';
import { tempRoot } from './support/tmp.js';

const tmp = tempRoot('global-setup');

describe('the tools check', () => {
  it('names every missing tool and the Debian packages to install', () => {
    const emptyPath = tmp.dir('path');
    expect(missingToolsMessage({ PATH: emptyPath })).toBe(
      [
        'The tests need programs that cannot be run on this machine:',
        '  xmlsec1: not found on the PATH (the tests use it for verifying credential signatures, as the Python SFA does)',
        '  openssl: not found on the PATH (the tests use it for checking the GIDs sfa issues and making self-signed certificates as sfi does)',
        'Install them, on Debian or Ubuntu with:',
        '  apt-get install xmlsec1 libxmlsec1-openssl openssl',
        'then run the tests again.',
      ].join('\n'),
    );
  });

  it('asks only for what is missing, and says when a tool is there but fails', () => {
    const bin = tmp.dir('path');
    // An openssl that runs, and an xmlsec1 that cannot load its crypto library.
    writeFileSync(join(bin, 'openssl'), '#!/bin/sh\necho "OpenSSL 3.0.0"\n');
    writeFileSync(
      join(bin, 'xmlsec1'),
      '#!/bin/sh\necho "xmlsec1: unable to load crypto library openssl" >&2\nexit 1\n',
    );
    chmodSync(join(bin, 'openssl'), 0o755);
    chmodSync(join(bin, 'xmlsec1'), 0o755);
    const message = missingToolsMessage({ PATH: bin });
    expect(message).toContain(
      "  xmlsec1: 'xmlsec1 --version' exits 1: xmlsec1: unable to load crypto library openssl",
    );
    expect(message).not.toContain('openssl: ');
    expect(message).toContain('  apt-get install xmlsec1 libxmlsec1-openssl\n');
  });

  it('is silent on this machine, where the tests run', () => {
    expect(missingToolsMessage()).toBeUndefined();
    expect(TEST_TOOLS.map((t) => t.command)).toEqual(['xmlsec1', 'openssl']);
  });
});

describe('the clean-up check', () => {
  it("reports whatever a run left in its folder, but tsx's cache", () => {
    const runDir = tmp.dir('run');
    expect(leftovers(runDir)).toEqual([]);
    mkdirSync(join(runDir, 'tsx-0'));
    expect(leftovers(runDir)).toEqual([]);
    mkdirSync(join(runDir, 'sfa-plc-Ab12Cd'));
    writeFileSync(join(runDir, 'plc-next.gid'), '');
    expect(leftovers(runDir)).toEqual(['plc-next.gid', 'sfa-plc-Ab12Cd']);
  });
});
