export * from './digest.js';
export * from './params.js';
export * from './decide.js';
