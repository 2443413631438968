export * from './impact.js';
export * from './destruction-reports.js';
