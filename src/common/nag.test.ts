import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeNagFindings, NAG_V2_METADATA_KEY } from './nag';
import { newTestApp, newTestStack, synthFindings } from '../../test/helpers/compliance';

describe('compliance harness and nag acknowledgements', () => {
  test('GIVEN a wrong CloudFormation property THEN schema validation reports it', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const bucket = new s3.Bucket(stack, 'Bucket');
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotAProperty', true);
    const findings = synthFindings(app);
    expect(findings).toEqual(expect.arrayContaining([
      expect.objectContaining({ source: 'CloudFormation Validate', severity: 'error', path: 'TestStack/Bucket/Resource' }),
    ]));
  });

  test('GIVEN a wrong enum value THEN the schema warning is a finding too', () => {
    const app = newTestApp({ nag: false });
    const stack = newTestStack(app);
    const bucket = new s3.Bucket(stack, 'Bucket');
    (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('VersioningConfiguration', { Status: 'On' });
    expect(synthFindings(app).map((f) => f.rule)).toContain('W3030');
  });

  test('GIVEN a bare bucket THEN both cdk-nag majors report AwsSolutions-S1', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    new s3.Bucket(stack, 'Bucket');
    const findings = synthFindings(app).filter((f) => f.rule === 'AwsSolutions-S1');
    expect(findings.map((f) => f.source).sort()).toEqual(['AwsSolutions', 'cdk-nag 2']);
  });

  test('GIVEN an acknowledgement on the resource THEN neither major reports that rule, and others remain', () => {
    const app = newTestApp();
    const stack = newTestStack(app);
    const bucket = new s3.Bucket(stack, 'Bucket');
    acknowledgeNagFindings(bucket, [{ ruleId: 'AwsSolutions-S1', reason: 'Test bucket whose access logs would only log the test itself.' }]);
    const findings = synthFindings(app);
    expect(findings.filter((f) => f.rule === 'AwsSolutions-S1')).toEqual([]);
    expect(findings.filter((f) => f.rule === 'AwsSolutions-S10').length).toBeGreaterThan(0);
    const metadata = (bucket.node.defaultChild as s3.CfnBucket).getMetadata(NAG_V2_METADATA_KEY);
    expect(metadata.rules_to_suppress).toEqual([{ id: 'AwsSolutions-S1', reason: 'Test bucket whose access logs would only log the test itself.' }]);
  });

  test('GIVEN a vague reason THEN the acknowledgement is refused', () => {
    const app = newTestApp({ nag: false });
    const bucket = new s3.Bucket(newTestStack(app), 'Bucket');
    expect(() => acknowledgeNagFindings(bucket, [{ ruleId: 'AwsSolutions-S1', reason: 'not needed' }])).toThrow(/too short/);
  });
});
