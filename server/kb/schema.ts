import type { Migration } from '../storage/database.js';

/** Tables of the knowledge-base domain. Append new migrations; never edit a shipped one. */
export const kbMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'kb articles with trigram full-text index',
    up: `
      CREATE TABLE kb_articles (
        id         INTEGER PRIMARY KEY,
        key        TEXT UNIQUE,
        kind       TEXT NOT NULL CHECK (kind IN ('law', 'faq', 'rule')),
        title      TEXT NOT NULL,
        body       TEXT NOT NULL,
        source     TEXT NOT NULL DEFAULT '',
        tags       TEXT NOT NULL DEFAULT '',
        version    INTEGER NOT NULL DEFAULT 1,
        deleted    INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
        updated_by INTEGER,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
      -- Trigram: Chinese has no spaces to tokenise on; any 3+ character substring is indexed.
      CREATE VIRTUAL TABLE kb_fts USING fts5(
        title, body, tags, content='kb_articles', content_rowid='id', tokenize='trigram'
      );
      CREATE TRIGGER kb_fts_ai AFTER INSERT ON kb_articles BEGIN
        INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
      END;
      CREATE TRIGGER kb_fts_ad AFTER DELETE ON kb_articles BEGIN
        INSERT INTO kb_fts(kb_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags);
      END;
      CREATE TRIGGER kb_fts_au AFTER UPDATE OF title, body, tags ON kb_articles BEGIN
        INSERT INTO kb_fts(kb_fts, rowid, title, body, tags) VALUES ('delete', old.id, old.title, old.body, old.tags);
        INSERT INTO kb_fts(rowid, title, body, tags) VALUES (new.id, new.title, new.body, new.tags);
      END;
    `,
  },
];
