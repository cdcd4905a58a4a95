import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Real HTTPS servers, real SQLite files and xmlsec1 subprocesses: give them room.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
