/**
 * `npm run test:deploy`: builds the image with the machine's container engine and runs the
 * docker-compose.yml stack (test/deploy/stack.deploy-spec.ts). No throwaway services of the e2e
 * suite: the stack brings its own Redis and PostgreSQL containers.
 */
const path = require('node:path');
const base = require('../../jest.config.js');
const e2e = base.projects.find((project) => project.displayName === 'e2e');

module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  maxWorkers: 1,
  // The first run builds the base images (debootstrap) and the image: many minutes on a loaded
  // machine. Set here: Jest 30 does not honour a project-level testTimeout.
  testTimeout: 3_600_000,
  projects: [
    {
      moduleFileExtensions: e2e.moduleFileExtensions,
      transform: e2e.transform,
      testEnvironment: e2e.testEnvironment,
      rootDir: path.resolve(__dirname, '..', '..'),
      displayName: 'deploy',
      testMatch: ['<rootDir>/test/deploy/**/*.deploy-spec.ts'],
    },
  ],
};
