/**
 * The public API as jsii sees it (.jsii, written by `projen compile`): every type, prop and method
 * documented, every optional prop with its @default — what API.md and the Python/Java docs show.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Docs { summary?: string; default?: string; stability?: string }
interface Property { name: string; optional?: boolean; docs?: Docs }
interface Method { name: string; docs?: Docs }
interface JsiiType { fqn: string; kind: string; docs?: Docs; properties?: Property[]; methods?: Method[] }

const assemblyFile = path.join(__dirname, '..', '.jsii');

describe('public API documentation', () => {
  const assembly = JSON.parse(fs.readFileSync(assemblyFile, 'utf8')) as { types: Record<string, JsiiType> };
  const types = Object.values(assembly.types);

  test('GIVEN the assembly THEN it exports the five constructs', () => {
    expect(types.map((t) => t.fqn)).toEqual(expect.arrayContaining([
      'cdk-ocr-constructs.CostOptimizedVpc', 'cdk-ocr-constructs.BatchOcrProcessor', 'cdk-ocr-constructs.EcrBatchAutoUpdater',
      'cdk-ocr-constructs.JobCleanup', 'cdk-ocr-constructs.OcrServiceCluster',
    ]));
  });

  test('GIVEN every public type, prop and method THEN it has a summary', () => {
    const missing: string[] = [];
    for (const t of types) {
      if (!t.docs?.summary) missing.push(t.fqn);
      for (const p of t.properties ?? []) if (!p.docs?.summary) missing.push(`${t.fqn}#${p.name}`);
      for (const m of t.methods ?? []) if (!m.docs?.summary) missing.push(`${t.fqn}#${m.name}()`);
    }
    expect(missing).toEqual([]);
  });

  test('GIVEN every optional prop of a props interface THEN it states its @default', () => {
    const missing: string[] = [];
    for (const t of types.filter((x) => x.kind === 'interface')) {
      for (const p of t.properties ?? []) if (p.optional && !p.docs?.default) missing.push(`${t.fqn}#${p.name}`);
    }
    expect(missing).toEqual([]);
  });
});
