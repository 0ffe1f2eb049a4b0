export * from './cost-optimized-vpc';
export * from './batch-ocr-processor';
