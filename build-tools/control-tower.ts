/**
 * AWS Control Tower's proactive controls against the library: which controls the constructs' defaults
 * pass, and for each one they do not, why and what makes it pass. The rules are AWS's own cfn-guard
 * files, run offline at synth by @cdklabs/cdk-validator-cfnguard.
 *
 * test/control-tower.test.ts synthesizes every construct's defaults and every example app with the
 * rules, and fails on a control that neither passes nor is documented here; `npx projen docs:nag`
 * renders this table into docs/compliance.md.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Validations } from 'aws-cdk-lib';

export const CT_START = '<!-- control-tower:start -->';
export const CT_END = '<!-- control-tower:end -->';

export interface ControlTowerControl {
  /** The control's identifier, e.g. `CT.KMS.PR.3`. */
  readonly id: string;
  /** What the control requires, in a few words. */
  readonly requires: string;
  /** Why the defaults do not pass it: a trade-off, or a limit of the template check. */
  readonly why: string;
  /** The prop or setting that makes it pass, when there is one. */
  readonly remedy: string;
}

/** Controls the defaults pass outright, listed so that users see they were checked. */
export const PASSING_CONTROLS: { id: string; requires: string }[] = [
  { id: 'CT.APIGATEWAY.PR.1', requires: 'API Gateway stages log execution (ERROR or INFO)' },
  { id: 'CT.CLOUDWATCH.PR.2', requires: 'log groups kept for at least a year' },
  { id: 'CT.ECS.PR.3', requires: 'ECS task definitions name a non-root user' },
  { id: 'CT.ECS.PR.6', requires: 'ECS containers with a read-only root filesystem' },
  { id: 'CT.ECS.PR.7', requires: 'ECS containers with a memory hard limit' },
  { id: 'CT.KMS.PR.3', requires: 'KMS keys limit grant creation to AWS services' },
  { id: 'CT.SQS.PR.1', requires: 'SQS queues have a dead-letter queue (dead-letter queues declare themselves)' },
];

/** Controls the defaults do not pass, each with its reason and remedy. */
export const DOCUMENTED_CONTROLS: ControlTowerControl[] = [
  {
    id: 'CT.CLOUDWATCH.PR.1',
    requires: 'every alarm has an action',
    why: 'Where alarms go (a topic, a pager, a ticket system) is the user\'s choice; the alarms are created without actions and show in the console and on the dashboards.',
    remedy: '`alarmActions` on every construct, e.g. the `alarmActions` of an `AlarmTopic` (an SNS topic encrypted with a key CloudWatch may use), as the examples do.',
  },
  {
    id: 'CT.CLOUDWATCH.PR.3',
    requires: 'log groups encrypted with a KMS key',
    why: 'A customer-managed key costs $1 a month plus requests and its policy is the owner\'s to manage; without one, CloudWatch Logs encrypts at rest with its own keys.',
    remedy: '`encryptionKey` on every construct (the key policy gets the statement CloudWatch Logs needs).',
  },
  {
    id: 'CT.S3.PR.10',
    requires: 'S3 buckets encrypted with a KMS key (SSE-KMS)',
    why: 'Without `encryptionKey` the buckets use SSE-S3. A server access log bucket must use SSE-S3 in any case: S3 cannot deliver access logs to a bucket encrypted with SSE-KMS.',
    remedy: '`encryptionKey` for the input, output and documents buckets; none for access log buckets.',
  },
  {
    id: 'CT.S3.PR.2',
    requires: 'S3 buckets have server access logging',
    why: 'The server access log bucket itself is the target of the other buckets\' logs; logging it to itself would loop, and to another bucket would only move the finding.',
    remedy: 'None for the log bucket; every other bucket the constructs create logs to it.',
  },
  {
    id: 'CT.S3.PR.4',
    requires: 'S3 buckets have event notifications',
    why: 'Only the input bucket has a consumer of its events (`s3Trigger`, through EventBridge); notifications on the others would have no receiver.',
    remedy: '`s3Trigger` on BatchOcrProcessor turns on EventBridge notifications of the input bucket.',
  },
  {
    id: 'CT.S3.PR.9',
    requires: 'S3 buckets have Object Lock',
    why: 'Results and uploads expire (`resultExpiration`) and may be deleted on request; Object Lock would forbid both, and it cannot be turned off again.',
    remedy: 'Pass your own bucket with Object Lock (`inputBucket`, `outputBucket`, `documentsBucket`) if retention rules require it.',
  },
  {
    id: 'CT.LAMBDA.PR.2',
    requires: 'Lambda permissions for a service principal name a source (SourceArn or SourceAccount)',
    why: 'The API\'s permissions do name their source: SourceArn is the API\'s own method ARN, which CloudFormation builds with Fn::Join, and the synth-time template check accepts only a literal string or a Ref/GetAtt. The deploy-time control evaluates the properties with intrinsic functions resolved (only secure strings and secrets stay unresolved, per Control Tower\'s proactive-controls reference), so it sees the ARN.',
    remedy: 'Nothing to change: passes at deploy time.',
  },
  {
    id: 'CT.LAMBDA.PR.3',
    requires: 'Lambda functions in a VPC',
    why: 'The handlers only call AWS APIs; outside the VPC they need no interface endpoints, which cost about $14.60 a month each in two AZs. aws-cdk-lib\'s own custom-resource providers (the default security group restriction, the provider framework) cannot be placed in a VPC.',
    remedy: '`handlersInVpc` (BatchOcrProcessor), `lambdaVpc` (EcrBatchAutoUpdater, JobCleanup); the service\'s handlers are in its VPC already.',
  },
  {
    id: 'CT.ECR.PR.3',
    requires: 'ECR repositories with immutable tags',
    why: 'With `createRepository`, the job definition follows a tag (`imageTag`, default `latest`) that EcrBatchAutoUpdater re-pins by digest on each push; that needs the tag to move.',
    remedy: 'Pass your own `repository` with immutable tags and push a new tag per release.',
  },
  {
    id: 'CT.ECS.PR.2',
    requires: 'ECS clusters with Container Insights',
    why: 'The cluster has Container Insights with enhanced observability (`enhanced`), newer than the rule, which accepts only `enabled`.',
    remedy: 'Pass your own `cluster` with `containerInsightsV2: ContainerInsights.ENABLED`.',
  },
  {
    id: 'CT.ELASTICLOADBALANCING.PR.1',
    requires: 'HTTP listeners redirect to HTTPS',
    why: 'The default load balancer is internal, with one HTTP listener that only the VPC reaches; a certificate needs a domain name the user owns.',
    remedy: '`certificate` and `domainName` on OcrServiceCluster: the listener is HTTPS.',
  },
  {
    id: 'CT.ELASTICLOADBALANCING.PR.5',
    requires: 'load balancers with deletion protection',
    why: 'The load balancer holds no data, and deletion protection would make `cdk destroy` fail.',
    remedy: '`loadBalancerDeletionProtection: true` on OcrServiceCluster.',
  },
];

export interface ControlFinding {
  /** e.g. `CT.S3.PR.2` */
  readonly control: string;
  /** Construct path of the resource. */
  readonly path: string;
}

const CONTROL_ID = /\[(CT\.[A-Z0-9]+\.PR\.\d+)\]/;

/** Add the Control Tower rules to `app` (before synthesis). */
export function addControlTowerRules(app: App): void {
  Validations.of(app).addPlugins(new CfnGuardValidator({ controlTowerRulesEnabled: true }));
}

/** Synthesize `app` (with `addControlTowerRules` applied) and return every Control Tower finding. */
export function controlTowerFindings(app: App): ControlFinding[] {
  try {
    app.synth();
  } catch (e) {
    if (!fs.existsSync(path.join(app.outdir, 'validation-report.json'))) throw e;
  }
  const file = path.join(app.outdir, 'validation-report.json');
  if (!fs.existsSync(file)) return [];
  const report = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    pluginReports: { pluginName: string; violations: { description: string; violatingConstructs?: { constructPath?: string }[] }[] }[];
  };
  const findings: ControlFinding[] = [];
  for (const plugin of report.pluginReports.filter((p) => p.pluginName.includes('cfnguard'))) {
    for (const v of plugin.violations) {
      const control = CONTROL_ID.exec(v.description)?.[1] ?? v.description;
      for (const c of v.violatingConstructs ?? []) if (c.constructPath) findings.push({ control, path: c.constructPath });
    }
  }
  return findings;
}

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function renderControlTowerTable(): string {
  return [
    '| control | requires | defaults | why not, and how to pass |',
    '|---|---|---|---|',
    ...PASSING_CONTROLS.map((c) => `| ${c.id} | ${esc(c.requires)} | pass | |`),
    ...DOCUMENTED_CONTROLS.map((c) => `| ${c.id} | ${esc(c.requires)} | documented | ${esc(c.why)} **To pass:** ${esc(c.remedy)} |`),
  ].join('\n');
}
