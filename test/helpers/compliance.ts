/**
 * The compliance harness every construct's tests use.
 *
 * `synthCompliant(app)` synthesizes an app the way a careful user would deploy it and fails on:
 * - any CloudFormation schema finding (errors and warnings) from aws-cdk-lib's built-in
 *   `CloudFormation Validate` plugin (`@aws-cdk/core:validateAgainstDefaultRules`): a wrong property
 *   name, type, enum value or a missing required property fails the test, since nothing is deployed here;
 * - any unacknowledged cdk-nag finding from the packs AwsSolutions, NIST 800-53 R5 and HIPAA Security,
 *   run both as cdk-nag 3 policy-validation plugins and as cdk-nag 2 Aspects (users run either).
 * Every finding is printed with its rule, resource path and description.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, AppProps, Aspects, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, HIPAASecurityChecks, NIST80053R5Checks } from 'cdk-nag';
import * as nag2 from 'cdk-nag-v2';
import { IConstruct } from 'constructs';

/** Context every test app gets: schema validation on, deterministic asset staging. */
export const STRICT_CONTEXT: Record<string, unknown> = {
  '@aws-cdk/core:validateAgainstDefaultRules': true,
};

export interface Finding {
  readonly source: string;
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
  readonly description: string;
}

export interface TestAppOptions {
  /** Add the cdk-nag packs (both majors). Default true. */
  readonly nag?: boolean;
  readonly context?: Record<string, unknown>;
}

/**
 * The cloud assemblies this test file's apps synthesized: removed when the file's tests end (a full
 * run makes about 150 of them, 40 MB in all, which would otherwise pile up in TMPDIR run after run).
 */
const testOutdirs: string[] = [];
afterAll(() => {
  for (const dir of testOutdirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh App with schema validation and (by default) the cdk-nag packs of both majors. */
export function newTestApp(options: TestAppOptions = {}): App {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-ocr-test-'));
  testOutdirs.push(outdir);
  const props: AppProps = {
    outdir,
    context: { ...STRICT_CONTEXT, ...(options.context ?? {}) },
    // Keep stack traces out of metadata: faster synth, smaller reports.
    stackTraces: false,
  };
  const app = new App(props);
  if (options.nag ?? true) {
    Validations.of(app).addPlugins(
      new AwsSolutionsChecks(app, { verbose: true }),
      new NIST80053R5Checks(app, { verbose: true }),
      new HIPAASecurityChecks(app, { verbose: true }),
    );
    Aspects.of(app).add(new nag2.AwsSolutionsChecks({ verbose: true }));
    Aspects.of(app).add(new nag2.NIST80053R5Checks({ verbose: true }));
    Aspects.of(app).add(new nag2.HIPAASecurityChecks({ verbose: true }));
  }
  return app;
}

/** A stack in a fixed environment (endpoint service names and AZs need a concrete region). */
export function newTestStack(app: App, id = 'TestStack'): Stack {
  return new Stack(app, id, { env: { account: '111111111111', region: 'us-east-1' } });
}

interface ReportViolation {
  ruleName: string;
  description: string;
  severity: string;
  violatingConstructs?: { constructPath: string }[];
  violatingResources?: { constructPath?: string; resourceLogicalId?: string }[];
}

function readValidationReport(outdir: string): Finding[] {
  const file = path.join(outdir, 'validation-report.json');
  if (!fs.existsSync(file)) return [];
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    pluginReports: { pluginName: string; violations: ReportViolation[] }[];
  };
  const findings: Finding[] = [];
  for (const plugin of report.pluginReports) {
    for (const v of plugin.violations) {
      const paths = (v.violatingConstructs ?? v.violatingResources ?? []).map((c) => ('constructPath' in c ? c.constructPath : '') ?? '');
      for (const p of paths.length > 0 ? paths : ['?']) {
        findings.push({ source: plugin.pluginName, rule: v.ruleName, severity: v.severity, path: p, description: v.description });
      }
    }
  }
  return findings;
}

const NAG_V2_RULE = /^(AwsSolutions|NIST\.800\.53\.R5|HIPAA\.Security)-[A-Za-z0-9]+(\[.*\])?:/;

function readNagV2Annotations(root: IConstruct): Finding[] {
  const findings: Finding[] = [];
  for (const c of root.node.findAll()) {
    for (const m of c.node.metadata) {
      if (m.type !== 'aws:cdk:error' && m.type !== 'aws:cdk:warning') continue;
      const text = String(m.data);
      if (!NAG_V2_RULE.test(text)) continue;
      findings.push({
        source: 'cdk-nag 2',
        rule: text.slice(0, text.indexOf(':')),
        severity: m.type === 'aws:cdk:error' ? 'error' : 'warning',
        path: c.node.path,
        description: text.slice(text.indexOf(':') + 1).trim().slice(0, 300),
      });
    }
  }
  return findings;
}

export function formatFindings(findings: Finding[]): string {
  return findings.map((f) => `  [${f.source}] ${f.severity} ${f.rule} at ${f.path}: ${f.description.slice(0, 240)}`).join('\n');
}

/**
 * Synthesize `app` and return every finding: schema validation, cdk-nag 3 and cdk-nag 2.
 * Synthesis errors that are not validation reports are rethrown.
 */
export function synthFindings(app: App): Finding[] {
  try {
    app.synth();
  } catch (e) {
    // A failed policy validation throws after writing its report; anything else is a real error.
    if (!fs.existsSync(path.join(app.outdir, 'validation-report.json'))) throw e;
  }
  return [...readValidationReport(app.outdir), ...readNagV2Annotations(app)];
}

/** Synthesize and fail, listing each finding, unless there are none. */
export function synthCompliant(app: App): void {
  const findings = synthFindings(app);
  if (findings.length > 0) {
    throw new Error(`${findings.length} unacknowledged finding(s):\n${formatFindings(findings)}`);
  }
}

/** Synthesize a stack's template with schema validation (no nag); fails on any schema finding. */
export function strictTemplate(stack: Stack): Template {
  const app = stack.node.root as App;
  const findings = synthFindings(app);
  if (findings.length > 0) {
    throw new Error(`${findings.length} finding(s):\n${formatFindings(findings)}`);
  }
  return Template.fromStack(stack);
}
