/**
 * The packed library as a user gets it: what `npm pack` ships, and a scratch CDK app outside the
 * repository that installs the tarball and synthesizes with it.
 *
 * Needs the compiled library (lib/) and the handler bundles (assets/lambda/): `npx projen build`
 * compiles before it tests. Run alone with `npx projen compile && npx jest test/package`.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

const ROOT = path.join(__dirname, '..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

interface PackFile { path: string; size: number }
interface PackResult { filename: string; size: number; unpackedSize: number; files: PackFile[] }

function npm(args: string[], cwd: string): string {
  return execFileSync(NPM, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
}

function requireCompiled(): void {
  if (!fs.existsSync(path.join(ROOT, 'lib', 'index.js')) || !fs.existsSync(path.join(ROOT, '.jsii'))) {
    throw new Error('lib/ is missing: run `npx projen compile` (or the whole `npx projen build`) first');
  }
}

describe('the npm package', () => {
  let pack: PackResult;
  const cleanups: Array<() => void> = [];
  afterAll(() => { for (const cleanup of cleanups.splice(0)) cleanup(); });

  beforeAll(() => {
    requireCompiled();
    pack = (JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'], ROOT)) as PackResult[])[0];
    // Recorded for the README ("package size") and for whoever wonders why it grew.
    fs.mkdirSync(path.join(ROOT, 'test-reports'), { recursive: true });
    fs.writeFileSync(path.join(ROOT, 'test-reports', 'npm-pack.json'), JSON.stringify({ size: pack.size, unpackedSize: pack.unpackedSize, files: pack.files.length }, null, 2));
  });

  test('GIVEN npm pack THEN it ships the compiled library, jsii assembly, API.md and README', () => {
    const files = pack.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['lib/index.js', 'lib/index.d.ts', '.jsii', 'API.md', 'README.md', 'LICENSE', 'package.json']));
  });

  test('GIVEN npm pack THEN it ships every handler bundle the constructs reference', () => {
    const files = new Set(pack.files.map((f) => f.path));
    // projen writes one bundle per handler: assets/lambda/<construct>/<name>.lambda/index.js
    const bundles: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name === 'index.js') bundles.push(path.relative(ROOT, full).split(path.sep).join('/'));
      }
    };
    walk(path.join(ROOT, 'assets', 'lambda'));
    expect(bundles.length).toBeGreaterThan(0);
    for (const bundle of bundles) {
      expect(files.has(bundle)).toBe(true);
    }
  });

  test('GIVEN npm pack THEN the worker ships as source with its lockfile and Dockerfile, without node_modules, tests or benchmarks', () => {
    const files = pack.files.map((f) => f.path);
    const worker = files.filter((f) => f.startsWith('assets/ocr-worker/'));
    if (fs.existsSync(path.join(ROOT, 'assets', 'ocr-worker', 'Dockerfile'))) {
      expect(worker).toEqual(expect.arrayContaining([
        'assets/ocr-worker/Dockerfile', 'assets/ocr-worker/.dockerignore', 'assets/ocr-worker/package.json', 'assets/ocr-worker/package-lock.json',
      ]));
      expect(worker.some((f) => f.startsWith('assets/ocr-worker/src/'))).toBe(true);
    }
    expect(worker.filter((f) => /\/(node_modules|test|bench|scratch)\//.test(f))).toEqual([]);
  });

  test('GIVEN npm pack THEN the tracing collector\'s Dockerfile ships (OcrServiceCluster builds its default collector image from it)', () => {
    expect(pack.files.map((f) => f.path)).toContain('assets/otel-collector/Dockerfile');
  });

  test('GIVEN npm pack THEN the package stays small (about 1.3 MB packed today; no node_modules or fixtures can slip in)', () => {
    expect(pack.size).toBeLessThan(5 * 1024 * 1024);
  });

  test('GIVEN npm pack THEN nothing for developers only is shipped', () => {
    const files = pack.files.map((f) => f.path);
    expect(files.filter((f) => /^(src|test|examples|build-tools|docs|\.ci|\.projen|coverage)\//.test(f) || f.endsWith('.test.js'))).toEqual([]);
  });

  test('GIVEN the tarball installed in a scratch CDK app outside the repository THEN the app synthesizes', () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ocr-pack-'));
    // about 200 MB (the tarball and the app's node_modules): removed when the test ends, whatever its outcome
    cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
    const tarball = path.join(work, npm(['pack', '--ignore-scripts', '--pack-destination', work], ROOT).trim().split('\n').pop()!);
    const app = path.join(work, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-ocr-app', version: '1.0.0', private: true }));
    const cdkVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'aws-cdk-lib', 'package.json'), 'utf8')) as { version: string }).version;
    const constructsVersion = (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', 'constructs', 'package.json'), 'utf8')) as { version: string }).version;
    // --prefer-offline: aws-cdk-lib and constructs are in the npm cache from this repository's own install.
    npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, `aws-cdk-lib@${cdkVersion}`, `constructs@${constructsVersion}`], app);
    fs.writeFileSync(path.join(app, 'app.js'), [
      "const { App, Stack } = require('aws-cdk-lib');",
      "const ocr = require('cdk-ocr-constructs');",
      "const app = new App({ outdir: 'cdk.out' });",
      "const stack = new Stack(app, 'ScratchOcr', { env: { account: '111111111111', region: 'us-east-1' } });",
      "const network = new ocr.CostOptimizedVpc(stack, 'Network');",
      "network.requireEndpoints(['batch']);",
      // The constructs with handler bundles and the worker image: their assets must resolve from lib/.
      "const processor = new ocr.BatchOcrProcessor(stack, 'Batch', { network });",
      "new ocr.OcrServiceCluster(stack, 'Service', { network });",
      'console.log(JSON.stringify({ constructs: Object.keys(ocr).filter((k) => /^[A-Z]/.test(k)).sort(), estimate: network.estimateMonthlyCost(0).totalMonthlyUsd }));',
      'app.synth();',
    ].join('\n'));
    const out = JSON.parse(execFileSync(process.execPath, ['app.js'], { cwd: app, encoding: 'utf8' }).trim().split('\n').pop()!) as { constructs: string[]; estimate: number };
    expect(out.constructs).toContain('CostOptimizedVpc');
    expect(out.constructs).toEqual(expect.arrayContaining(['BatchOcrProcessor', 'OcrServiceCluster', 'EcrBatchAutoUpdater']));
    const template = JSON.parse(fs.readFileSync(path.join(app, 'cdk.out', 'ScratchOcr.template.json'), 'utf8')) as { Resources: Record<string, { Type: string }> };
    const types = Object.values(template.Resources).map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['AWS::Batch::JobDefinition', 'AWS::ECS::Service', 'AWS::Lambda::Function']));
    // The handler bundles and the worker's build context were staged from the installed package.
    const staged = fs.readdirSync(path.join(app, 'cdk.out'));
    expect(staged.some((d) => d.startsWith('asset.') && fs.existsSync(path.join(app, 'cdk.out', d, 'index.js')))).toBe(true);
    expect(staged.some((d) => d.startsWith('asset.') && fs.existsSync(path.join(app, 'cdk.out', d, 'Dockerfile')))).toBe(true);
  });
});
