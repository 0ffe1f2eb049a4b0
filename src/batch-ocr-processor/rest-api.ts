import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { ApiGatewayCloudWatchRole, ApiLoggingRole } from './api-logging-role';
import { ProcessorHandlers } from './handlers';
import { ApiAuthorization, BatchOcrProcessorProps } from './props';
import { LIMITS, submitRequestSchema, uploadRequestSchema } from './request';
import { DEFAULT_LOG_RETENTION } from '../common/shared-props';

/** The REST API and what comes with it. */
export interface ProcessorApi {
  readonly api: apigw.RestApi;
  readonly accessLogGroup: logs.LogGroup;
  readonly cloudWatchRole?: iam.IRole;
  readonly apiKey?: apigw.IApiKey;
  readonly usagePlan?: apigw.UsagePlan;
  readonly webAclAssociation?: wafv2.CfnWebACLAssociation;
}

/**
 * The request headers a browser may send (the preflight's Access-Control-Allow-Headers): the API's
 * own, SigV4's, and those the AWS SDK for JavaScript adds to every request of a Textract client
 * (X-Amz-Target names the operation; X-Amz-User-Agent, Amz-Sdk-Invocation-Id and Amz-Sdk-Request
 * are the SDK's, X-Amz-Content-Sha256 the signed payload hash).
 */
export const CORS_ALLOW_HEADERS: readonly string[] = [
  'Content-Type', 'Authorization', 'X-Amz-Date', 'X-Amz-Security-Token', 'X-Api-Key', 'Idempotency-Key',
  'X-Amz-Target', 'X-Amz-User-Agent', 'X-Amz-Content-Sha256', 'Amz-Sdk-Invocation-Id', 'Amz-Sdk-Request',
];

/**
 * The REST API ('Api', stage v1): `POST /jobs`, `GET /jobs/{jobId}` and `POST /uploads` with request
 * validation, Amazon Textract's API at `POST /` (IAM authorization only), the chosen authorization, error responses in the handlers' shape, access logs, the
 * account's logging role, and optionally CORS, a private endpoint, a usage plan and a WAF web ACL.
 */
export function createRestApi(scope: Construct, props: BatchOcrProcessorProps, handlers: ProcessorHandlers): ProcessorApi {
  const logRetention = props.logRetention ?? DEFAULT_LOG_RETENTION;
  const accessLogGroup = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: logRetention, encryptionKey: props.encryptionKey, removalPolicy: RemovalPolicy.DESTROY });
  const isPrivate = (props.privateApiEndpoints ?? []).length > 0;
  const throttle = { rateLimit: props.throttlingRateLimit ?? 10, burstLimit: props.throttlingBurstLimit ?? 20 };
  const api = new apigw.RestApi(scope, 'Api', {
    description: 'OCR jobs on AWS Batch (cdk-ocr-constructs BatchOcrProcessor)',
    // The account setting is handled by ApiLoggingRole below (set only where missing).
    cloudWatchRole: false,
    endpointConfiguration: isPrivate
      ? { types: [apigw.EndpointType.PRIVATE], vpcEndpoints: props.privateApiEndpoints }
      : { types: [apigw.EndpointType.REGIONAL] },
    policy: isPrivate ? privateApiPolicy(props.privateApiEndpoints!) : undefined,
    defaultCorsPreflightOptions: props.corsAllowOrigins ? {
      allowOrigins: props.corsAllowOrigins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: [...CORS_ALLOW_HEADERS],
      maxAge: Duration.hours(1),
    } : undefined,
    deployOptions: {
      stageName: 'v1',
      tracingEnabled: true,
      throttlingRateLimit: throttle.rateLimit,
      throttlingBurstLimit: throttle.burstLimit,
      accessLogDestination: new apigw.LogGroupLogDestination(accessLogGroup),
      accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
      loggingLevel: (props.executionLogging ?? true) ? apigw.MethodLoggingLevel.ERROR : apigw.MethodLoggingLevel.OFF,
      metricsEnabled: true,
    },
  });
  addGatewayResponses(api, props.corsAllowOrigins);
  const cloudWatchRole = new ApiLoggingRole(scope, 'ApiLoggingRole', {
    mode: props.apiGatewayCloudWatchRole ?? ApiGatewayCloudWatchRole.SET_IF_MISSING,
    api,
    // Outside the VPC: it only calls API Gateway's control plane once per deployment.
    architecture: props.architecture,
    encryptionKey: props.encryptionKey,
    logRetention,
    removalPolicy: RemovalPolicy.DESTROY,
  }).role;

  const methodAuth: apigw.MethodOptions = {
    ...methodAuthorization(scope, props.authorization ?? ApiAuthorization.IAM, props.userPool),
    apiKeyRequired: props.apiKeyRequired,
  };
  const validator = new apigw.RequestValidator(scope, 'BodyValidator', { restApi: api, validateRequestBody: true, validateRequestParameters: true });
  const maxDocuments = props.maxDocumentsPerJob ?? LIMITS.maxArrayChildren;
  const submitModel = api.addModel('SubmitJobModel', { contentType: 'application/json', schema: toApiGatewaySchema(submitRequestSchema(maxDocuments)) });
  const uploadModel = api.addModel('UploadModel', { contentType: 'application/json', schema: toApiGatewaySchema(uploadRequestSchema()) });
  const jobsResource = api.root.addResource('jobs');
  jobsResource.addMethod('POST', new apigw.LambdaIntegration(handlers.submit.function), {
    ...methodAuth, requestValidator: validator, requestModels: { 'application/json': submitModel },
  });
  jobsResource.addResource('{jobId}').addMethod('GET', new apigw.LambdaIntegration(handlers.status.function), {
    ...methodAuth, requestValidator: validator, requestParameters: { 'method.request.path.jobId': true },
  });
  api.root.addResource('uploads').addMethod('POST', new apigw.LambdaIntegration(handlers.upload.function), {
    ...methodAuth, requestValidator: validator, requestModels: { 'application/json': uploadModel },
  });
  if (handlers.textract) {
    // Amazon Textract's API (AWS JSON 1.1: POST / with X-Amz-Target): its clients sign with SigV4 for
    // execute-api (API Gateway developer guide, "Control access to a REST API with IAM permissions"),
    // so this method is IAM-authorized whatever the others use. The handler validates
    // the body as Textract does and answers in Textract's error shape.
    api.root.addMethod('POST', new apigw.LambdaIntegration(handlers.textract.function), {
      authorizationType: apigw.AuthorizationType.IAM, apiKeyRequired: props.apiKeyRequired,
    });
  }

  let usagePlan: apigw.UsagePlan | undefined;
  let apiKey: apigw.IApiKey | undefined;
  if (props.apiKeyRequired) {
    // For metering and per-client throttling only: every method still authenticates the caller
    // (API Gateway developer guide, "Usage plans and API keys for REST APIs": don't use API keys
    // for authentication or authorization).
    usagePlan = api.addUsagePlan('UsagePlan', {
      description: 'OCR API clients',
      throttle,
      apiStages: [{ api, stage: api.deploymentStage }],
    });
    apiKey = api.addApiKey('ApiKey', { description: 'OCR API key (rotate by adding another key to the usage plan)' });
    usagePlan.addApiKey(apiKey);
  }
  const webAclAssociation = props.webAclArn
    ? new wafv2.CfnWebACLAssociation(scope, 'WebAclAssociation', { resourceArn: api.deploymentStage.stageArn, webAclArn: props.webAclArn })
    : undefined;
  return { api, accessLogGroup, cloudWatchRole, apiKey, usagePlan, webAclAssociation };
}

function methodAuthorization(scope: Construct, authorization: ApiAuthorization, userPool?: cognito.IUserPool): apigw.MethodOptions {
  switch (authorization) {
    case ApiAuthorization.COGNITO: {
      const authorizer = new apigw.CognitoUserPoolsAuthorizer(scope, 'Authorizer', { cognitoUserPools: [userPool!] });
      return { authorizationType: apigw.AuthorizationType.COGNITO, authorizer };
    }
    default:
      return { authorizationType: apigw.AuthorizationType.IAM };
  }
}

/** API Gateway's own errors (validation, auth, throttling) in the handlers' error shape. */
function addGatewayResponses(api: apigw.RestApi, corsOrigins?: string[]): void {
  const headers: { [k: string]: string } = corsOrigins ? { 'Access-Control-Allow-Origin': `'${corsOrigins[0]}'` } : {};
  const body = (code: string, message: string) =>
    `{"success":false,"code":"${code}","message":${message},"requestId":"$context.requestId","timestamp":"$context.requestTime"}`;
  const validationError = (what: string) => body('INVALID_REQUEST', `"Invalid request ${what}: $util.escapeJavaScript($context.error.validationErrorString).replaceAll("\\\\'","'")"`);
  api.addGatewayResponse('BadRequestBody', {
    type: apigw.ResponseType.BAD_REQUEST_BODY,
    statusCode: '400',
    responseHeaders: headers,
    templates: { 'application/json': validationError('body') },
  });
  api.addGatewayResponse('BadRequestParameters', {
    type: apigw.ResponseType.BAD_REQUEST_PARAMETERS,
    statusCode: '400',
    responseHeaders: headers,
    templates: { 'application/json': validationError('parameters') },
  });
  const passThrough = { 'application/json': body('$context.error.responseType', '$context.error.messageString') };
  api.addGatewayResponse('Default4xx', { type: apigw.ResponseType.DEFAULT_4XX, responseHeaders: headers, templates: passThrough });
  api.addGatewayResponse('Default5xx', { type: apigw.ResponseType.DEFAULT_5XX, responseHeaders: headers, templates: passThrough });
  // An AWS SDK client of Textract's API (POST /) names an error by the body's `__type` before its
  // `code`: throttling and IAM refusals carry the names AWS services use, so that the client retries
  // and corrects clock skew as it does with Textract, and code catching ThrottlingException or
  // AccessDeniedException works here too. Other clients read `code` as before.
  const awsTyped: Array<[string, apigw.ResponseType, string]> = [
    ['Throttled', apigw.ResponseType.THROTTLED, 'ThrottlingException'],
    ['QuotaExceeded', apigw.ResponseType.QUOTA_EXCEEDED, 'ThrottlingException'],
    ['AccessDenied', apigw.ResponseType.ACCESS_DENIED, 'AccessDeniedException'],
    ['InvalidSignature', apigw.ResponseType.INVALID_SIGNATURE, 'InvalidSignatureException'],
    ['ExpiredToken', apigw.ResponseType.EXPIRED_TOKEN, 'ExpiredTokenException'],
    ['MissingAuthenticationToken', apigw.ResponseType.MISSING_AUTHENTICATION_TOKEN, 'MissingAuthenticationTokenException'],
  ];
  for (const [id, type, awsType] of awsTyped) {
    api.addGatewayResponse(id, {
      type,
      responseHeaders: headers,
      templates: { 'application/json': `{"__type":"${awsType}",${body('$context.error.responseType', '$context.error.messageString').slice(1)}` },
    });
  }
}

/** A private API's resource policy: invocations only through the given execute-api endpoints. */
function privateApiPolicy(endpoints: ec2.IInterfaceVpcEndpoint[]): iam.PolicyDocument {
  return new iam.PolicyDocument({
    statements: [
      new iam.PolicyStatement({
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: { StringNotEquals: { 'aws:SourceVpce': endpoints.map((e) => e.vpcEndpointId) } },
      }),
      new iam.PolicyStatement({ principals: [new iam.AnyPrincipal()], actions: ['execute-api:Invoke'], resources: ['execute-api:/*'] }),
    ],
  });
}

/** The shared draft-04 schema object in API Gateway's JsonSchema shape (`$schema` → `schema`). */
export function toApiGatewaySchema(schema: { [key: string]: unknown }): apigw.JsonSchema {
  const convert = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(convert);
    if (value === null || typeof value !== 'object') return value;
    const out: { [key: string]: unknown } = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '$schema') out.schema = apigw.JsonSchemaVersion.DRAFT4;
      else if (k === '$ref') out.ref = v;
      else if (k === '$id') out.id = v;
      else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as object).map(([p, s]) => [p, convert(s)]));
      else out[k] = convert(v);
    }
    return out;
  };
  return convert(schema) as apigw.JsonSchema;
}
