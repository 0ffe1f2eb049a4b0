export * from './cost-optimized-vpc';
export * from './ocr-service-cluster';
