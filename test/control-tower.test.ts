/**
 * AWS Control Tower's proactive controls (AWS's cfn-guard rules, run offline at synth) on every
 * construct's defaults and every example app: each control either passes or is documented with its
 * reason and remedy (build-tools/control-tower.ts, rendered into docs/compliance.md).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ControlFinding, controlTowerFindings, addControlTowerRules, CT_END, CT_START, DOCUMENTED_CONTROLS, PASSING_CONTROLS, renderControlTowerTable } from '../build-tools/control-tower';
import { exampleNames, loadExample } from '../build-tools/nag-acknowledgements';
import { BatchOcrProcessor, CostOptimizedVpc, EcrBatchAutoUpdater, JobCleanup, OcrServiceCluster } from '../src';

const ROOT = path.join(__dirname, '..');
const documented = new Set(DOCUMENTED_CONTROLS.map((c) => c.id));

const outdirs: string[] = [];
afterAll(() => outdirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function appWithRules(): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ocr-ct-'));
  outdirs.push(outdir);
  const app = new App({ outdir, stackTraces: false });
  addControlTowerRules(app);
  return app;
}

function stackIn(app: App): Stack {
  return new Stack(app, 'Defaults', { env: { account: '111111111111', region: 'us-east-1' } });
}

/** One app per construct, each with nothing but what the construct needs. */
const DEFAULTS: Record<string, (stack: Stack) => void> = {
  BatchOcrProcessor: (stack) => { new BatchOcrProcessor(stack, 'Ocr'); },
  OcrServiceCluster: (stack) => { new OcrServiceCluster(stack, 'Ocr'); },
  CostOptimizedVpc: (stack) => { new CostOptimizedVpc(stack, 'Network'); },
  EcrBatchAutoUpdater: (stack) => {
    new EcrBatchAutoUpdater(stack, 'Updater', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr-worker'), jobDefinitionNames: ['ocr-job'] });
  },
  JobCleanup: (stack) => { new JobCleanup(stack, 'Cleanup', { jobQueueNames: ['ocr-queue'] }); },
};

function undocumented(findings: ControlFinding[]): ControlFinding[] {
  return findings.filter((f) => !documented.has(f.control));
}

describe('AWS Control Tower proactive controls', () => {
  test.each(Object.keys(DEFAULTS))('GIVEN %s with its defaults THEN every control passes or is documented', (name) => {
    const app = appWithRules();
    DEFAULTS[name](stackIn(app));
    expect(undocumented(controlTowerFindings(app))).toEqual([]);
  });

  test.each(exampleNames())('GIVEN examples/%s THEN every control passes or is documented', (name) => {
    const app = appWithRules();
    loadExample(name)(app);
    expect(undocumented(controlTowerFindings(app))).toEqual([]);
  });

  test('GIVEN the table THEN no control is listed both as passing and as documented, and each documented one says why and how to pass', () => {
    for (const c of PASSING_CONTROLS) expect(documented.has(c.id)).toBe(false);
    for (const c of DOCUMENTED_CONTROLS) {
      expect(c.id).toMatch(/^CT\.[A-Z0-9]+\.PR\.\d+$/);
      expect(c.why.length).toBeGreaterThan(40);
      expect(c.remedy.length).toBeGreaterThan(10);
    }
  });

  test('GIVEN docs/compliance.md THEN its Control Tower table is the current one (run `npx projen docs:nag` if not)', () => {
    const doc = fs.readFileSync(path.join(ROOT, 'docs', 'compliance.md'), 'utf8');
    expect(doc.slice(doc.indexOf(CT_START) + CT_START.length, doc.indexOf(CT_END)).trim()).toEqual(renderControlTowerTable());
  });

  test('GIVEN a resource that breaks a control THEN the harness reports it (the rules run)', () => {
    const app = appWithRules();
    const stack = stackIn(app);
    new ecr.Repository(stack, 'MutableTags', { imageTagMutability: ecr.TagMutability.MUTABLE });
    expect(controlTowerFindings(app)).toContainEqual({ control: 'CT.ECR.PR.3', path: 'Defaults/MutableTags/Resource' });
  });
});
