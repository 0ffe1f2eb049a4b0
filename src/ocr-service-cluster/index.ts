export * from './contract';
export * from './ocr-service-cluster';
