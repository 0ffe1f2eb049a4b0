/** The benchmark modules measure and write only when run as the main module, never when imported. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../src/paths.ts';

test('importing bench/bench.ts, bench/service-bench.ts and bench/startup.ts starts nothing and writes nothing', async () => {
  const outputs = ['results.json', 'history.jsonl', 'RESULTS.md', 'service-results.json', 'SERVICE-RESULTS.md', 'startup-results.json', 'startup-history.jsonl'].map((f) => join(PACKAGE_ROOT, 'bench', f));
  const before = outputs.map((f) => statSync(f).mtimeMs);
  await import('../bench/bench.ts');
  await import('../bench/service-bench.ts');
  await import('../bench/startup.ts');
  assert.equal(existsSync(join(PACKAGE_ROOT, 'bench', 'tmp')), false, 'bench/tmp was made');
  assert.deepEqual(outputs.map((f) => statSync(f).mtimeMs), before);
});
