export * from './batch-ocr-processor';
export * from './pricing';
