export * from './cost-optimized-vpc';
