export * from './model.js';
export * from './repository.js';
export * from './resolver.js';
export * from './calls.js';
