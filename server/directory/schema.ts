import type { Migration } from '../storage/database.js';

/** Tables of the directory domain. Append new migrations; never edit a shipped one. */
export const directoryMigrations: readonly Migration[] = [
  {
    id: 1,
    name: 'sip devices, trunks, web users',
    up: `
      CREATE TABLE sip_devices (
        id                INTEGER PRIMARY KEY,
        extension         TEXT NOT NULL UNIQUE
                          CHECK (length(extension) BETWEEN 2 AND 15 AND extension NOT GLOB '*[^0-9]*'),
        kind              TEXT NOT NULL CHECK (kind IN ('seat', 'station')),
        display_name      TEXT NOT NULL DEFAULT '',
        realm             TEXT NOT NULL,
        ha1_md5           TEXT NOT NULL CHECK (length(ha1_md5) = 32),
        ha1_sha256        TEXT NOT NULL CHECK (length(ha1_sha256) = 64),
        enabled           INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        outbound_patterns TEXT NOT NULL DEFAULT '[]',
        created_at        TEXT NOT NULL,
        updated_at        TEXT NOT NULL
      );

      CREATE TABLE trunks (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        allowed_sources TEXT NOT NULL DEFAULT '[]',
        inband_dtmf     INTEGER NOT NULL DEFAULT 0 CHECK (inband_dtmf IN (0, 1)),
        enabled         INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        reg_registrar   TEXT,
        reg_username    TEXT,
        reg_password    TEXT,
        reg_expires     INTEGER,
        created_at      TEXT NOT NULL,
        updated_at      TEXT NOT NULL,
        CHECK ((reg_registrar IS NULL) = (reg_username IS NULL))
      );

      CREATE TABLE trunk_dids (
        trunk_id      INTEGER NOT NULL REFERENCES trunks(id) ON DELETE CASCADE,
        did           TEXT NOT NULL,
        access_number TEXT NOT NULL,
        PRIMARY KEY (trunk_id, did)
      );

      CREATE TABLE web_users (
        id            INTEGER PRIMARY KEY,
        username      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        password_hash TEXT NOT NULL,
        role          TEXT NOT NULL CHECK (role IN ('agent', 'lead', 'merchant', 'admin')),
        display_name  TEXT NOT NULL DEFAULT '',
        station_id    INTEGER REFERENCES sip_devices(id) ON DELETE RESTRICT,
        enabled       INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        CHECK ((role = 'merchant') = (station_id IS NOT NULL))
      );
      CREATE INDEX web_users_station ON web_users(station_id);
    `,
  },
  {
    id: 2,
    name: 'trunk outbound address, caller id and number prefix',
    up: `
      ALTER TABLE trunks ADD COLUMN out_host TEXT;
      ALTER TABLE trunks ADD COLUMN out_port INTEGER CHECK (out_port IS NULL OR out_port BETWEEN 1 AND 65535);
      ALTER TABLE trunks ADD COLUMN out_transport TEXT CHECK (out_transport IS NULL OR out_transport IN ('UDP', 'TCP', 'TLS'));
      ALTER TABLE trunks ADD COLUMN out_caller_id TEXT;
      ALTER TABLE trunks ADD COLUMN out_prefix TEXT NOT NULL DEFAULT '';
    `,
  },
];
