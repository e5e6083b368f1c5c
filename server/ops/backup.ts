/**
 * Online backup and restore of the SQLite database (issue 9).
 *
 * Backup uses SQLite's online backup API (better-sqlite3 `db.backup()`): pages are copied while the
 * server keeps writing (WAL), and the copy is a consistent snapshot. The copy is then checked with
 * `PRAGMA integrity_check`. Restore refuses while a server holds DATA_DIR (server.pid), refuses a
 * file that fails integrity_check, keeps the current database beside it, and removes the old WAL
 * and shared-memory files so that they cannot be replayed over the restored pages.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { holderOf } from './pidfile.js';

export interface BackupResult {
  file: string;
  bytes: number;
  pages: number;
  ms: number;
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:.]/g, '-');
}

/** integrity_check of a database file: 'ok' or the first problems reported. */
export function integrityOf(file: string): string {
  let db: BetterSqlite3.Database | null = null;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
    const rows = db.pragma('integrity_check', { simple: false }) as Array<{ integrity_check: string }>;
    return rows.map((r) => r.integrity_check).join('; ');
  } catch (e) {
    // A header or page so damaged that SQLite refuses it outright ("file is not a database", "malformed").
    return `unreadable: ${e instanceof Error ? e.message : String(e)}`;
  } finally {
    db?.close();
  }
}

/** Copies `dbFile` to `dest` (default DATA_DIR/backups/<timestamp>.sqlite) online, and verifies the copy. */
export async function backupDatabase(dbFile: string, dest?: string): Promise<BackupResult> {
  if (!fs.existsSync(dbFile)) throw new Error(`no database at ${dbFile}`);
  const target = dest ?? path.join(path.dirname(dbFile), 'backups', `${stamp()}.sqlite`);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  if (fs.existsSync(target)) throw new Error(`${target} exists already`);
  const t0 = performance.now();
  const src = new BetterSqlite3(dbFile, { fileMustExist: true });
  let pages = 0;
  try {
    src.pragma('busy_timeout = 5000');
    const r = await src.backup(target);
    pages = r.totalPages;
  } finally {
    src.close();
  }
  const ok = integrityOf(target);
  if (ok !== 'ok') {
    fs.rmSync(target, { force: true });
    throw new Error(`backup failed its integrity check: ${ok}`);
  }
  return { file: target, bytes: fs.statSync(target).size, pages, ms: Math.round(performance.now() - t0) };
}

export interface RestoreResult {
  restored: string;
  /** Where the database that was replaced went (null when there was none). */
  previous: string | null;
}

/** Replaces `dbFile` by `backupFile`. The server must be stopped. */
export function restoreDatabase(backupFile: string, dbFile: string, dataDir: string): RestoreResult {
  const holder = holderOf(dataDir);
  if (holder !== null) throw new Error(`a server (pid ${holder}) holds ${dataDir}: stop it before restoring`);
  if (!fs.existsSync(backupFile)) throw new Error(`no backup file ${backupFile}`);
  const ok = integrityOf(backupFile);
  if (ok !== 'ok') throw new Error(`${backupFile} fails integrity_check: ${ok}`);
  fs.mkdirSync(path.dirname(dbFile), { recursive: true });
  // Copy beside the target first, then rename: a crash mid-copy leaves the old database in place.
  const tmp = `${dbFile}.restore-tmp`;
  fs.copyFileSync(backupFile, tmp);
  let previous: string | null = null;
  if (fs.existsSync(dbFile)) {
    // Fold the old WAL into the old file so that the kept copy is complete on its own.
    const old = new BetterSqlite3(dbFile);
    try {
      old.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      old.close();
    }
    previous = `${dbFile}.before-restore-${stamp()}`;
    fs.renameSync(dbFile, previous);
  }
  for (const ext of ['-wal', '-shm']) fs.rmSync(dbFile + ext, { force: true });
  fs.renameSync(tmp, dbFile);
  return { restored: dbFile, previous };
}
