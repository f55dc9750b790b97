/** `npm run test:chaos`: the chaos suite alone, one scenario at a time (they load the whole machine). */
const path = require('node:path');
const base = require('../../jest.config.js');
const e2e = base.projects.find((project) => project.displayName === 'e2e');

module.exports = {
  rootDir: path.resolve(__dirname, '..', '..'),
  maxWorkers: 1,
  projects: [
    {
      ...e2e,
      rootDir: path.resolve(__dirname, '..', '..'),
      displayName: 'chaos',
      testMatch: ['<rootDir>/test/chaos/**/*.chaos-spec.ts'],
      testTimeout: 1_800_000,
    },
  ],
};
