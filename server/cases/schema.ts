import type { Migration } from '../storage/database.js';

/** Tables of the cases domain. Append new migrations; never edit a shipped one. */
export const caseMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'cases, units, links, contacts, audit, holdings, shares, full-text index',
    up: `
      CREATE TABLE org_units (
        id         INTEGER PRIMARY KEY,
        code       TEXT NOT NULL UNIQUE,
        name       TEXT NOT NULL,
        kind       TEXT NOT NULL CHECK (kind IN ('center', 'bureau', 'station', 'other')),
        area       TEXT NOT NULL DEFAULT '',
        enabled    INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_at TEXT NOT NULL
      );

      CREATE TABLE case_number_seq (
        day  TEXT PRIMARY KEY,
        last INTEGER NOT NULL
      ) WITHOUT ROWID;

      CREATE TABLE cases (
        id                     INTEGER PRIMARY KEY,
        number                 TEXT NOT NULL UNIQUE CHECK (number GLOB '[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9]'),
        type                   TEXT NOT NULL CHECK (type IN ('complaint', 'report', 'consultation', 'suggestion')),
        status                 TEXT NOT NULL,
        version                INTEGER NOT NULL DEFAULT 1,
        consumer_name          TEXT NOT NULL DEFAULT '',
        consumer_phone         TEXT NOT NULL DEFAULT '',
        consumer_address       TEXT NOT NULL DEFAULT '',
        respondent_name        TEXT NOT NULL DEFAULT '',
        respondent_credit_code TEXT NOT NULL DEFAULT '',
        respondent_address     TEXT NOT NULL DEFAULT '',
        respondent_area        TEXT NOT NULL DEFAULT '',
        area                   TEXT NOT NULL DEFAULT '',
        category               TEXT NOT NULL DEFAULT '',
        problem_type           TEXT NOT NULL DEFAULT '',
        amount_fen             INTEGER,
        request                TEXT NOT NULL DEFAULT '',
        description            TEXT NOT NULL DEFAULT '',
        reply                  TEXT NOT NULL DEFAULT '',
        complaint_to_case      INTEGER NOT NULL DEFAULT 0 CHECK (complaint_to_case IN (0, 1)),
        channel                TEXT NOT NULL DEFAULT 'phone',
        queue                  TEXT NOT NULL DEFAULT '',
        agent_id               INTEGER,
        ivr_path               TEXT NOT NULL DEFAULT '',
        parent_id              INTEGER REFERENCES cases(id),
        unit_id                INTEGER REFERENCES org_units(id),
        held_since             TEXT,
        status_reason          TEXT NOT NULL DEFAULT '',
        received_date          TEXT NOT NULL,
        accepted_date          TEXT,
        closed_at              TEXT,
        due_kind               TEXT,
        due_date               TEXT,
        satisfaction           INTEGER CHECK (satisfaction BETWEEN 1 AND 5),
        follow_up_note         TEXT,
        follow_up_at           TEXT,
        created_by             INTEGER,
        created_at             TEXT NOT NULL,
        updated_at             TEXT NOT NULL
      );
      CREATE INDEX cases_phone      ON cases(consumer_phone, created_at);
      CREATE INDEX cases_status     ON cases(status, created_at);
      CREATE INDEX cases_due        ON cases(due_date) WHERE due_date IS NOT NULL;
      CREATE INDEX cases_agent      ON cases(agent_id, created_at);
      CREATE INDEX cases_queue      ON cases(queue, created_at);
      CREATE INDEX cases_area       ON cases(area, created_at);
      CREATE INDEX cases_category   ON cases(category, created_at);
      CREATE INDEX cases_unit       ON cases(unit_id, held_since) WHERE unit_id IS NOT NULL;
      CREATE INDEX cases_created    ON cases(created_at);
      CREATE INDEX cases_respondent ON cases(respondent_name);
      CREATE INDEX cases_credit     ON cases(respondent_credit_code) WHERE respondent_credit_code <> '';
      CREATE INDEX cases_parent     ON cases(parent_id) WHERE parent_id IS NOT NULL;

      -- Trigram index (SQLite >= 3.34) works for Chinese without a word segmenter; queries of 3+ characters.
      -- Drafts are not indexed: they are what agents autosave while typing, and list searches skip
      -- them anyway. A row is in the index exactly when its status is neither draft nor discarded
      -- (discarded is reachable only from draft), and the triggers keep to that rule.
      CREATE VIRTUAL TABLE cases_fts USING fts5(
        respondent_name, description, content='cases', content_rowid='id', tokenize='trigram'
      );
      CREATE TRIGGER cases_fts_ai AFTER INSERT ON cases
        WHEN new.status NOT IN ('draft', 'discarded') BEGIN
        INSERT INTO cases_fts(rowid, respondent_name, description) VALUES (new.id, new.respondent_name, new.description);
      END;
      CREATE TRIGGER cases_fts_ad AFTER DELETE ON cases
        WHEN old.status NOT IN ('draft', 'discarded') BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, respondent_name, description)
          VALUES ('delete', old.id, old.respondent_name, old.description);
      END;
      -- One trigger, so the delete of the old text always runs before the insert of the new.
      CREATE TRIGGER cases_fts_au AFTER UPDATE OF respondent_name, description, status ON cases BEGIN
        INSERT INTO cases_fts(cases_fts, rowid, respondent_name, description)
          SELECT 'delete', old.id, old.respondent_name, old.description WHERE old.status NOT IN ('draft', 'discarded');
        INSERT INTO cases_fts(rowid, respondent_name, description)
          SELECT new.id, new.respondent_name, new.description WHERE new.status NOT IN ('draft', 'discarded');
      END;

      CREATE TABLE case_links (
        id         INTEGER PRIMARY KEY,
        case_id    INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        kind       TEXT NOT NULL CHECK (kind IN ('call', 'recording', 'voicemail', 'attachment')),
        ref        TEXT NOT NULL,
        note       TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        UNIQUE (case_id, kind, ref)
      );
      CREATE INDEX case_links_ref ON case_links(kind, ref);

      -- Every offered call, whether or not it became a case: the screen pop's call history.
      CREATE TABLE case_contacts (
        id            INTEGER PRIMARY KEY,
        call_id       TEXT NOT NULL UNIQUE,
        caller_number TEXT NOT NULL,
        at            TEXT NOT NULL,
        queue         TEXT NOT NULL DEFAULT '',
        ivr_path      TEXT NOT NULL DEFAULT '',
        agent_id      INTEGER,
        case_id       INTEGER REFERENCES cases(id)
      );
      CREATE INDEX case_contacts_caller ON case_contacts(caller_number, at);

      CREATE TABLE case_audit (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        version  INTEGER NOT NULL,
        at       TEXT NOT NULL,
        actor_id INTEGER,
        action   TEXT NOT NULL,
        changes  TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX case_audit_case ON case_audit(case_id, version);

      -- 督办: which unit holds a case, since when; the open row has until = NULL.
      CREATE TABLE case_holdings (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        unit_id  INTEGER NOT NULL REFERENCES org_units(id),
        since    TEXT NOT NULL,
        until    TEXT,
        by_user  INTEGER,
        note     TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX case_holdings_case ON case_holdings(case_id, since);
      CREATE UNIQUE INDEX case_holdings_open ON case_holdings(case_id) WHERE until IS NULL;

      CREATE TABLE case_urges (
        id       INTEGER PRIMARY KEY,
        case_id  INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        unit_id  INTEGER REFERENCES org_units(id),
        at       TEXT NOT NULL,
        by_user  INTEGER,
        note     TEXT NOT NULL DEFAULT ''
      );
      CREATE INDEX case_urges_case ON case_urges(case_id);

      -- Merchant web users a case is shared with (维权站 mediation).
      CREATE TABLE case_shares (
        case_id    INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
        user_id    INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        PRIMARY KEY (case_id, user_id)
      ) WITHOUT ROWID;
      CREATE INDEX case_shares_user ON case_shares(user_id, case_id);
    `,
  },
  {
    id: 2,
    name: 'covering filter indexes for list counts (area, deadline, respondent prefix)',
    // The capped count of a combined filter (status + area + category, or an agent's overdue list) read
    // tens of thousands of table rows through the single-column indexes just to test the other columns:
    // 40–190 ms over 1,000,000 cases. With the filter columns in the index the count never leaves it
    // (EXPLAIN QUERY PLAN: "USING COVERING INDEX"), ~1–2 ms. Only columns an autosave rarely changes are
    // included, so typing into a case does not touch these indexes.
    up: `
      DROP INDEX cases_area;
      CREATE INDEX cases_area_filter ON cases(area, category, status, type);
      DROP INDEX cases_due;
      CREATE INDEX cases_due_filter ON cases(due_date, status, agent_id, queue) WHERE due_date IS NOT NULL;
      -- An agent's respondent-prefix search tests its scope (own cases or its queues') in the index too.
      DROP INDEX cases_respondent;
      CREATE INDEX cases_respondent ON cases(respondent_name, status, agent_id, queue);

      -- Fixed planner statistics (SQLite's "manual control of query plans using sqlite_stat tables"):
      -- without them the planner assumes any equality hits ~10 rows, so status IN (…) beat the area
      -- range and a combined count read ~100,000 rows from the table. The figures are ANALYZE's of the
      -- 1,000,000-case bench store (scripts/bench/cases-search.ts), with realistic ones for what the
      -- generator leaves empty (credit codes, parents, several units). A later ANALYZE replaces them;
      -- a migration that adds a cases index adds its row here.
      ANALYZE case_number_seq;
      DELETE FROM sqlite_stat1 WHERE tbl = 'cases';
      INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES
        ('cases', 'sqlite_autoindex_cases_1', '1000000 1'),
        ('cases', 'cases_phone', '1000000 2 1'),
        ('cases', 'cases_status', '1000000 125000 1'),
        ('cases', 'cases_due_filter', '320000 405 82 1 1'),
        ('cases', 'cases_agent', '1000000 2000 1'),
        ('cases', 'cases_queue', '1000000 50000 1'),
        ('cases', 'cases_area_filter', '1000000 328 13 3 3'),
        ('cases', 'cases_category', '1000000 37038 1'),
        ('cases', 'cases_unit', '180000 1800 1'),
        ('cases', 'cases_created', '1000000 1'),
        ('cases', 'cases_respondent', '1000000 48 7 1 1'),
        ('cases', 'cases_credit', '600000 10'),
        ('cases', 'cases_parent', '20000 1');
      ANALYZE sqlite_schema;
    `,
  },
];
