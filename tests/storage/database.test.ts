import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Migration } from '../../server/storage/database.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-db-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const casesV1: Migration[] = [
  { id: 1, name: 'cases', up: 'CREATE TABLE cases (id INTEGER PRIMARY KEY, title TEXT NOT NULL)' },
  {
    id: 2,
    name: 'notes',
    up: 'CREATE TABLE notes (id INTEGER PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), body TEXT)',
  },
];

describe('openDatabase', () => {
  it('sets WAL, synchronous=FULL, foreign keys and a busy timeout, and creates the parent directory', () => {
    const file = path.join(dir, 'sub', 'x.sqlite');
    const db = openDatabase(file, { busyTimeoutMs: 1234 });
    expect(db.sqlite.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.sqlite.pragma('synchronous', { simple: true })).toBe(2);
    expect(db.sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
    expect(db.sqlite.pragma('busy_timeout', { simple: true })).toBe(1234);
    expect(fs.existsSync(file)).toBe(true);
    db.close();
    db.close();
    expect(db.closed).toBe(true);
    expect(() => db.version('cases')).toThrow(/closed/);
  });

  it('enforces foreign keys', () => {
    const db = openDatabase(':memory:');
    db.migrate('cases', casesV1);
    expect(() => db.sqlite.prepare('INSERT INTO notes (case_id, body) VALUES (99, ?)').run('x')).toThrow(/FOREIGN KEY/);
    db.close();
  });
});

describe('migrations', () => {
  it('applies pending migrations once, per domain, and survives reopening', () => {
    const file = path.join(dir, 'm.sqlite');
    let db = openDatabase(file);
    expect(db.migrate('cases', casesV1)).toEqual([1, 2]);
    expect(db.migrate('cases', casesV1)).toEqual([]);
    expect(db.migrate('cdr', [{ id: 1, name: 'cdr', up: 'CREATE TABLE cdr (id INTEGER PRIMARY KEY)' }])).toEqual([1]);
    expect(db.version('cases')).toBe(2);
    expect(db.version('cdr')).toBe(1);
    expect(db.version('nothing')).toBe(0);
    db.sqlite.prepare('INSERT INTO cases (title) VALUES (?)').run('kept');
    db.close();

    db = openDatabase(file);
    const v3: Migration[] = [
      ...casesV1,
      {
        id: 3,
        name: 'code migration',
        up: (s) => s.prepare("UPDATE cases SET title = title || '!'").run(),
      },
    ];
    expect(db.migrate('cases', v3)).toEqual([3]);
    expect(db.sqlite.prepare('SELECT title FROM cases').pluck().get()).toBe('kept!');
    db.close();
  });

  it('rolls back a failing migration and keeps the previous version', () => {
    const db = openDatabase(':memory:');
    db.migrate('cases', casesV1);
    const bad: Migration[] = [
      ...casesV1,
      { id: 3, name: 'half', up: 'CREATE TABLE half (x INTEGER); CREATE TABLE broken (' },
    ];
    expect(() => db.migrate('cases', bad)).toThrow();
    expect(db.version('cases')).toBe(2);
    const t = db.sqlite.prepare("SELECT name FROM sqlite_master WHERE name = 'half'").get();
    expect(t).toBeUndefined();
    db.close();
  });

  it('refuses edited, unknown or misnumbered migrations', () => {
    const db = openDatabase(':memory:');
    db.migrate('cases', casesV1);
    const edited = [casesV1[0]!, { ...casesV1[1]!, up: casesV1[1]!.up + ', extra TEXT' }];
    expect(() => db.migrate('cases', edited)).toThrow(/changed/);
    // Re-indenting is not an edit.
    const reindented = [casesV1[0]!, { ...casesV1[1]!, up: '\n   ' + (casesV1[1]!.up as string).replace(/ /g, '  ') }];
    expect(db.migrate('cases', reindented)).toEqual([]);
    expect(() => db.migrate('cases', [casesV1[0]!])).toThrow(/does not know/);
    expect(() => db.migrate('x', [casesV1[1]!, casesV1[0]!])).toThrow(/increasing/);
    expect(() => db.migrate('Bad Domain', casesV1)).toThrow(/domain/);
    db.close();
  });

  it('transaction() commits or rolls back as a unit', () => {
    const db = openDatabase(':memory:');
    db.migrate('cases', casesV1);
    expect(() =>
      db.transaction(() => {
        db.sqlite.prepare('INSERT INTO cases (title) VALUES (?)').run('a');
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(db.sqlite.prepare('SELECT COUNT(*) FROM cases').pluck().get()).toBe(0);
    db.transaction(() => db.sqlite.prepare('INSERT INTO cases (title) VALUES (?)').run('b'));
    expect(db.sqlite.prepare('SELECT COUNT(*) FROM cases').pluck().get()).toBe(1);
    db.close();
  });
});
