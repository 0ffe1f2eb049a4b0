export * from './cost-optimized-vpc';
export * from './ecr-batch-auto-updater';
export * from './job-cleanup';
