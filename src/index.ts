export * from './cost-optimized-vpc';
export * from './batch-ocr-processor';
export * from './ocr-service-cluster';
