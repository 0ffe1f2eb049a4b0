export * from './batch-ocr-processor';
export * from './pricing';
export { ApiGatewayCloudWatchRole, ApiLoggingRole, ApiLoggingRoleProps } from './api-logging-role';
