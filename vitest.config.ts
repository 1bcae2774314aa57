import { existsSync } from 'node:fs';
import { defineConfig } from 'vitest/config';

// `npm run coverage:states` sets this; then every actor a test creates is observed (test/support/state-coverage.setup.ts).
const stateCoverage = Boolean(process.env.XSTATE_CHAT_STATE_COVERAGE);

/**
 * The protocol suites, run a second time against a two-node cluster on a
 * real redis-server, clients alternating between the nodes (see
 * test/support/server.ts): the same tests, not copies.
 */
const CLUSTER_SUITES = [
  'test/integration/login.test.ts',
  'test/integration/channels.test.ts',
  'test/integration/errors.test.ts',
  'test/integration/ordering.test.ts',
  'test/integration/history.test.ts',
  'test/integration/accounts.test.ts',
  'test/model/**/*.test.ts',
];
// Without redis-server the cluster run is skipped (test/support/redis.ts says so); under CI its absence fails.
const withCluster = existsSync('/usr/bin/redis-server') || process.env.CI === 'true';

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    ...(stateCoverage ? { setupFiles: ['test/support/state-coverage.setup.ts'] } : {}),
    projects: [
      { extends: true, test: { name: 'node', include: ['test/**/*.test.ts'] } },
      ...(withCluster
        ? [{ extends: true, test: { name: 'cluster', include: CLUSTER_SUITES, env: { XSTATE_CHAT_CLUSTER: '1' } } }]
        : []),
    ],
  },
});
