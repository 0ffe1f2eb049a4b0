import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import { newTestStack } from '../../test/helpers/compliance';
import { BatchOcrProcessor } from '../batch-ocr-processor';

const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');

function stack(): Stack {
  return newTestStack(new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } }));
}

/** The policy statements of the user's key (not the flow-log key the network creates). */
function keyStatements(t: Template): { Sid?: string; Principal?: { Service?: string }; Action: string | string[]; Condition?: unknown }[] {
  const keys = Object.entries(t.findResources('AWS::KMS::Key')).filter(([id]) => id.startsWith('Key'));
  expect(keys).toHaveLength(1);
  return keys[0][1].Properties.KeyPolicy.Statement;
}

describe('services that use the construct\'s KMS key as themselves', () => {
  test('GIVEN a key the stack owns and no S3 trigger THEN EventBridge may use it for the job-state rule\'s dead-letter queue, limited to this account', () => {
    const s = stack();
    const key = new kms.Key(s, 'Key', { enableKeyRotation: true });
    new BatchOcrProcessor(s, 'Ocr', { image, encryptionKey: key });
    const t = Template.fromStack(s);
    // the rule's target DLQ is encrypted with the key
    t.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ DeadLetterConfig: { Arn: Match.anyValue() } })] });
    const events = keyStatements(t).filter((st) => st.Principal?.Service === 'events.amazonaws.com');
    expect(events).toEqual([expect.objectContaining({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } },
    })]);
    const logs = keyStatements(t).filter((st) => st.Sid === 'AllowCloudWatchLogsOfThisAccountAndRegion');
    expect(logs).toHaveLength(1);
  });

  test('GIVEN an imported key THEN synth warns with the exact statement each service needs in its policy', () => {
    const s = stack();
    const key = kms.Key.fromKeyArn(s, 'Key', 'arn:aws:kms:us-east-1:111111111111:key/11111111-2222-3333-4444-555555555555');
    new BatchOcrProcessor(s, 'Ocr', { image, encryptionKey: key });
    const warnings = Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('is imported, so this stack cannot change its policy'));
    const texts = warnings.map((w) => String(w.entry.data));
    const logs = texts.find((w) => w.includes('Log groups encrypted with it fail to deploy'));
    const events = texts.find((w) => w.includes('EventBridge cannot deliver'));
    expect(logs).toContain('"Service":"logs.us-east-1.${AWS::URLSuffix}"');
    expect(logs).toContain('"arn:${AWS::Partition}:logs:us-east-1:111111111111:log-group:*"');
    expect(logs).toContain('"kms:EncryptionContext:aws:logs:arn"');
    expect(events).toContain('"Service":"events.amazonaws.com"');
    expect(events).toContain('"Action":["kms:Decrypt","kms:GenerateDataKey"]');
    // once per service, however many log groups and queues use the key
    expect(texts.filter((w) => w.includes('logs.us-east-1'))).toHaveLength(1);
  });

  test('GIVEN a key the stack owns THEN no imported-key warning', () => {
    const s = stack();
    new BatchOcrProcessor(s, 'Ocr', { image, encryptionKey: new kms.Key(s, 'Key', { enableKeyRotation: true }) });
    expect(Annotations.fromStack(s).findWarning('*', Match.stringLikeRegexp('is imported'))).toHaveLength(0);
  });
});
