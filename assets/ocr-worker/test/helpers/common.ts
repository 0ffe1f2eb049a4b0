import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { validateResult, type OcrResult } from '../../src/index.ts';
import { processes } from '../../src/proc.ts';

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

/** The engines' bounded OCR children of a process, by default this one (forked from it, running src/child.ts). */
export function ocrChildPids(parentPid: number = process.pid): number[] {
  return processes().filter((p) => p.fields[1] === String(parentPid)).map((p) => p.pid).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('child.ts'); } catch { return false; } // gone meanwhile
  });
}
