/**
 * Text exports: Asterisk queue_log lines (so existing queue_log report tools can read our data), CSV of
 * reports and CDRs, Prometheus text format. Pure: rows in, text out.
 */
import type { AgentInterval, QueueVisit, RingAttempt } from './types.js';
import { waitMs } from './kpi.js';

const sec = (ms: number) => Math.round(ms / 1000);

/**
 * Asterisk queue_log: `epoch|callid|queue|agent|EVENT|data1|data2|data3`. Positions are not recorded,
 * so position fields say 1. Who hung up an answered call is not in the event log: COMPLETEAGENT.
 */
export function queueLog(
  visits: readonly QueueVisit[],
  rings: readonly RingAttempt[],
  intervals: readonly AgentInterval[],
  openIntervals: readonly AgentInterval[] = [],
): string {
  const lines: Array<[number, number, string]> = [];
  let seq = 0;
  const add = (t: number, fields: Array<string | number>) => lines.push([t, seq++, [sec(t), ...fields].join('|')]);
  for (const v of visits) {
    if (v.kind !== 'call') continue;
    const q = v.queue;
    const r = v.leaveReason;
    if (r === 'full' || r === 'joinempty' || r === 'closed') {
      add(v.enteredAt, [v.callId, q, 'NONE', r === 'full' ? 'FULL' : 'JOINEMPTY', '', '', '']);
      continue;
    }
    add(v.enteredAt, [v.callId, q, 'NONE', 'ENTERQUEUE', '', '', '1']);
    if (v.leftAt === null || r === null) continue;
    const w = sec(waitMs(v));
    switch (r) {
      case 'answered':
        add(v.answeredAt ?? v.leftAt, [v.callId, q, v.agentId ?? 'NONE', 'CONNECT', w, '', 0]);
        // Asterisk's talk time is the whole connected time, holds included (talkMs excludes them).
        if (v.talkMs !== null)
          add((v.answeredAt ?? v.leftAt) + v.talkMs + (v.holdMs ?? 0), [
            v.callId,
            q,
            v.agentId ?? 'NONE',
            'COMPLETEAGENT',
            w,
            sec(v.talkMs + (v.holdMs ?? 0)),
            1,
          ]);
        break;
      case 'abandoned':
        add(v.leftAt, [v.callId, q, 'NONE', 'ABANDON', 1, 1, w]);
        break;
      case 'timeout':
      case 'transferred':
        add(v.leftAt, [v.callId, q, 'NONE', 'EXITWITHTIMEOUT', 1, 1, w]);
        break;
      case 'callback':
        add(v.leftAt, [v.callId, q, 'NONE', 'EXITWITHKEY', '1', 1, 1, w]);
        break;
      case 'exit_key':
        add(v.leftAt, [v.callId, q, 'NONE', 'EXITWITHKEY', '', 1, 1, w]);
        break;
      case 'leaveempty':
        add(v.leftAt, [v.callId, q, 'NONE', 'EXITEMPTY', 1, 1, w]);
        break;
      default:
        break;
    }
  }
  for (const r of rings) {
    if (r.result === 'no_answer' || r.result === 'rejected')
      add(r.endedAt, [r.callId, r.queue, r.agentId, 'RINGNOANSWER', r.endedAt - r.startedAt, '', '']);
    else if (r.result === 'caller_gone')
      add(r.endedAt, [r.callId, r.queue, r.agentId, 'RINGCANCELED', r.endedAt - r.startedAt, '', '']);
  }
  for (const i of intervals) {
    if (i.state !== 'not_ready') continue;
    add(i.start, ['NONE', 'NONE', i.agentId, 'PAUSE', i.reason ?? '', '', '']);
    add(i.end, ['NONE', 'NONE', i.agentId, 'UNPAUSE', i.reason ?? '', '', '']);
  }
  // Pauses still running: PAUSE only (their UNPAUSE has not happened).
  for (const i of openIntervals) {
    if (i.state === 'not_ready') add(i.start, ['NONE', 'NONE', i.agentId, 'PAUSE', i.reason ?? '', '', '']);
  }
  lines.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return lines.map((l) => l[2] + '\n').join('');
}

/** RFC 4180 CSV; a leading =, +, - or @ is quoted with a ' so spreadsheets do not run it as a formula. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<unknown>>): string {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    let s = typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : String(v);
    if (/^[=+\-@]/.test(s) && typeof v !== 'number') s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  // BOM: Excel opens UTF-8 Chinese headers correctly only with it.
  return '\uFEFF' + [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n') + '\r\n';
}

/** Prometheus text exposition format 0.0.4. */
export interface PromFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Array<{ labels?: Record<string, string>; value: number }>;
}

export function promText(families: readonly PromFamily[]): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const l =
        s.labels && Object.keys(s.labels).length
          ? `{${Object.entries(s.labels)
              .map(([k, v]) => `${k}="${esc(v)}"`)
              .join(',')}}`
          : '';
      out.push(`${f.name}${l} ${Number.isFinite(s.value) ? s.value : 'NaN'}`);
    }
  }
  return out.join('\n') + '\n';
}
