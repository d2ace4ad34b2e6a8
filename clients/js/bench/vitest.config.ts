import { defineConfig } from 'vitest/config';

// `npm run bench`: one run of bench/client.bench.ts (not part of `npm test`).
export default defineConfig({
  test: {
    include: ['bench/**/*.bench.ts'],
    environment: 'node',
    testTimeout: 600_000,
    hookTimeout: 120_000,
  },
});
