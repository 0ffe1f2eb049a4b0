import * as fs from 'fs';
import * as path from 'path';
import { COST_END, COST_START, renderCostTable } from '../build-tools/cost-table';
import { readTablet, translateReadme } from '../build-tools/readme-snippets';

const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  test('GIVEN the cost table THEN it is what NetworkPricing generates today (run `npx projen docs:cost` if not)', () => {
    const section = readme.slice(readme.indexOf(COST_START) + COST_START.length, readme.indexOf(COST_END)).trim();
    expect(section).toEqual(renderCostTable().trim());
  });

  test('GIVEN the TypeScript snippets THEN their Python and Java translations are jsii-rosetta\'s current ones (run `npx projen docs:snippets` if not)', () => {
    // .jsii.tabl.json is written by `jsii-rosetta extract --strict` in post-compile, which also fails on a snippet that does not compile.
    expect(readme).toContain('```python');
    expect(translateReadme(readme, readTablet())).toEqual(readme);
  });

  test('GIVEN the quick start THEN .ci/run runs exactly its test command', () => {
    const ci = fs.readFileSync(path.join(__dirname, '..', '.ci', 'run'), 'utf8');
    const testCommand = 'npm ci && npx projen build';
    expect(readme).toContain(testCommand);
    expect(ci.split('\n').map((l) => l.trim())).toContain(testCommand);
  });
});
