/**
 * Every example app (examples/<name>/app.ts) synthesizes with CloudFormation schema validation as
 * errors and the compliance harness clean, and the committed list of cdk-nag acknowledgements
 * (docs/nag-acknowledgements.json, rendered in docs/compliance.md) is exactly what the constructs acknowledge.
 */
import * as fs from 'fs';
import * as path from 'path';
import { App } from 'aws-cdk-lib';
import { ACKS_END, ACKS_FILE, ACKS_START, AcknowledgementRow, COMPLIANCE_DOC, currentAcknowledgements, exampleNames, loadExample, renderAcknowledgements, ROOT } from '../build-tools/nag-acknowledgements';
import { newTestApp, synthCompliant } from './helpers/compliance';

interface Template { Resources: Record<string, { Properties?: unknown; DependsOn?: string | string[] }> }
interface TypedTemplate { Resources: Record<string, { Type: string; Properties?: any; DependsOn?: string | string[] }> }

/** Logical ids a value refers to: Ref, Fn::GetAtt and ${Name} inside Fn::Sub. */
function referencesIn(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => referencesIn(v, out));
  } else if (value && typeof value === 'object') {
    for (const [key, v] of Object.entries(value)) {
      if (key === 'Ref' && typeof v === 'string') {out.add(v);} else if (key === 'Fn::GetAtt') {out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);} else if (key === 'Fn::Sub') {
        const text = Array.isArray(v) ? String(v[0]) : String(v);
        for (const m of text.matchAll(/\$\{([A-Za-z0-9]+)(?:\.[^}]*)?\}/g)) out.add(m[1]);
        if (Array.isArray(v)) referencesIn(v[1], out);
      } else {referencesIn(v, out);}
    }
  }
}

/** A dependency cycle among the template's resources, as a path of logical ids, or [] when there is none. */
function findCycle(template: Template): string[] {
  const graph = new Map<string, string[]>();
  for (const [id, resource] of Object.entries(template.Resources)) {
    const refs = new Set<string>();
    referencesIn(resource.Properties ?? {}, refs);
    for (const d of ([] as string[]).concat(resource.DependsOn ?? [])) refs.add(d);
    graph.set(id, Array.from(refs).filter((r) => r in template.Resources));
  }
  const state = new Map<string, 'open' | 'done'>();
  const trail: string[] = [];
  const visit = (id: string): string[] => {
    state.set(id, 'open');
    trail.push(id);
    for (const next of graph.get(id)!) {
      if (state.get(next) === 'open') return [...trail.slice(trail.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found.length > 0) return found;
      }
    }
    trail.pop();
    state.set(id, 'done');
    return [];
  };
  for (const id of graph.keys()) {
    if (!state.has(id)) {
      const found = visit(id);
      if (found.length > 0) return found;
    }
  }
  return [];
}

const names = exampleNames();

describe('the cycle check itself', () => {
  test('GIVEN a template whose resources refer to each other THEN the cycle is found; without it, none', () => {
    const cyclic: Template = { Resources: { A: { Properties: { X: { Ref: 'B' } } }, B: { Properties: { Y: { 'Fn::Sub': 'x-${C.Arn}' } } }, C: { DependsOn: 'A' } } };
    expect(findCycle(cyclic)).toEqual(['A', 'B', 'C', 'A']);
    const acyclic: Template = { Resources: { A: { Properties: { X: { Ref: 'B' } } }, B: { Properties: { Y: { 'Fn::GetAtt': ['C', 'Arn'] } } }, C: {} } };
    expect(findCycle(acyclic)).toEqual([]);
  });
});

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

  test.each(names)('GIVEN examples/%s THEN no stack has a circular dependency between its resources (CloudFormation would refuse it)', (name) => {
    const app = new App();
    loadExample(name)(app);
    const assembly = app.synth();
    for (const stack of assembly.stacks) {
      expect(findCycle(stack.template as Template)).toEqual([]);
    }
  });

  // API Gateway refuses a stage with access or execution logging in an account whose CloudWatch
  // role is not set ("CloudWatch Logs role ARN must be set in account settings to enable logging").
  test.each(names)('GIVEN examples/%s THEN every API stage that logs is created after the account\'s CloudWatch role is assured', (name) => {
    const app = new App();
    loadExample(name)(app);
    for (const stack of app.synth().stacks) {
      const resources = (stack.template as TypedTemplate).Resources;
      for (const [id, stage] of Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ApiGateway::Stage')) {
        const logs = stage.Properties?.AccessLogSetting !== undefined
          || (stage.Properties?.MethodSettings ?? []).some((m: { LoggingLevel?: string }) => m.LoggingLevel && m.LoggingLevel !== 'OFF');
        if (!logs) continue;
        const dependsOn = ([] as string[]).concat(stage.DependsOn ?? []);
        const assuring = dependsOn.filter((d) => ['Custom::ApiGatewayAccountCloudWatchRole', 'AWS::ApiGateway::Account'].includes(resources[d]?.Type));
        expect({ stage: id, assuring: assuring.length }).toEqual({ stage: id, assuring: 1 });
      }
    }
  });

  // A function in a VPC with no NAT sends its traces to X-Ray only through an X-Ray interface endpoint.
  test.each(names)('GIVEN examples/%s THEN every in-VPC function with active tracing can reach X-Ray', (name) => {
    const app = new App();
    loadExample(name)(app);
    for (const stack of app.synth().stacks) {
      const resources = Object.values((stack.template as TypedTemplate).Resources);
      const hasNat = resources.some((r) => r.Type === 'AWS::EC2::NatGateway');
      const hasXrayEndpoint = resources.some((r) => r.Type === 'AWS::EC2::VPCEndpoint' && JSON.stringify(r.Properties.ServiceName).endsWith('.xray"'));
      const tracedInVpc = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties?.VpcConfig && r.Properties?.TracingConfig?.Mode === 'Active');
      if (tracedInVpc.length > 0 && !hasNat) {
        expect({ stack: stack.stackName, hasXrayEndpoint }).toEqual({ stack: stack.stackName, hasXrayEndpoint: true });
      }
    }
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

  test('GIVEN docs/compliance.md THEN it renders the committed list', () => {
    const doc = fs.readFileSync(COMPLIANCE_DOC, 'utf8');
    const section = doc.slice(doc.indexOf(ACKS_START) + ACKS_START.length, doc.indexOf(ACKS_END)).trim();
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
