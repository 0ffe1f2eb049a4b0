/**
 * The committed list of cdk-nag acknowledgements the constructs make (rule, resource, reason).
 *
 * Built by synthesizing every example app (the configurations users copy) and reading the `cdk_nag`
 * metadata each construct put on its own resources. `npx projen docs:nag` rewrites
 * docs/nag-acknowledgements.json and the tables in docs/compliance.md (with the Control Tower table); test/examples.test.ts asserts both are current.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

export interface AcknowledgementRow {
  readonly example: string;
  /** Construct path below the stack, e.g. `Processor/SubmitHandler/Resource`. */
  readonly resource: string;
  readonly resourceType: string;
  readonly rule: string;
  readonly findings?: string[];
  readonly reason: string;
}

export const ROOT = path.join(__dirname, '..');
export const ACKS_FILE = path.join(ROOT, 'docs', 'nag-acknowledgements.json');
export const COMPLIANCE_DOC = path.join(ROOT, 'docs', 'compliance.md');
export const ACKS_START = '<!-- nag-acks:start -->';
export const ACKS_END = '<!-- nag-acks:end -->';

/** Example apps: examples/<name>/app.ts exporting `buildApp(app: App)`. */
export function exampleNames(): string[] {
  const dir = path.join(ROOT, 'examples');
  return fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'app.ts'))).sort();
}

export function loadExample(name: string): (app: App) => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(path.join(ROOT, 'examples', name, 'app.ts')) as { buildApp?: (app: App) => void };
  if (typeof mod.buildApp !== 'function') throw new Error(`examples/${name}/app.ts must export buildApp(app)`);
  return mod.buildApp;
}

/** Every acknowledgement on the CloudFormation resources of `root`, in tree order. */
export function collectAcknowledgements(root: IConstruct, example: string): AcknowledgementRow[] {
  const rows: AcknowledgementRow[] = [];
  for (const c of root.node.findAll()) {
    if (!CfnResource.isCfnResource(c)) continue;
    const meta = c.getMetadata('cdk_nag') as { rules_to_suppress?: { id: string; reason: string; applies_to?: string[] }[] } | undefined;
    for (const r of meta?.rules_to_suppress ?? []) {
      const stack = Stack.of(c);
      rows.push({
        example,
        resource: c.node.path.slice(stack.node.path.length + 1),
        resourceType: c.cfnResourceType,
        rule: r.id,
        ...(r.applies_to ? { findings: r.applies_to } : {}),
        reason: r.reason,
      });
    }
  }
  return rows;
}

/** Build every example in a plain App (no nag plugins needed to read metadata) and collect. */
export function currentAcknowledgements(): AcknowledgementRow[] {
  const rows: AcknowledgementRow[] = [];
  for (const name of exampleNames()) {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    loadExample(name)(app);
    // Synthesis runs the Aspects that acknowledge lazily created resources (inline policies).
    app.synth();
    rows.push(...collectAcknowledgements(app, name));
  }
  return rows;
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function renderAcknowledgements(rows: AcknowledgementRow[]): string {
  const byRule = new Map<string, number>();
  for (const r of rows) byRule.set(r.rule, (byRule.get(r.rule) ?? 0) + 1);
  const lines = [
    `${rows.length} acknowledgements across the example apps.`,
    '',
    '| example | resource | rule | reason |',
    '|---|---|---|---|',
    ...rows.map((r) => `| ${r.example} | \`${esc(r.resource)}\` (${r.resourceType}) | ${r.rule}${r.findings ? ` [${esc(r.findings.join(', '))}]` : ''} | ${esc(r.reason)} |`),
  ];
  return lines.join('\n');
}

if (require.main === module) {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { replaceBetween } = require('./cost-table') as typeof import('./cost-table');
  const rows = currentAcknowledgements();
  fs.mkdirSync(path.dirname(ACKS_FILE), { recursive: true });
  fs.writeFileSync(ACKS_FILE, JSON.stringify(rows, null, 2) + '\n');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CT_END, CT_START, renderControlTowerTable } = require('./control-tower') as typeof import('./control-tower');
  const doc = replaceBetween(fs.readFileSync(COMPLIANCE_DOC, 'utf8'), ACKS_START, ACKS_END, renderAcknowledgements(rows));
  fs.writeFileSync(COMPLIANCE_DOC, replaceBetween(doc, CT_START, CT_END, renderControlTowerTable()));
  console.log(`${rows.length} acknowledgements written to ${path.relative(ROOT, ACKS_FILE)} and ${path.relative(ROOT, COMPLIANCE_DOC)}`);
}
