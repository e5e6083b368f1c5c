export {
  KbRepository,
  KbError,
  KB_KINDS,
  searchTerms,
  type KbArticle,
  type KbHit,
  type KbInput,
  type KbKind,
} from './repository.js';
export { kbMigrations } from './schema.js';
