/**
 * The merchant portal's actions. The station learns about a three-way call from
 * GET /api/merchant/calls/current (polled, and fetched at once when the INVITE arrives); the outcome
 * goes to POST /api/merchant/cases/{caseId}/outcome.
 */
import { api, ApiError, type LoginResult } from '../lib/api.js';
import { StationPhone, type StationCredentials } from './phone.js';
import type { CurrentCall, MerchantStore, Station } from './store.js';

const TOKEN_KEY = 'hotline12315.merchant.token';
const POLL_MS = 2000;

export interface OutcomeForm {
  result: 'succeeded' | 'terminated';
  remedy: 'refund' | 'repair' | 'exchange' | 'other' | null;
  amount: number | null;
  deadline: string | null;
  notes: string;
}

export interface FieldError {
  field: string;
  message: string;
}

export class MerchantPortal {
  readonly phone: StationPhone;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly store: MerchantStore,
    private readonly env: { audio: HTMLAudioElement; storage: Storage | null; wsOrigin: string },
  ) {
    this.phone = new StationPhone(store, env.audio);
    this.phone.onIncoming = () => void this.refresh();
  }

  private get s() {
    return this.store.getState();
  }

  private fail(err: unknown): void {
    this.store.setState({ notice: { kind: 'error', text: err instanceof Error ? err.message : String(err) } });
  }

  /** After a reload the token in sessionStorage resumes the session. */
  async resume(): Promise<void> {
    const token = this.env.storage?.getItem(TOKEN_KEY) ?? null;
    if (!token) return;
    this.store.setState({ token });
    await this.start();
  }

  async login(username: string, password: string): Promise<void> {
    try {
      const r = await api<LoginResult>('POST', '/api/auth/login', null, { username, password });
      if (r.user.role !== 'merchant') {
        await api('POST', '/api/auth/logout', r.token).catch(() => undefined);
        this.store.setState({ notice: { kind: 'error', text: '此入口仅供维权站账号使用' } });
        return;
      }
      this.env.storage?.setItem(TOKEN_KEY, r.token);
      this.store.setState({ token: r.token, user: r.user, notice: null });
      await this.start();
    } catch (err) {
      this.fail(err);
    }
  }

  private async start(): Promise<void> {
    try {
      const station = await api<Station>('GET', '/api/merchant/me', this.s.token);
      this.store.setState({ station });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return this.loggedOut();
      this.fail(err);
    }
    try {
      const c = await api<StationCredentials>('GET', '/api/merchant/sip-credentials', this.s.token);
      this.phone.start(this.env.wsOrigin, c);
    } catch (err) {
      this.fail(err);
    }
    await this.refresh();
    this.timer ??= setInterval(() => void this.refresh(), POLL_MS);
  }

  async refresh(): Promise<void> {
    if (!this.s.token) return;
    try {
      const r = await api<{ call: CurrentCall | null }>('GET', '/api/merchant/calls/current', this.s.token);
      this.store.setState({ current: r.call });
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.loggedOut();
    }
  }

  /** [] when recorded; the field errors for the form; null when it failed otherwise (shown as a notice). */
  async recordOutcome(form: OutcomeForm): Promise<FieldError[] | null> {
    const call = this.s.current;
    if (!call?.caseId) return null;
    // Plain fetch: the 400 body's fieldErrors go back to the form beside each field.
    let res: Response;
    try {
      res = await fetch(`/api/merchant/cases/${call.caseId}/outcome`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.s.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ...form, callId: call.callId }),
      });
    } catch (err) {
      this.fail(err);
      return null;
    }
    const data = (await res.json().catch(() => ({}))) as {
      outcome?: { applied: boolean };
      case?: { statusLabel: string };
      message?: string;
      fieldErrors?: FieldError[];
    };
    if (res.status === 400 && data.fieldErrors) return data.fieldErrors;
    if (!res.ok) {
      this.fail(new Error(data.message ?? `HTTP ${res.status}`));
      return null;
    }
    this.store.setState({
      recorded: { result: form.result, status: data.case?.statusLabel ?? '', applied: data.outcome?.applied ?? false },
      notice: null,
    });
    await this.refresh();
    return [];
  }

  async dismiss(): Promise<void> {
    await api('POST', '/api/merchant/calls/current/dismiss', this.s.token).catch(() => undefined);
    this.store.setState({ current: null, recorded: null });
  }

  private loggedOut(): void {
    this.stop();
    this.env.storage?.removeItem(TOKEN_KEY);
    this.store.setState({ token: null, user: null, station: null, current: null, recorded: null });
  }

  async logout(): Promise<void> {
    await api('POST', '/api/auth/logout', this.s.token).catch(() => undefined);
    this.loggedOut();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.phone.close();
  }

  close(): void {
    this.stop();
  }
}
