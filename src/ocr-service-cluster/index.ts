export * from './contract';
export * from './props';
export * from './ocr-service-cluster';
