export * from './job-cleanup';
