/**
 * Synthesizes every example app the way a user would: `cdk synth` with the pinned CDK CLI in each
 * examples/<name>/ folder that has a cdk.json. Part of `npm run demo`; the tests synthesize the same
 * apps in-process with the compliance harness (test/examples.test.ts).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

const root = path.join(__dirname, '..');
const examplesDir = path.join(root, 'examples');
const cdk = path.join(root, 'node_modules', '.bin', 'cdk');
const names = fs.readdirSync(examplesDir).filter((n) => fs.existsSync(path.join(examplesDir, n, 'cdk.json'))).sort();
if (names.length === 0) throw new Error('no example apps found under examples/');
for (const name of names) {
  const dir = path.join(examplesDir, name);
  process.stderr.write(`synthesizing examples/${name} ...\n`);
  execFileSync(cdk, ['synth', '--quiet', '--no-notices', '--no-version-reporting', '--output', 'cdk.out'], { cwd: dir, stdio: 'inherit' });
  const templates = fs.readdirSync(path.join(dir, 'cdk.out')).filter((f) => f.endsWith('.template.json'));
  process.stdout.write(`examples/${name}: ${templates.length} stack(s) -> examples/${name}/cdk.out (${templates.join(', ')})\n`);
}
