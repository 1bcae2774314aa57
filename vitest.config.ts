import { defineConfig } from 'vitest/config';

// `npm run coverage:states` sets this; then every actor a test creates is observed (test/support/state-coverage.setup.ts).
const stateCoverage = Boolean(process.env.XSTATE_CHAT_STATE_COVERAGE);

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    ...(stateCoverage ? { setupFiles: ['test/support/state-coverage.setup.ts'] } : {}),
  },
});
