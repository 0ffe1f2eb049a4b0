export * from './cost-optimized-vpc';
export * from './batch-ocr-processor';
export * from './ecr-batch-auto-updater';
export * from './job-cleanup';
export * from './ocr-service-cluster';
export * from './common/operations-props';
export { OcrEngine, PdfRenderer } from './common/worker-image';
export { PullThroughCacheImage } from './common/image-pull';
export type { PullThroughCacheImageProps } from './common/image-pull';
