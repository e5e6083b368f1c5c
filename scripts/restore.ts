/**
 * Restores the hotline database from a backup. The server must be stopped (DATA_DIR/server.pid names
 * a live process → refused). The backup must pass integrity_check. The replaced database is kept as
 * hotline.sqlite.before-restore-<timestamp>.
 *   npm run restore -- DATA_DIR/backups/<timestamp>.sqlite
 */
import path from 'node:path';
import { restoreDatabase } from '../server/ops/backup.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('用法 usage: npm run restore -- <backup.sqlite>\n');
  process.exit(2);
}
const dataDir = path.resolve(process.env.DATA_DIR ?? './data');
const dbFile = process.env.DATABASE_FILE ?? path.join(dataDir, 'hotline.sqlite');
try {
  const r = restoreDatabase(path.resolve(file), dbFile, dataDir);
  process.stdout.write(
    `恢复完成 restored ${r.restored} from ${file}` +
      (r.previous ? `; previous database kept as ${r.previous}` : '') +
      '\n',
  );
} catch (err) {
  process.stderr.write(`恢复失败 restore refused: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
