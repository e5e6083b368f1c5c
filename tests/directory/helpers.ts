import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database } from '../../server/storage/database.js';

/** Cheap scrypt cost for tests; production parameters are tested once in password.test.ts. */
export const FAST_SCRYPT = { N: 1024, r: 8, p: 1 };

export function tempDb(): { db: Database; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-dir-'));
  const file = path.join(dir, 'directory.sqlite');
  const db = openDatabase(file);
  return {
    db,
    file,
    cleanup: () => {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
