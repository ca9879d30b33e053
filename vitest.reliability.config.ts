import { defineConfig } from 'vitest/config';

// `npm run test:reliability`: long scenarios with real brokers and killed processes.
export default defineConfig({
  test: {
    include: ['test/reliability/**/*.test.ts'],
    testTimeout: 240_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['verbose'],
  },
});
