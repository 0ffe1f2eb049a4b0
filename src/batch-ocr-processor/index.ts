export * from './props';
export * from './batch-ocr-processor';
export * from './pricing';
export type { DocumentCostEstimate, DocumentShape, TaskOverheadEstimate } from './document-cost';
export { ApiGatewayCloudWatchRole } from './api-logging-role';
export { toApiGatewaySchema } from './rest-api';
