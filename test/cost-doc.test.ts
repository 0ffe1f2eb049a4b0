/**
 * docs/cost.md and the cost estimate's measured inputs are generated (`npx projen docs:cost`): they
 * must match what the generators produce from the current code and measurement files.
 */
import * as fs from 'fs';
import { COST_DOC, exampleFixedCost, HEADLINE_END, HEADLINE_START, README, renderCostDoc, renderCostHeadline } from '../build-tools/cost-doc';
import { MEASUREMENTS_FILE, renderMeasurements } from '../build-tools/measurements';

describe('generated cost figures', () => {
  test('GIVEN the worker\'s measurement files THEN src/batch-ocr-processor/measurements.ts is generated from them (run npx projen docs:cost)', () => {
    expect(fs.readFileSync(MEASUREMENTS_FILE, 'utf8')).toBe(renderMeasurements());
  });

  test('GIVEN the estimates THEN docs/cost.md is current (run npx projen docs:cost)', () => {
    expect(fs.readFileSync(COST_DOC, 'utf8')).toBe(renderCostDoc());
  });

  test('GIVEN the estimates THEN the README\'s cost headline is current (run npx projen docs:cost)', () => {
    const readme = fs.readFileSync(README, 'utf8');
    expect(readme.slice(readme.indexOf(HEADLINE_START) + HEADLINE_START.length, readme.indexOf(HEADLINE_END)).trim()).toBe(renderCostHeadline());
  });

  test('GIVEN the batch-ocr example THEN its fixed cost counts the network with its flow-log key, the alarm topic\'s key, every alarm and the dashboard', () => {
    const { items, totalUsd } = exampleFixedCost('batch-ocr');
    const names = items.map((i) => i.item);
    expect(names).toEqual(expect.arrayContaining(['Network: KMS customer-managed keys x 1', 'Alarms: KMS customer-managed keys x 1', 'Ocr: CloudWatch dashboards x 1']));
    // the updater's and the cleanup's alarms, each under its construct
    expect(names.some((n) => n.startsWith('ImageUpdater: CloudWatch alarms'))).toBe(true);
    expect(names.some((n) => n.startsWith('Cleanup: CloudWatch alarms'))).toBe(true);
    expect(totalUsd).toBeCloseTo(items.reduce((s, i) => s + i.monthlyUsd, 0), 2);
  });
});
