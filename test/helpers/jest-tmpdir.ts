import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/**
 * One temporary folder for the whole test run, removed when the run ends (jest's globalSetup and
 * globalTeardown, both in jest's parent process; the workers it starts afterwards inherit TMPDIR).
 *
 * Why: every App built without an outdir (the example apps, `new App()` in the construct tests) and
 * every asset it bundles writes a `cdk.outXXXXXX` folder into TMPDIR, and nothing removes them: a full
 * run left about a hundred of them (up to 40 MB), run after run. The compliance helper removes its own
 * apps' assemblies as each file ends; this catches the rest, wherever it comes from.
 */
const RUN_TMPDIR_VARIABLE = 'CDK_OCR_TEST_RUN_TMPDIR';

export function setup(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ocr-test-run-'));
  process.env[RUN_TMPDIR_VARIABLE] = dir;
  process.env.TMPDIR = dir;
}

export function teardown(): void {
  const dir = process.env[RUN_TMPDIR_VARIABLE];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
