/**
 * The README is the package's page on npm and Construct Hub: short, for users, and its commands work.
 */
import * as fs from 'fs';
import * as path from 'path';
import { COST_END, COST_START, renderCostTable } from '../build-tools/cost-table';

const ROOT = path.join(__dirname, '..');
const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The L3 constructs, each with its user documentation in docs/<kebab-case name>.md. */
const CONSTRUCTS = ['BatchOcrProcessor', 'OcrServiceCluster', 'CostOptimizedVpc', 'EcrBatchAutoUpdater', 'JobCleanup'];
const kebab = (name: string) => name.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();

describe('README', () => {
  test('GIVEN the README THEN it stays a page for users: a few hundred lines, no per-construct reference', () => {
    expect(readme.split('\n').length).toBeLessThanOrEqual(300);
    expect(readme).toContain('npm install cdk-ocr-constructs');
  });

  test.each(CONSTRUCTS)('GIVEN %s THEN the constructs table names it and links its docs, which exist', (name) => {
    const doc = `docs/${kebab(name)}.md`;
    expect(readme).toMatch(new RegExp(`\\| \`${name}\` \\|.*\\(${doc.replace('.', '\\.')}\\) \\|`));
    expect(fs.existsSync(path.join(ROOT, doc))).toBe(true);
  });

  test('GIVEN the fresh-clone commands THEN .ci/run runs both exactly as written', () => {
    const ci = fs.readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    for (const command of ['npm ci && npx projen build', 'npm ci && npm run demo']) {
      expect(readme).toContain(command);
      expect(ci).toMatch(new RegExp(`(^|[(&;] *)${command.replace(/[.&]/g, '\\$&')}\\)?$`, 'm'));
    }
  });

  test('GIVEN every `npm run <script>` in the README THEN package.json has that script', () => {
    const scripts = [...readme.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]);
    expect(scripts).toEqual(expect.arrayContaining(['demo', 'ocr', 'serve']));
    for (const script of scripts) expect(Object.keys(packageJson.scripts)).toContain(script);
  });

  test('GIVEN the network cost table THEN it is what NetworkPricing generates today (run `npx projen docs:cost` if not)', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'cost-optimized-vpc.md'), 'utf8');
    const section = doc.slice(doc.indexOf(COST_START) + COST_START.length, doc.indexOf(COST_END)).trim();
    expect(section).toEqual(renderCostTable().trim());
  });
});
