/**
 * Retention (issue 9: retention periods are configurable). Once a day, on the injected clock:
 *  - recordings older than RECORDING_RETENTION_DAYS: the file is deleted and the CDR forgets it;
 *  - CDR rows older than CDR_RETENTION_DAYS (never a live one), and the recording-access audit rows
 *    of the same age.
 * 0 days keeps that kind of data. Cases are not purged here: a case is the office's record and
 * follows the archive rules of the market regulator, not a technical retention period.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import type { Database } from '../storage/database.js';
import type { Clock, TimerHandle } from '../util/clock.js';
import type { RetentionConfig } from './config.js';
import type { RecordingAudit } from './recording-audit.js';

const DAY_MS = 86_400_000;

export interface PurgeReport {
  recordingsDeleted: number;
  cdrsDeleted: number;
  auditDeleted: number;
}

export interface RetentionJobOptions {
  /** The connection that holds the `cdr` table. */
  cdrDb: Database;
  audit: RecordingAudit | null;
  config: RetentionConfig;
  clock: Clock;
  /** Wall clock in ms (CDR times are wall-clock). */
  wallNow?: () => number;
  log: Logger;
  /** Writes the CDR store still holds in memory, so that the purge sees every row. */
  flush?: () => void;
  /** First run this long after start (the start itself should stay fast). */
  firstRunMs?: number;
}

export class RetentionJob {
  private timer: TimerHandle | null = null;
  private closed = false;
  readonly totals: PurgeReport = { recordingsDeleted: 0, cdrsDeleted: 0, auditDeleted: 0 };

  constructor(private readonly o: RetentionJobOptions) {}

  start(): this {
    if (!this.closed && this.timer === null) this.schedule(this.o.firstRunMs ?? 60_000);
    return this;
  }

  private schedule(ms: number): void {
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = null;
      if (this.closed) return;
      try {
        this.purge();
      } catch (err) {
        this.o.log.error({ err }, 'retention purge failed');
      }
      this.schedule(DAY_MS);
    }, ms);
  }

  /** One purge pass now. */
  purge(now = (this.o.wallNow ?? Date.now)()): PurgeReport {
    const { recordingDays, cdrDays } = this.o.config;
    this.o.flush?.();
    const sql = this.o.cdrDb.sqlite;
    const r: PurgeReport = { recordingsDeleted: 0, cdrsDeleted: 0, auditDeleted: 0 };
    if (recordingDays > 0) {
      const cutoff = now - recordingDays * DAY_MS;
      const rows = sql
        .prepare('SELECT id, recording_file FROM cdr WHERE recording_file IS NOT NULL AND started_at < ?')
        .all(cutoff) as Array<{ id: string; recording_file: string }>;
      const forget = sql.prepare('UPDATE cdr SET recording_file = NULL WHERE id = ?');
      for (const row of rows) {
        fs.rmSync(row.recording_file, { force: true });
        forget.run(row.id);
        r.recordingsDeleted++;
      }
    }
    if (cdrDays > 0) {
      const cutoff = now - cdrDays * DAY_MS;
      // A deleted row takes its recording with it: nothing may point at a file nobody can find.
      const stale = sql
        .prepare(
          "SELECT recording_file FROM cdr WHERE started_at < ? AND disposition <> 'live' AND recording_file IS NOT NULL",
        )
        .all(cutoff) as Array<{ recording_file: string }>;
      for (const s of stale) fs.rmSync(s.recording_file, { force: true });
      r.cdrsDeleted = sql.prepare("DELETE FROM cdr WHERE started_at < ? AND disposition <> 'live'").run(cutoff).changes;
      r.auditDeleted = this.o.audit?.purgeBefore(cutoff) ?? 0;
    }
    this.totals.recordingsDeleted += r.recordingsDeleted;
    this.totals.cdrsDeleted += r.cdrsDeleted;
    this.totals.auditDeleted += r.auditDeleted;
    if (r.recordingsDeleted + r.cdrsDeleted + r.auditDeleted > 0) this.o.log.info(r, 'retention purge');
    return r;
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) this.o.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
