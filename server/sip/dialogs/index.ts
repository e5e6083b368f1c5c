export * from './dialog.js';
export * from './ack-wait.js';
export * from './layer.js';
