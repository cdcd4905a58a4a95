import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Checks the programs the tests need, gives the run a temporary folder of its own and fails
    // the run when a test leaves anything in it.
    globalSetup: ['test/global-setup.ts'],
    // Real HTTPS servers, real SQLite files and xmlsec1 subprocesses: give them room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
