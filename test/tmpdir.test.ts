import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';

// test/helpers/jest-tmpdir.ts: the run's temporary files go to one folder, removed when the run ends.
test('an app without an outdir writes its cloud assembly into the test run\'s own temporary folder', () => {
  const runDir = process.env.CDK_OCR_TEST_RUN_TMPDIR;
  expect(runDir).toBeDefined();
  expect(path.basename(runDir!)).toMatch(/^cdk-ocr-test-run-/);
  expect(os.tmpdir()).toBe(runDir);

  const app = new App();
  new Stack(app, 'Empty');
  const assembly = app.synth();
  expect(path.dirname(assembly.directory)).toBe(runDir);
});
