export * from './props';
export * from './batch-ocr-processor';
export * from './pricing';
export { ApiGatewayCloudWatchRole } from './api-logging-role';
export { toApiGatewaySchema } from './rest-api';
