import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { validateResult, type OcrResult } from '../../src/index.ts';

export const TEST_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const FIXTURES = join(TEST_DIR, 'fixtures');
export const PKG = join(TEST_DIR, '..');

export function fixture(rel: string): Buffer {
  return readFileSync(join(FIXTURES, rel));
}

export function assertValid(r: OcrResult | unknown): void {
  const problems = validateResult(r);
  assert.deepEqual(problems, [], `result does not match the schema: ${problems.join('; ')}`);
}
