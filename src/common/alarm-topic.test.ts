import { Template, Match } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as kms from 'aws-cdk-lib/aws-kms';
import { AlarmTopic } from './alarm-topic';
import { newTestApp, newTestStack, synthCompliant } from '../../test/helpers/compliance';

describe('AlarmTopic', () => {
  test('GIVEN defaults THEN an encrypted topic whose key CloudWatch alarms of this account may use, and only AWS services may grant', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const alarms = new AlarmTopic(stack, 'Alarms');
    new cloudwatch.Alarm(stack, 'Alarm', {
      metric: new cloudwatch.Metric({ namespace: 'Test', metricName: 'Errors' }), threshold: 1, evaluationPeriods: 1,
    }).addAlarmAction(...alarms.alarmActions);
    synthCompliant(app);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'DenyGrantsExceptForAwsServices', Effect: 'Deny', Action: 'kms:CreateGrant' }),
          Match.objectLike({ Sid: 'AllowCloudWatchAlarmsToPublish', Principal: { Service: 'cloudwatch.amazonaws.com' }, Condition: { StringEquals: { 'aws:SourceAccount': '111111111111' } } }),
        ]),
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: Match.stringLikeRegexp('AlarmsTopic') }] });
  });

  test('GIVEN a key of the stack THEN the topic uses it and its policy lets CloudWatch publish', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const key = new kms.Key(stack, 'StackKey', { enableKeyRotation: true });
    const alarms = new AlarmTopic(stack, 'Alarms', { encryptionKey: key });
    expect(alarms.encryptionKey).toBe(key);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::KMS::Key', 1);
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Sid: 'AllowCloudWatchAlarmsToPublish' })]) },
    });
  });
});
