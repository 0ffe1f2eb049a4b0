import { GetAccountCommand, UpdateAccountCommand, APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { mockClient } from 'aws-sdk-client-mock';
import { AccountRoleEvent, ensureAccountCloudWatchRole, PHYSICAL_ID } from './api-account';
import { ApiGatewayCloudWatchRole } from './api-logging-role';
import { BatchOcrProcessor } from './batch-ocr-processor';
import { BatchOcrProcessorProps } from './props';
import { newTestStack } from '../../test/helpers/compliance';

const ROLE = 'arn:aws:iam::111111111111:role/ApiGatewayLogs';
const OTHER = 'arn:aws:iam::111111111111:role/PlatformTeamApiGatewayLogs';
const apigw = mockClient(APIGatewayClient);
const log = { info: jest.fn(), warn: jest.fn(), error: jest.fn() };
const noWait = { sleep: async () => undefined };

function event(requestType: AccountRoleEvent['RequestType']): AccountRoleEvent {
  return { RequestType: requestType, ResourceProperties: { RoleArn: ROLE }, PhysicalResourceId: requestType === 'Create' ? undefined : PHYSICAL_ID };
}

beforeEach(() => apigw.reset());

describe('setting the account\'s API Gateway CloudWatch role where none is set', () => {
  test('GIVEN an account with no role (a fresh account) WHEN the stack is created THEN the stack\'s role is set', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).resolves({ cloudwatchRoleArn: ROLE });
    const out = await ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event('Create'), log, noWait);
    expect(out).toEqual({ PhysicalResourceId: PHYSICAL_ID, Data: { CloudWatchRoleArn: ROLE, Outcome: 'set' } });
    expect(apigw.commandCalls(UpdateAccountCommand)[0].args[0].input).toEqual({
      patchOperations: [{ op: 'replace', path: '/cloudwatchRoleArn', value: ROLE }],
    });
  });

  test.each(['Create', 'Update'] as const)('GIVEN an account whose role another stack set WHEN the stack is %sd THEN that role is kept', async (type) => {
    apigw.on(GetAccountCommand).resolves({ cloudwatchRoleArn: OTHER });
    const out = await ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event(type), log, noWait);
    expect(out.Data).toEqual({ CloudWatchRoleArn: OTHER, Outcome: 'kept' });
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(0);
  });

  test('GIVEN the stack set the role WHEN the stack is deleted THEN the setting stays (other APIs of the account use it), and nothing is called that could fail the deletion', async () => {
    apigw.on(GetAccountCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' }));
    const out = await ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event('Delete'), log, noWait);
    expect(out.Data.Outcome).toBe('unchanged');
    expect(apigw.commandCalls(GetAccountCommand)).toHaveLength(0);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(0);
  });

  test('GIVEN a role API Gateway cannot assume yet (IAM propagation) THEN setting it is retried until it succeeds', async () => {
    apigw.on(GetAccountCommand).resolves({});
    const notReady = Object.assign(new Error('The role ARN does not have required permissions set to API Gateway'), { name: 'BadRequestException' });
    apigw.on(UpdateAccountCommand).rejectsOnce(notReady).rejectsOnce(notReady).resolves({ cloudwatchRoleArn: ROLE });
    const out = await ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event('Create'), log, noWait);
    expect(out.Data.Outcome).toBe('set');
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
  });

  test('GIVEN a role that never becomes usable THEN the deployment fails with API Gateway\'s reason after the attempts', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(Object.assign(new Error('The role ARN does not have required permissions set to API Gateway'), { name: 'BadRequestException' }));
    await expect(ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event('Create'), log, { ...noWait, attempts: 3 }))
      .rejects.toThrow(/does not have required permissions/);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(3);
  });

  test('GIVEN the caller may not change the setting THEN that error fails the deployment at once (no retries)', async () => {
    apigw.on(GetAccountCommand).resolves({});
    apigw.on(UpdateAccountCommand).rejects(Object.assign(new Error('User is not authorized to perform apigateway:PATCH'), { name: 'AccessDeniedException' }));
    await expect(ensureAccountCloudWatchRole(apigw as unknown as APIGatewayClient, event('Create'), log, noWait)).rejects.toThrow(/not authorized/);
    expect(apigw.commandCalls(UpdateAccountCommand)).toHaveLength(1);
  });
});

describe('BatchOcrProcessor and the account\'s API Gateway CloudWatch role', () => {
  const image = ecs.ContainerImage.fromRegistry('111111111111.dkr.ecr.us-east-1.amazonaws.com/ocr-worker:1.0.0');
  function synth(props: Partial<BatchOcrProcessorProps> = {}): Template {
    const app = new App({ context: { '@aws-cdk/core:validateAgainstDefaultRules': true } });
    const stack = newTestStack(app);
    new BatchOcrProcessor(stack, 'Ocr', { image, ...props });
    return Template.fromStack(stack);
  }
  function stageDependsOn(t: Template): string[] {
    const stages = t.findResources('AWS::ApiGateway::Stage');
    expect(Object.keys(stages)).toHaveLength(1);
    return ([] as string[]).concat(Object.values(stages)[0].DependsOn ?? []);
  }

  test('GIVEN the defaults THEN the stage logs (access and ERROR execution logs) and is created only after the role is set where missing', () => {
    const t = synth();
    t.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR' })],
    });
    const settings = t.findResources('Custom::ApiGatewayAccountCloudWatchRole');
    expect(Object.keys(settings)).toHaveLength(1);
    expect(stageDependsOn(t)).toContain(Object.keys(settings)[0]);
    // No AWS::ApiGateway::Account: owning it would overwrite (and fight over) the account's setting.
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    // The account setting outlives the stack, so the role it may point at must too.
    t.hasResource('AWS::IAM::Role', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({ AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'apigateway.amazonaws.com' } })] }) }),
    });
  });

  test('GIVEN the defaults THEN the handler may read and patch only the account setting and pass only its own role', () => {
    const t = synth();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: ['apigateway:GET', 'apigateway:PATCH'], Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':apigateway:us-east-1::/account']] } }),
          Match.objectLike({ Action: 'iam:PassRole', Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('ApiLoggingRoleCloudWatchRole'), 'Arn'] } }),
        ]),
      },
    });
  });

  test('GIVEN EXISTING THEN the stack neither creates nor sets a role, and the stage still logs', () => {
    const t = synth({ apiGatewayCloudWatchRole: ApiGatewayCloudWatchRole.EXISTING });
    t.resourceCountIs('Custom::ApiGatewayAccountCloudWatchRole', 0);
    t.resourceCountIs('AWS::ApiGateway::Account', 0);
    t.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ LoggingLevel: 'ERROR' })] });
  });

  test('GIVEN MANAGED THEN the stack owns AWS::ApiGateway::Account and the stage waits for it', () => {
    const t = synth({ apiGatewayCloudWatchRole: ApiGatewayCloudWatchRole.MANAGED });
    const accounts = t.findResources('AWS::ApiGateway::Account');
    expect(Object.keys(accounts)).toHaveLength(1);
    expect(stageDependsOn(t)).toContain(Object.keys(accounts)[0]);
    t.resourceCountIs('Custom::ApiGatewayAccountCloudWatchRole', 0);
  });

  test('GIVEN executionLogging false THEN only access logs are on', () => {
    const t = synth({ executionLogging: false });
    t.hasResourceProperties('AWS::ApiGateway::Stage', { MethodSettings: [Match.objectLike({ LoggingLevel: 'OFF' })] });
  });
});
