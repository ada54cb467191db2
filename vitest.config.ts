import { defineConfig } from 'vitest/config';

/**
 * Two suites. `unit`: pure decisions, handlers with injected ports, constructs synthesized
 * without bundling, the emulator's parts: no cloud assembly, no browser, no subprocess CLIs
 * (`npm run test:unit`, the inner loop). `integration`: the bundles `cdk deploy` ships, served
 * by the local emulator (end-to-end), headless Chromium, the conformance suites, the CLIs run
 * as an operator runs them, cfn-guard over the template. `npm test` runs both.
 */
const shared = {
  testTimeout: 30_000,
  hookTimeout: 30_000,
  // Tests must never reach AWS: no credentials, and a region so SDK clients can be built.
  env: {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_SDK_JS_SUPPRESS_NODE_DEPRECATION_WARNING: '1',
  },
};

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          ...shared,
          name: 'unit',
          isolate: false,
          include: ['test/unit/**/*.test.ts', 'test/support/**/*.test.ts'],
        },
      },
      {
        test: {
          ...shared,
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // The cloud assembly the end-to-end suites serve, synthesized once per run.
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
