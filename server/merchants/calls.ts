import type { CaseRecord } from '../cases/model.js';
import { CASE_TYPE_LABELS } from '../cases/workflow.js';
import { areaName } from '../cases/areas.js';
import type { Clock } from '../util/clock.js';
import { maskPhone } from '../util/log.js';

/**
 * Which three-way call each station is in now, so the merchant portal can show the case while its
 * phone rings. Filled by whoever starts the three-way (the desktop announces it right after
 * POST /api/calls/{id}/three-way, or call control directly); in memory, like every live call.
 * An announcement stays readable after the call ends until the station records an outcome, a new
 * call replaces it, or `ttlMs` passes: the merchant often fills the form after hanging up.
 */

export interface MerchantCall {
  stationId: number;
  callId: string;
  caseId: number | null;
  /** Web user id of the agent who brought the station in. */
  offeredBy: number | null;
  /** Wall time (ISO). */
  offeredAt: string;
  ended: boolean;
}

export interface MerchantCallBoardOptions {
  clock: Clock;
  wallNow?: () => Date;
  /** How long an announcement stays after it was made; default 4 h. */
  ttlMs?: number;
}

export class MerchantCallBoard {
  private readonly byStation = new Map<number, MerchantCall & { at: number }>();
  private readonly ttlMs: number;
  private closed = false;

  constructor(private readonly o: MerchantCallBoardOptions) {
    this.ttlMs = o.ttlMs ?? 4 * 3600_000;
  }

  offer(stationId: number, c: { callId: string; caseId: number | null; offeredBy: number | null }): MerchantCall {
    if (this.closed) throw new Error('MerchantCallBoard is closed');
    const call = {
      stationId,
      callId: c.callId,
      caseId: c.caseId,
      offeredBy: c.offeredBy,
      offeredAt: (this.o.wallNow?.() ?? new Date()).toISOString(),
      ended: false,
      at: this.o.clock.now(),
    };
    this.byStation.set(stationId, call);
    return strip(call);
  }

  /** The call ended (hung up for all, or the station left): kept for the outcome form. */
  ended(callId: string): number {
    let n = 0;
    for (const c of this.byStation.values()) {
      if (c.callId === callId && !c.ended) {
        c.ended = true;
        n++;
      }
    }
    return n;
  }

  /** The station is done with it (outcome recorded, or dismissed). */
  clear(stationId: number, callId?: string): boolean {
    const c = this.byStation.get(stationId);
    if (!c || (callId !== undefined && c.callId !== callId)) return false;
    return this.byStation.delete(stationId);
  }

  current(stationId: number): MerchantCall | null {
    const c = this.byStation.get(stationId);
    if (!c) return null;
    if (this.o.clock.now() - c.at >= this.ttlMs) {
      this.byStation.delete(stationId);
      return null;
    }
    return strip(c);
  }

  close(): void {
    this.closed = true;
    this.byStation.clear();
  }
}

function strip(c: MerchantCall & { at: number }): MerchantCall {
  const { at: _at, ...rest } = c;
  return rest;
}

/** What a station sees of a case: the dispute, not the consumer (name reduced to the surname, no address). */
export interface MerchantCaseSummary {
  caseId: number;
  number: string;
  type: string;
  typeLabel: string;
  status: string;
  statusLabel: string;
  version: number;
  consumer: { name: string; phone: string };
  respondentName: string;
  areaName: string;
  category: string;
  amount: number | null;
  request: string;
  description: string;
}

/** 「张三」→「张*」, 「欧阳娜娜」→「欧***」: enough to greet the consumer, not to find them. */
export function maskName(name: string): string {
  const chars = [...name.trim()];
  if (chars.length === 0) return '';
  return chars[0]! + '*'.repeat(Math.max(chars.length - 1, 1));
}

export function merchantCaseSummary(c: CaseRecord): MerchantCaseSummary {
  return {
    caseId: c.id,
    number: c.number,
    type: c.type,
    typeLabel: CASE_TYPE_LABELS[c.type],
    status: c.status,
    statusLabel: c.statusLabel,
    version: c.version,
    // maskPhone is idempotent on an already masked number (the merchant scope masks it too).
    consumer: { name: maskName(c.consumer.name), phone: maskPhone(c.consumer.phone) },
    respondentName: c.respondent.name,
    areaName: areaName(c.area) ?? '',
    category: c.category,
    amount: c.amount,
    request: c.request,
    description: c.description,
  };
}
