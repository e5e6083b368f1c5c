/**
 * `npm run backup` / `npm run restore` (scripts/backup.ts, scripts/restore.ts) as child processes:
 * an online backup while the server writes, a restore refused while a server holds DATA_DIR, refused
 * for a corrupt file, and a real restore that brings back the backed-up case and drops the later one.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../server/storage/database.js';
import { acquirePidFile, holderOf } from '../../server/ops/pidfile.js';
import { backupDatabase, integrityOf, restoreDatabase } from '../../server/ops/backup.js';
import { startTestServer } from '../helpers/server.js';
import { makeTempDir, removeTempDir } from '../helpers/tmp.js';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function script(name: 'backup' | 'restore', args: string[], dataDir: string) {
  try {
    const r = await run(path.join(root, 'node_modules/.bin/tsx'), [path.join(root, `scripts/${name}.ts`), ...args], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir },
    });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout + x.stderr };
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => removeTempDir(d)));

const caseIds = (file: string): number[] => {
  const db = openDatabase(file, { readonly: true });
  try {
    return (db.sqlite.prepare('SELECT id FROM cases ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
  } finally {
    db.close();
  }
};

describe('backup and restore', () => {
  it('online backup while the server writes, restore refused while it runs, restore after it stopped', async () => {
    const dataDir = makeTempDir('backup-');
    dirs.push(dataDir);
    const ts = await startTestServer({ DATA_DIR: dataDir }, { mediaThread: 'inline' });
    const pid = acquirePidFile(dataDir); // as server/main.ts does
    const draft = (n: number) =>
      ts.server.cases.createDraftForCall({
        callId: `c${n}`,
        callerNumber: '13800138000',
        ivrPath: ['complaint'],
        queue: 'complaint',
        agentId: null,
      });
    const a = draft(1);
    // keep writing while the backup runs
    let writes = 0;
    const writer = setInterval(() => {
      draft(100 + writes++);
    }, 5);
    const b = await script('backup', [], dataDir);
    clearInterval(writer);
    expect(b.code, b.out).toBe(0);
    const file = /backup written: (\S+)/.exec(b.out)![1]!;
    expect(fs.existsSync(file)).toBe(true);
    expect(path.dirname(file)).toBe(path.join(dataDir, 'backups'));
    expect(integrityOf(file)).toBe('ok');
    expect(caseIds(file)).toContain(a.id);
    expect(writes).toBeGreaterThan(0);

    const later = draft(2); // after the backup
    const refused = await script('restore', [file], dataDir);
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/holds/);

    await ts.stop({ keepData: true });
    pid.release();
    expect(holderOf(dataDir)).toBeNull();
    const dbFile = path.join(dataDir, 'hotline.sqlite');
    expect(caseIds(dbFile)).toContain(later.id);

    const ok = await script('restore', [file], dataDir);
    expect(ok.code, ok.out).toBe(0);
    const ids = caseIds(dbFile);
    expect(ids).toContain(a.id);
    expect(ids).not.toContain(later.id);
    expect(fs.readdirSync(dataDir).some((f) => f.startsWith('hotline.sqlite.before-restore-'))).toBe(true);

    // and the server starts on the restored data and finds the case
    const again = await startTestServer({ DATA_DIR: dataDir }, { mediaThread: 'inline' });
    expect(again.server.cases.get(a.id).id).toBe(a.id);
    await again.stop({ keepData: true });
  }, 60_000);

  it('refuses a corrupt or missing backup, and a backup into an existing file', async () => {
    const dataDir = makeTempDir('backup-bad-');
    dirs.push(dataDir);
    const junk = path.join(dataDir, 'junk.sqlite');
    fs.writeFileSync(junk, Buffer.alloc(8192, 7));
    const dbFile = path.join(dataDir, 'hotline.sqlite');
    expect(() => restoreDatabase(junk, dbFile, dataDir)).toThrow(/integrity/);
    expect(() => restoreDatabase(path.join(dataDir, 'nope.sqlite'), dbFile, dataDir)).toThrow(/no backup file/);
    expect(fs.existsSync(dbFile)).toBe(false);
    // a damaged page in a real database file is caught by integrity_check
    const src = path.join(dataDir, 'src.sqlite');
    const db = openDatabase(src);
    db.sqlite.exec('CREATE TABLE t (x TEXT); CREATE INDEX tx ON t(x);');
    const ins = db.sqlite.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 2000; i++) ins.run(`row-${i}-${'x'.repeat(50)}`);
    db.close();
    const copy = (await backupDatabase(src)).file;
    const buf = fs.readFileSync(copy);
    buf.fill(0x55, buf.length - 4096 * 3, buf.length - 4096 * 2); // trash one page near the end
    fs.writeFileSync(copy, buf);
    expect(integrityOf(copy)).not.toBe('ok');
    const bad = await script('restore', [copy], dataDir);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/integrity/);
    await expect(backupDatabase(src, copy)).rejects.toThrow(/exists/);
  }, 60_000);
});
