export * from './digest.js';
export * from './params.js';
