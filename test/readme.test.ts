import * as fs from 'fs';
import * as path from 'path';
import { COST_END, COST_START, renderCostTable } from '../build-tools/cost-table';
import { composeSections, SECTIONS_END, SECTIONS_START } from '../build-tools/readme-sections';
import { readTablet, translateReadme } from '../build-tools/readme-snippets';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  test('GIVEN the cost table THEN it is what NetworkPricing generates today (run `npx projen docs:cost` if not)', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'cost-optimized-vpc.md'), 'utf8');
    const section = doc.slice(doc.indexOf(COST_START) + COST_START.length, doc.indexOf(COST_END)).trim();
    expect(section).toEqual(renderCostTable().trim());
  });

  test('GIVEN the construct sections THEN they are docs/<construct>.md (run `npx projen docs:readme` if not)', () => {
    const section = readme.slice(readme.indexOf(SECTIONS_START) + SECTIONS_START.length, readme.indexOf(SECTIONS_END)).trim();
    expect(section).toEqual(translateReadme(composeSections(), readTablet()).trim());
    expect(section).toContain('## CostOptimizedVpc');
    expect(section).toContain('## BatchOcrProcessor');
  });

  test('GIVEN the TypeScript snippets THEN their Python and Java translations are jsii-rosetta\'s current ones (run `npx projen docs:snippets` if not)', () => {
    // .jsii.tabl.json is written by `jsii-rosetta extract --strict` in post-compile, which also fails on a snippet that does not compile.
    expect(readme).toContain('```python');
    expect(translateReadme(readme, readTablet())).toEqual(readme);
  });

  /** The lines of README.md between `<!-- tag:start -->` and `<!-- tag:end -->`. */
  const readmeSection = (tag: string): string[] =>
    readme.slice(readme.indexOf(`<!-- ${tag}:start -->`) + `<!-- ${tag}:start -->`.length, readme.indexOf(`<!-- ${tag}:end -->`)).split('\n');
  /** The figures a section quotes: its table rows and its lines with a bold figure. */
  const figures = (lines: string[]): string[] => lines.filter((l) => l.startsWith('|') || l.includes('**'));
  const benchFile = (name: string): string[] => fs.readFileSync(path.join(__dirname, '..', 'assets', 'ocr-worker', 'bench', name), 'utf8').split('\n');

  test('GIVEN the benchmark tables THEN every figure is the latest `npm run bench` result (assets/ocr-worker/bench/RESULTS.md)', () => {
    const quoted = figures(readmeSection('bench'));
    expect(quoted.some((l) => l.startsWith('| OCR pages/minute |'))).toBe(true);
    const results = new Set(benchFile('RESULTS.md'));
    expect(quoted.filter((l) => !results.has(l))).toEqual([]);
  });

  test('GIVEN the service load-test table THEN every figure is the latest `npm run bench:service` result (bench/SERVICE-RESULTS.md)', () => {
    const quoted = figures(readmeSection('bench-service'));
    expect(quoted.some((l) => l.includes('GET /health'))).toBe(true);
    const results = new Set(benchFile('SERVICE-RESULTS.md'));
    expect(quoted.filter((l) => !results.has(l))).toEqual([]);
  });

  test('GIVEN the quick start THEN .ci/run runs exactly its test command', () => {
    const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
    const testCommand = 'npm ci && npx projen build';
    expect(readme).toContain(testCommand);
    expect(ci.split('\n').map((l) => l.trim())).toContain(testCommand);
  });
});
