import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: run test files two at a time so heavy ONNX tests do not starve each other.
    maxWorkers: 2,
  },
});
