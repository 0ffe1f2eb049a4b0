/**
 * The gathering of single-document requests in the template: its queue, dead-letter queue, event
 * source and the permissions of the submit and gathering handlers; and its props.
 */
import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { GATHERING_DEFAULTS } from './gathering';
import { synthProcessor } from '../../test/helpers/batch-ocr-api';

/** The logical id of the one resource of this type whose id starts with `prefix`. */
function idOf(t: Template, type: string, prefix: string): string {
  const ids = Object.keys(t.findResources(type)).filter((id) => id.startsWith(prefix));
  expect(ids).toHaveLength(1);
  return ids[0];
}

/** The environment variables of the handler whose logical id starts with `prefix`. */
function environmentOf(t: Template, prefix: string): { [name: string]: unknown } {
  return t.toJSON().Resources[idOf(t, 'AWS::Lambda::Function', prefix)].Properties.Environment.Variables;
}

/** Every action an IAM policy attached to this role allows, as `action resource` strings (JSON of the resource). */
function statementsOf(t: Template, rolePrefix: string): { Action: string | string[]; Resource: unknown }[] {
  const role = idOf(t, 'AWS::IAM::Role', rolePrefix);
  return Object.values(t.findResources('AWS::IAM::Policy'))
    .filter((p) => JSON.stringify(p.Properties.Roles).includes(role))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

describe('gathering (default on)', () => {
  const t = synthProcessor();
  const queue = idOf(t, 'AWS::SQS::Queue', 'OcrGatherQueue');
  const dlq = idOf(t, 'AWS::SQS::Queue', 'OcrGatherDeadLetterQueue');

  test('an encrypted, TLS-only queue with a dead-letter queue', () => {
    const q = t.toJSON().Resources[queue].Properties;
    expect(q.SqsManagedSseEnabled).toBe(true);
    expect(q.RedrivePolicy).toEqual({ deadLetterTargetArn: { 'Fn::GetAtt': [dlq, 'Arn'] }, maxReceiveCount: 5 });
    // Longer than six times the handler's timeout plus the batching window.
    expect(q.VisibilityTimeout).toBeGreaterThanOrEqual(6 * 120 + 30);
    t.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queue }],
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the gathering handler drains it: the default window and batch size, failures reported per message', () => {
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queue, 'Arn'] },
      BatchSize: GATHERING_DEFAULTS.maxDocuments,
      MaximumBatchingWindowInSeconds: GATHERING_DEFAULTS.window.toSeconds(),
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      FunctionName: { Ref: idOf(t, 'AWS::Lambda::Function', 'OcrGather') },
    });
  });

  test('the submit handler may send to the queue and knows its URL; the gathering handler may submit jobs and write manifests', () => {
    expect(environmentOf(t, 'OcrSubmit').GATHER_QUEUE_URL).toEqual({ Ref: queue });
    const submit = statementsOf(t, 'OcrSubmit');
    expect(submit).toContainEqual(expect.objectContaining({ Action: expect.arrayContaining(['sqs:SendMessage']), Resource: { 'Fn::GetAtt': [queue, 'Arn'] } }));
    const gather = statementsOf(t, 'OcrGather');
    const actions = gather.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(['batch:SubmitJob', 'batch:ListJobs', 'dynamodb:UpdateItem', 's3:PutObject', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']));
    // It reads no documents: the worker does.
    expect(actions).not.toContain('s3:GetObject');
    expect(environmentOf(t, 'OcrGather')).toMatchObject({ GATHER_MAX_RECEIVE_COUNT: '5', TARGET_BYTES_PER_CHILD: String(64 * 1024 * 1024), MAX_DOCUMENTS_PER_CHILD: '1000' });
  });
});

describe('gathering props', () => {
  test('GIVEN a window and a batch size WHEN synthesized THEN the event source uses them', () => {
    const t = synthProcessor({ gathering: { window: Duration.seconds(5), maxDocuments: 200 } });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 200, MaximumBatchingWindowInSeconds: 5 });
  });

  test('GIVEN a small maxDocumentsPerJob WHEN synthesized THEN a gathered job holds no more than it', () => {
    const t = synthProcessor({ maxDocumentsPerJob: 50 });
    t.hasResourceProperties('AWS::Lambda::EventSourceMapping', { BatchSize: 50 });
  });

  test('GIVEN gathering off WHEN synthesized THEN no queue, no handler, and the submit handler submits every request at once', () => {
    const t = synthProcessor({ gathering: { enabled: false } });
    expect(Object.keys(t.findResources('AWS::SQS::Queue')).filter((id) => id.startsWith('OcrGather'))).toEqual([]);
    t.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
    expect(environmentOf(t, 'OcrSubmit').GATHER_QUEUE_URL).toBeUndefined();
    expect(Object.keys(t.findResources('AWS::Lambda::Function')).filter((id) => id.startsWith('OcrGather'))).toEqual([]);
  });

  test.each([
    ['a window of 0 s', { window: Duration.seconds(0) }, /BatchOcrProcessor '\w+': 'gathering.window' must be an integer from 1 to 300, got 0/],
    ['a window above 300 s', { window: Duration.minutes(6) }, /'gathering.window' must be an integer from 1 to 300, got 360/],
    ['no documents', { maxDocuments: 0 }, /'gathering.maxDocuments' must be an integer from 1 to 10000, got 0/],
    ['more than Lambda\'s batch size', { maxDocuments: 20_000 }, /'gathering.maxDocuments' must be an integer from 1 to 10000/],
    ['settings while off', { enabled: false, window: Duration.seconds(10) }, /'gathering' has 'window' or 'maxDocuments' with 'enabled: false'/],
  ])('GIVEN %s WHEN synthesized THEN it fails naming the prop', (_name, gathering, error) => {
    expect(() => synthProcessor({ gathering })).toThrow(error);
  });

  test('GIVEN more gathered documents than a job may hold WHEN synthesized THEN it fails naming the prop', () => {
    expect(() => synthProcessor({ maxDocumentsPerJob: 10, gathering: { maxDocuments: 11 } })).toThrow(/'gathering.maxDocuments' must be an integer from 1 to 10, got 11/);
  });
});
