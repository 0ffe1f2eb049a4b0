/**
 * Architecture diagram generated from an example app: one cluster per construct of this library,
 * its main resources as nodes, and an edge wherever one resource's CloudFormation properties refer to
 * another (Ref / Fn::GetAtt), so the picture is what the template says, not what someone drew.
 *
 *   npx projen docs:diagram        (needs graphviz's `dot`: apt-get install graphviz)
 * writes docs/architecture.dot and docs/architecture.png.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, Stack } from 'aws-cdk-lib';
import { loadExample, ROOT } from './nag-acknowledgements';

/** Resource types worth a box, with a short label. Everything else (policies, permissions...) is left out. */
const SHOWN: Record<string, string> = {
  'AWS::ApiGateway::RestApi': 'API Gateway REST API',
  'AWS::Lambda::Function': 'Lambda',
  'AWS::Batch::ComputeEnvironment': 'Batch compute env (Fargate)',
  'AWS::Batch::JobQueue': 'Batch job queue',
  'AWS::Batch::JobDefinition': 'Batch job definition',
  'AWS::S3::Bucket': 'S3 bucket',
  'AWS::DynamoDB::Table': 'DynamoDB table',
  'AWS::DynamoDB::GlobalTable': 'DynamoDB table',
  'AWS::SQS::Queue': 'SQS queue',
  'AWS::Events::Rule': 'EventBridge rule',
  'AWS::EC2::VPC': 'VPC',
  'AWS::EC2::VPCEndpoint': 'VPC endpoint',
  'AWS::ECS::Cluster': 'ECS cluster',
  'AWS::ECS::Service': 'ECS service (Fargate)',
  'AWS::ElasticLoadBalancingV2::LoadBalancer': 'Application Load Balancer',
  'AWS::ElastiCache::ReplicationGroup': 'Valkey / Redis',
  'AWS::ElastiCache::ServerlessCache': 'Valkey (serverless)',
  'AWS::ECR::Repository': 'ECR repository',
  'AWS::CloudWatch::Dashboard': 'CloudWatch dashboard',
  'AWS::KMS::Key': 'KMS key',
};

/** Connector resource types, and which shown resource types they connect to a Lambda function. */
const BRIDGES: Record<string, string[]> = {
  'AWS::ApiGateway::Method': ['AWS::ApiGateway::RestApi'],
  'AWS::Lambda::EventSourceMapping': ['AWS::SQS::Queue', 'AWS::DynamoDB::Table', 'AWS::DynamoDB::GlobalTable'],
};

function refsIn(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    value.forEach((v) => refsIn(v, out));
  } else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'Ref' && typeof v === 'string') out.add(v);
      else if (k === 'Fn::GetAtt' && Array.isArray(v)) out.add(String(v[0]));
      else refsIn(v, out);
    }
  }
}

export function renderDot(app: App, title: string): string {
  const assembly = app.synth();
  const lines = ['digraph architecture {', '  rankdir=LR; compound=true; fontname="Helvetica"; node [shape=box, style="rounded,filled", fillcolor="#f4f6fa", fontname="Helvetica", fontsize=10];',
    `  label="${title}"; labelloc=t; fontsize=16;`];
  const edges: string[] = [];
  for (const stack of app.node.findAll().filter((c): c is Stack => Stack.isStack(c))) {
    const template = assembly.getStackArtifact(stack.artifactId).template as { Resources: Record<string, { Type: string; Properties?: unknown }> };
    const shown = new Map<string, string>(); // logical id -> node id
    const groups = new Map<string, string[]>();
    for (const c of stack.node.findAll()) {
      if (!CfnResource.isCfnResource(c) || !SHOWN[c.cfnResourceType] || Stack.of(c) !== stack) continue;
      const logicalId = stack.resolve(c.logicalId) as string;
      const rel = c.node.path.slice(stack.node.path.length + 1).split('/');
      const group = rel[0];
      const nodeId = `${stack.stackName}_${logicalId}`.replace(/[^A-Za-z0-9_]/g, '_');
      shown.set(logicalId, nodeId);
      const label = `${SHOWN[c.cfnResourceType]}\\n${rel.slice(1, -1).join('/') || rel[0]}`.replace(/"/g, '');
      if (!groups.has(group)) groups.set(group, []);
      groups.get(group)!.push(`    ${nodeId} [label="${label}"];`);
    }
    for (const [group, nodes] of groups) {
      lines.push(`  subgraph cluster_${stack.stackName}_${group.replace(/[^A-Za-z0-9_]/g, '_')} {`, `    label="${stack.stackName} / ${group}"; style="rounded"; color="#8899aa";`, ...nodes, '  }');
    }
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      const refs = new Set<string>();
      refsIn(resource.Properties, refs);
      const from = shown.get(logicalId);
      if (from) {
        // A dashboard refers to everything it graphs: its edges would only hide the flows.
        if (resource.Type === 'AWS::CloudWatch::Dashboard') continue;
        for (const r of refs) {
          const to = shown.get(r);
          if (to && to !== from) edges.push(`  ${from} -> ${to};`);
        }
        continue;
      }
      // Resources that only connect two others become an edge: API method -> its Lambda,
      // event source mapping (queue / stream) -> its Lambda.
      if (BRIDGES[resource.Type]) {
        const ends = Array.from(refs).filter((r) => shown.has(r));
        const target = ends.find((r) => template.Resources[r]?.Type === 'AWS::Lambda::Function');
        for (const source of ends.filter((r) => r !== target && BRIDGES[resource.Type].includes(template.Resources[r]?.Type))) {
          if (target) edges.push(`  ${shown.get(source)} -> ${shown.get(target)} [style=bold];`);
        }
      }
    }
  }
  return [...lines, ...Array.from(new Set(edges)), '}'].join('\n');
}

if (require.main === module) {
  const example = process.argv[2] ?? 'batch-ocr';
  const app = new App();
  loadExample(example)(app);
  const dot = renderDot(app, `cdk-ocr-constructs: examples/${example} (generated from the synthesized template)`);
  const docs = path.join(ROOT, 'docs');
  fs.mkdirSync(docs, { recursive: true });
  fs.writeFileSync(path.join(docs, 'architecture.dot'), dot + '\n');
  execFileSync('dot', ['-Tpng', '-Gdpi=80', '-o', path.join(docs, 'architecture.png'), path.join(docs, 'architecture.dot')], { stdio: 'inherit' });
  console.log('wrote docs/architecture.dot and docs/architecture.png');
}
