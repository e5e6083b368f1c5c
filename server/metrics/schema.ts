import type { Migration } from '../storage/database.js';

/** Tables of the metrics domain (db.migrate('metrics', …)). Append new migrations; never edit a shipped one. */
export const metricsMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'queue visits, ring attempts, agent state intervals',
    up: `
      CREATE TABLE metrics_visit (
        id               TEXT PRIMARY KEY,
        call_id          TEXT NOT NULL,
        queue            TEXT NOT NULL,
        kind             TEXT NOT NULL CHECK (kind IN ('call', 'callback')),
        call_entered_at  INTEGER NOT NULL,
        entered_at       INTEGER NOT NULL,
        left_at          INTEGER,
        leave_reason     TEXT,
        answered_at      INTEGER,
        agent_id         TEXT,
        talk_ms          INTEGER,
        hold_ms          INTEGER,
        acw_ms           INTEGER
      );
      CREATE INDEX metrics_visit_entered ON metrics_visit(entered_at);
      CREATE INDEX metrics_visit_call ON metrics_visit(call_id);

      CREATE TABLE metrics_ring (
        id         INTEGER PRIMARY KEY,
        visit_id   TEXT NOT NULL,
        call_id    TEXT NOT NULL,
        queue      TEXT NOT NULL,
        agent_id   TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        ended_at   INTEGER NOT NULL,
        result     TEXT NOT NULL
      );
      CREATE INDEX metrics_ring_started ON metrics_ring(started_at);

      CREATE TABLE metrics_agent_interval (
        id        INTEGER PRIMARY KEY,
        agent_id  TEXT NOT NULL,
        state     TEXT NOT NULL,
        reason    TEXT,
        start     INTEGER NOT NULL,
        "end"     INTEGER NOT NULL,
        call_id   TEXT
      );
      CREATE INDEX metrics_interval_end ON metrics_agent_interval("end");

      -- Per-queue KPI thresholds set by leads (short abandon, service-level target).
      CREATE TABLE metrics_threshold (
        queue             TEXT PRIMARY KEY,
        short_abandon_ms  INTEGER NOT NULL,
        service_level_ms  INTEGER NOT NULL
      );
    `,
  },
];
