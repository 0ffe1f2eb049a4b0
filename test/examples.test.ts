/**
 * Every example app (examples/<name>/app.ts) synthesizes with CloudFormation schema validation as
 * errors and the compliance harness clean, and the committed list of cdk-nag acknowledgements
 * (docs/nag-acknowledgements.json, rendered in README) is exactly what the constructs acknowledge.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ACKS_END, ACKS_FILE, ACKS_START, AcknowledgementRow, currentAcknowledgements, exampleNames, loadExample, renderAcknowledgements, ROOT } from '../build-tools/nag-acknowledgements';
import { newTestApp, synthCompliant } from './helpers/compliance';

const names = exampleNames();

describe('example apps', () => {
  test('GIVEN the examples folder THEN the three documented examples exist, each with cdk.json and a header comment', () => {
    expect(names).toEqual(expect.arrayContaining(['batch-ocr', 'bring-your-own', 'ocr-service']));
    for (const name of names) {
      expect(fs.existsSync(path.join(ROOT, 'examples', name, 'cdk.json'))).toBe(true);
      expect(fs.readFileSync(path.join(ROOT, 'examples', name, 'app.ts'), 'utf8')).toMatch(/^\/\*\*\n \* [A-Z]/);
    }
  });

  test.each(names)('GIVEN examples/%s THEN it synthesizes schema-valid and cdk-nag clean (both majors, three packs)', (name) => {
    const app = newTestApp();
    loadExample(name)(app);
    synthCompliant(app);
  });
});

describe('cdk-nag acknowledgements', () => {
  const committed = JSON.parse(fs.readFileSync(ACKS_FILE, 'utf8')) as AcknowledgementRow[];
  let current: AcknowledgementRow[] = [];
  beforeAll(() => {
    current = currentAcknowledgements();
  });

  test('GIVEN the committed list THEN it equals what the constructs acknowledge today (run `npx projen docs:nag` if not)', () => {
    expect(current).toEqual(committed);
  });

  test('GIVEN the README THEN it renders the committed list', () => {
    const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf(ACKS_START) + ACKS_START.length, readme.indexOf(ACKS_END)).trim();
    expect(section).toEqual(renderAcknowledgements(committed).trim());
  });

  test('GIVEN every acknowledgement THEN it names one rule on one resource, with a specific reason, never a wildcard', () => {
    for (const row of current) {
      expect(row.rule).toMatch(/^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security)-[A-Za-z0-9]+$/);
      expect(row.reason.length).toBeGreaterThanOrEqual(40);
      expect(row.resource).not.toBe('');
      expect(row.findings ?? []).not.toContain('*');
    }
  });
});
