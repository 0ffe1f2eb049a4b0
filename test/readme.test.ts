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

  test('GIVEN the benchmark table THEN it is the committed result of `npm run bench` (assets/ocr-worker/bench/RESULTS.md)', () => {
    const results = fs.readFileSync(path.join(__dirname, '..', 'assets', 'ocr-worker', 'bench', 'RESULTS.md'), 'utf8');
    const table = results.slice(results.indexOf('Measured ')).trim();
    const section = readme.slice(readme.indexOf('<!-- bench:start -->') + '<!-- bench:start -->'.length, readme.indexOf('<!-- bench:end -->')).trim();
    expect(section).toEqual(table);
    expect(section).toMatch(/\| OCR pages\/minute \|/);
  });

  test('GIVEN the quick start THEN .ci/run runs exactly its test command', () => {
    const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
    const testCommand = 'npm ci && npx projen build';
    expect(readme).toContain(testCommand);
    expect(ci.split('\n').map((l) => l.trim())).toContain(testCommand);
  });
});
