export * from './registrar.js';
export { LocationStore, registrarMigrations, type Binding, type NewBinding } from './location.js';
export { sipUriEquivalent } from './uri-equal.js';
export { authenticateAndRegister } from './authenticated.js';
