/**
 * Online backup of the hotline database while the server runs (SQLite backup API, WAL-safe).
 *   npm run backup                     → DATA_DIR/backups/<timestamp>.sqlite
 *   npm run backup -- /path/file.sqlite
 * DATA_DIR / DATABASE_FILE as for the server. Exit 1 on any error (missing database, failed check).
 */
import path from 'node:path';
import { backupDatabase } from '../server/ops/backup.js';

const dataDir = path.resolve(process.env.DATA_DIR ?? './data');
const dbFile = process.env.DATABASE_FILE ?? path.join(dataDir, 'hotline.sqlite');
const dest = process.argv[2] ? path.resolve(process.argv[2]) : undefined;

backupDatabase(dbFile, dest)
  .then((r) => {
    process.stdout.write(
      `备份完成 backup written: ${r.file} (${r.pages} pages, ${r.bytes} bytes, ${r.ms} ms, integrity_check ok)\n`,
    );
  })
  .catch((err: unknown) => {
    process.stderr.write(`备份失败 backup failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
