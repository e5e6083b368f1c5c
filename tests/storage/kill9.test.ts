import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { openDatabase } from '../../server/storage/database.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hotline-kill-'));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('keeps every committed row when the writing process is killed with SIGKILL', async () => {
  const file = path.join(dir, 'k.sqlite');
  const dbModule = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../server/storage/database.ts');
  const script = `
    const { openDatabase } = await import(${JSON.stringify(dbModule)});
    const db = openDatabase(${JSON.stringify(file)});
    db.migrate('t', [{ id: 1, name: 't', up: 'CREATE TABLE t (n INTEGER)' }]);
    const ins = db.sqlite.prepare('INSERT INTO t (n) VALUES (?)');
    for (let i = 1; i <= 50; i++) ins.run(i);
    process.stdout.write('committed\\n');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('committed')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`child exited early: ${code}`)));
  });
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGKILL');
  await exited;
  // The WAL still holds the commits; opening the file must recover them.
  expect(fs.existsSync(file + '-wal')).toBe(true);
  const db = openDatabase(file);
  expect(db.sqlite.prepare('SELECT COUNT(*) FROM t').pluck().get()).toBe(50);
  db.close();
});
