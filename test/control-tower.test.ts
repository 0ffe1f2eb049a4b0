/**
 * AWS Control Tower's proactive controls (AWS's cfn-guard rules, run offline at synth) on every
 * construct's defaults and every example app: each control either passes or is documented with its
 * reason and remedy (build-tools/control-tower.ts, rendered into docs/compliance.md).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch_actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
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

const IMAGE = '111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0';
const image = () => ecs.ContainerImage.fromRegistry(IMAGE);

interface Remedy {
  /** The setting, as the docs name it. */
  readonly setting: string;
  readonly configure: (stack: Stack) => void;
  /** Findings of the control that the setting must remove (construct paths). */
  readonly removes: (path: string) => boolean;
}

/** For each documented control that a prop can make pass: that configuration. */
const REMEDIES: Record<string, Remedy[]> = {
  'CT.CLOUDWATCH.PR.1': [{
    setting: 'alarmActions on every construct',
    configure: (stack) => {
      const alarmActions = [new cloudwatch_actions.SnsAction(new sns.Topic(stack, 'Alarms'))];
      const ocr = new BatchOcrProcessor(stack, 'Ocr', { image: image(), alarmActions });
      new OcrServiceCluster(stack, 'Service', { network: ocr.network, image: image(), alarmActions });
      new JobCleanup(stack, 'Cleanup', { jobQueues: [ocr.jobQueue], alarmActions });
      new EcrBatchAutoUpdater(stack, 'Updater', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr'), jobDefinitions: [ocr.jobDefinition], alarmActions });
    },
    removes: () => true,
  }],
  'CT.CLOUDWATCH.PR.3': [{
    setting: 'encryptionKey on every construct',
    configure: (stack) => {
      const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      const ocr = new BatchOcrProcessor(stack, 'Ocr', { image: image(), encryptionKey });
      new OcrServiceCluster(stack, 'Service', { network: ocr.network, image: image(), encryptionKey });
      new JobCleanup(stack, 'Cleanup', { jobQueues: [ocr.jobQueue], encryptionKey });
      new EcrBatchAutoUpdater(stack, 'Updater', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr'), jobDefinitions: [ocr.jobDefinition], encryptionKey });
    },
    // aws-cdk-lib's own custom-resource providers create their log groups implicitly, without a key.
    removes: (p) => !p.includes('Provider'),
  }],
  'CT.S3.PR.10': [{
    setting: 'encryptionKey: every bucket but the access log buckets',
    configure: (stack) => {
      const encryptionKey = new kms.Key(stack, 'Key', { enableKeyRotation: true });
      new BatchOcrProcessor(stack, 'Ocr', { image: image(), encryptionKey });
      new OcrServiceCluster(stack, 'Service', { image: image(), encryptionKey });
    },
    removes: (p) => !/AccessLogs/.test(p),
  }],
  'CT.S3.PR.4': [{
    setting: 's3Trigger: the input bucket',
    configure: (stack) => { new BatchOcrProcessor(stack, 'Ocr', { image: image(), s3Trigger: { prefix: 'inbox/' } }); },
    removes: (p) => p.startsWith('Defaults/Ocr/Input/Bucket'),
  }],
  'CT.S3.PR.9': [{
    setting: 'buckets of your own',
    configure: (stack) => {
      const inputBucket = new s3.Bucket(stack, 'Inbox', { objectLockEnabled: true, enforceSSL: true });
      const outputBucket = new s3.Bucket(stack, 'Results', { objectLockEnabled: true, enforceSSL: true });
      new BatchOcrProcessor(stack, 'Ocr', { image: image(), inputBucket, outputBucket });
    },
    removes: () => true,
  }],
  'CT.LAMBDA.PR.3': [{
    setting: 'handlersInVpc (BatchOcrProcessor)',
    configure: (stack) => { new BatchOcrProcessor(stack, 'Ocr', { image: image(), handlersInVpc: true }); },
    removes: (p) => /^Defaults\/Ocr\/(Submit|Status|Upload|JobState)\//.test(p),
  }, {
    setting: 'lambdaVpc (EcrBatchAutoUpdater, JobCleanup)',
    configure: (stack) => {
      const network = new CostOptimizedVpc(stack, 'Network');
      new JobCleanup(stack, 'Cleanup', { jobQueueNames: ['ocr-queue'], lambdaVpc: network.vpc });
      new EcrBatchAutoUpdater(stack, 'Updater', { repository: ecr.Repository.fromRepositoryName(stack, 'Repo', 'ocr'), jobDefinitionNames: ['ocr-job'], lambdaVpc: network.vpc });
    },
    removes: (p) => /^Defaults\/(Cleanup|Updater)\//.test(p),
  }],
  'CT.ECR.PR.3': [{
    setting: 'a repository of your own with immutable tags',
    configure: (stack) => {
      const repository = new ecr.Repository(stack, 'Repo', { imageTagMutability: ecr.TagMutability.IMMUTABLE });
      new BatchOcrProcessor(stack, 'Ocr', { repository, imageTag: '1.0.0' });
    },
    removes: () => true,
  }],
  'CT.ECS.PR.2': [{
    setting: 'a cluster of your own with Container Insights enabled',
    configure: (stack) => {
      const network = new CostOptimizedVpc(stack, 'Network');
      const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: network.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
      new OcrServiceCluster(stack, 'Service', { network, cluster, image: image() });
    },
    removes: () => true,
  }],
  'CT.ELASTICLOADBALANCING.PR.1': [{
    setting: 'certificate and domainName (OcrServiceCluster)',
    configure: (stack) => {
      const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:111111111111:certificate/11111111-2222-3333-4444-555555555555');
      new OcrServiceCluster(stack, 'Service', { image: image(), certificate, domainName: 'ocr.internal.example.com' });
    },
    removes: () => true,
  }],
  'CT.ELASTICLOADBALANCING.PR.5': [{
    setting: 'loadBalancerDeletionProtection (OcrServiceCluster)',
    configure: (stack) => { new OcrServiceCluster(stack, 'Service', { image: image(), loadBalancerDeletionProtection: true }); },
    removes: () => true,
  }],
};

/** Documented controls that no prop changes: the table says why. */
const NO_PROP_REMEDY = ['CT.S3.PR.2', 'CT.LAMBDA.PR.2'];

function undocumented(findings: ControlFinding[]): ControlFinding[] {
  return findings.filter((f) => !documented.has(f.control));
}

/** Controls found on the defaults and the examples, to show that each documented one is real. */
const seen = new Set<string>();

describe('AWS Control Tower proactive controls', () => {
  test.each(Object.keys(DEFAULTS))('GIVEN %s with its defaults THEN every control passes or is documented', (name) => {
    const app = appWithRules();
    DEFAULTS[name](stackIn(app));
    const findings = controlTowerFindings(app);
    findings.forEach((f) => seen.add(f.control));
    expect(undocumented(findings)).toEqual([]);
  });

  test.each(exampleNames())('GIVEN examples/%s THEN every control passes or is documented', (name) => {
    const app = appWithRules();
    loadExample(name)(app);
    const findings = controlTowerFindings(app);
    findings.forEach((f) => seen.add(f.control));
    expect(undocumented(findings)).toEqual([]);
  });

  test('GIVEN the defaults and examples above THEN every documented control is one they meet (none is stale)', () => {
    expect(DOCUMENTED_CONTROLS.map((c) => c.id).filter((id) => !seen.has(id))).toEqual([]);
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

  test('GIVEN every documented control THEN a test shows its remedy passing, unless no prop can change it', () => {
    expect(DOCUMENTED_CONTROLS.map((c) => c.id).sort()).toEqual([...Object.keys(REMEDIES), ...NO_PROP_REMEDY].sort());
  });

  const remedyCases = Object.entries(REMEDIES).flatMap(([control, remedies]) => remedies.map((r) => [control, r.setting, r] as const));
  test.each(remedyCases)('GIVEN %s THEN %s makes it pass', (control, _setting, remedy) => {
    const app = appWithRules();
    remedy.configure(stackIn(app));
    const left = controlTowerFindings(app).filter((f) => f.control === control && remedy.removes(f.path));
    expect(left).toEqual([]);
  });

  test('GIVEN a resource that breaks a control THEN the harness reports it (the rules run)', () => {
    const app = appWithRules();
    const stack = stackIn(app);
    new ecr.Repository(stack, 'MutableTags', { imageTagMutability: ecr.TagMutability.MUTABLE });
    expect(controlTowerFindings(app)).toContainEqual({ control: 'CT.ECR.PR.3', path: 'Defaults/MutableTags/Resource' });
  });
});
