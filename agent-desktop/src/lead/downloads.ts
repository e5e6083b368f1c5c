/**
 * Browser-only file actions of the lead screens, kept out of LeadController so that the controller stays free of
 * DOM globals (its tests run in Node).
 */
import type { LeadController } from './controller.js';
import { dailyReportPath } from './reports.js';

/** Authenticated download: fetched with the token, saved from a blob URL. */
export async function downloadFile(lead: LeadController, path: string, filename: string): Promise<void> {
  const blob = await lead.fetchBlob(path);
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The server's printable 日报 in a new tab (fetched with the token, shown from a blob URL). */
export async function openDailyReport(lead: LeadController, date: string): Promise<void> {
  const win = window.open('', '_blank');
  const blob = await lead.fetchBlob(dailyReportPath(date));
  const url = URL.createObjectURL(new Blob([await blob.text()], { type: 'text/html;charset=utf-8' }));
  if (win) win.location.href = url;
  else window.location.assign(url);
}
