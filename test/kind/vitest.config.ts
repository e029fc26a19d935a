import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The kind end-to-end suite (test/kind/run-e2e.sh runs it against a cluster
// it installed Ballast on): one file, in order, with long timeouts.
export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  test: {
    include: ['test/kind/**/*.kind.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
