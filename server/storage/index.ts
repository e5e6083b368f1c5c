export { Database, openDatabase, type Migration, type OpenDatabaseOptions } from './database.js';
