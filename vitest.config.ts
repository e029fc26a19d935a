import { defineConfig } from 'vitest/config';

// Two projects: `unit` is the pure core (fast, no privileges); `lab` runs
// against the lab's real etcd + kube-apiserver and real network namespaces
// (needs root). `npm test` runs both.
export default defineConfig({
  test: {
    teardownTimeout: 60_000,
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{controller,cli,speaker,shared,test,bench,deploy}/**/*.test.ts'],
          exclude: ['**/*.lab.test.ts', '**/*.kind.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'lab',
          include: ['{test,controller,cli,speaker,shared}/**/*.lab.test.ts'],
          globalSetup: ['test/lab/vitest-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // 2 cores: lab files run one at a time so timings and the shared
          // control plane stay predictable.
          fileParallelism: false,
        },
      },
    ],
  },
});
