export * from './cost-optimized-vpc';
export * from './pricing';
