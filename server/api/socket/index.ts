export { attachSocketServer, type SocketHub, type SocketHubDeps } from './server.js';
export * from './events.js';
