/**
 * Amazon Textract's API on the processor's REST API: the `POST /` method (IAM-authorized, whatever
 * the other methods use), absent with Cognito authorization, and its handler's permissions.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ApiAuthorization } from './props';
import { synthProcessor } from '../../test/helpers/batch-ocr-api';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function rootPostMethods(t: Template): Array<{ Properties: { AuthorizationType: string; Integration: { Uri: unknown } } }> {
  return Object.values(t.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'POST' } }))
    .filter((m) => JSON.stringify(m.Properties.ResourceId).includes('RootResourceId')) as never;
}

function statementsOf(t: Template, role: string): Statement[] {
  const policy = Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith(`Ocr${role}RoleDefaultPolicy`));
  expect(policy).toBeDefined();
  return policy![1].Properties.PolicyDocument.Statement as Statement[];
}

const textractStatements = (t: Template): Statement[] => statementsOf(t, 'TextractApi');

function environmentOf(t: Template, handler: string): { [name: string]: unknown } {
  const fn = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith(`Ocr${handler}`));
  expect(fn).toBeDefined();
  return fn![1].Properties.Environment.Variables;
}

/** The statements that allow one of these actions, with their resources. */
/** The resources a role is allowed `action` on (`effect` 'Deny': denied). */
function grantsOf(statements: Statement[], action: string, effect: 'Allow' | 'Deny' = 'Allow'): unknown[] {
  return statements.filter((s) => (s.Effect ?? 'Allow') === effect && [s.Action].flat().includes(action)).flatMap((s) => [s.Resource].flat());
}

const actionsOf = (statements: Statement[]): string[] => statements.flatMap((s) => [s.Action].flat());

describe('Textract\'s API on the REST API', () => {
  test('GIVEN defaults WHEN synthesized THEN POST / is IAM-authorized and reaches the Textract handler', () => {
    const t = synthProcessor();
    const methods = rootPostMethods(t);
    expect(methods).toHaveLength(1);
    expect(methods[0].Properties.AuthorizationType).toBe('AWS_IAM');
    expect(JSON.stringify(methods[0].Properties.Integration.Uri)).toContain('OcrTextractApi');
  });

  test('GIVEN gathering (the default) WHEN synthesized THEN the handler queues, reads and records, and never submits to Batch itself', () => {
    const t = synthProcessor();
    const statements = textractStatements(t);
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 's3:GetObject*']));
    expect(actions.filter((a) => a.startsWith('batch:'))).toEqual([]);
    expect(actions.some((a) => a.startsWith('s3:Put') || a.startsWith('s3:Delete'))).toBe(false);
    const sqsStatement = statements.find((s) => [s.Action].flat().includes('sqs:SendMessage'))!;
    expect(JSON.stringify(sqsStatement.Resource)).toContain('OcrGatherQueue');
    // Reads of the output bucket stay under the results prefix; of the input bucket, under what callers may name.
    for (const s of statements.filter((x) => [x.Action].flat().includes('s3:GetObject*'))) {
      expect(JSON.stringify(s.Resource)).toMatch(/\/results\/\*|\/uploads\/\*/);
    }
    const fn = Object.entries(t.findResources('AWS::Lambda::Function')).find(([id]) => id.startsWith('OcrTextractApi'))![1];
    expect(Object.keys(fn.Properties.Environment.Variables)).toContain('GATHER_QUEUE_URL');
  });

  test('GIVEN gathering off WHEN synthesized THEN the handler submits its own jobs: SubmitJob on the queue and job definition, manifests under the results prefix', () => {
    const t = synthProcessor({ gathering: { enabled: false } });
    const statements = textractStatements(t);
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['batch:SubmitJob', 'batch:ListJobs', 's3:PutObject']));
    expect(actions).not.toContain('sqs:SendMessage');
    const submit = statements.find((s) => [s.Action].flat().includes('batch:SubmitJob'))!;
    expect(JSON.stringify(submit.Resource)).toContain('OcrJobQueue');
    const put = statements.find((s) => [s.Action].flat().includes('s3:PutObject'))!;
    expect(JSON.stringify(put.Resource)).toContain('/results/*');
  });

  test('GIVEN Cognito authorization WHEN synthesized THEN no Textract method and no Textract handler (Textract\'s clients sign with SigV4)', () => {
    const t = synthProcessor((stack) => ({ authorization: ApiAuthorization.COGNITO, userPool: new cognito.UserPool(stack, 'Users') }));
    expect(rootPostMethods(t)).toHaveLength(0);
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('OcrTextractApi'))).toEqual([]);
  });

  describe('NotificationChannel and OutputConfig', () => {
    test('GIVEN defaults WHEN synthesized THEN no topic is allowed, the job state handler may put objects in the output bucket only, and publishes nowhere', () => {
      const t = synthProcessor();
      expect(environmentOf(t, 'TextractApi')).toMatchObject({ TEXTRACT_NOTIFICATION_TOPICS: '[]', TEXTRACT_OUTPUT_BUCKETS: '[]' });
      const statements = statementsOf(t, 'JobState');
      expect(actionsOf(statements).filter((a) => a.startsWith('sns:'))).toEqual([]);
      const puts = grantsOf(statements, 's3:PutObject');
      expect(puts).toHaveLength(1);
      expect(JSON.stringify(puts[0])).toMatch(/OcrOutputBucket[0-9A-F]+","Arn"\]\},"\/\*"/);
      // and never under the results prefix, whatever the handler does
      const denied = grantsOf(statements, 's3:PutObject', 'Deny');
      expect(denied).toHaveLength(1);
      expect(JSON.stringify(denied[0])).toMatch(/OcrOutputBucket[0-9A-F]+","Arn"\]\},"\/results\/\*"/);
      // Nothing else writes: PutObject only.
      expect([...new Set(actionsOf(statements).filter((a) => a.startsWith('s3:') && !a.startsWith('s3:Get') && !a.startsWith('s3:List')))]).toEqual(['s3:PutObject']);
    });

    test('GIVEN topics (one KMS-encrypted) and buckets WHEN synthesized THEN sns:Publish on exactly those topics, the topic key\'s use, PutObject on those buckets, and their names for the Start handler', () => {
      let topicKeyArn: unknown;
      const t = synthProcessor((stack) => {
        const key = new kms.Key(stack, 'TopicKey');
        topicKeyArn = stack.resolve(key.keyArn);
        return {
          textractNotificationTopics: [new sns.Topic(stack, 'Done', { masterKey: key }), sns.Topic.fromTopicArn(stack, 'Theirs', 'arn:aws:sns:us-east-1:222222222222:theirs')],
          textractOutputBuckets: [s3.Bucket.fromBucketName(stack, 'Partner', 'partner-results')],
        };
      });
      const env = environmentOf(t, 'TextractApi');
      expect(JSON.stringify(env.TEXTRACT_NOTIFICATION_TOPICS)).toContain('{"Ref":"Done');
      expect(JSON.stringify(env.TEXTRACT_NOTIFICATION_TOPICS)).toContain('arn:aws:sns:us-east-1:222222222222:theirs');
      expect(env.TEXTRACT_OUTPUT_BUCKETS).toBe('["partner-results"]');
      const statements = statementsOf(t, 'JobState');
      const published = grantsOf(statements, 'sns:Publish');
      expect(published).toHaveLength(2);
      expect(JSON.stringify(published)).toMatch(/\{"Ref":"Done[0-9A-F]+"\}/);
      expect(published).toContain('arn:aws:sns:us-east-1:222222222222:theirs');
      expect(grantsOf(statements, 'kms:GenerateDataKey*')).toContainEqual(topicKeyArn);
      expect(grantsOf(statements, 'kms:Decrypt')).toContainEqual(topicKeyArn);
      const puts = grantsOf(statements, 's3:PutObject');
      expect(puts).toHaveLength(2);
      expect(JSON.stringify(puts)).toContain(':s3:::partner-results/*');
      // The Start handler itself neither publishes nor writes them.
      expect(actionsOf(textractStatements(t)).filter((a) => a.startsWith('sns:') || a === 's3:PutObject')).toEqual([]);
    });

    test('GIVEN topics and handlers in the VPC WHEN synthesized THEN the network has an SNS endpoint to publish through; without topics it has none', () => {
      const endpoints = (t: Template) => Object.values(t.findResources('AWS::EC2::VPCEndpoint')).map((e: any) => JSON.stringify(e.Properties.ServiceName));
      const withTopics = synthProcessor((stack) => ({ handlersInVpc: true, textractNotificationTopics: [new sns.Topic(stack, 'Done')] }));
      expect(endpoints(withTopics).filter((n) => n.endsWith('.sns"'))).toHaveLength(1);
      expect(endpoints(synthProcessor({ handlersInVpc: true })).filter((n) => n.endsWith('.sns"'))).toEqual([]);
    });

    test.each([
      ['textractNotificationTopics with Cognito', (stack: any) => ({ authorization: ApiAuthorization.COGNITO, userPool: new cognito.UserPool(stack, 'Users'), textractNotificationTopics: [new sns.Topic(stack, 'T')] }),
        "BatchOcrProcessor 'Ocr': 'textractNotificationTopics' only applies with ApiAuthorization.IAM"],
      ['textractOutputBuckets with Cognito', (stack: any) => ({ authorization: ApiAuthorization.COGNITO, userPool: new cognito.UserPool(stack, 'Users'), textractOutputBuckets: [new s3.Bucket(stack, 'B')] }),
        "BatchOcrProcessor 'Ocr': 'textractOutputBuckets' only applies with ApiAuthorization.IAM"],
      ['an empty topic list', () => ({ textractNotificationTopics: [] }), "BatchOcrProcessor 'Ocr': 'textractNotificationTopics' must list 1 to 20 entries, got 0"],
      ['a topic in another region', (stack: any) => ({ textractNotificationTopics: [sns.Topic.fromTopicArn(stack, 'T', 'arn:aws:sns:eu-west-1:111111111111:done')] }),
        "BatchOcrProcessor 'Ocr': 'textractNotificationTopics' must be topics in the stack's region (us-east-1): the job state handler publishes from there, got a topic in eu-west-1"],
      ['a FIFO topic', (stack: any) => ({ textractNotificationTopics: [new sns.Topic(stack, 'T', { fifo: true })] }),
        "BatchOcrProcessor 'Ocr': 'textractNotificationTopics' must be standard topics"],
      ['an output bucket in another region', (stack: any) => ({ textractOutputBuckets: [s3.Bucket.fromBucketAttributes(stack, 'B', { bucketName: 'partner-results', region: 'eu-west-1' })] }),
        "BatchOcrProcessor 'Ocr': 'textractOutputBuckets' must be buckets in the stack's region (us-east-1): the job state handler writes from there, got a bucket in eu-west-1"],
    ])('GIVEN %s WHEN constructed THEN it fails at synth naming the construct and the prop', (_name, props, message) => {
      expect(() => synthProcessor(props)).toThrow(message);
    });
  });
});
