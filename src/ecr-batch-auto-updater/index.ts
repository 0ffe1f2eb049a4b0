export * from './ecr-batch-auto-updater';
