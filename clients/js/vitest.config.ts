import { defineConfig } from 'vitest/config';

// test/unit: the rules, against scripted endpoints and subscriptions (fast, no I/O).
// test/localnet: against a real `lifeline localnet` with real keepers (each file starts
// its own); one file at a time, so their keepers do not compete for the CPU.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
