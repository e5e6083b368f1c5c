/**
 * Validates every IVR flow and prompt catalogue, and that every prompt a flow can play has an 8 kHz mono
 * 16-bit WAV.   npx tsx scripts/ivr-lint.ts [ivr-flows-dir]   (exit 1 on any error)
 */
import path from 'node:path';
import { lintFlows } from '../server/ivr/lint.js';

const dir = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, '..', 'ivr-flows'));
const report = lintFlows(dir);
for (const i of report.issues)
  process.stdout.write(`${i.level === 'error' ? '错误 error' : '警告 warning'}: ${i.message}\n`);
const errors = report.issues.filter((i) => i.level === 'error').length;
process.stdout.write(
  `${report.flows.length} flows (${report.flows.join(', ')}), ${report.promptsChecked} prompt recordings checked, ` +
    `${errors} errors, ${report.issues.length - errors} warnings\n`,
);
process.exit(errors > 0 ? 1 : 0);
