/**
 * Amazon Textract's API on the processor's REST API: the `POST /` method (IAM-authorized, whatever
 * the other methods use), absent with Cognito authorization, and its handler's permissions.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { ApiAuthorization } from './props';
import { synthProcessor } from '../../test/helpers/batch-ocr-api';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

function rootPostMethods(t: Template): Array<{ Properties: { AuthorizationType: string; Integration: { Uri: unknown } } }> {
  return Object.values(t.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'POST' } }))
    .filter((m) => JSON.stringify(m.Properties.ResourceId).includes('RootResourceId')) as never;
}

function textractStatements(t: Template): Statement[] {
  const policy = Object.entries(t.findResources('AWS::IAM::Policy')).find(([id]) => id.startsWith('OcrTextractApiRoleDefaultPolicy'));
  expect(policy).toBeDefined();
  return policy![1].Properties.PolicyDocument.Statement as Statement[];
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
});
