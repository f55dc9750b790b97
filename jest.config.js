/** Unit specs live beside the code (src/**\/*.spec.ts); e2e specs in test/e2e. */
const swc = [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax: 'typescript', decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2022',
      keepClassNames: true,
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

const common = {
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.ts$': swc },
  testEnvironment: 'node',
};

const e2e = {
  ...common,
  rootDir: '.',
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  setupFiles: ['<rootDir>/test/support/database-route.ts'],
  testTimeout: 120000,
};

const PAYOUT_SUITE = [
  'payouts',
  'payouts-processing',
  'payouts-crash',
  'payouts-db-outage',
  'payouts-reconciler',
  'payouts-balances',
].map((name) => `<rootDir>/test/e2e/${name}.e2e-spec.ts`);

module.exports = {
  // Two workers on this 2-core machine; e2e files are mostly waiting on Redis, PostgreSQL and child processes.
  maxWorkers: 2,
  // A project-level testTimeout is not honoured by Jest 30: set it here for every project.
  testTimeout: 120000,
  projects: [
    { ...common, displayName: 'unit', rootDir: '.', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...e2e, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.e2e-spec.ts'] },
    // The payout suite once more, every app reaching PostgreSQL through PgBouncer in transaction
    // mode, as most production databases are fronted (issue 12).
    {
      ...e2e,
      displayName: 'e2e (PgBouncer)',
      testMatch: PAYOUT_SUITE,
      globals: { databaseRoute: 'pgbouncer' },
    },
  ],
};
